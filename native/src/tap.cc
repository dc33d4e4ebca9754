// SPDX-License-Identifier: Apache-2.0
// TODO(foundation): tap facility.
#include "common.h"

namespace xsw {
void InitTap(Napi::Env env, Napi::Object exports) {}
} // namespace xsw
