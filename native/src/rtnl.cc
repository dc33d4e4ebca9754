// SPDX-License-Identifier: Apache-2.0
// rtnetlink over libmnl: list/get links, create veth pairs, delete and configure links,
// and link events delivered through a uv_poll_t on an RTNLGRP_LINK socket.
// Typed views and policy are in src/native/netlink.ts; raw signatures in raw-netlink.ts.
#include "nl_task.h"

#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cstring>
#include <ctime>
#include <vector>

namespace xsw {

namespace {

// Large enough for a dump chunk (the kernel fills up to 32 KiB per recv).
constexpr size_t kRecvBuf = 64 * 1024;

struct Link {
	uint32_t ifindex = 0;
	uint16_t type = 0;    // ARPHRD_*
	uint32_t flags = 0;   // IFF_*
	uint32_t change = 0;  // ifi_change (events: ~0 on registration)
	std::string name, kind, slave_kind;
	std::vector<uint8_t> mac;
	uint32_t mtu = 0;
	int operstate = -1;   // IF_OPER_*, -1 when not reported
	int carrier = -1;
	uint32_t master = 0;
	uint32_t link = 0;    // IFLA_LINK: a veth's peer ifindex (in link_netnsid if set)
	int64_t link_netnsid = -1;
	int xdp_attached = -1; // XDP_ATTACHED_*
	uint32_t xdp_prog_id = 0;
	std::vector<uint8_t> stats64; // struct rtnl_link_stats64 as the kernel sent it
};

// One request/response conversation on a fresh NETLINK_ROUTE socket.
class Rtnl {
public:
	~Rtnl()
	{
		if (sock_)
			mnl_socket_close(sock_);
	}

