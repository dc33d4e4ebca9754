// SPDX-License-Identifier: Apache-2.0
// Raw frame transmit on a device (AF_PACKET): the slow path's way out of a port, which
// works at either hook and needs nothing from the device's peer.
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "common.h"

namespace xsw {

namespace {
int packet_fd = -1;

int PacketSocket()
{
	if (packet_fd >= 0)
		return packet_fd;
	// Protocol 0: send only, nothing is received on this socket.
	packet_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	return packet_fd;
}
} // namespace

// packetSend(ifindex, frame): sends the frame as is out of the device.
static Napi::Value PacketSend(const Napi::CallbackInfo &info)
{
	uint32_t ifindex = ArgU32(info, 0, "ifindex");
	Napi::Buffer<uint8_t> frame = ArgBuf(info, 1, "frame");
	if (frame.Length() < ETH_HLEN)
		throw Napi::TypeError::New(info.Env(), "argument 'frame' must hold at least an Ethernet header");
	int fd = PacketSocket();
	if (fd < 0)
		return ThrowErrno(info.Env(), "socket(AF_PACKET)", errno);
	struct sockaddr_ll sll;
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = (int)ifindex;
	sll.sll_halen = ETH_ALEN;
	memcpy(sll.sll_addr, frame.Data(), ETH_ALEN);
	ssize_t n = sendto(fd, frame.Data(), frame.Length(), MSG_DONTWAIT, (struct sockaddr *)&sll, sizeof(sll));
	if (n < 0)
		return ThrowErrno(info.Env(), "sendto(AF_PACKET)", errno, "ifindex " + std::to_string(ifindex));
	return info.Env().Undefined();
}

void InitPacket(Napi::Env env, Napi::Object exports)
{
	exports.Set("packetSend", Napi::Function::New(env, PacketSend, "packetSend"));
}

} // namespace xsw
