// SPDX-License-Identifier: Apache-2.0
// BPF_PROG_RUN: a frame in, the verdict and the frame out; in live-frames mode the frames
// the program redirects are really transmitted. Runs off the JS thread.
#include <vector>

#include "bpf_handles.h"

namespace xsw {

class ProgRunWorker : public Napi::AsyncWorker {
    public:
	ProgRunWorker(Napi::Env env, ProgHandle *p, Napi::Object self)
		: Napi::AsyncWorker(env, "xdpswitch:prog-run"), deferred(Napi::Promise::Deferred::New(env)), prog(p)
	{
		ref = Napi::Persistent(self);
		prog->fd.Acquire();
		fd = prog->fd.fd;
	}
	~ProgRunWorker() override { prog->fd.Release(); }

	Napi::Promise::Deferred deferred;
	std::vector<uint8_t> data_in, data_out, ctx_in, ctx_out;
	uint32_t repeat = 1, flags = 0, batch_size = 0, cpu = 0;
	bool live = false;

	void Execute() override
	{
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = data_in.data(), .data_size_in = (uint32_t)data_in.size(),
			    .repeat = (int)repeat, .flags = flags, .cpu = cpu, .batch_size = batch_size);
		if (!live) {
			o.data_out = data_out.data();
			o.data_size_out = data_out.size();
		}
		if (!ctx_in.empty()) {
			o.ctx_in = ctx_in.data();
			o.ctx_size_in = ctx_in.size();
			if (!live) {
				ctx_out.resize(ctx_in.size());
				o.ctx_out = ctx_out.data();
				o.ctx_size_out = ctx_out.size();
			}
		}
		if (bpf_prog_test_run_opts(fd, &o)) {
			err = errno;
			return;
		}
		retval = o.retval;
		duration = o.duration;
		data_out.resize(live ? 0 : o.data_size_out);
		ctx_out.resize(o.ctx_out ? o.ctx_size_out : 0);
	}

	// The env may be going away (a worker thread ending): then settling throws, and
	// nobody is left to see the result.
	void OnOK() override
	{
		try {
			Settle();
		} catch (const Napi::Error &) {
		}
	}

	void Settle()
	{
		Napi::Env env = Env();
		if (err) {
			deferred.Reject(MakeErrno(env, "bpf_prog_test_run", err, prog->label).Value());
			return;
		}
		Napi::Object r = Napi::Object::New(env);
		r.Set("retval", retval);
		r.Set("duration", duration);
		r.Set("data", Napi::Buffer<uint8_t>::Copy(env, data_out.data(), data_out.size()));
		if (!ctx_out.empty())
			r.Set("ctx", Napi::Buffer<uint8_t>::Copy(env, ctx_out.data(), ctx_out.size()));
		deferred.Resolve(r);
	}

	void OnError(const Napi::Error &e) override
	{
		try {
			deferred.Reject(e.Value());
		} catch (const Napi::Error &) {
		}
	}

    private:
	Napi::ObjectReference ref;
	ProgHandle *prog;
	int fd;
	int err = 0;
	uint32_t retval = 0, duration = 0;
};

static uint32_t OptU32(Napi::Object o, const char *key, uint32_t def)
{
	Napi::Value v = o.Get(key);
	if (v.IsUndefined())
		return def;
	if (!v.IsNumber() || v.As<Napi::Number>().DoubleValue() < 0 ||
	    v.As<Napi::Number>().DoubleValue() > 4294967295.0)
		throw Napi::TypeError::New(o.Env(), std::string("option '") + key + "' must be a 32-bit unsigned integer");
	return v.As<Napi::Number>().Uint32Value();
}

// progTestRun(prog, data, { repeat, flags, batchSize, cpu, ctx, dataOutSize })
//   → Promise<{ retval, duration (ns per run), data, ctx? }>
static Napi::Value ProgTestRun(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	ProgHandle *prog = ArgProg(info, 0, "prog");
	auto data = ArgBuf(info, 1, "data");
	Napi::Object opts = HasArg(info, 2) ? ArgObj(info, 2, "options") : Napi::Object::New(env);
	prog->Fd(env, "bpf_prog_test_run");
	auto *w = new ProgRunWorker(env, prog, info[0].As<Napi::Object>());
	try {
		w->repeat = OptU32(opts, "repeat", 1);
		w->flags = OptU32(opts, "flags", 0);
		w->batch_size = OptU32(opts, "batchSize", 0);
		w->cpu = OptU32(opts, "cpu", 0);
		if (w->repeat > 0x7fffffff)
			throw Napi::TypeError::New(env, "option 'repeat' too large");
		uint32_t out = OptU32(opts, "dataOutSize", (uint32_t)data.Length() + 4096);
		if (out > (64u << 20))
			throw Napi::TypeError::New(env, "option 'dataOutSize' above 64 MiB");
		Napi::Value ctx = opts.Get("ctx");
		if (!ctx.IsUndefined()) {
			if (!ctx.IsBuffer())
				throw Napi::TypeError::New(env, "option 'ctx' must be a Buffer");
			auto c = ctx.As<Napi::Buffer<uint8_t>>();
			w->ctx_in.assign(c.Data(), c.Data() + c.Length());
		}
		w->live = (w->flags & BPF_F_TEST_XDP_LIVE_FRAMES) != 0;
		w->data_in.assign(data.Data(), data.Data() + data.Length());
		w->data_out.resize(out);
	} catch (...) {
		delete w;
		throw;
	}
	Napi::Promise p = w->deferred.Promise();
	w->Queue();
	return p;
}

// progTestRunSync(prog, data) → retval. One run on the JS thread: for a small program
// that works on maps (the conntrack request of bpf/ct.bpf.c), where the syscall takes
// microseconds and a worker-thread round trip would cost more than the run.
static Napi::Value ProgTestRunSync(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	ProgHandle *prog = ArgProg(info, 0, "prog");
	auto data = ArgBuf(info, 1, "data");
	int fd = prog->Fd(env, "bpf_prog_test_run");
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = data.Data(), .data_size_in = (uint32_t)data.Length(), .repeat = 1);
	if (bpf_prog_test_run_opts(fd, &o))
		return ThrowErrno(env, "bpf_prog_test_run", errno, prog->label);
	return Napi::Number::New(env, o.retval);
}

void InitProgRun(Napi::Env env, Napi::Object exports)
{
	exports.Set("progTestRun", Napi::Function::New(env, ProgTestRun));
	exports.Set("progTestRunSync", Napi::Function::New(env, ProgTestRunSync));
}

} // namespace xsw
