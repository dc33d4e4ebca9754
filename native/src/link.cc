// SPDX-License-Identifier: Apache-2.0
// TODO(foundation): link facility.
#include "common.h"

namespace xsw {
void InitLink(Napi::Env env, Napi::Object exports) {}
} // namespace xsw
