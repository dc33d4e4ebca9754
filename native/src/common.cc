// SPDX-License-Identifier: Apache-2.0
// Argument checking and errno → NativeError conversion shared by all facilities.
#include "common.h"

#include <cstring>

namespace xsw {

namespace {
struct InstanceData {
	Napi::FunctionReference native_error;
};
} // namespace

void SetNativeErrorClass(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	Napi::Object opts = ArgObj(info, 0, "options");
	Napi::Value cls = opts.Get("NativeError");
	if (!cls.IsFunction())
		throw Napi::TypeError::New(env, "init: options.NativeError must be a class");
	auto *data = env.GetInstanceData<InstanceData>();
	if (!data) {
		data = new InstanceData();
		env.SetInstanceData(data);
	}
	data->native_error = Napi::Persistent(cls.As<Napi::Function>());
}

std::string ErrnoName(int err)
{
	if (err < 0)
		err = -err;
	const char *name = strerrorname_np(err);
	return name ? name : ("E" + std::to_string(err));
}

Napi::Error MakeErrno(const Napi::Env &env, const std::string &op, int err, const std::string &detail)
{
	if (err < 0)
		err = -err;
	std::string msg = op + (detail.empty() ? "" : " (" + detail + ")") + ": " + strerror(err) +
			  " [" + ErrnoName(err) + "]";
	auto *data = env.GetInstanceData<InstanceData>();
	if (data && !data->native_error.IsEmpty()) {
		Napi::Object e = data->native_error.New({Napi::String::New(env, msg)});
		e.Set("op", Napi::String::New(env, op));
		e.Set("code", Napi::String::New(env, ErrnoName(err)));
		e.Set("errno", Napi::Number::New(env, err));
		if (!detail.empty())
			e.Set("detail", Napi::String::New(env, detail));
		return Napi::Error(env, e);
	}
	Napi::Error e = Napi::Error::New(env, msg);
	e.Set("op", Napi::String::New(env, op));
	e.Set("code", Napi::String::New(env, ErrnoName(err)));
	e.Set("errno", Napi::Number::New(env, err));
	return e;
}

Napi::Value ThrowErrno(const Napi::Env &env, const std::string &op, int err, const std::string &detail)
{
	MakeErrno(env, op, err, detail).ThrowAsJavaScriptException();
	return env.Undefined();
}

void RaiseErrno(const Napi::Env &env, const std::string &op, int err, const std::string &detail)
{
	throw MakeErrno(env, op, err, detail);
}

static Napi::Value Arg(const Napi::CallbackInfo &info, size_t i)
{
	return i < info.Length() ? info[i] : info.Env().Undefined();
}

bool HasArg(const Napi::CallbackInfo &info, size_t i)
{
	return i < info.Length() && !info[i].IsUndefined();
}

static Napi::TypeError BadArg(const Napi::CallbackInfo &info, const char *name, const char *want)
{
	return Napi::TypeError::New(info.Env(), std::string("argument '") + name + "' must be " + want);
}

int32_t ArgI32(const Napi::CallbackInfo &info, size_t i, const char *name)
{
	Napi::Value v = Arg(info, i);
	if (!v.IsNumber())
		throw BadArg(info, name, "an integer");
	double d = v.As<Napi::Number>().DoubleValue();
	if (d != (double)(int32_t)d)
		throw BadArg(info, name, "a 32-bit signed integer");
	return (int32_t)d;
}

uint32_t ArgU32(const Napi::CallbackInfo &info, size_t i, const char *name)
{
	Napi::Value v = Arg(info, i);
	if (!v.IsNumber())
		throw BadArg(info, name, "an integer");
	double d = v.As<Napi::Number>().DoubleValue();
	if (d < 0 || d > 4294967295.0 || d != (double)(uint32_t)d)
		throw BadArg(info, name, "a 32-bit unsigned integer");
	return (uint32_t)d;
}

uint64_t ArgU64(const Napi::CallbackInfo &info, size_t i, const char *name)
{
	Napi::Value v = Arg(info, i);
	if (v.IsBigInt()) {
		bool lossless = false;
		uint64_t r = v.As<Napi::BigInt>().Uint64Value(&lossless);
		if (!lossless)
			throw BadArg(info, name, "a 64-bit unsigned integer");
		return r;
	}
	if (!v.IsNumber())
		throw BadArg(info, name, "a number or bigint");
	double d = v.As<Napi::Number>().DoubleValue();
	if (d < 0 || d > 9007199254740991.0 || d != (double)(uint64_t)d)
		throw BadArg(info, name, "a non-negative safe integer");
	return (uint64_t)d;
}

std::string ArgStr(const Napi::CallbackInfo &info, size_t i, const char *name)
{
	Napi::Value v = Arg(info, i);
	if (!v.IsString())
		throw BadArg(info, name, "a string");
	return v.As<Napi::String>().Utf8Value();
}

Napi::Buffer<uint8_t> ArgBuf(const Napi::CallbackInfo &info, size_t i, const char *name)
{
	Napi::Value v = Arg(info, i);
	if (!v.IsBuffer())
		throw BadArg(info, name, "a Buffer");
	return v.As<Napi::Buffer<uint8_t>>();
}

Napi::Function ArgFn(const Napi::CallbackInfo &info, size_t i, const char *name)
{
	Napi::Value v = Arg(info, i);
	if (!v.IsFunction())
		throw BadArg(info, name, "a function");
	return v.As<Napi::Function>();
}

Napi::Object ArgObj(const Napi::CallbackInfo &info, size_t i, const char *name)
{
	Napi::Value v = Arg(info, i);
	if (!v.IsObject())
		throw BadArg(info, name, "an object");
	return v.As<Napi::Object>();
}

} // namespace xsw
