// SPDX-License-Identifier: Apache-2.0
// TODO(foundation): object facility.
#include "common.h"

namespace xsw {
void InitObject(Napi::Env env, Napi::Object exports) {}
} // namespace xsw
