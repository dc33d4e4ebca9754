// SPDX-License-Identifier: Apache-2.0
// A BPF ring-buffer consumer on the Node event loop: a uv_poll_t watches libbpf's epoll fd
// and each readable event drains the ring, calling the JS callback with a Buffer per
// record. No thread and no polling loop.
#include <uv.h>

#include "bpf_handles.h"

namespace xsw {

class RingBufferHandle : public Napi::ObjectWrap<RingBufferHandle> {
    public:
	static Napi::Function Class(Napi::Env env)
	{
		return DefineClass(env, "RingBufferHandle",
				   {
					   InstanceMethod("consume", &RingBufferHandle::Consume),
					   InstanceMethod("ref", &RingBufferHandle::Ref),
					   InstanceMethod("unref", &RingBufferHandle::Unref),
					   InstanceMethod("close", &RingBufferHandle::Close),
				   });
	}

	// new RingBufferHandle(map, callback(record: Buffer))
	explicit RingBufferHandle(const Napi::CallbackInfo &info) : Napi::ObjectWrap<RingBufferHandle>(info)
	{
		Napi::Env env = info.Env();
		MapHandle *map = ArgMap(info, 0, "map");
		callback = Napi::Persistent(ArgFn(info, 1, "callback"));
		if (map->info.type != BPF_MAP_TYPE_RINGBUF)
			RaiseErrno(env, "ring_buffer__new", EINVAL, map->label + " is not a BPF_MAP_TYPE_RINGBUF map");
		map_ref = Napi::Persistent(info[0].As<Napi::Object>());
		rb = ring_buffer__new(map->Fd(env, "ring_buffer__new"), OnSample, this, nullptr);
		if (!rb)
			RaiseErrno(env, "ring_buffer__new", errno, map->label);
		label = map->label;
		uv_loop_t *loop = nullptr;
		if (napi_get_uv_event_loop(env, &loop) != napi_ok || !loop)
			RaiseErrno(env, "napi_get_uv_event_loop", EINVAL);
		poll = new uv_poll_t;
		int err = uv_poll_init(loop, poll, ring_buffer__epoll_fd(rb));
		if (err) {
			delete poll;
			poll = nullptr;
			RaiseErrno(env, "uv_poll_init", -err, label);
		}
		poll->data = this;
		err = uv_poll_start(poll, UV_READABLE, OnReadable);
		if (err)
			RaiseErrno(env, "uv_poll_start", -err, label);
		// The open consumer keeps the JS object (and so this) alive until close().
		self = Napi::Persistent(info.This().As<Napi::Object>());
		// A worker thread's loop must not end with our handle open: close it first.
		env_ = env;
		if (napi_add_env_cleanup_hook(env, EnvCleanup, this) == napi_ok)
			hooked = true;
	}

	~RingBufferHandle() override
	{
		Unhook();
		ReleaseNative(false);
	}

    private:
	static void OnReadable(uv_poll_t *p, int status, int events)
	{
		auto *self = static_cast<RingBufferHandle *>(p->data);
		if (!self || !self->rb)
			return;
		Napi::Env env = self->Env();
		Napi::HandleScope scope(env);
		self->Drain(env);
	}

	// Drains the ring; a callback that throws stops this round and reaches process
	// 'uncaughtException' like any other event-loop callback.
	int Drain(Napi::Env env)
	{
		cb_env = &env;
		int n = ring_buffer__consume(rb);
		cb_env = nullptr;
		if (closing)
			Release();
		if (!pending.IsEmpty()) {
			Napi::Value e = pending.Value();
			pending.Reset();
			napi_fatal_exception(env, e);
		} else if (n < 0 && n != -ECANCELED) {
			Napi::Error err = MakeErrno(env, "ring_buffer__consume", n, label);
			napi_fatal_exception(env, err.Value());
		}
		return n;
	}

