// SPDX-License-Identifier: Apache-2.0
// BPF objects (open, load, list maps and programs), program handles, pinning, bpffs and
// the fd-ownership helpers every BPF facility shares (bpf_handles.h).
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cstring>

#include <bpf/btf.h>

#include <vector>

#include "bpf_handles.h"

namespace xsw {

const napi_type_tag kObjectTag = {0x7873772d6f626a01ULL, 0x01};
const napi_type_tag kMapTag = {0x7873772d6d617002ULL, 0x02};
const napi_type_tag kProgTag = {0x7873772d70726f03ULL, 0x03};
const napi_type_tag kLinkTag = {0x7873772d6c6e6b04ULL, 0x04};

void FdOwner::Release()
{
	users--;
	if (users == 0 && close_requested)
		Close();
}

void FdOwner::Close()
{
	if (users > 0) {
		close_requested = true;
		return;
	}
	if (fd >= 0)
		::close(fd);
	fd = -1;
}

FdOwner::~FdOwner()
{
	if (fd >= 0)
		::close(fd);
}

// "bpf-map", "bpf-prog", "bpf_link": what an fd from a pinned path or an id really is.
static bool FdIs(int fd, const char *kind)
{
	char link[64], target[128];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = 0;
	return std::string(target) == std::string("anon_inode:") + kind;
}

// A private copy of an fd libbpf owns, so the handle outlives the bpf_object.
static int DupFd(int fd)
{
	return fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

template <typename T>
static T *Unwrap(const Napi::CallbackInfo &info, size_t i, const char *name, const napi_type_tag &tag,
		 const char *what)
{
	Napi::Value v = i < info.Length() ? info[i] : info.Env().Undefined();
	if (!v.IsObject() || !v.As<Napi::Object>().CheckTypeTag(&tag))
		throw Napi::TypeError::New(info.Env(), std::string("argument '") + name + "' must be a " + what);
	return Napi::ObjectWrap<T>::Unwrap(v.As<Napi::Object>());
}

ObjectHandle *ArgObject(const Napi::CallbackInfo &info, size_t i, const char *name)
{
	return Unwrap<ObjectHandle>(info, i, name, kObjectTag, "BPF object handle");
}
MapHandle *ArgMap(const Napi::CallbackInfo &info, size_t i, const char *name)
{
	return Unwrap<MapHandle>(info, i, name, kMapTag, "BPF map handle");
}
ProgHandle *ArgProg(const Napi::CallbackInfo &info, size_t i, const char *name)
{
	return Unwrap<ProgHandle>(info, i, name, kProgTag, "BPF program handle");
}

Napi::Object MapInfoObject(Napi::Env env, const struct bpf_map_info &mi)
{
	Napi::Object o = Napi::Object::New(env);
	o.Set("id", mi.id);
	o.Set("name", Napi::String::New(env, mi.name));
	o.Set("type", mi.type);
	o.Set("keySize", mi.key_size);
	o.Set("valueSize", mi.value_size);
	o.Set("maxEntries", mi.max_entries);
	o.Set("flags", mi.map_flags);
	return o;
}

Napi::Object ProgInfoObject(Napi::Env env, const struct bpf_prog_info &pi)
{
	Napi::Object o = Napi::Object::New(env);
	o.Set("id", pi.id);
	o.Set("name", Napi::String::New(env, pi.name));
	o.Set("type", pi.type);
	char tag[2 * BPF_TAG_SIZE + 1];
	for (int i = 0; i < BPF_TAG_SIZE; i++)
		snprintf(tag + 2 * i, 3, "%02x", pi.tag[i]);
	o.Set("tag", Napi::String::New(env, tag));
	return o;
}

// ---- ObjectHandle -------------------------------------------------------------------

Napi::Function ObjectHandle::Class(Napi::Env env)
{
	return DefineClass(env, "ObjectHandle",
			   {
				   InstanceMethod("load", &ObjectHandle::Load),
				   InstanceMethod("maps", &ObjectHandle::Maps),
				   InstanceMethod("programs", &ObjectHandle::Programs),
				   InstanceMethod("setMapPinPath", &ObjectHandle::SetMapPinPath),
				   InstanceMethod("setMapMaxEntries", &ObjectHandle::SetMapMaxEntries),
				   InstanceMethod("globals", &ObjectHandle::Globals),
				   InstanceMethod("setAutoload", &ObjectHandle::SetAutoload),
				   InstanceMethod("setGlobal", &ObjectHandle::SetGlobal),
				   InstanceMethod("close", &ObjectHandle::Close),
			   });
}

ObjectHandle::ObjectHandle(const Napi::CallbackInfo &info) : Napi::ObjectWrap<ObjectHandle>(info)
{
	path = ArgStr(info, 0, "path");
	info.This().As<Napi::Object>().TypeTag(&kObjectTag);
	// Our own log buffer: a verifier rejection then reaches JS with its log (libbpf only
	// prints logs it buffered itself). Kept until load; the kernel keeps the log's tail.
	log.resize(kLogSize);
	LIBBPF_OPTS(bpf_object_open_opts, opts, .kernel_log_buf = log.data(), .kernel_log_size = log.size());
	struct bpf_object *o = bpf_object__open_file(path.c_str(), &opts);
	if (!o)
		RaiseErrno(info.Env(), "bpf_object__open_file", errno, path);
	obj = o;
}

ObjectHandle::~ObjectHandle()
{
	if (obj)
		bpf_object__close(obj);
}

struct bpf_object *ObjectHandle::Get(const Napi::Env &env, const char *op)
{
	if (!obj)
		RaiseErrno(env, op, EBADF, path + " is closed");
	return obj;
}

Napi::Value ObjectHandle::Load(const Napi::CallbackInfo &info)
{
	struct bpf_object *o = Get(info.Env(), "bpf_object__load");
	if (loaded)
		return ThrowErrno(info.Env(), "bpf_object__load", EALREADY, path);
	if (!log.empty())
		log[0] = 0;
	int err = bpf_object__load(o);
	std::string text = log.empty() ? "" : std::string(log.data(), strnlen(log.data(), log.size()));
	std::vector<char>().swap(log); // libbpf never writes it again
	if (err) {
		Napi::Error e = MakeErrno(info.Env(), "bpf_object__load", err, path);
		if (!text.empty()) {
			// The last lines say why; the whole log can be megabytes.
			size_t at = text.size();
			for (int lines = 0; at > 0 && lines <= 40; lines += text[--at] == '\n')
				;
			e.Set("verifierLog", Napi::String::New(info.Env(), text.substr(at ? at + 1 : 0)));
		}
		throw e;
	}
	loaded = true;
	return info.Env().Undefined();
}

Napi::Value ObjectHandle::Maps(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	struct bpf_object *o = Get(env, "bpf_object__for_each_map");
	Napi::Array out = Napi::Array::New(env);
	uint32_t n = 0;
	struct bpf_map *m;
	bpf_object__for_each_map(m, o)
	{
		Napi::Object e = Napi::Object::New(env);
		e.Set("name", Napi::String::New(env, bpf_map__name(m)));
		e.Set("type", (uint32_t)bpf_map__type(m));
		e.Set("keySize", bpf_map__key_size(m));
		e.Set("valueSize", bpf_map__value_size(m));
		e.Set("maxEntries", bpf_map__max_entries(m));
		const char *pin = bpf_map__pin_path(m);
		if (pin)
			e.Set("pinPath", Napi::String::New(env, pin));
		e.Set("pinned", Napi::Boolean::New(env, bpf_map__is_pinned(m)));
		out.Set(n++, e);
	}
	return out;
}

Napi::Value ObjectHandle::Programs(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	struct bpf_object *o = Get(env, "bpf_object__for_each_program");
	Napi::Array out = Napi::Array::New(env);
	uint32_t n = 0;
	struct bpf_program *p;
	bpf_object__for_each_program(p, o)
	{
		Napi::Object e = Napi::Object::New(env);
		e.Set("name", Napi::String::New(env, bpf_program__name(p)));
		e.Set("section", Napi::String::New(env, bpf_program__section_name(p)));
		e.Set("type", (uint32_t)bpf_program__type(p));
		out.Set(n++, e);
	}
	return out;
}

static struct bpf_map *FindMap(const Napi::CallbackInfo &info, ObjectHandle *h, const std::string &name,
			       const char *op)
{
	struct bpf_map *m = bpf_object__find_map_by_name(h->Get(info.Env(), op), name.c_str());
	if (!m)
		RaiseErrno(info.Env(), op, ENOENT, "no map " + name + " in " + h->path);
	return m;
}

Napi::Value ObjectHandle::SetMapPinPath(const Napi::CallbackInfo &info)
{
	std::string name = ArgStr(info, 0, "name");
	std::string pin = ArgStr(info, 1, "path");
	struct bpf_map *m = FindMap(info, this, name, "bpf_map__set_pin_path");
	if (loaded)
		return ThrowErrno(info.Env(), "bpf_map__set_pin_path", EBUSY, name + ": object already loaded");
	// Reuse a pinned map ourselves: libbpf 1.1 compares map_flags exactly and so refuses
	// every pinned DEVMAP, whose flags the kernel extends with BPF_F_RDONLY_PROG.
	int pinned = bpf_obj_get(pin.c_str());
	if (pinned >= 0) {
		struct bpf_map_info mi = {};
		uint32_t len = sizeof(mi);
		int err = bpf_obj_get_info_by_fd(pinned, &mi, &len) ? -errno : 0;
		if (!err && (mi.type != bpf_map__type(m) || mi.key_size != bpf_map__key_size(m) ||
			     mi.value_size != bpf_map__value_size(m) || mi.max_entries != bpf_map__max_entries(m) ||
			     (mi.map_flags & ~BPF_F_RDONLY_PROG) != (bpf_map__map_flags(m) & ~BPF_F_RDONLY_PROG)))
			err = -EEXIST;
		if (!err)
			err = bpf_map__reuse_fd(m, pinned);
		::close(pinned);
		if (err == -EEXIST)
			return ThrowErrno(info.Env(), "bpf_map__reuse_fd", EEXIST,
					  pin + " holds a map of another layout than " + name);
		if (err)
			return ThrowErrno(info.Env(), "bpf_map__reuse_fd", err, pin);
		return info.Env().Undefined();
	}
	if (errno != ENOENT)
		return ThrowErrno(info.Env(), "bpf_obj_get", errno, pin);
	int err = bpf_map__set_pin_path(m, pin.c_str());
	if (err)
		return ThrowErrno(info.Env(), "bpf_map__set_pin_path", err, name);
	return info.Env().Undefined();
}

Napi::Value ObjectHandle::SetMapMaxEntries(const Napi::CallbackInfo &info)
{
	std::string name = ArgStr(info, 0, "name");
	uint32_t n = ArgU32(info, 1, "maxEntries");
	struct bpf_map *m = FindMap(info, this, name, "bpf_map__set_max_entries");
	int err = bpf_map__set_max_entries(m, n);
	if (err)
		return ThrowErrno(info.Env(), "bpf_map__set_max_entries", err, name);
	return info.Env().Undefined();
}

// setAutoload(program, on) — before load; SEC("?...") programs start with autoload off.
Napi::Value ObjectHandle::SetAutoload(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	std::string name = ArgStr(info, 0, "name");
	if (!HasArg(info, 1) || !info[1].IsBoolean())
		throw Napi::TypeError::New(env, "argument 'on' must be a boolean");
	struct bpf_program *p = bpf_object__find_program_by_name(Get(env, "bpf_program__set_autoload"), name.c_str());
	if (!p)
		return ThrowErrno(env, "bpf_program__set_autoload", ENOENT, "no program " + name + " in " + path);
	int err = bpf_program__set_autoload(p, info[1].As<Napi::Boolean>().Value());
	if (err)
		return ThrowErrno(env, "bpf_program__set_autoload", err, name);
	return env.Undefined();
}

// Global variables (const volatile in .rodata, others in .data/.bss) from the object's BTF.
struct GlobalVar {
	std::string name, section;
	uint32_t offset, size;
};

static std::vector<GlobalVar> ListGlobals(struct bpf_object *o)
{
	std::vector<GlobalVar> out;
	struct btf *btf = bpf_object__btf(o);
	if (!btf)
		return out;
	uint32_t n = btf__type_cnt(btf);
	for (uint32_t id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		if (!btf_is_datasec(t))
			continue;
		const char *sec = btf__name_by_offset(btf, t->name_off);
		const struct btf_var_secinfo *vs = btf_var_secinfos(t);
		for (uint16_t i = 0; i < btf_vlen(t); i++, vs++) {
			const struct btf_type *v = btf__type_by_id(btf, vs->type);
			if (!v || !btf_is_var(v))
				continue;
			out.push_back({btf__name_by_offset(btf, v->name_off), sec ? sec : "", vs->offset, vs->size});
		}
	}
	return out;
}

Napi::Value ObjectHandle::Globals(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	Napi::Array out = Napi::Array::New(env);
	uint32_t i = 0;
	for (const GlobalVar &g : ListGlobals(Get(env, "bpf_object__btf"))) {
		Napi::Object e = Napi::Object::New(env);
		e.Set("name", g.name);
		e.Set("section", g.section);
		e.Set("offset", g.offset);
		e.Set("size", g.size);
		out.Set(i++, e);
	}
	return out;
}

// setGlobal(name, value) — before load; value must have the variable's exact size.
Napi::Value ObjectHandle::SetGlobal(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	std::string name = ArgStr(info, 0, "name");
	auto value = ArgBuf(info, 1, "value");
	struct bpf_object *o = Get(env, "bpf_map__set_initial_value");
	if (loaded)
		return ThrowErrno(env, "bpf_map__set_initial_value", EBUSY, name + ": object already loaded");
	for (const GlobalVar &g : ListGlobals(o)) {
		if (g.name != name)
			continue;
		if (value.Length() != g.size)
			throw Napi::TypeError::New(env, "argument 'value' must be " + std::to_string(g.size) +
								" bytes for global " + name + ", got " +
								std::to_string(value.Length()));
		struct bpf_map *m = bpf_object__find_map_by_name(o, g.section.c_str());
		size_t size = 0;
		const void *cur = m ? bpf_map__initial_value(m, &size) : nullptr;
		if (!cur || (size_t)g.offset + g.size > size)
			return ThrowErrno(env, "bpf_map__initial_value", ENOENT, g.section + " of " + path);
		std::vector<uint8_t> data((const uint8_t *)cur, (const uint8_t *)cur + size);
		memcpy(data.data() + g.offset, value.Data(), g.size);
		int err = bpf_map__set_initial_value(m, data.data(), data.size());
		if (err)
			return ThrowErrno(env, "bpf_map__set_initial_value", err, name);
		return env.Undefined();
	}
	return ThrowErrno(env, "btf__find_by_name", ENOENT, "no global " + name + " in " + path);
}

Napi::Value ObjectHandle::Close(const Napi::CallbackInfo &info)
{
	if (obj)
		bpf_object__close(obj);
	obj = nullptr;
	return info.Env().Undefined();
}

// ---- where a map or program handle's fd comes from ------------------------------------

// source: { object, name } (a loaded object's map/program), { path } (pinned), { id },
// and for maps { create } (a new map, e.g. the inner map of a map-in-map).
template <typename Find, typename FdOf>
static int SourceFd(const Napi::CallbackInfo &info, const char *kind, std::string &label, Find find, FdOf fd_of)
{
	Napi::Env env = info.Env();
	Napi::Object src = ArgObj(info, 0, "source");
	if (src.Has("path")) {
		Napi::Value p = src.Get("path");
		if (!p.IsString())
			throw Napi::TypeError::New(env, "source.path must be a string");
		label = p.As<Napi::String>().Utf8Value();
		int fd = bpf_obj_get(label.c_str());
		if (fd < 0)
			RaiseErrno(env, "bpf_obj_get", errno, label);
		if (!FdIs(fd, std::string(kind) == "map" ? "bpf-map" : "bpf-prog")) {
			::close(fd);
			RaiseErrno(env, "bpf_obj_get", EINVAL, label + " is not a pinned " + kind);
		}
		return fd;
	}
	if (src.Has("object")) {
		Napi::Value o = src.Get("object");
		Napi::Value n = src.Get("name");
		if (!o.IsObject() || !o.As<Napi::Object>().CheckTypeTag(&kObjectTag))
			throw Napi::TypeError::New(env, "source.object must be a BPF object handle");
		if (!n.IsString())
			throw Napi::TypeError::New(env, "source.name must be a string");
		ObjectHandle *h = Napi::ObjectWrap<ObjectHandle>::Unwrap(o.As<Napi::Object>());
		label = n.As<Napi::String>().Utf8Value();
		auto *item = find(h->Get(env, kind), label.c_str());
		if (!item)
			RaiseErrno(env, kind, ENOENT, label + " not in " + h->path);
		if (!h->loaded)
			RaiseErrno(env, kind, EBADFD, label + ": object not loaded");
		int fd = DupFd(fd_of(item));
		if (fd < 0)
			RaiseErrno(env, "fcntl(F_DUPFD_CLOEXEC)", errno, label);
		return fd;
	}
	if (src.Has("create") && std::string(kind) == "map") {
		// { create: { type, keySize, valueSize, maxEntries, name?, flags?, innerMap? } }
		Napi::Value cv = src.Get("create");
		if (!cv.IsObject())
			throw Napi::TypeError::New(env, "source.create must be an object");
		Napi::Object c = cv.As<Napi::Object>();
		auto u32 = [&](const char *k, bool required, uint32_t def) -> uint32_t {
			Napi::Value v = c.Get(k);
			if (v.IsUndefined() && !required)
				return def;
			double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
			if (d < 0 || d > 4294967295.0 || d != (double)(uint32_t)d)
				throw Napi::TypeError::New(env, std::string("source.create.") + k +
									" must be a 32-bit unsigned integer");
			return (uint32_t)d;
		};
		uint32_t type = u32("type", true, 0), key = u32("keySize", true, 0), value = u32("valueSize", true, 0);
		uint32_t max = u32("maxEntries", true, 0);
		LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = u32("flags", false, 0));
		Napi::Value nv = c.Get("name"), iv = c.Get("innerMap");
		label = nv.IsString() ? nv.As<Napi::String>().Utf8Value() : "";
		if (!nv.IsUndefined() && !nv.IsString())
			throw Napi::TypeError::New(env, "source.create.name must be a string");
		if (!iv.IsUndefined()) {
			if (!iv.IsObject() || !iv.As<Napi::Object>().CheckTypeTag(&kMapTag))
				throw Napi::TypeError::New(env, "source.create.innerMap must be a BPF map handle");
			opts.inner_map_fd = Napi::ObjectWrap<MapHandle>::Unwrap(iv.As<Napi::Object>())->Fd(env, "bpf_map_create");
		}
		int fd = bpf_map_create((enum bpf_map_type)type, label.empty() ? nullptr : label.c_str(), key, value, max,
					&opts);
		if (fd < 0)
			RaiseErrno(env, "bpf_map_create", errno, label.empty() ? "map type " + std::to_string(type) : label);
		return fd;
	}
	if (src.Has("id")) {
		Napi::Value idv = src.Get("id");
		if (!idv.IsNumber())
			throw Napi::TypeError::New(env, "source.id must be a number");
		uint32_t id = idv.As<Napi::Number>().Uint32Value();
		label = std::string(kind) + " id " + std::to_string(id);
		int fd = std::string(kind) == "map" ? bpf_map_get_fd_by_id(id) : bpf_prog_get_fd_by_id(id);
		if (fd < 0)
			RaiseErrno(env, std::string("bpf_") + kind + "_get_fd_by_id", errno, label);
		return fd;
	}
	throw Napi::TypeError::New(env, "source must have object+name, path, id (or create, for a map)");
}

// Map handles are built here too so one SourceFd serves both; map.cc holds their methods.
void InitMapHandle(MapHandle *self, const Napi::CallbackInfo &info)
{
	int fd = SourceFd(
		info, "map", self->label, [](struct bpf_object *o, const char *n) { return bpf_object__find_map_by_name(o, n); },
		[](struct bpf_map *m) { return bpf_map__fd(m); });
	self->fd.fd = fd;
	uint32_t len = sizeof(self->info);
	if (bpf_obj_get_info_by_fd(fd, &self->info, &len))
		RaiseErrno(info.Env(), "bpf_obj_get_info_by_fd", errno, self->label);
}

// ---- ProgHandle ----------------------------------------------------------------------

Napi::Function ProgHandle::Class(Napi::Env env)
{
	return DefineClass(env, "ProgHandle",
			   {
				   InstanceMethod("info", &ProgHandle::Info),
				   InstanceMethod("fd", &ProgHandle::FdValue),
				   InstanceMethod("pin", &ProgHandle::Pin),
				   InstanceMethod("close", &ProgHandle::Close),
			   });
}

ProgHandle::ProgHandle(const Napi::CallbackInfo &info) : Napi::ObjectWrap<ProgHandle>(info)
{
	info.This().As<Napi::Object>().TypeTag(&kProgTag);
	int f = SourceFd(
		info, "prog", label,
		[](struct bpf_object *o, const char *n) { return bpf_object__find_program_by_name(o, n); },
		[](struct bpf_program *p) { return bpf_program__fd(p); });
	fd.fd = f;
	uint32_t len = sizeof(this->info);
	if (bpf_obj_get_info_by_fd(f, &this->info, &len))
		RaiseErrno(info.Env(), "bpf_obj_get_info_by_fd", errno, label);
	if (this->info.type == BPF_PROG_TYPE_UNSPEC)
		RaiseErrno(info.Env(), "bpf_obj_get_info_by_fd", EINVAL, label + " is not a program");
}

int ProgHandle::Fd(const Napi::Env &env, const char *op)
{
	if (fd.fd < 0 || fd.close_requested)
		RaiseErrno(env, op, EBADF, label + " is closed");
	return fd.fd;
}

Napi::Value ProgHandle::FdValue(const Napi::CallbackInfo &info)
{
	return Napi::Number::New(info.Env(), Fd(info.Env(), "fd"));
}

Napi::Value ProgHandle::Info(const Napi::CallbackInfo &info)
{
	return ProgInfoObject(info.Env(), this->info);
}

Napi::Value ProgHandle::Pin(const Napi::CallbackInfo &info)
{
	std::string path = ArgStr(info, 0, "path");
	if (bpf_obj_pin(Fd(info.Env(), "bpf_obj_pin"), path.c_str()))
		return ThrowErrno(info.Env(), "bpf_obj_pin", errno, path);
	return info.Env().Undefined();
}

Napi::Value ProgHandle::Close(const Napi::CallbackInfo &info)
{
	fd.Close();
	return info.Env().Undefined();
}

// ---- bpffs ----------------------------------------------------------------------------

// Mounts bpffs at `path` unless one is there already; returns whether it mounted.
static Napi::Value MountBpffs(const Napi::CallbackInfo &info)
{
	std::string path = ArgStr(info, 0, "path");
	struct statfs st;
	if (statfs(path.c_str(), &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return Napi::Boolean::New(info.Env(), false);
	if (mkdir(path.c_str(), 0700) && errno != EEXIST)
		return ThrowErrno(info.Env(), "mkdir", errno, path);
	if (mount("bpf", path.c_str(), "bpf", 0, "mode=0700"))
		return ThrowErrno(info.Env(), "mount(bpf)", errno, path);
	return Napi::Boolean::New(info.Env(), true);
}

static Napi::Value IsBpffs(const Napi::CallbackInfo &info)
{
	std::string path = ArgStr(info, 0, "path");
	struct statfs st;
	if (statfs(path.c_str(), &st))
		return ThrowErrno(info.Env(), "statfs", errno, path);
	return Napi::Boolean::New(info.Env(), st.f_type == BPF_FS_MAGIC);
}

// ---- feature probes -------------------------------------------------------------------

// 1 → true, 0 → false, < 0 → NativeError (e.g. a type this libbpf does not know).
static Napi::Value ProbeResult(const Napi::CallbackInfo &info, int r, const char *op, uint32_t what)
{
	if (r < 0)
		return ThrowErrno(info.Env(), op, r, std::to_string(what));
	return Napi::Boolean::New(info.Env(), r > 0);
}

static Napi::Value ProbeMapType(const Napi::CallbackInfo &info)
{
	uint32_t t = ArgU32(info, 0, "mapType");
	return ProbeResult(info, libbpf_probe_bpf_map_type((enum bpf_map_type)t, nullptr), "libbpf_probe_bpf_map_type", t);
}

static Napi::Value ProbeProgType(const Napi::CallbackInfo &info)
{
	uint32_t t = ArgU32(info, 0, "progType");
	return ProbeResult(info, libbpf_probe_bpf_prog_type((enum bpf_prog_type)t, nullptr), "libbpf_probe_bpf_prog_type",
			   t);
}

static Napi::Value ProbeHelper(const Napi::CallbackInfo &info)
{
	uint32_t t = ArgU32(info, 0, "progType");
	uint32_t h = ArgU32(info, 1, "helperId");
	return ProbeResult(info, libbpf_probe_bpf_helper((enum bpf_prog_type)t, (enum bpf_func_id)h, nullptr),
			   "libbpf_probe_bpf_helper", h);
}

// kernelHasFunc(name, module?) — whether the running kernel's BTF (or a loaded module's)
// declares a function of that name: how kfuncs (nf_conntrack's bpf_xdp_ct_lookup, ...)
// are probed.
static Napi::Value KernelHasFunc(const Napi::CallbackInfo &info)
{
	std::string name = ArgStr(info, 0, "name");
	std::string module = HasArg(info, 1) ? ArgStr(info, 1, "module") : "";
	struct btf *vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux)
		return ThrowErrno(info.Env(), "btf__load_vmlinux_btf", errno);
	struct btf *btf = vmlinux;
	if (!module.empty()) {
		btf = btf__load_module_btf(module.c_str(), vmlinux);
		if (!btf) {
			int err = errno;
			btf__free(vmlinux);
			if (err == ENOENT) // module not loaded
				return Napi::Boolean::New(info.Env(), false);
			return ThrowErrno(info.Env(), "btf__load_module_btf", err, module);
		}
	}
	bool found = btf__find_by_name_kind(btf, name.c_str(), BTF_KIND_FUNC) > 0;
	if (btf != vmlinux)
		btf__free(btf);
	btf__free(vmlinux);
	return Napi::Boolean::New(info.Env(), found);
}

static Napi::Value PossibleCpus(const Napi::CallbackInfo &info)
{
	int n = libbpf_num_possible_cpus();
	if (n < 0)
		return ThrowErrno(info.Env(), "libbpf_num_possible_cpus", n);
	return Napi::Number::New(info.Env(), n);
}

void InitObject(Napi::Env env, Napi::Object exports)
{
	exports.Set("ObjectHandle", ObjectHandle::Class(env));
	exports.Set("ProgHandle", ProgHandle::Class(env));
	exports.Set("mountBpffs", Napi::Function::New(env, MountBpffs));
	exports.Set("isBpffs", Napi::Function::New(env, IsBpffs));
	exports.Set("possibleCpus", Napi::Function::New(env, PossibleCpus));
	exports.Set("probeMapType", Napi::Function::New(env, ProbeMapType));
	exports.Set("probeProgType", Napi::Function::New(env, ProbeProgType));
	exports.Set("probeHelper", Napi::Function::New(env, ProbeHelper));
	exports.Set("kernelHasFunc", Napi::Function::New(env, KernelHasFunc));
}

} // namespace xsw
