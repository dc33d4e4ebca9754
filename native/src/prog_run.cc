// SPDX-License-Identifier: Apache-2.0
// TODO(foundation): prog_run facility.
#include "common.h"

namespace xsw {
void InitProgRun(Napi::Env env, Napi::Object exports) {}
} // namespace xsw