	int Open(unsigned groups = 0)
	{
		sock_ = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
		if (!sock_)
			return errno;
		int one = 1;
		// Extended acks carry the kernel's reason text; capped acks skip the echoed request.
		setsockopt(mnl_socket_get_fd(sock_), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
		setsockopt(mnl_socket_get_fd(sock_), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
		if (mnl_socket_bind(sock_, groups, MNL_SOCKET_AUTOPID) < 0)
			return errno;
		return 0;
	}

	mnl_socket *sock() { return sock_; }

	// Sends `nlh` and reads until its ack or dump end, handing data messages to `on_msg`.
	// Returns 0 or an errno; `detail` gets the extended ack text when there is one.
	int Transact(nlmsghdr *nlh, const std::function<void(const nlmsghdr *)> &on_msg,
		     std::string &detail)
	{
		nlh->nlmsg_seq = seq_ = (uint32_t)time(nullptr);
		nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
		if (mnl_socket_sendto(sock_, nlh, nlh->nlmsg_len) < 0)
			return errno;
		uint32_t portid = mnl_socket_get_portid(sock_);
		std::vector<char> buf(kRecvBuf);
		for (;;) {
			ssize_t n = mnl_socket_recvfrom(sock_, buf.data(), buf.size());
			if (n < 0) {
				if (errno == EINTR)
					continue;
				return errno;
			}
			int len = (int)n;
			for (auto *m = (const nlmsghdr *)buf.data(); mnl_nlmsg_ok(m, len);
			     m = mnl_nlmsg_next(m, &len)) {
				if (m->nlmsg_pid != portid || m->nlmsg_seq != seq_)
					continue;
				if (m->nlmsg_type == NLMSG_DONE) {
					// A dump's end may carry its error (e.g. EINTR: interrupted).
					if (mnl_nlmsg_get_payload_len(m) >= sizeof(int)) {
						int e = *(const int *)mnl_nlmsg_get_payload(m);
						return e < 0 ? -e : 0;
					}
					return 0;
				}
				if (m->nlmsg_type == NLMSG_ERROR)
					return AckError(m, detail);
				if (m->nlmsg_type >= NLMSG_MIN_TYPE)
					on_msg(m);
			}
		}
	}

private:
	static int AckError(const nlmsghdr *m, std::string &detail)
	{
		if (m->nlmsg_len < mnl_nlmsg_size(sizeof(nlmsgerr)))
			return EBADMSG;
		auto *e = (const nlmsgerr *)mnl_nlmsg_get_payload(m);
		if (e->error == 0)
			return 0;
		if (m->nlmsg_flags & NLM_F_ACK_TLVS) {
			size_t off = sizeof(nlmsgerr);
			if (!(m->nlmsg_flags & NLM_F_CAPPED))
				off += e->msg.nlmsg_len - sizeof(nlmsghdr);
			auto *start = (const char *)mnl_nlmsg_get_payload(m) + off;
			int left = (int)((const char *)m + m->nlmsg_len - start);
			for (auto *a = (const nlattr *)start; left > 0 && mnl_attr_ok(a, left);
			     left -= MNL_ALIGN(a->nla_len), a = mnl_attr_next(a)) {
				if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
				    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0) {
					std::string text = mnl_attr_get_str(a);
					detail = detail.empty() ? text : detail + ": " + text;
				}
			}
		}
		return -e->error;
	}

	mnl_socket *sock_ = nullptr;
	uint32_t seq_ = 0;
};

void ParseLinkInfo(const nlattr *nest, Link &l)
{
	for (auto *a = (const nlattr *)mnl_attr_get_payload(nest);
	     mnl_attr_ok(a, (int)((const char *)mnl_attr_get_payload(nest) +
				  mnl_attr_get_payload_len(nest) - (const char *)a));
	     a = mnl_attr_next(a)) {
		switch (mnl_attr_get_type(a)) {
		case IFLA_INFO_KIND:
			if (mnl_attr_validate(a, MNL_TYPE_STRING) == 0)
				l.kind.assign((const char *)mnl_attr_get_payload(a),
					      strnlen((const char *)mnl_attr_get_payload(a),
						      mnl_attr_get_payload_len(a)));
			break;
		case IFLA_INFO_SLAVE_KIND:
			if (mnl_attr_validate(a, MNL_TYPE_STRING) == 0)
				l.slave_kind.assign((const char *)mnl_attr_get_payload(a),
						    strnlen((const char *)mnl_attr_get_payload(a),
							    mnl_attr_get_payload_len(a)));
			break;
		}
	}
}

void ParseXdp(const nlattr *nest, Link &l)
{
	for (auto *a = (const nlattr *)mnl_attr_get_payload(nest);
	     mnl_attr_ok(a, (int)((const char *)mnl_attr_get_payload(nest) +
				  mnl_attr_get_payload_len(nest) - (const char *)a));
	     a = mnl_attr_next(a)) {
		switch (mnl_attr_get_type(a)) {
		case IFLA_XDP_ATTACHED:
			if (mnl_attr_validate(a, MNL_TYPE_U8) == 0)
				l.xdp_attached = mnl_attr_get_u8(a);
			break;
		case IFLA_XDP_PROG_ID:
			if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
				l.xdp_prog_id = mnl_attr_get_u32(a);
			break;
		}
	}
}

bool ParseLink(const nlmsghdr *m, Link &l)
{
	if (m->nlmsg_len < mnl_nlmsg_size(sizeof(ifinfomsg)))
		return false;
	auto *ifi = (const ifinfomsg *)mnl_nlmsg_get_payload(m);
	l.ifindex = (uint32_t)ifi->ifi_index;
	l.type = ifi->ifi_type;
	l.flags = ifi->ifi_flags;
	l.change = ifi->ifi_change;
	for (auto *a = (const nlattr *)mnl_nlmsg_get_payload_offset(m, sizeof(ifinfomsg));
	     mnl_attr_ok(a, (int)((const char *)mnl_nlmsg_get_payload_tail(m) - (const char *)a));
	     a = mnl_attr_next(a)) {
		switch (mnl_attr_get_type(a)) {
		case IFLA_IFNAME:
			if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
				l.name = mnl_attr_get_str(a);
			break;
		case IFLA_ADDRESS: {
			auto *p = (const uint8_t *)mnl_attr_get_payload(a);
			l.mac.assign(p, p + mnl_attr_get_payload_len(a));
			break;
		}
		case IFLA_MTU:
			if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
				l.mtu = mnl_attr_get_u32(a);
			break;
		case IFLA_OPERSTATE:
			if (mnl_attr_validate(a, MNL_TYPE_U8) == 0)
				l.operstate = mnl_attr_get_u8(a);
			break;
		case IFLA_CARRIER:
			if (mnl_attr_validate(a, MNL_TYPE_U8) == 0)
				l.carrier = mnl_attr_get_u8(a);
			break;
		case IFLA_MASTER:
			if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
				l.master = mnl_attr_get_u32(a);
			break;
		case IFLA_LINK:
			if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
				l.link = mnl_attr_get_u32(a);
			break;
		case IFLA_LINK_NETNSID:
			if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
				l.link_netnsid = (int32_t)mnl_attr_get_u32(a);
			break;
		case IFLA_LINKINFO:
			if (mnl_attr_validate(a, MNL_TYPE_NESTED) == 0)
				ParseLinkInfo(a, l);
			break;
		case IFLA_XDP:
			if (mnl_attr_validate(a, MNL_TYPE_NESTED) == 0)
				ParseXdp(a, l);
			break;
		case IFLA_STATS64: {
			auto *p = (const uint8_t *)mnl_attr_get_payload(a);
			l.stats64.assign(p, p + mnl_attr_get_payload_len(a));
			break;
		}
		}
	}
	return true;
}

Napi::Object LinkToJs(Napi::Env env, const Link &l)
{
	Napi::Object o = Napi::Object::New(env);
	o.Set("ifindex", l.ifindex);
	o.Set("name", l.name);
	o.Set("type", l.type);
	o.Set("flags", l.flags);
	o.Set("kind", l.kind);
	o.Set("slaveKind", l.slave_kind);
	o.Set("mac", Napi::Buffer<uint8_t>::Copy(env, l.mac.data(), l.mac.size()));
	o.Set("mtu", l.mtu);
	o.Set("operstate", l.operstate);
	o.Set("carrier", l.carrier);
	o.Set("master", l.master);
	o.Set("link", l.link);
	o.Set("linkNetnsid", (double)l.link_netnsid);
	o.Set("xdpAttached", l.xdp_attached);
	o.Set("xdpProgId", l.xdp_prog_id);
	o.Set("stats64", Napi::Buffer<uint8_t>::Copy(env, l.stats64.data(), l.stats64.size()));
	return o;
}

// A link is named by ifindex (> 0) or, when the index is 0, by name.
struct LinkRef {
	uint32_t ifindex = 0;
	std::string name;