	static int OnSample(void *ctx, void *data, size_t size)
	{
		auto *self = static_cast<RingBufferHandle *>(ctx);
		if (!self->cb_env || self->closing)
			return -ECANCELED;
		Napi::Env env = *self->cb_env;
		Napi::HandleScope scope(env);
		try {
			Napi::Buffer<uint8_t> rec = Napi::Buffer<uint8_t>::Copy(env, (const uint8_t *)data, size);
			self->callback.MakeCallback(self->Value(), {rec});
		} catch (const Napi::Error &e) {
			self->pending = Napi::Reference<Napi::Value>::New(e.Value(), 1);
			return -ECANCELED;
		}
		return 0;
	}

	// consume() → records delivered (drains without waiting for the event loop)
	Napi::Value Consume(const Napi::CallbackInfo &info)
	{
		if (!rb)
			return ThrowErrno(info.Env(), "ring_buffer__consume", EBADF, label + " consumer is closed");
		if (cb_env)
			return ThrowErrno(info.Env(), "ring_buffer__consume", EBUSY, label + " consume() from its own callback");
		Napi::Env env = info.Env();
		cb_env = &env;
		int n = ring_buffer__consume(rb);
		cb_env = nullptr;
		if (closing)
			Release();
		if (!pending.IsEmpty()) {
			Napi::Value e = pending.Value();
			pending.Reset();
			throw Napi::Error(env, e);
		}
		if (n < 0 && n != -ECANCELED)
			return ThrowErrno(env, "ring_buffer__consume", n, label);
		return Napi::Number::New(env, n);
	}

	Napi::Value Ref(const Napi::CallbackInfo &info)
	{
		if (poll)
			uv_ref((uv_handle_t *)poll);
		return info.Env().Undefined();
	}

	Napi::Value Unref(const Napi::CallbackInfo &info)
	{
		if (poll)
			uv_unref((uv_handle_t *)poll);
		return info.Env().Undefined();
	}

	Napi::Value Close(const Napi::CallbackInfo &info)
	{
		// A callback may close its own consumer: ring_buffer__consume is still running.
		closing = true;
		if (cb_env)
			return info.Env().Undefined(); // Release runs once consume returns (below)
		Release();
		return info.Env().Undefined();
	}

	static void EnvCleanup(void *arg)
	{
		auto *self = static_cast<RingBufferHandle *>(arg);
		self->hooked = false;
		self->ReleaseNative(true);
	}

	void Unhook()
	{
		if (hooked)
			napi_remove_env_cleanup_hook(env_, EnvCleanup, this);
		hooked = false;
	}

	void Release()
	{
		Unhook();
		ReleaseNative(false);
		if (!self.IsEmpty())
			self.Reset();
		if (!map_ref.IsEmpty())
			map_ref.Reset();
	}

	// At env teardown the addon may be unloaded before the loop finishes closing the
	// handle, so no close callback of ours may run then: the handle's memory is left.
	void ReleaseNative(bool teardown)
	{
		if (poll) {
			uv_poll_stop(poll);
			poll->data = nullptr;
			if (teardown)
				uv_close((uv_handle_t *)poll, nullptr);
			else
				uv_close((uv_handle_t *)poll, [](uv_handle_t *h) { delete (uv_poll_t *)h; });
			poll = nullptr;
		}
		if (rb)
			ring_buffer__free(rb);
		rb = nullptr;
	}

	struct ring_buffer *rb = nullptr;
	uv_poll_t *poll = nullptr;
	Napi::FunctionReference callback;
	Napi::ObjectReference map_ref, self;
	Napi::Reference<Napi::Value> pending;
	Napi::Env *cb_env = nullptr;
	bool closing = false;
	bool hooked = false;
	napi_env env_ = nullptr;
	std::string label;
};

void InitRingbuf(Napi::Env env, Napi::Object exports)
{
	exports.Set("RingBufferHandle", RingBufferHandle::Class(env));
}

} // namespace xsw
