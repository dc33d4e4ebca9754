/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Incremental Internet checksum updates (RFC 1624: HC' = ~(~HC + ~m + m')), for XDP,
 * where no skb helper keeps checksums for us. Works on network-order 16-bit words:
 * the one's complement sum does not depend on byte order as long as all words agree. */
#pragma once

#include "vmlinux.h"

static __always_inline __u16 xsw_csum_fold(__u32 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)s;
}

/* The checksum `sum` after one 16-bit word changed from `from` to `to`. */
static __always_inline __u16 xsw_csum_replace2(__u16 sum, __u16 from, __u16 to)
{
	__u32 s = (__u16)~sum;

	s += (__u16)~from;
	s += to;
	return ~xsw_csum_fold(s);
}

/* Same for a 32-bit word (an IPv4 address), as two 16-bit words. */
static __always_inline __u16 xsw_csum_replace4(__u16 sum, __u32 from, __u32 to)
{
	sum = xsw_csum_replace2(sum, (__u16)from, (__u16)to);
	return xsw_csum_replace2(sum, (__u16)(from >> 16), (__u16)(to >> 16));
}

/* Same for 16 bytes (an IPv6 address). */
static __always_inline __u16 xsw_csum_replace16(__u16 sum, const __u8 *from, const __u8 *to)
{
	for (int i = 0; i < 16; i += 2)
		sum = xsw_csum_replace2(sum, *(__u16 *)(from + i), *(__u16 *)(to + i));
	return sum;
}