	static LinkRef FromArgs(const Napi::CallbackInfo &info, size_t i)
	{
		LinkRef r;
		r.ifindex = ArgU32(info, i, "ifindex");
		r.name = ArgName(info, i + 1, "name");
		if (r.ifindex > INT32_MAX)
			throw Napi::TypeError::New(info.Env(), "argument 'ifindex' out of range");
		if (!r.ifindex && r.name.empty())
			throw Napi::TypeError::New(info.Env(), "a link needs an ifindex or a name");
		return r;
	}

	std::string Describe() const { return ifindex ? "ifindex " + std::to_string(ifindex) : name; }

	// Fills the ifinfomsg index or puts IFLA_IFNAME.
	void Put(nlmsghdr *nlh, ifinfomsg *ifi) const
	{
		ifi->ifi_index = (int)ifindex;
		if (!ifindex)
			mnl_attr_put_strz(nlh, IFLA_IFNAME, name.c_str());
	}
};

nlmsghdr *NewLinkMsg(std::vector<char> &buf, uint16_t type, uint16_t flags, ifinfomsg **ifi)
{
	buf.assign(MNL_SOCKET_BUFFER_SIZE, 0);
	nlmsghdr *nlh = mnl_nlmsg_put_header(buf.data());
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	*ifi = (ifinfomsg *)mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg));
	(*ifi)->ifi_family = AF_UNSPEC;
	return nlh;
}

// rtnlListLinks(): Promise<RawLink[]>
Napi::Value ListLinks(const Napi::CallbackInfo &info)
{
	auto links = std::make_shared<std::vector<Link>>();
	return NlTask::Queue(
		info.Env(), "rtnl_getlink_dump", "",
		[links](std::string &detail) {
			Rtnl nl;
			if (int err = nl.Open())
				return err;
			std::vector<char> buf;
			ifinfomsg *ifi;
			nlmsghdr *nlh = NewLinkMsg(buf, RTM_GETLINK, NLM_F_DUMP, &ifi);
			return nl.Transact(
				nlh,
				[&](const nlmsghdr *m) {
					Link l;
					if (m->nlmsg_type == RTM_NEWLINK && ParseLink(m, l))
						links->push_back(std::move(l));
				},
				detail);
		},
		[links](Napi::Env env) {
			Napi::Array arr = Napi::Array::New(env, links->size());
			for (size_t i = 0; i < links->size(); i++)
				arr.Set((uint32_t)i, LinkToJs(env, (*links)[i]));
			return arr;
		});
}

// rtnlGetLink(ifindex, name): Promise<RawLink>
Napi::Value GetLink(const Napi::CallbackInfo &info)
{
	LinkRef ref = LinkRef::FromArgs(info, 0);
	auto link = std::make_shared<Link>();
	return NlTask::Queue(
		info.Env(), "rtnl_getlink", ref.Describe(),
		[ref, link](std::string &detail) {
			Rtnl nl;
			if (int err = nl.Open())
				return err;
			std::vector<char> buf;
			ifinfomsg *ifi;
			nlmsghdr *nlh = NewLinkMsg(buf, RTM_GETLINK, 0, &ifi);
			ref.Put(nlh, ifi);
			bool found = false;
			int err = nl.Transact(
				nlh,
				[&](const nlmsghdr *m) {
					if (m->nlmsg_type == RTM_NEWLINK && ParseLink(m, *link))
						found = true;
				},
				detail);
			return err ? err : (found ? 0 : ENODEV);
		},
		[link](Napi::Env env) { return LinkToJs(env, *link); });
}

int OpenNetns(const std::string &name, int *fd)
{
	// A name under /var/run/netns (as `ip netns add` makes), never a path.
	if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
		return EINVAL;
	*fd = open(("/var/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
	return *fd < 0 ? errno : 0;
}

// rtnlCreateVeth(name, peerName, peerNetns /* '' = here */): Promise<void>
Napi::Value CreateVeth(const Napi::CallbackInfo &info)
{
	std::string name = ArgName(info, 0, "name");
	std::string peer = ArgName(info, 1, "peerName");
	std::string netns = ArgName(info, 2, "peerNetns");
	std::string what = name + " peer " + peer + (netns.empty() ? "" : " netns " + netns);
	return NlTask::Queue(info.Env(), "rtnl_newlink veth", what, [=](std::string &detail) {
		int nsfd = -1;
		if (!netns.empty()) {
			if (int err = OpenNetns(netns, &nsfd)) {
				detail = "netns " + netns;
				return err;
			}
		}
		Rtnl nl;
		int err = nl.Open();
		if (!err) {
			std::vector<char> buf;
			ifinfomsg *ifi;
			nlmsghdr *nlh = NewLinkMsg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi);
			mnl_attr_put_strz(nlh, IFLA_IFNAME, name.c_str());
			nlattr *linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
			mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
			nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
			nlattr *peerinfo = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
			// VETH_INFO_PEER holds an ifinfomsg followed by the peer's attributes.
			auto *pifi = (ifinfomsg *)mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg));
			pifi->ifi_family = AF_UNSPEC;
			mnl_attr_put_strz(nlh, IFLA_IFNAME, peer.c_str());
			if (nsfd >= 0)
				mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)nsfd);
			mnl_attr_nest_end(nlh, peerinfo);
			mnl_attr_nest_end(nlh, data);
			mnl_attr_nest_end(nlh, linkinfo);
			err = nl.Transact(nlh, [](const nlmsghdr *) {}, detail);
		}
		if (nsfd >= 0)
			close(nsfd);
		return err;
	});
}

