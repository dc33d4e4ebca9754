// SPDX-License-Identifier: Apache-2.0
// Attaching programs to interfaces: XDP (netlink), TC through tcx links (bpf_link_create)
// or a clsact qdisc (bpf_tc_*), and queries of what is attached. Which hook and mode to
// use is policy, decided in src/native/bpf.ts.
#include <linux/if_link.h>
#include <net/if.h>

#include <vector>

#include "bpf_handles.h"

namespace xsw {

// The uapi headers of Debian 12 (6.1) predate tcx (6.6).
constexpr int kTcxIngress = 46; // BPF_TCX_INGRESS
constexpr int kTcxEgress = 47;	// BPF_TCX_EGRESS

static std::string IfLabel(uint32_t ifindex)
{
	char name[IF_NAMESIZE] = {};
	if (if_indextoname(ifindex, name))
		return std::string(name) + " (ifindex " + std::to_string(ifindex) + ")";
	return "ifindex " + std::to_string(ifindex);
}

// ---- LinkHandle -----------------------------------------------------------------------

Napi::Function LinkHandle::Class(Napi::Env env)
{
	return DefineClass(env, "LinkHandle",
			   {
				   InstanceMethod("info", &LinkHandle::Info),
				   InstanceMethod("pin", &LinkHandle::Pin),
				   InstanceMethod("update", &LinkHandle::Update),
				   InstanceMethod("detach", &LinkHandle::Detach),
				   InstanceMethod("close", &LinkHandle::Close),
			   });
}

// source: { path } (a pinned link) or { prog, target, attachType, flags? } (bpf_link_create;
// target is an ifindex for XDP and tcx).
LinkHandle::LinkHandle(const Napi::CallbackInfo &info) : Napi::ObjectWrap<LinkHandle>(info)
{
	Napi::Env env = info.Env();
	info.This().As<Napi::Object>().TypeTag(&kLinkTag);
	Napi::Object src = ArgObj(info, 0, "source");
	if (src.Has("path")) {
		Napi::Value p = src.Get("path");
		if (!p.IsString())
			throw Napi::TypeError::New(env, "source.path must be a string");
		std::string path = p.As<Napi::String>().Utf8Value();
		int f = bpf_obj_get(path.c_str());
		if (f < 0)
			RaiseErrno(env, "bpf_obj_get", errno, path);
		fd.fd = f;
		struct bpf_link_info li = {};
		uint32_t len = sizeof(li);
		if (bpf_obj_get_info_by_fd(f, &li, &len) || li.id == 0 || li.type == 0)
			RaiseErrno(env, "bpf_obj_get", EINVAL, path + " is not a pinned link");
		return;
	}
	Napi::Value pv = src.Get("prog");
	if (!pv.IsObject() || !pv.As<Napi::Object>().CheckTypeTag(&kProgTag))
		throw Napi::TypeError::New(env, "source.prog must be a BPF program handle");
	ProgHandle *prog = Napi::ObjectWrap<ProgHandle>::Unwrap(pv.As<Napi::Object>());
	Napi::Value tv = src.Get("target"), av = src.Get("attachType"), fv = src.Get("flags");
	if (!tv.IsNumber() || !av.IsNumber())
		throw Napi::TypeError::New(env, "source.target and source.attachType must be numbers");
	int32_t target = tv.As<Napi::Number>().Int32Value();
	uint32_t type = av.As<Napi::Number>().Uint32Value();
	LIBBPF_OPTS(bpf_link_create_opts, opts);
	if (fv.IsNumber())
		opts.flags = fv.As<Napi::Number>().Uint32Value();
	int f = bpf_link_create(prog->Fd(env, "bpf_link_create"), target, (enum bpf_attach_type)type, &opts);
	if (f < 0)
		RaiseErrno(env, "bpf_link_create", errno,
			   prog->label + " → " + IfLabel(target) + " attach type " + std::to_string(type));
	fd.fd = f;
}

int LinkHandle::Fd(const Napi::Env &env, const char *op)
{
	if (fd.fd < 0)
		RaiseErrno(env, op, EBADF, "link is closed");
	return fd.fd;
}

Napi::Value LinkHandle::Info(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	struct bpf_link_info li = {};
	uint32_t len = sizeof(li);
	if (bpf_obj_get_info_by_fd(Fd(env, "bpf_obj_get_info_by_fd"), &li, &len))
		return ThrowErrno(env, "bpf_obj_get_info_by_fd", errno, "link");
	Napi::Object o = Napi::Object::New(env);
	o.Set("id", li.id);
	o.Set("type", li.type);
	o.Set("progId", li.prog_id);
	// XDP and tcx links both start their union with the ifindex (0 once the device is
	// gone); the 6.1 uapi header names only the xdp member.
	o.Set("ifindex", li.xdp.ifindex);
	return o;
}

Napi::Value LinkHandle::Pin(const Napi::CallbackInfo &info)
{
	std::string path = ArgStr(info, 0, "path");
	if (bpf_obj_pin(Fd(info.Env(), "bpf_obj_pin"), path.c_str()))
		return ThrowErrno(info.Env(), "bpf_obj_pin", errno, path);
	return info.Env().Undefined();
}

// update(prog, oldProg?) — swaps the link's program atomically (bpf_link_update); with
// oldProg, only if that one is still the link's program (BPF_F_REPLACE).
Napi::Value LinkHandle::Update(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	ProgHandle *prog = ArgProg(info, 0, "prog");
	LIBBPF_OPTS(bpf_link_update_opts, opts);
	if (HasArg(info, 1)) {
		opts.old_prog_fd = ArgProg(info, 1, "oldProg")->Fd(env, "bpf_link_update");
		opts.flags = BPF_F_REPLACE;
	}
	if (bpf_link_update(Fd(env, "bpf_link_update"), prog->Fd(env, "bpf_link_update"), &opts))
		return ThrowErrno(env, "bpf_link_update", errno, prog->label);
	return env.Undefined();
}

// Detaches even when the link is pinned or shared; the fd stays open until close().
Napi::Value LinkHandle::Detach(const Napi::CallbackInfo &info)
{
	if (bpf_link_detach(Fd(info.Env(), "bpf_link_detach")))
		return ThrowErrno(info.Env(), "bpf_link_detach", errno, "link");
	return info.Env().Undefined();
}

Napi::Value LinkHandle::Close(const Napi::CallbackInfo &info)
{
	fd.Close();
	return info.Env().Undefined();
}

// ---- XDP ----------------------------------------------------------------------------------

// xdpAttach(ifindex, prog, flags, replaceProg?) — flags are XDP_FLAGS_*.
static Napi::Value XdpAttach(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	uint32_t ifindex = ArgU32(info, 0, "ifindex");
	ProgHandle *prog = ArgProg(info, 1, "prog");
	uint32_t flags = ArgU32(info, 2, "flags");
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
	if (HasArg(info, 3)) {
		opts.old_prog_fd = ArgProg(info, 3, "replaceProg")->Fd(env, "bpf_xdp_attach");
		flags |= XDP_FLAGS_REPLACE;
	}
	int err = bpf_xdp_attach((int)ifindex, prog->Fd(env, "bpf_xdp_attach"), flags, &opts);
	if (err)
		return ThrowErrno(env, "bpf_xdp_attach", err, prog->label + " → " + IfLabel(ifindex));
	return env.Undefined();
}

// xdpDetach(ifindex, flags, expectedProg?) — with expectedProg, only if that one is attached.
static Napi::Value XdpDetach(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	uint32_t ifindex = ArgU32(info, 0, "ifindex");
	uint32_t flags = ArgU32(info, 1, "flags");
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
	if (HasArg(info, 2)) {
		opts.old_prog_fd = ArgProg(info, 2, "expectedProg")->Fd(env, "bpf_xdp_detach");
		flags |= XDP_FLAGS_REPLACE;
	}
	int err = bpf_xdp_detach((int)ifindex, flags, &opts);
	if (err)
		return ThrowErrno(env, "bpf_xdp_detach", err, IfLabel(ifindex));
	return env.Undefined();
}

// xdpQuery(ifindex) → { progId, drvProgId, skbProgId, hwProgId, attachMode } (0 = none)
static Napi::Value XdpQuery(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	uint32_t ifindex = ArgU32(info, 0, "ifindex");
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int err = bpf_xdp_query((int)ifindex, 0, &q);
	if (err)
		return ThrowErrno(env, "bpf_xdp_query", err, IfLabel(ifindex));
	Napi::Object o = Napi::Object::New(env);
	o.Set("progId", q.prog_id);
	o.Set("drvProgId", q.drv_prog_id);
	o.Set("skbProgId", q.skb_prog_id);
	o.Set("hwProgId", q.hw_prog_id);
	o.Set("attachMode", (uint32_t)q.attach_mode);
	return o;
}

// ---- TC: tcx query, clsact + cls_bpf ------------------------------------------------------

// tcxQuery(ifindex, attachType) → program ids, first runs first. EINVAL: no tcx here.
static Napi::Value TcxQuery(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	uint32_t ifindex = ArgU32(info, 0, "ifindex");
	uint32_t type = ArgU32(info, 1, "attachType");
	if (type != kTcxIngress && type != kTcxEgress)
		throw Napi::TypeError::New(env, "argument 'attachType' must be BPF_TCX_INGRESS or BPF_TCX_EGRESS");
	std::vector<uint32_t> ids(64);
	LIBBPF_OPTS(bpf_prog_query_opts, q);
	q.prog_ids = ids.data();
	q.prog_cnt = ids.size();
	if (bpf_prog_query_opts((int)ifindex, (enum bpf_attach_type)type, &q))
		return ThrowErrno(env, "bpf_prog_query", errno, IfLabel(ifindex));
	Napi::Array out = Napi::Array::New(env);
	for (uint32_t i = 0; i < q.prog_cnt && i < ids.size(); i++)
		out.Set(i, ids[i]);
	return out;
}

static struct bpf_tc_hook TcHook(const Napi::CallbackInfo &info, uint32_t *ifindex)
{
	*ifindex = ArgU32(info, 0, "ifindex");
	std::string dir = ArgStr(info, 1, "direction");
	if (dir != "ingress" && dir != "egress")
		throw Napi::TypeError::New(info.Env(), "argument 'direction' must be 'ingress' or 'egress'");
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)*ifindex,
		    .attach_point = dir == "ingress" ? BPF_TC_INGRESS : BPF_TC_EGRESS);
	return hook;
}

