// SPDX-License-Identifier: Apache-2.0
// ethtool features over the SIOCETHTOOL ioctl: read every feature by name (ETH_SS_FEATURES
// strings + ETHTOOL_GFEATURES) and request named ones on or off (ETHTOOL_SFEATURES).
// Which features to touch, and what a refusal means, is decided in src/native/netlink.ts.
#include "nl_task.h"

#include <linux/ethtool.h>
#include <linux/netlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <vector>

namespace xsw {

namespace {

struct Feature {
	std::string name;
	bool available, requested, active, never_changed;
};

class EthtoolSock {
public:
	~EthtoolSock()
	{
		if (fd_ >= 0)
			close(fd_);
	}

	int Open(const std::string &ifname)
	{
		if (ifname.empty() || ifname.size() > kIfNameMax)
			return ifname.empty() ? EINVAL : ENAMETOOLONG;
		ifname_ = ifname;
		fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd_ < 0) // No IPv4 in this kernel: any socket reaches dev_ioctl.
			fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
		return fd_ < 0 ? errno : 0;
	}

	// Returns the ioctl's result (>= 0) or -errno.
	int Call(void *cmd)
	{
		ifreq ifr{};
		memcpy(ifr.ifr_name, ifname_.c_str(), ifname_.size());
		ifr.ifr_data = (char *)cmd;
		int r = ioctl(fd_, SIOCETHTOOL, &ifr);
		return r < 0 ? -errno : r;
	}

	int Read(std::vector<Feature> &out, std::string &op)
	{
		// ETHTOOL_GSSET_INFO: how many feature names there are.
		std::vector<uint8_t> sbuf(sizeof(ethtool_sset_info) + sizeof(uint32_t));
		auto *sset = (ethtool_sset_info *)sbuf.data();
		sset->cmd = ETHTOOL_GSSET_INFO;
		sset->sset_mask = 1ULL << ETH_SS_FEATURES;
		op = "ethtool ETHTOOL_GSSET_INFO";
		if (int r = Call(sset); r < 0)
			return -r;
		uint32_t n = (sset->sset_mask & (1ULL << ETH_SS_FEATURES)) ? sset->data[0] : 0;
		if (n == 0 || n > 4096)
			return EOPNOTSUPP;

		std::vector<uint8_t> gbuf(sizeof(ethtool_gstrings) + (size_t)n * ETH_GSTRING_LEN);
		auto *gs = (ethtool_gstrings *)gbuf.data();
		gs->cmd = ETHTOOL_GSTRINGS;
		gs->string_set = ETH_SS_FEATURES;
		gs->len = n;
		op = "ethtool ETHTOOL_GSTRINGS";
		if (int r = Call(gs); r < 0)
			return -r;

		uint32_t blocks = (n + 31) / 32;
		std::vector<uint8_t> fbuf(sizeof(ethtool_gfeatures) +
					  blocks * sizeof(ethtool_get_features_block));
		auto *gf = (ethtool_gfeatures *)fbuf.data();
		gf->cmd = ETHTOOL_GFEATURES;
		gf->size = blocks;
		op = "ethtool ETHTOOL_GFEATURES";
		if (int r = Call(gf); r < 0)
			return -r;

		out.clear();
		for (uint32_t i = 0; i < n && i < gs->len; i++) {
			const char *s = (const char *)gs->data + (size_t)i * ETH_GSTRING_LEN;
			std::string name(s, strnlen(s, ETH_GSTRING_LEN));
			const auto &b = gf->features[i / 32];
			uint32_t bit = 1U << (i % 32);
			out.push_back({name, (b.available & bit) != 0, (b.requested & bit) != 0,
				       (b.active & bit) != 0, (b.never_changed & bit) != 0});
		}
		return 0;
	}