// rtnlDeleteLink(ifindex, name): Promise<void>
Napi::Value DeleteLink(const Napi::CallbackInfo &info)
{
	LinkRef ref = LinkRef::FromArgs(info, 0);
	return NlTask::Queue(info.Env(), "rtnl_dellink", ref.Describe(), [ref](std::string &detail) {
		Rtnl nl;
		if (int err = nl.Open())
			return err;
		std::vector<char> buf;
		ifinfomsg *ifi;
		nlmsghdr *nlh = NewLinkMsg(buf, RTM_DELLINK, 0, &ifi);
		ref.Put(nlh, ifi);
		return nl.Transact(nlh, [](const nlmsghdr *) {}, detail);
	});
}

// rtnlSetLink(ifindex, name, { up?: boolean, mtu?: number, mac?: Buffer }): Promise<void>
Napi::Value SetLink(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	LinkRef ref = LinkRef::FromArgs(info, 0);
	Napi::Object opts = ArgObj(info, 2, "options");
	int up = -1;
	int64_t mtu = -1;
	std::vector<uint8_t> mac;
	std::string what = ref.Describe();
	Napi::Value v = opts.Get("up");
	if (!v.IsUndefined()) {
		if (!v.IsBoolean())
			throw Napi::TypeError::New(env, "options.up must be a boolean");
		up = v.As<Napi::Boolean>().Value();
		what += up ? " up" : " down";
	}
	v = opts.Get("mtu");
	if (!v.IsUndefined()) {
		double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
		if (d < 0 || d > 4294967295.0 || d != (double)(uint32_t)d)
			throw Napi::TypeError::New(env, "options.mtu must be a 32-bit unsigned integer");
		mtu = (int64_t)d;
		what += " mtu " + std::to_string(mtu);
	}
	v = opts.Get("mac");
	if (!v.IsUndefined()) {
		if (!v.IsBuffer())
			throw Napi::TypeError::New(env, "options.mac must be a Buffer");
		auto b = v.As<Napi::Buffer<uint8_t>>();
		if (b.Length() == 0 || b.Length() > 32)
			throw Napi::TypeError::New(env, "options.mac must be 1 to 32 bytes");
		mac.assign(b.Data(), b.Data() + b.Length());
		what += " address";
	}
	return NlTask::Queue(env, "rtnl_setlink", what, [=](std::string &detail) {
		Rtnl nl;
		if (int err = nl.Open())
			return err;
		std::vector<char> buf;
		ifinfomsg *ifi;
		nlmsghdr *nlh = NewLinkMsg(buf, RTM_NEWLINK, 0, &ifi);
		ref.Put(nlh, ifi);
		if (up >= 0) {
			ifi->ifi_change = IFF_UP;
			ifi->ifi_flags = up ? IFF_UP : 0;
		}
		if (mtu >= 0)
			mnl_attr_put_u32(nlh, IFLA_MTU, (uint32_t)mtu);
		if (!mac.empty())
			mnl_attr_put(nlh, IFLA_ADDRESS, mac.size(), mac.data());
		return nl.Transact(nlh, [](const nlmsghdr *) {}, detail);
	});
}

