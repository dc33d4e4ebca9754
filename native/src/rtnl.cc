// SPDX-License-Identifier: Apache-2.0
// TODO(foundation): rtnl facility.
#include "common.h"

namespace xsw {
void InitRtnl(Napi::Env env, Napi::Object exports) {}
} // namespace xsw
