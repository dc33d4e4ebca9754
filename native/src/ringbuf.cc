// SPDX-License-Identifier: Apache-2.0
// TODO(foundation): ringbuf facility.
#include "common.h"

namespace xsw {
void InitRingbuf(Napi::Env env, Napi::Object exports) {}
} // namespace xsw