// Link events: RTM_NEWLINK/RTM_DELLINK from RTNLGRP_LINK, read when libuv says the socket
// is readable. callback(kind, link): kind 0 new/changed, 1 deleted, 2 overrun (events were
// lost: re-list), 3 socket error (link is the errno).
class LinkMonitor {
public:
	struct Handle {
		LinkMonitor *mon = nullptr;
	};

	LinkMonitor(Napi::Env env, Napi::Function cb, std::shared_ptr<Handle> handle, uint32_t rcvbuf)
		: rcvbuf_(rcvbuf), env_(env), cb_(Napi::Persistent(cb)),
		  ctx_(std::make_unique<Napi::AsyncContext>(env, "xdpswitch:link-events")), handle_(std::move(handle))
	{
	}

	int Start()
	{
		if (int err = nl_.Open(RTMGRP_LINK))
			return err;
		int fd = mnl_socket_get_fd(nl_.sock());
		// Events queue here while JS is busy; past this size the kernel drops them
		// (ENOBUFS: an overrun, after which TS re-lists). FORCE needs CAP_NET_ADMIN.
		int rcvbuf = rcvbuf_ > INT32_MAX ? INT32_MAX : (int)rcvbuf_;
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
		uv_loop_t *loop = nullptr;
		if (napi_get_uv_event_loop(env_, &loop) != napi_ok)
			return EINVAL;
		poll_ = new uv_poll_t();
		poll_->data = this;
		if (int err = uv_poll_init(loop, poll_, fd)) {
			delete poll_;
			poll_ = nullptr;
			return -err;
		}
		napi_add_env_cleanup_hook(env_, Cleanup, this);
		uv_poll_start(poll_, UV_READABLE, OnReadable);
		return 0;
	}

