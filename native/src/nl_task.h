// SPDX-License-Identifier: Apache-2.0
// Private to rtnl.cc, ethtool.cc and tap.cc: a blocking netlink/ioctl step run on the
// libuv thread pool, settling a promise with its result or a NativeError.
#pragma once
#include "common.h"

#include <functional>
#include <memory>
#include <new>
#include <string>

namespace xsw {

class NlTask : public Napi::AsyncWorker {
public:
	// `work` runs off the JS thread and returns 0 or an errno; it may refine `detail`
	// (e.g. with the kernel's extended ack text). `done` builds the JS result.
	using Work = std::function<int(std::string &detail)>;
	using Done = std::function<Napi::Value(Napi::Env)>;

	static Napi::Value Queue(Napi::Env env, std::string op, std::string detail, Work work,
				 Done done = nullptr)
	{
		auto *t = new NlTask(env, std::move(op), std::move(detail), std::move(work),
				     std::move(done));
		Napi::Promise p = t->deferred_.Promise();
		t->Napi::AsyncWorker::Queue();
		return p;
	}

private:
	NlTask(Napi::Env env, std::string op, std::string detail, Work work, Done done)
		: Napi::AsyncWorker(env, "xdpswitch:netlink"),
		  deferred_(Napi::Promise::Deferred::New(env)), op_(std::move(op)),
		  detail_(std::move(detail)), work_(std::move(work)), done_(std::move(done))
	{
	}

	void Execute() override
	{
		try {
			err_ = work_(detail_);
		} catch (const std::bad_alloc &) {
			err_ = ENOMEM;
		}
	}

	void OnOK() override
	{
		Napi::Env env = Env();
		if (err_) {
			deferred_.Reject(MakeErrno(env, op_, err_, detail_).Value());
			return;
		}
		try {
			deferred_.Resolve(done_ ? done_(env) : env.Undefined());
		} catch (const Napi::Error &e) {
			deferred_.Reject(e.Value());
		}
	}

	void OnError(const Napi::Error &e) override { deferred_.Reject(e.Value()); }

	Napi::Promise::Deferred deferred_;
	std::string op_, detail_;
	Work work_;
	Done done_;
	int err_ = 0;
};

// Interface names are at most IFNAMSIZ-1 bytes; the ioctl paths check it themselves
// (rtnetlink lets the kernel answer ERANGE).
constexpr size_t kIfNameMax = 15;

// A name handed to the kernel as a C string: an embedded NUL would silently name
// another device ("lo\0x" is "lo"), so it is a TypeError.
inline std::string ArgName(const Napi::CallbackInfo &info, size_t i, const char *what)
{
	std::string s = ArgStr(info, i, what);
	if (s.find('\0') != std::string::npos)
		throw Napi::TypeError::New(info.Env(), std::string("argument '") + what +
							       "' must not contain NUL");
	return s;
}

} // namespace xsw
