// SPDX-License-Identifier: Apache-2.0
// Registers each facility; `init({ NativeError })` must be called once before use.
#include <bpf/libbpf.h>

#include "common.h"

namespace xsw {
void SetNativeErrorClass(const Napi::CallbackInfo &info);
void InitGenl(Napi::Env env, Napi::Object exports); // genl.cc
void InitPidfile(Napi::Env env, Napi::Object exports); // pidfile.cc
}

static int SilentLibbpfPrint(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	// libbpf's own messages (verifier logs included) go to stderr only with XDPSWITCH_LIBBPF_DEBUG;
	// every failure also reaches JS as a NativeError.
	static const bool debug = getenv("XDPSWITCH_LIBBPF_DEBUG") != nullptr;
	if (!debug && level == LIBBPF_DEBUG)
		return 0;
	if (!debug && level == LIBBPF_INFO)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static Napi::Object Init(Napi::Env env, Napi::Object exports)
{
	libbpf_set_print(SilentLibbpfPrint);
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	exports.Set("init", Napi::Function::New(env, [](const Napi::CallbackInfo &info) {
			    xsw::SetNativeErrorClass(info);
			    return info.Env().Undefined();
		    }));
	xsw::InitObject(env, exports);
	xsw::InitMap(env, exports);
	xsw::InitLink(env, exports);
	xsw::InitProgRun(env, exports);
	xsw::InitRingbuf(env, exports);
	xsw::InitRtnl(env, exports);
	xsw::InitEthtool(env, exports);
	xsw::InitTap(env, exports);
	xsw::InitPacket(env, exports);
	xsw::InitGenl(env, exports);
	xsw::InitPidfile(env, exports);
	return exports;
}

NODE_API_MODULE(xdpswitch, Init)