// tcAttach(ifindex, direction, prog, handle, priority) — creates clsact when missing.
static Napi::Value TcAttach(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	uint32_t ifindex;
	struct bpf_tc_hook hook = TcHook(info, &ifindex);
	ProgHandle *prog = ArgProg(info, 2, "prog");
	uint32_t handle = ArgU32(info, 3, "handle"), priority = ArgU32(info, 4, "priority");
	if (priority == 0 || priority > 0xffff || handle == 0)
		throw Napi::TypeError::New(env, "tc handle must be non-zero and priority in 1..65535");
	int err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		return ThrowErrno(env, "bpf_tc_hook_create", err, IfLabel(ifindex));
	LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog->Fd(env, "bpf_tc_attach"), .flags = BPF_TC_F_REPLACE,
		    .handle = handle, .priority = priority);
	err = bpf_tc_attach(&hook, &opts);
	if (err)
		return ThrowErrno(env, "bpf_tc_attach", err, prog->label + " → " + IfLabel(ifindex));
	return Napi::Number::New(env, opts.prog_id);
}

// tcDetach(ifindex, direction, handle, priority)
static Napi::Value TcDetach(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	uint32_t ifindex;
	struct bpf_tc_hook hook = TcHook(info, &ifindex);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = ArgU32(info, 2, "handle"), .priority = ArgU32(info, 3, "priority"));
	int err = bpf_tc_detach(&hook, &opts);
	if (err)
		return ThrowErrno(env, "bpf_tc_detach", err, IfLabel(ifindex));
	return env.Undefined();
}