	int fd_ = -1;
	std::string ifname_;
};

Napi::Array FeaturesToJs(Napi::Env env, const std::vector<Feature> &fs)
{
	Napi::Array arr = Napi::Array::New(env, fs.size());
	for (size_t i = 0; i < fs.size(); i++) {
		Napi::Object o = Napi::Object::New(env);
		o.Set("name", fs[i].name);
		o.Set("available", fs[i].available);
		o.Set("requested", fs[i].requested);
		o.Set("active", fs[i].active);
		o.Set("neverChanged", fs[i].never_changed);
		arr.Set((uint32_t)i, o);
	}
	return arr;
}

// ethtoolGetFeatures(ifname): Promise<RawFeature[]>
Napi::Value GetFeatures(const Napi::CallbackInfo &info)
{
	std::string ifname = ArgName(info, 0, "ifname");
	auto out = std::make_shared<std::vector<Feature>>();
	auto op = std::make_shared<std::string>("ethtool ETHTOOL_GFEATURES");
	return NlTask::Queue(
		info.Env(), "ethtool ETHTOOL_GFEATURES", ifname,
		[ifname, out, op](std::string &) {
			EthtoolSock s;
			if (int err = s.Open(ifname))
				return err;
			return s.Read(*out, *op);
		},
		[out](Napi::Env env) { return FeaturesToJs(env, *out); });
}

// ethtoolSetFeatures(ifname, wanted: Record<string, boolean>): Promise<RawFeature[]>
// Requests the changes and answers the features as they are afterwards; names the
// device does not have are ENOENT.
Napi::Value SetFeatures(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	std::string ifname = ArgName(info, 0, "ifname");
	Napi::Object wanted_obj = ArgObj(info, 1, "wanted");
	std::map<std::string, bool> wanted;
	Napi::Array keys = wanted_obj.GetPropertyNames();
	for (uint32_t i = 0; i < keys.Length(); i++) {
		Napi::Value k = keys.Get(i);
		Napi::Value v = wanted_obj.Get(k);
		if (!v.IsBoolean())
			throw Napi::TypeError::New(env, "wanted." + k.ToString().Utf8Value() +
								" must be a boolean");
		wanted[k.ToString().Utf8Value()] = v.As<Napi::Boolean>().Value();
	}
	auto out = std::make_shared<std::vector<Feature>>();
	return NlTask::Queue(
		env, "ethtool ETHTOOL_SFEATURES", ifname,
		[ifname, wanted, out](std::string &detail) {
			EthtoolSock s;
			if (int err = s.Open(ifname))
				return err;
			std::string op;
			if (int err = s.Read(*out, op))
				return err;
			uint32_t blocks = (uint32_t)(out->size() + 31) / 32;
			std::vector<uint8_t> buf(sizeof(ethtool_sfeatures) +
						 blocks * sizeof(ethtool_set_features_block));
			auto *sf = (ethtool_sfeatures *)buf.data();
			sf->cmd = ETHTOOL_SFEATURES;
			sf->size = blocks;
			for (const auto &[name, on] : wanted) {
				size_t i = 0;
				while (i < out->size() && (*out)[i].name != name)
					i++;
				if (i == out->size()) {
					detail = ifname + " feature " + name;
					return ENOENT;
				}
				sf->features[i / 32].valid |= 1U << (i % 32);
				if (on)
					sf->features[i / 32].requested |= 1U << (i % 32);
			}
			// A positive result (ETHTOOL_F_WISH...) means not everything took effect;
			// the re-read below shows what did.
			if (int r = s.Call(sf); r < 0)
				return -r;
			return s.Read(*out, op);
		},
		[out](Napi::Env env) { return FeaturesToJs(env, *out); });
}

} // namespace

void InitEthtool(Napi::Env env, Napi::Object exports)
{
	exports.Set("ethtoolGetFeatures", Napi::Function::New(env, GetFeatures));
	exports.Set("ethtoolSetFeatures", Napi::Function::New(env, SetFeatures));
}

} // namespace xsw
