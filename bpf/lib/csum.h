/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Incremental checksum updates (RFC 1624, eqn. 3: HC' = ~(~HC + ~m + m')).
 * Words are summed as they lie in the packet, in 32-bit pieces: the one's
 * complement sum of 16-bit words is the folded sum of 32-bit words, so no
 * byte swapping is needed. A field that still holds only the pseudo-header
 * sum (checksum offload pending) would need the opposite sign and comes out
 * wrong: such packets are not supported, which is why the lab turns the
 * veths' tx offload off (docs/design.md).
 */
#ifndef KPR_LIB_CSUM_H
#define KPR_LIB_CSUM_H

#include <linux/types.h>
#include <stdbool.h>
#ifndef KPR_LIB_CSUM_STANDALONE	/* tests/unit/test_csum.c, in user space */
#include <bpf/bpf_helpers.h>
#endif

static __always_inline __u16 kpr_csum_fold(__u64 s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)s;
}

/* Accumulates the change of one 32-bit word from 'from' to 'to'. */
static __always_inline __u64 kpr_csum_diff32(__u64 acc, __u32 from, __u32 to)
{
	return acc + (__u32)~from + to;
}

static __always_inline __u64 kpr_csum_diff16(__u64 acc, __u16 from, __u16 to)
{
	return acc + (__u16)~from + to;
}

/* The change of a 16-byte address (only the first word for IPv4). */
static __always_inline __u64 kpr_csum_diff_addr(__u64 acc, const __u32 *from,
						const __u32 *to, bool v6)
{
	acc = kpr_csum_diff32(acc, from[0], to[0]);
	if (v6) {
		acc = kpr_csum_diff32(acc, from[1], to[1]);
		acc = kpr_csum_diff32(acc, from[2], to[2]);
		acc = kpr_csum_diff32(acc, from[3], to[3]);
	}
	return acc;
}

static __always_inline void kpr_csum_apply(__u16 *csum, __u64 diff)
{
	*csum = ~kpr_csum_fold((__u16)~*csum + diff);
}

/* The same for a UDP checksum, where 0 means "none": a sum that comes out
 * 0 is sent as 0xffff (RFC 768). */
static __always_inline void kpr_csum_apply_udp(__u16 *csum, __u64 diff)
{
	kpr_csum_apply(csum, diff);
	if (!*csum)
		*csum = 0xffff;
}

#endif
