// SPDX-License-Identifier: Apache-2.0
// TODO(foundation): map facility.
#include "common.h"

namespace xsw {
void InitMap(Napi::Env env, Napi::Object exports) {}
} // namespace xsw
