// SPDX-License-Identifier: Apache-2.0
// Map handles: single-element operations on the JS thread, batches in an AsyncWorker.
// Every key and value length is checked against the kernel's sizes for the map, so a
// wrong Buffer is a TypeError and never reaches the syscall.
#include <cstring>
#include <vector>

#include "bpf_handles.h"

namespace xsw {

void InitMapHandle(MapHandle *self, const Napi::CallbackInfo &info); // object.cc

static bool IsPerCpu(uint32_t type)
{
	return type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_ARRAY ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

Napi::Function MapHandle::Class(Napi::Env env)
{
	return DefineClass(env, "MapHandle",
			   {
				   InstanceMethod("info", &MapHandle::Info),
				   InstanceMethod("fd", &MapHandle::FdValue),
				   InstanceMethod("lookup", &MapHandle::Lookup),
				   InstanceMethod("update", &MapHandle::Update),
				   InstanceMethod("delete", &MapHandle::Delete),
				   InstanceMethod("nextKey", &MapHandle::NextKey),
				   InstanceMethod("updateBatch", &MapHandle::UpdateBatch),
				   InstanceMethod("lookupBatch", &MapHandle::LookupBatch),
				   InstanceMethod("deleteBatch", &MapHandle::DeleteBatch),
				   InstanceMethod("pin", &MapHandle::Pin),
				   InstanceMethod("close", &MapHandle::Close),
			   });
}

MapHandle::MapHandle(const Napi::CallbackInfo &info) : Napi::ObjectWrap<MapHandle>(info)
{
	info.This().As<Napi::Object>().TypeTag(&kMapTag);
	InitMapHandle(this, info);
	percpu = IsPerCpu(this->info.type);
	value_len = this->info.value_size;
	if (percpu) {
		int ncpu = libbpf_num_possible_cpus();
		if (ncpu < 0)
			RaiseErrno(info.Env(), "libbpf_num_possible_cpus", ncpu);
		value_len = ((this->info.value_size + 7) / 8) * 8 * ncpu;
	}
}

int MapHandle::Fd(const Napi::Env &env, const char *op)
{
	if (fd.fd < 0 || fd.close_requested)
		RaiseErrno(env, op, EBADF, label + " is closed");
	return fd.fd;
}

// A key/value argument of exactly `want` bytes (a TypeError otherwise).
static Napi::Buffer<uint8_t> SizedBuf(const Napi::CallbackInfo &info, size_t i, const char *name, size_t want,
				      MapHandle *m)
{
	Napi::Buffer<uint8_t> b = ArgBuf(info, i, name);
	if (b.Length() != want)
		throw Napi::TypeError::New(info.Env(), std::string("argument '") + name + "' must be " +
							       std::to_string(want) + " bytes for map " + m->label +
							       ", got " + std::to_string(b.Length()));
	return b;
}

static void *KeyPtr(Napi::Buffer<uint8_t> &b)
{
	return b.Length() ? b.Data() : nullptr;
}

// The fd number, for values that hold one (map-in-map, a devmap entry's egress program).
Napi::Value MapHandle::FdValue(const Napi::CallbackInfo &info)
{
	return Napi::Number::New(info.Env(), Fd(info.Env(), "fd"));
}

Napi::Value MapHandle::Info(const Napi::CallbackInfo &info)
{
	Napi::Object o = MapInfoObject(info.Env(), this->info);
	o.Set("valueLength", value_len);
	o.Set("perCpu", Napi::Boolean::New(info.Env(), percpu));
	return o;
}

// lookup(key, valueOut, flags?) → found
Napi::Value MapHandle::Lookup(const Napi::CallbackInfo &info)
{
	auto key = SizedBuf(info, 0, "key", this->info.key_size, this);
	auto val = SizedBuf(info, 1, "value", value_len, this);
	uint64_t flags = HasArg(info, 2) ? ArgU64(info, 2, "flags") : 0;
	int f = Fd(info.Env(), "bpf_map_lookup_elem");
	int err = flags ? bpf_map_lookup_elem_flags(f, KeyPtr(key), val.Data(), flags)
			: bpf_map_lookup_elem(f, KeyPtr(key), val.Data());
	if (err) {
		if (errno == ENOENT)
			return Napi::Boolean::New(info.Env(), false);
		return ThrowErrno(info.Env(), "bpf_map_lookup_elem", errno, label);
	}
	return Napi::Boolean::New(info.Env(), true);
}

// update(key, value, flags?) — flags BPF_ANY / BPF_NOEXIST / BPF_EXIST
Napi::Value MapHandle::Update(const Napi::CallbackInfo &info)
{
	auto key = SizedBuf(info, 0, "key", this->info.key_size, this);
	auto val = SizedBuf(info, 1, "value", value_len, this);
	uint64_t flags = HasArg(info, 2) ? ArgU64(info, 2, "flags") : 0;
	if (bpf_map_update_elem(Fd(info.Env(), "bpf_map_update_elem"), KeyPtr(key), val.Data(), flags))
		return ThrowErrno(info.Env(), "bpf_map_update_elem", errno, label);
	return info.Env().Undefined();
}

// delete(key) → whether it was there
Napi::Value MapHandle::Delete(const Napi::CallbackInfo &info)
{
	auto key = SizedBuf(info, 0, "key", this->info.key_size, this);
	if (bpf_map_delete_elem(Fd(info.Env(), "bpf_map_delete_elem"), KeyPtr(key))) {
		if (errno == ENOENT)
			return Napi::Boolean::New(info.Env(), false);
		return ThrowErrno(info.Env(), "bpf_map_delete_elem", errno, label);
	}
	return Napi::Boolean::New(info.Env(), true);
}

// nextKey(key | null, keyOut) → false after the last key
Napi::Value MapHandle::NextKey(const Napi::CallbackInfo &info)
{
	const void *cur = nullptr;
	if (HasArg(info, 0) && !info[0].IsNull()) {
		auto key = SizedBuf(info, 0, "key", this->info.key_size, this);
		cur = key.Data();
	}
	auto out = SizedBuf(info, 1, "keyOut", this->info.key_size, this);
	if (bpf_map_get_next_key(Fd(info.Env(), "bpf_map_get_next_key"), cur, out.Data())) {
		if (errno == ENOENT)
			return Napi::Boolean::New(info.Env(), false);
		return ThrowErrno(info.Env(), "bpf_map_get_next_key", errno, label);
	}
	return Napi::Boolean::New(info.Env(), true);
}

Napi::Value MapHandle::Pin(const Napi::CallbackInfo &info)
{
	std::string path = ArgStr(info, 0, "path");
	if (bpf_obj_pin(Fd(info.Env(), "bpf_obj_pin"), path.c_str()))
		return ThrowErrno(info.Env(), "bpf_obj_pin", errno, path);
	return info.Env().Undefined();
}

Napi::Value MapHandle::Close(const Napi::CallbackInfo &info)
{
	fd.Close();
	return info.Env().Undefined();
}

// ---- batches, off the JS thread ----------------------------------------------------------

enum class BatchOp { Update, Lookup, Delete };

class BatchWorker : public Napi::AsyncWorker {
    public:
	BatchWorker(Napi::Env env, MapHandle *m, Napi::Object self, BatchOp op)
		: Napi::AsyncWorker(env, "xdpswitch:map-batch"), deferred(Napi::Promise::Deferred::New(env)), map(m),
		  op(op)
	{
		ref = Napi::Persistent(self);
		map->fd.Acquire();
		fd = map->fd.fd;
		key_size = map->info.key_size;
		value_len = map->value_len;
	}
	~BatchWorker() override { map->fd.Release(); }

	Napi::Promise::Deferred deferred;
	std::vector<uint8_t> keys, values;
	uint32_t count = 0; // entries given (update/delete) or wanted (lookup)
	uint64_t elem_flags = 0;

	void Execute() override
	{
		switch (op) {
		case BatchOp::Update:
			Run("bpf_map_update_batch", [&](uint32_t *n) {
				LIBBPF_OPTS(bpf_map_batch_opts, o, .elem_flags = elem_flags);
				return bpf_map_update_batch(fd, keys.data(), values.data(), n, &o);
			});
			break;
		case BatchOp::Delete:
			Run("bpf_map_delete_batch", [&](uint32_t *n) {
				LIBBPF_OPTS(bpf_map_batch_opts, o);
				return bpf_map_delete_batch(fd, keys.data(), n, &o);
			});
			break;
		case BatchOp::Lookup:
			DoLookup();
			break;
		}
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
			deferred.Reject(MakeErrno(env, failed_op, err,
						  map->label + " after " + std::to_string(done) + " entries")
						.Value());
			return;
		}
		if (op != BatchOp::Lookup) {
			deferred.Resolve(Napi::Number::New(env, done));
			return;
		}
		Napi::Object r = Napi::Object::New(env);
		r.Set("count", done);
		r.Set("keys", Napi::Buffer<uint8_t>::Copy(env, keys.data(), (size_t)done * key_size));
		r.Set("values", Napi::Buffer<uint8_t>::Copy(env, values.data(), (size_t)done * value_len));
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
	template <typename F> void Run(const char *name, F call)
	{
		uint32_t n = count;
		if (call(&n)) {
			err = errno;
			failed_op = name;
		}
		done = n;
	}

	void DoLookup()
	{
		keys.resize((size_t)count * key_size);
		values.resize((size_t)count * value_len);
		// The kernel's batch cursor is opaque: a u32 bucket for hash maps, a key for arrays.
		std::vector<uint8_t> in(key_size + 8), out(key_size + 8);
		bool first = true;
		while (done < count) {
			uint32_t n = count - done;
			LIBBPF_OPTS(bpf_map_batch_opts, o);
			int r = bpf_map_lookup_batch(fd, first ? nullptr : in.data(), out.data(),
						     keys.data() + (size_t)done * key_size,
						     values.data() + (size_t)done * value_len, &n, &o);
			int e = errno;
			if (r && e != ENOENT) {
				err = e;
				failed_op = "bpf_map_lookup_batch";
				return;
			}
			done += n;
			if (r) // ENOENT: walked the whole map
				return;
			in.swap(out);
			first = false;
		}
	}

	Napi::ObjectReference ref;
	MapHandle *map;
	BatchOp op;
	int fd;
	uint32_t key_size, value_len;
	int err = 0;
	const char *failed_op = "";
	uint32_t done = 0;
};

static uint32_t BatchCount(const Napi::CallbackInfo &info, size_t i, size_t have, size_t each, const char *name,
			   MapHandle *m)
{
	uint32_t n = ArgU32(info, i, "count");
	if (each == 0 || (size_t)n * each != have)
		throw Napi::TypeError::New(info.Env(), std::string("argument '") + name + "' must hold count × " +
							       std::to_string(each) + " bytes for map " + m->label +
							       ", got " + std::to_string(have) + " for count " +
							       std::to_string(n));
	return n;
}

// updateBatch(keys, values, count, elemFlags?) → Promise<number written>
Napi::Value MapHandle::UpdateBatch(const Napi::CallbackInfo &info)
{
	auto keys = ArgBuf(info, 0, "keys");
	auto values = ArgBuf(info, 1, "values");
	uint32_t n = BatchCount(info, 2, keys.Length(), this->info.key_size, "keys", this);
	BatchCount(info, 2, values.Length(), value_len, "values", this);
	uint64_t flags = HasArg(info, 3) ? ArgU64(info, 3, "elemFlags") : 0;
	Fd(info.Env(), "bpf_map_update_batch");
	auto *w = new BatchWorker(info.Env(), this, info.This().As<Napi::Object>(), BatchOp::Update);
	w->keys.assign(keys.Data(), keys.Data() + keys.Length());
	w->values.assign(values.Data(), values.Data() + values.Length());
	w->count = n;
	w->elem_flags = flags;
	Napi::Promise p = w->deferred.Promise();
	w->Queue();
	return p;
}

// deleteBatch(keys, count) → Promise<number deleted>
Napi::Value MapHandle::DeleteBatch(const Napi::CallbackInfo &info)
{
	auto keys = ArgBuf(info, 0, "keys");
	uint32_t n = BatchCount(info, 1, keys.Length(), this->info.key_size, "keys", this);
	Fd(info.Env(), "bpf_map_delete_batch");
	auto *w = new BatchWorker(info.Env(), this, info.This().As<Napi::Object>(), BatchOp::Delete);
	w->keys.assign(keys.Data(), keys.Data() + keys.Length());
	w->count = n;
	Napi::Promise p = w->deferred.Promise();
	w->Queue();
	return p;
}

// lookupBatch(maxCount?) → Promise<{ count, keys, values }>: the whole map, in one walk.
Napi::Value MapHandle::LookupBatch(const Napi::CallbackInfo &info)
{
	uint32_t n = HasArg(info, 0) ? ArgU32(info, 0, "maxCount") : this->info.max_entries;
	if (n > this->info.max_entries)
		n = this->info.max_entries;
	if (this->info.key_size == 0)
		throw Napi::TypeError::New(info.Env(), "map " + label + " has no keys to walk");
	Fd(info.Env(), "bpf_map_lookup_batch");
	auto *w = new BatchWorker(info.Env(), this, info.This().As<Napi::Object>(), BatchOp::Lookup);
	w->count = n;
	Napi::Promise p = w->deferred.Promise();
	w->Queue();
	return p;
}

void InitMap(Napi::Env env, Napi::Object exports)
{
	exports.Set("MapHandle", MapHandle::Class(env));
}

} // namespace xsw
