// SPDX-License-Identifier: Apache-2.0
// TODO(foundation): ethtool facility.
#include "common.h"

namespace xsw {
void InitEthtool(Napi::Env env, Napi::Object exports) {}
} // namespace xsw
