// SPDX-License-Identifier: Apache-2.0
// Generic netlink over libmnl, family-agnostic: one request → its replies (dumps included)
// or its error with the kernel's extended-ack text, run on the libuv pool; and a socket
// that receives unsolicited messages (multicast notifications, OVS upcalls sent to its
// port id) through a uv_poll_t. Message bodies are encoded and decoded in TypeScript
// (src/kdp/); this file only moves bytes. Raw signatures: src/kdp/raw-genl.ts.
#include "nl_task.h"

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <vector>

namespace xsw {

namespace {

// A dump chunk is at most 32 KiB; a single message (an upcall carrying a GSO packet) can be
// larger, so receivers peek at each message's size first.
constexpr size_t kRecvBuf = 64 * 1024;

std::atomic<uint32_t> g_seq{1};

// The kernel's reason text from an extended ack, appended to `detail`.
int AckError(const nlmsghdr *m, std::string &detail)
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

mnl_socket *OpenGenl(int *err)
{
	mnl_socket *s = mnl_socket_open2(NETLINK_GENERIC, SOCK_CLOEXEC);
	if (!s) {
		*err = errno;
		return nullptr;
	}
	int one = 1;
	setsockopt(mnl_socket_get_fd(s), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(mnl_socket_get_fd(s), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) {
		*err = errno;
		mnl_socket_close(s);
		return nullptr;
	}
	*err = 0;
	return s;
}

// Receives one datagram whole, growing `buf` to the size the kernel reports.
ssize_t RecvWhole(int fd, std::vector<char> &buf, int flags)
{
	for (;;) {
		ssize_t n = recv(fd, buf.data(), buf.size(), flags | MSG_PEEK | MSG_TRUNC);
		if (n < 0)
			return n;
		if ((size_t)n > buf.size()) {
			buf.resize((size_t)n);
			continue;
		}
		return recv(fd, buf.data(), buf.size(), flags);
	}
}

struct Reply {
	std::vector<uint8_t> bytes; // from the genlmsghdr on
};

// One request on a fresh socket: sends it and reads until its ack, its dump's end or
// its error. Replies whose type is the family (its data messages) are kept.
int Transact(uint16_t family, uint8_t cmd, uint8_t version, uint16_t flags,
	     const std::vector<uint8_t> &payload, std::vector<Reply> &out, std::string &detail)
{
	int err = 0;
	mnl_socket *s = OpenGenl(&err);
	if (!s)
		return err;
	std::unique_ptr<mnl_socket, int (*)(mnl_socket *)> guard(s, mnl_socket_close);
	std::vector<char> msg(MNL_ALIGN(sizeof(nlmsghdr)) + MNL_ALIGN(sizeof(genlmsghdr)) +
			      MNL_ALIGN(payload.size()));
	nlmsghdr *nlh = mnl_nlmsg_put_header(msg.data());
	nlh->nlmsg_type = family;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	uint32_t seq = g_seq.fetch_add(1);
	nlh->nlmsg_seq = seq;
	auto *g = (genlmsghdr *)mnl_nlmsg_put_extra_header(nlh, sizeof(genlmsghdr));
	g->cmd = cmd;
	g->version = version;
	if (!payload.empty())
		memcpy(mnl_nlmsg_put_extra_header(nlh, payload.size()), payload.data(), payload.size());
	if (mnl_socket_sendto(s, nlh, nlh->nlmsg_len) < 0)
		return errno;
	uint32_t portid = mnl_socket_get_portid(s);
	int fd = mnl_socket_get_fd(s);
	std::vector<char> buf(kRecvBuf);
	for (;;) {
		ssize_t n = RecvWhole(fd, buf, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		int len = (int)n;
		for (auto *m = (const nlmsghdr *)buf.data(); mnl_nlmsg_ok(m, len); m = mnl_nlmsg_next(m, &len)) {
			if (m->nlmsg_pid != portid || m->nlmsg_seq != seq)
				continue;
			if (m->nlmsg_type == NLMSG_DONE) {
				// A dump's end may carry its error (e.g. EINTR: the table changed).
				if (mnl_nlmsg_get_payload_len(m) >= sizeof(int)) {
					int e = *(const int *)mnl_nlmsg_get_payload(m);
					return e < 0 ? -e : 0;
				}
				return 0;
			}
			if (m->nlmsg_type == NLMSG_ERROR)
				return AckError(m, detail);
			if (m->nlmsg_type == family && mnl_nlmsg_get_payload_len(m) >= sizeof(genlmsghdr)) {
				auto *p = (const uint8_t *)mnl_nlmsg_get_payload(m);
				out.push_back(Reply{std::vector<uint8_t>(p, p + mnl_nlmsg_get_payload_len(m))});
			}
		}
	}
}

// genlRequest(family, cmd, version, flags, payload, what): Promise<Buffer[]>
// `flags` are the NLM_F_* bits beyond REQUEST|ACK (DUMP, CREATE, EXCL, REPLACE, ECHO);
// `payload` is everything after the genlmsghdr; each reply Buffer starts at its genlmsghdr.
Napi::Value Request(const Napi::CallbackInfo &info)
{
	uint32_t family = ArgU32(info, 0, "family");
	uint32_t cmd = ArgU32(info, 1, "cmd");
	uint32_t version = ArgU32(info, 2, "version");
	uint32_t flags = ArgU32(info, 3, "flags");
	Napi::Buffer<uint8_t> b = ArgBuf(info, 4, "payload");
	std::string what = ArgStr(info, 5, "what");
	if (family < NLMSG_MIN_TYPE || family > 0xffff || cmd > 0xff || version > 0xff || flags > 0xffff)
		throw Napi::TypeError::New(info.Env(), "genlRequest: family, cmd, version or flags out of range");
	if (b.Length() > (1u << 20))
		throw Napi::TypeError::New(info.Env(), "genlRequest: payload over 1 MiB");
	std::vector<uint8_t> payload(b.Data(), b.Data() + b.Length());
	auto replies = std::make_shared<std::vector<Reply>>();
	return NlTask::Queue(
		info.Env(), "genl_request", what,
		[=](std::string &detail) {
			return Transact((uint16_t)family, (uint8_t)cmd, (uint8_t)version, (uint16_t)flags, payload,
					*replies, detail);
		},
		[replies](Napi::Env env) {
			Napi::Array arr = Napi::Array::New(env, replies->size());
			for (size_t i = 0; i < replies->size(); i++) {
				auto &r = (*replies)[i].bytes;
				arr.Set((uint32_t)i, Napi::Buffer<uint8_t>::Copy(env, r.data(), r.size()));
			}
			return arr;
		});
}

// A socket for unsolicited messages, read when libuv says it is readable.
// callback(kind, type, arg): kind 0 a message (type: nlmsg_type, arg: Buffer from the
// genlmsghdr on), 2 overrun (messages were lost, arg null), 3 socket error (arg: errno).
class Listener {
public:
	struct Handle {
		Listener *l = nullptr;
	};

	Listener(Napi::Env env, Napi::Function cb, std::shared_ptr<Handle> handle)
		: env_(env), cb_(Napi::Persistent(cb)),
		  ctx_(std::make_unique<Napi::AsyncContext>(env, "xdpswitch:genl-socket")), handle_(std::move(handle))
	{
	}

	int Start(uint32_t rcvbuf)
	{
		int err = 0;
		sock_ = OpenGenl(&err);
		if (!sock_)
			return err;
		int fd = mnl_socket_get_fd(sock_);
		int size = rcvbuf > INT32_MAX ? INT32_MAX : (int)rcvbuf;
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
		uv_loop_t *loop = nullptr;
		if (napi_get_uv_event_loop(env_, &loop) != napi_ok)
			return EINVAL;
		poll_ = new uv_poll_t();
		poll_->data = this;
		if (int e = uv_poll_init(loop, poll_, fd)) {
			delete poll_;
			poll_ = nullptr;
			return -e;
		}
		napi_add_env_cleanup_hook(env_, Cleanup, this);
		uv_poll_start(poll_, UV_READABLE, OnReadable);
		return 0;
	}

	uint32_t PortId() const { return sock_ ? mnl_socket_get_portid(sock_) : 0; }

	int Join(uint32_t group, bool join)
	{
		if (!sock_)
			return EBADF;
		int opt = join ? NETLINK_ADD_MEMBERSHIP : NETLINK_DROP_MEMBERSHIP;
		if (setsockopt(mnl_socket_get_fd(sock_), SOL_NETLINK, opt, &group, sizeof(group)) < 0)
			return errno;
		return 0;
	}

	void Close()
	{
		closing_ = true;
		if (handle_)
			handle_->l = nullptr;
		handle_.reset();
		if (!poll_) {
			delete this;
			return;
		}
		napi_remove_env_cleanup_hook(env_, Cleanup, this);
		uv_poll_stop(poll_);
		uv_close((uv_handle_t *)poll_, [](uv_handle_t *h) {
			auto *self = (Listener *)h->data;
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

	~Listener()
	{
		if (sock_)
			mnl_socket_close(sock_);
	}

private:
	static void Cleanup(void *arg)
	{
		// The environment is ending: drop JS references and close without calling back.
		auto *self = (Listener *)arg;
		self->closing_ = true;
		self->cb_.Reset();
		self->ctx_.reset();
		if (self->handle_)
			self->handle_->l = nullptr;
		if (self->poll_) {
			uv_poll_stop(self->poll_);
			uv_close((uv_handle_t *)self->poll_, nullptr);
			self->poll_ = nullptr;
		}
		delete self;
	}

	static void OnReadable(uv_poll_t *h, int status, int events)
	{
		auto *self = (Listener *)h->data;
		if (self->closing_)
			return;
		Napi::HandleScope scope(self->env_);
		self->Drain();
		// POLLERR (ENOBUFS, consumed by Drain) makes libuv stop the handle: resume.
		if (status < 0 && !self->closing_ && self->poll_)
			uv_poll_start(self->poll_, UV_READABLE, OnReadable);
	}

	void Drain()
	{
		int fd = mnl_socket_get_fd(sock_);
		// Bounded so a flood of upcalls cannot starve the rest of the event loop.
		for (int round = 0; round < 256 && !closing_; round++) {
			ssize_t n = RecvWhole(fd, buf_, MSG_DONTWAIT);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					return;
				if (errno == ENOBUFS) {
					Deliver(2, 0, env_.Null());
					continue;
				}
				Deliver(3, 0, Napi::Number::New(env_, errno));
				return;
			}
			int len = (int)n;
			for (auto *m = (const nlmsghdr *)buf_.data(); mnl_nlmsg_ok(m, len) && !closing_;
			     m = mnl_nlmsg_next(m, &len)) {
				if (m->nlmsg_type < NLMSG_MIN_TYPE || mnl_nlmsg_get_payload_len(m) < sizeof(genlmsghdr))
					continue;
				Napi::HandleScope scope(env_);
				auto *p = (const uint8_t *)mnl_nlmsg_get_payload(m);
				Deliver(0, m->nlmsg_type,
					Napi::Buffer<uint8_t>::Copy(env_, p, mnl_nlmsg_get_payload_len(m)));
			}
		}
	}

	void Deliver(int kind, uint32_t type, Napi::Value arg)
	{
		try {
			cb_.MakeCallback(env_.Global(),
					 {Napi::Number::New(env_, kind), Napi::Number::New(env_, type), arg}, *ctx_);
		} catch (const Napi::Error &e) {
			napi_fatal_exception(env_, e.Value());
		}
	}

	Napi::Env env_;
	Napi::FunctionReference cb_;
	std::unique_ptr<Napi::AsyncContext> ctx_;
	std::shared_ptr<Handle> handle_;
	mnl_socket *sock_ = nullptr;
	uv_poll_t *poll_ = nullptr;
	std::vector<char> buf_ = std::vector<char>(kRecvBuf);
	bool closing_ = false;
};

// genlSocket(callback, rcvbuf?): { portid, join(group), leave(group), close(), ref(), unref() }
Napi::Value Socket(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	Napi::Function cb = ArgFn(info, 0, "callback");
	uint32_t rcvbuf = HasArg(info, 1) ? ArgU32(info, 1, "rcvbuf") : 4u << 20;
	auto handle = std::make_shared<Listener::Handle>();
	auto *l = new Listener(env, cb, handle);
	handle->l = l;
	if (int err = l->Start(rcvbuf)) {
		l->Close();
		return ThrowErrno(env, "genl_socket", err);
	}
	Napi::Object o = Napi::Object::New(env);
	o.Set("portid", l->PortId());
	auto member = [handle](bool join) {
		return [handle, join](const Napi::CallbackInfo &ci) -> Napi::Value {
			uint32_t group = ArgU32(ci, 0, "group");
			if (!handle->l)
				return ThrowErrno(ci.Env(), "genl_socket membership", EBADF, "closed");
			if (int err = handle->l->Join(group, join))
				return ThrowErrno(ci.Env(), join ? "NETLINK_ADD_MEMBERSHIP" : "NETLINK_DROP_MEMBERSHIP",
						  err, "group " + std::to_string(group));
			return ci.Env().Undefined();
		};
	};
	o.Set("join", Napi::Function::New(env, member(true)));
	o.Set("leave", Napi::Function::New(env, member(false)));
	o.Set("close", Napi::Function::New(env, [handle](const Napi::CallbackInfo &ci) {
		      if (handle->l)
			      handle->l->Close();
		      return ci.Env().Undefined();
	      }));
	o.Set("ref", Napi::Function::New(env, [handle](const Napi::CallbackInfo &ci) {
		      if (handle->l)
			      handle->l->Ref(true);
		      return ci.Env().Undefined();
	      }));
	o.Set("unref", Napi::Function::New(env, [handle](const Napi::CallbackInfo &ci) {
		      if (handle->l)
			      handle->l->Ref(false);
		      return ci.Env().Undefined();
	      }));
	return o;
}

} // namespace

void InitGenl(Napi::Env env, Napi::Object exports)
{
	exports.Set("genlRequest", Napi::Function::New(env, Request));
	exports.Set("genlSocket", Napi::Function::New(env, Socket));
}

} // namespace xsw
