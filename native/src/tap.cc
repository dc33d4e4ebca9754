// SPDX-License-Identifier: Apache-2.0
// Persistent tap devices through /dev/net/tun: TUNSETIFF (IFF_TAP | IFF_NO_PI) then
// TUNSETPERSIST, so the device outlives the fd; deletion clears persistence the same way.
#include "nl_task.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstring>

namespace xsw {

namespace {

class TunFd {
public:
	~TunFd()
	{
		if (fd_ >= 0)
			close(fd_);
	}

	// Attaches to (or creates) tap `name`; `actual` gets the kernel's name for it.
	int Attach(const std::string &name, std::string &actual)
	{
		fd_ = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
		if (fd_ < 0)
			return errno;
		ifreq ifr{};
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
		memcpy(ifr.ifr_name, name.c_str(), name.size());
		if (ioctl(fd_, TUNSETIFF, &ifr) < 0)
			return errno;
		actual.assign(ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ));
		return 0;
	}

	int Persist(bool on) { return ioctl(fd_, TUNSETPERSIST, on ? 1 : 0) < 0 ? errno : 0; }

private:
	int fd_ = -1;
};

int CheckName(const std::string &name)
{
	if (name.empty())
		return EINVAL;
	return name.size() > kIfNameMax ? ENAMETOOLONG : 0;
}

// tapCreate(name): Promise<string> — the device's name (a "%d" pattern gets a number).
Napi::Value TapCreate(const Napi::CallbackInfo &info)
{
	std::string name = ArgName(info, 0, "name");
	auto actual = std::make_shared<std::string>();
	return NlTask::Queue(
		info.Env(), "tap create", name,
		[name, actual](std::string &) {
			if (int err = CheckName(name))
				return err;
			// TUNSETIFF attaches to an existing tap of that name instead of failing.
			if (name.find('%') == std::string::npos && if_nametoindex(name.c_str()) != 0)
				return EEXIST;
			TunFd t;
			if (int err = t.Attach(name, *actual))
				return err;
			return t.Persist(true);
		},
		[actual](Napi::Env env) { return Napi::String::New(env, *actual); });
}

// tapDelete(name): Promise<void>
Napi::Value TapDelete(const Napi::CallbackInfo &info)
{
	std::string name = ArgName(info, 0, "name");
	return NlTask::Queue(info.Env(), "tap delete", name, [name](std::string &) {
		if (int err = CheckName(name))
			return err;
		if (if_nametoindex(name.c_str()) == 0)
			return ENODEV;
		// Attaching fails with EINVAL when `name` is not a tap; once persistence is
		// cleared, closing the last fd removes the device.
		TunFd t;
		std::string actual;
		if (int err = t.Attach(name, actual))
			return err;
		return t.Persist(false);
	});
}

} // namespace

void InitTap(Napi::Env env, Napi::Object exports)
{
	exports.Set("tapCreate", Napi::Function::New(env, TapCreate));
	exports.Set("tapDelete", Napi::Function::New(env, TapDelete));
}

} // namespace xsw
