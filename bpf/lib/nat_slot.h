/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Where a flow's nat slot lies (see "nat" in kpr_maps.h). Plain C, like
 * jhash.h: the datapath and the tests include it, so a test can aim a
 * packet at the slot of a given flow.
 */
#ifndef KPR_LIB_NAT_SLOT_H
#define KPR_LIB_NAT_SLOT_H

#include "jhash.h"

static __always_inline __u16 kpr_ntohs(__be16 v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return __builtin_bswap16(v);
#else
	return v;
#endif
}

static __always_inline __u32 kpr_addr_fold(const union kpr_addr *a)
{
	return a->w[0] ^ a->w[1] ^ a->w[2] ^ a->w[3];
}

/* The first slot of the home bucket of replies from a peer (address, port,
 * protocol and family) to the node address snat. */
static __always_inline __u32 kpr_nat_bucket(const union kpr_addr *peer, __be16 port,
					    __u8 proto, __u8 family, const union kpr_addr *snat)
{
	__u32 h = kpr_jhash_3words(kpr_addr_fold(peer),
				   (__u32)port << 16 | (__u32)proto << 8 | family,
				   kpr_addr_fold(snat), KPR_JHASH_INITVAL);

	return (h & (KPR_NAT_BUCKETS - 1)) << KPR_NAT_PORT_BITS;
}

static __always_inline __u32 kpr_nat_slot(__u32 bucket, __be16 port)
{
	return bucket | (kpr_ntohs(port) & ((1u << KPR_NAT_PORT_BITS) - 1));
}

/* Slot k of a port's KPR_NAT_BUCKETS, counted from home, the slot
 * kpr_nat_slot() gives in the home bucket. */
static __always_inline __u32 kpr_nat_slot_k(__u32 home, __u32 k)
{
	return (home + (k << KPR_NAT_PORT_BITS)) & (KPR_MAX_NAT - 1);
}


#endif