	// Stops delivery; the object is freed once libuv has closed the handle.
	void Close()
	{
		closing_ = true;
		if (handle_)
			handle_->mon = nullptr;
		handle_.reset();
		if (!poll_) {
			delete this;
			return;
		}
		napi_remove_env_cleanup_hook(env_, Cleanup, this);
		uv_poll_stop(poll_);
		uv_close((uv_handle_t *)poll_, [](uv_handle_t *h) {
			auto *self = (LinkMonitor *)h->data;
			delete (uv_poll_t *)h;
			self->poll_ = nullptr;
			delete self;
		});
	}

	void Ref(bool on)
	{
		if (poll_)
			on ? uv_ref((uv_handle_t *)poll_) : uv_unref((uv_handle_t *)poll_);
	}

private:
	static void Cleanup(void *arg)
	{
		// The environment is going away, and with its last user the addon's code may be
		// unloaded: drop JS references now and close the handle without a callback
		// into this library, leaving its few bytes to the dying loop.
		auto *self = (LinkMonitor *)arg;
		self->closing_ = true;
		self->cb_.Reset();
		self->ctx_.reset();
		if (self->handle_)
			self->handle_->mon = nullptr;
		if (self->poll_) {
			uv_poll_stop(self->poll_);
			uv_close((uv_handle_t *)self->poll_, nullptr);
			self->poll_ = nullptr;
		}
		delete self;
	}

	static void OnReadable(uv_poll_t *h, int status, int events)
	{
		auto *self = (LinkMonitor *)h->data;
		if (self->closing_)
			return;
		Napi::HandleScope scope(self->env_);
		self->Drain();
		// On POLLERR (a socket error such as ENOBUFS, which Drain has just consumed)
		// libuv stops the handle and reports UV_EBADF: resume watching.
		if (status < 0 && !self->closing_ && self->poll_)
			uv_poll_start(self->poll_, UV_READABLE, OnReadable);
	}

