/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Bob Jenkins' lookup3 mix as the kernel's jhash.h has it, and the flow hash
 * Cilium's datapath feeds its Maglev tables with (destination left out, so a
 * client reaches the same backend whichever frontend it used). Plain C: the
 * datapath and the tools include it, so a flow hashed in user space lands
 * on the slot the datapath picks.
 */
#ifndef KPR_LIB_JHASH_H
#define KPR_LIB_JHASH_H

#include <linux/types.h>
#include <stdbool.h>

#include "../kpr_maps.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#define KPR_JHASH_INITVAL 0xdeadbeef

static __always_inline __u32 kpr_rol32(__u32 w, unsigned int s)
{
	return (w << s) | (w >> (32 - s));
}

#define kpr_jhash_mix(a, b, c) do {			\
	a -= c; a ^= kpr_rol32(c, 4);  c += b;		\
	b -= a; b ^= kpr_rol32(a, 6);  a += c;		\
	c -= b; c ^= kpr_rol32(b, 8);  b += a;		\
	a -= c; a ^= kpr_rol32(c, 16); c += b;		\
	b -= a; b ^= kpr_rol32(a, 19); a += c;		\
	c -= b; c ^= kpr_rol32(b, 4);  b += a;		\
} while (0)

#define kpr_jhash_final(a, b, c) do {			\
	c ^= b; c -= kpr_rol32(b, 14);			\
	a ^= c; a -= kpr_rol32(c, 11);			\
	b ^= a; b -= kpr_rol32(a, 25);			\
	c ^= b; c -= kpr_rol32(b, 16);			\
	a ^= c; a -= kpr_rol32(c, 4);			\
	b ^= a; b -= kpr_rol32(a, 14);			\
	c ^= b; c -= kpr_rol32(b, 24);			\
} while (0)

static __always_inline __u32 kpr_jhash_3words(__u32 a, __u32 b, __u32 c, __u32 initval)
{
	initval += KPR_JHASH_INITVAL + (3 << 2);
	a += initval;
	b += initval;
	c += initval;
	kpr_jhash_final(a, b, c);
	return c;
}

/* Seed words of the 12-byte Maglev seed: bytes 4..7 hash IPv4 flows,
 * 8..11 IPv6 flows, both read big-endian (docs/maglev.md). */
static __always_inline __u32 kpr_seed_word(const __u8 *seed, unsigned int off)
{
	return (__u32)seed[off] << 24 | (__u32)seed[off + 1] << 16 |
	       (__u32)seed[off + 2] << 8 | (__u32)seed[off + 3];
}

/*
 * The hash of a client's flow to a service: source address, both ports and
 * the protocol, as the packet carries them (network byte order, loaded as
 * they lie in memory). With client affinity the source port is left out, so
 * every connection of a client lands on one slot.
 */
static __always_inline __u32 kpr_flow_hash(const struct kpr_flow_key *k, const __u8 *seed,
					   bool affinity)
{
	__u32 ports = (__u32)k->dport << 16 | (affinity ? 0 : k->sport);
	__u32 a, b, c;

	if (k->family != KPR_FAM_V6)
		return kpr_jhash_3words(k->saddr.w[0], ports, k->proto, kpr_seed_word(seed, 4));
	a = k->saddr.w[0];
	b = k->saddr.w[1];
	c = k->saddr.w[2];
	kpr_jhash_mix(a, b, c);
	a += k->saddr.w[3];
	b += ports;
	c += k->proto;
	kpr_jhash_mix(a, b, c);
	a += kpr_seed_word(seed, 8);
	kpr_jhash_final(a, b, c);
	return c;
}

#endif /* KPR_LIB_JHASH_H */
