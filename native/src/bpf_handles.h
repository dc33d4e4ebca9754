// SPDX-License-Identifier: Apache-2.0
// The fd-owning JS classes of the BPF facilities (object.cc, map.cc, link.cc), shared with
// prog_run.cc and ringbuf.cc. Each closes its fd on close() or when garbage-collected.
#pragma once
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <string>
#include <vector>

#include "common.h"

namespace xsw {

// Tags so a handle passed back from JS is checked before it is unwrapped.
extern const napi_type_tag kObjectTag;
extern const napi_type_tag kMapTag;
extern const napi_type_tag kProgTag;
extern const napi_type_tag kLinkTag;

// An fd that stays open while an AsyncWorker uses it: close() waits for the last user.
class FdOwner {
    public:
	int fd = -1;
	int users = 0;
	bool close_requested = false;
	void Acquire() { users++; }
	void Release();
	void Close();
	~FdOwner();
};

// bpf_object *, opened from an ELF file; maps and programs are looked up by name.
class ObjectHandle : public Napi::ObjectWrap<ObjectHandle> {
    public:
	static Napi::Function Class(Napi::Env env);
	explicit ObjectHandle(const Napi::CallbackInfo &info);
	~ObjectHandle() override;
	struct bpf_object *obj = nullptr;
	bool loaded = false;
	std::string path;
	static constexpr size_t kLogSize = 4 << 20;
	std::vector<char> log; // verifier log, until load
	struct bpf_object *Get(const Napi::Env &env, const char *op);

    private:
	Napi::Value Load(const Napi::CallbackInfo &info);
	Napi::Value Maps(const Napi::CallbackInfo &info);
	Napi::Value Programs(const Napi::CallbackInfo &info);
	Napi::Value SetMapPinPath(const Napi::CallbackInfo &info);
	Napi::Value SetMapMaxEntries(const Napi::CallbackInfo &info);
	Napi::Value Globals(const Napi::CallbackInfo &info);
	Napi::Value SetAutoload(const Napi::CallbackInfo &info);
	Napi::Value SetGlobal(const Napi::CallbackInfo &info);
	Napi::Value Close(const Napi::CallbackInfo &info);
};

// A map fd with the sizes the kernel reports for it: every key and value JS passes is
// checked against them before it reaches a syscall.
class MapHandle : public Napi::ObjectWrap<MapHandle> {
    public:
	static Napi::Function Class(Napi::Env env);
	explicit MapHandle(const Napi::CallbackInfo &info);
	FdOwner fd;
	struct bpf_map_info info = {};
	std::string label;  // map name, for errors
	uint32_t value_len; // bytes of one lookup/update value (all CPUs for per-CPU maps)
	bool percpu = false;
	int Fd(const Napi::Env &env, const char *op);

    private:
	Napi::Value Info(const Napi::CallbackInfo &info);
	Napi::Value FdValue(const Napi::CallbackInfo &info);
	Napi::Value Lookup(const Napi::CallbackInfo &info);
	Napi::Value Update(const Napi::CallbackInfo &info);
	Napi::Value Delete(const Napi::CallbackInfo &info);
	Napi::Value NextKey(const Napi::CallbackInfo &info);
	Napi::Value UpdateBatch(const Napi::CallbackInfo &info);
	Napi::Value LookupBatch(const Napi::CallbackInfo &info);
	Napi::Value DeleteBatch(const Napi::CallbackInfo &info);
	Napi::Value Pin(const Napi::CallbackInfo &info);
	Napi::Value Close(const Napi::CallbackInfo &info);
};

class ProgHandle : public Napi::ObjectWrap<ProgHandle> {
    public:
	static Napi::Function Class(Napi::Env env);
	explicit ProgHandle(const Napi::CallbackInfo &info);
	FdOwner fd;
	struct bpf_prog_info info = {};
	std::string label;
	int Fd(const Napi::Env &env, const char *op);

    private:
	Napi::Value Info(const Napi::CallbackInfo &info);
	Napi::Value FdValue(const Napi::CallbackInfo &info);
	Napi::Value Pin(const Napi::CallbackInfo &info);
	Napi::Value Close(const Napi::CallbackInfo &info);
};

class LinkHandle : public Napi::ObjectWrap<LinkHandle> {
    public:
	static Napi::Function Class(Napi::Env env);
	explicit LinkHandle(const Napi::CallbackInfo &info);
	FdOwner fd;
	int Fd(const Napi::Env &env, const char *op);

    private:
	Napi::Value Info(const Napi::CallbackInfo &info);
	Napi::Value Pin(const Napi::CallbackInfo &info);
	Napi::Value Update(const Napi::CallbackInfo &info);
	Napi::Value Detach(const Napi::CallbackInfo &info);
	Napi::Value Close(const Napi::CallbackInfo &info);
};

// Unwraps a handle argument, throwing TypeError when it is not one.
ObjectHandle *ArgObject(const Napi::CallbackInfo &info, size_t i, const char *name);
MapHandle *ArgMap(const Napi::CallbackInfo &info, size_t i, const char *name);
ProgHandle *ArgProg(const Napi::CallbackInfo &info, size_t i, const char *name);

// The fields of bpf_map_info / bpf_prog_info JS needs.
Napi::Object MapInfoObject(Napi::Env env, const struct bpf_map_info &mi);
Napi::Object ProgInfoObject(Napi::Env env, const struct bpf_prog_info &pi);

} // namespace xsw
