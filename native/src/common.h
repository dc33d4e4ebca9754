// SPDX-License-Identifier: Apache-2.0
// Shared by every facility of the addon: argument checks that throw TypeError, and
// failures thrown as the JS NativeError class handed over at init (src/native/errors.ts).
#pragma once
#include <napi.h>

#include <cerrno>
#include <cstdint>
#include <string>

namespace xsw {

// Throws NativeError { op, code: "ENOENT", errno, message } and returns undefined.
// `op` names what was attempted ("bpf_map_update_elem"), `detail` the object of it.
Napi::Value ThrowErrno(const Napi::Env &env, const std::string &op, int err,
		       const std::string &detail = "");
// Same, but for a C++ caller that must unwind (inside helpers): throws Napi::Error.
[[noreturn]] void RaiseErrno(const Napi::Env &env, const std::string &op, int err,
			     const std::string &detail = "");
// Builds the NativeError object without throwing (for AsyncWorker rejections).
Napi::Error MakeErrno(const Napi::Env &env, const std::string &op, int err,
		      const std::string &detail = "");
std::string ErrnoName(int err);

// Argument accessors: a wrong type or range throws a TypeError naming the argument.
int32_t ArgI32(const Napi::CallbackInfo &info, size_t i, const char *name);
uint32_t ArgU32(const Napi::CallbackInfo &info, size_t i, const char *name);
uint64_t ArgU64(const Napi::CallbackInfo &info, size_t i, const char *name); // number or bigint
std::string ArgStr(const Napi::CallbackInfo &info, size_t i, const char *name);
Napi::Buffer<uint8_t> ArgBuf(const Napi::CallbackInfo &info, size_t i, const char *name);
Napi::Function ArgFn(const Napi::CallbackInfo &info, size_t i, const char *name);
Napi::Object ArgObj(const Napi::CallbackInfo &info, size_t i, const char *name);
bool HasArg(const Napi::CallbackInfo &info, size_t i); // present and not undefined

// Each facility registers its functions on `exports`.
void InitObject(Napi::Env env, Napi::Object exports);
void InitMap(Napi::Env env, Napi::Object exports);
void InitLink(Napi::Env env, Napi::Object exports);
void InitProgRun(Napi::Env env, Napi::Object exports);
void InitRingbuf(Napi::Env env, Napi::Object exports);
void InitRtnl(Napi::Env env, Napi::Object exports);
void InitEthtool(Napi::Env env, Napi::Object exports);
void InitTap(Napi::Env env, Napi::Object exports);
void InitPacket(Napi::Env env, Napi::Object exports);

} // namespace xsw