	void Drain()
	{
		int fd = mnl_socket_get_fd(nl_.sock());
		std::vector<char> buf(kRecvBuf);
		for (int round = 0; round < 64 && !closing_; round++) {
			ssize_t n = recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					return;
				if (errno == ENOBUFS) {
					Deliver(2, env_.Null());
					continue;
				}
				Deliver(3, Napi::Number::New(env_, errno));
				return;
			}
			int len = (int)n;
			for (auto *m = (const nlmsghdr *)buf.data(); mnl_nlmsg_ok(m, len) && !closing_;
			     m = mnl_nlmsg_next(m, &len)) {
				if (m->nlmsg_type != RTM_NEWLINK && m->nlmsg_type != RTM_DELLINK)
					continue;
				// AF_BRIDGE messages describe bridge-port state, not the link itself
				// (a port leaving a bridge sends an AF_BRIDGE RTM_DELLINK).
				if (m->nlmsg_len >= mnl_nlmsg_size(sizeof(ifinfomsg)) &&
				    ((const ifinfomsg *)mnl_nlmsg_get_payload(m))->ifi_family != AF_UNSPEC)
					continue;
				Link l;
				if (!ParseLink(m, l))
					continue;
				Napi::HandleScope scope(env_);
				Deliver(m->nlmsg_type == RTM_DELLINK ? 1 : 0, LinkToJs(env_, l));
			}
		}
	}

	void Deliver(int kind, Napi::Value arg)
	{
		try {
			cb_.MakeCallback(env_.Global(), {Napi::Number::New(env_, kind), arg}, *ctx_);
		} catch (const Napi::Error &e) {
			// A throwing listener is an uncaught exception of the process, as for any event.
			napi_fatal_exception(env_, e.Value());
		}
	}

	uint32_t rcvbuf_;
	Napi::Env env_;
	Napi::FunctionReference cb_;
	std::unique_ptr<Napi::AsyncContext> ctx_;
	std::shared_ptr<Handle> handle_;
	Rtnl nl_;
	uv_poll_t *poll_ = nullptr;
	bool closing_ = false;
};

// rtnlMonitor(callback, rcvbuf?): { close(): void, ref(): void, unref(): void }
Napi::Value Monitor(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	Napi::Function cb = ArgFn(info, 0, "callback");
	uint32_t rcvbuf = HasArg(info, 1) ? ArgU32(info, 1, "rcvbuf") : 4u << 20;
	auto handle = std::make_shared<LinkMonitor::Handle>();
	auto *mon = new LinkMonitor(env, cb, handle, rcvbuf);
	handle->mon = mon;
	if (int err = mon->Start()) {
		mon->Close();
		return ThrowErrno(env, "rtnl_monitor", err, "RTNLGRP_LINK");
	}
	Napi::Object o = Napi::Object::New(env);
	o.Set("close", Napi::Function::New(env, [handle](const Napi::CallbackInfo &ci) {
		      if (handle->mon)
			      handle->mon->Close();
		      return ci.Env().Undefined();
	      }));
	o.Set("ref", Napi::Function::New(env, [handle](const Napi::CallbackInfo &ci) {
		      if (handle->mon)
			      handle->mon->Ref(true);
		      return ci.Env().Undefined();
	      }));
	o.Set("unref", Napi::Function::New(env, [handle](const Napi::CallbackInfo &ci) {
		      if (handle->mon)
			      handle->mon->Ref(false);
		      return ci.Env().Undefined();
	      }));
	return o;
}

} // namespace

void InitRtnl(Napi::Env env, Napi::Object exports)
{
	exports.Set("rtnlListLinks", Napi::Function::New(env, ListLinks));
	exports.Set("rtnlGetLink", Napi::Function::New(env, GetLink));
	exports.Set("rtnlCreateVeth", Napi::Function::New(env, CreateVeth));
	exports.Set("rtnlDeleteLink", Napi::Function::New(env, DeleteLink));
	exports.Set("rtnlSetLink", Napi::Function::New(env, SetLink));
	exports.Set("rtnlMonitor", Napi::Function::New(env, Monitor));
}

} // namespace xsw