// tcQuery(ifindex, direction, handle, priority) → program id, or 0 when none is there.
static Napi::Value TcQuery(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	uint32_t ifindex;
	struct bpf_tc_hook hook = TcHook(info, &ifindex);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = ArgU32(info, 2, "handle"), .priority = ArgU32(info, 3, "priority"));
	int err = bpf_tc_query(&hook, &opts);
	if (err == -ENOENT || err == -EINVAL)
		return Napi::Number::New(env, 0); // no clsact qdisc, or no such filter
	if (err)
		return ThrowErrno(env, "bpf_tc_query", err, IfLabel(ifindex));
	return Napi::Number::New(env, opts.prog_id);
}

// tcHookDestroy(ifindex) — removes the clsact qdisc with every filter on it.
static Napi::Value TcHookDestroy(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	uint32_t ifindex = ArgU32(info, 0, "ifindex");
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ifindex,
		    .attach_point = (enum bpf_tc_attach_point)(BPF_TC_INGRESS | BPF_TC_EGRESS));
	int err = bpf_tc_hook_destroy(&hook);
	if (err && err != -ENOENT && err != -EINVAL)
		return ThrowErrno(env, "bpf_tc_hook_destroy", err, IfLabel(ifindex));
	return env.Undefined();
}

void InitLink(Napi::Env env, Napi::Object exports)
{
	exports.Set("LinkHandle", LinkHandle::Class(env));
	exports.Set("xdpAttach", Napi::Function::New(env, XdpAttach));
	exports.Set("xdpDetach", Napi::Function::New(env, XdpDetach));
	exports.Set("xdpQuery", Napi::Function::New(env, XdpQuery));
	exports.Set("tcxQuery", Napi::Function::New(env, TcxQuery));
	exports.Set("tcAttach", Napi::Function::New(env, TcAttach));
	exports.Set("tcDetach", Napi::Function::New(env, TcDetach));
	exports.Set("tcQuery", Napi::Function::New(env, TcQuery));
	exports.Set("tcHookDestroy", Napi::Function::New(env, TcHookDestroy));
}

} // namespace xsw
