/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ICMP errors about a SNATed flow: a backend's port unreachable, or a
 * router's "fragmentation needed" on the way to a backend, is addressed to
 * the node's SNAT address and quotes the packet as the node sent it. The
 * client must get it about its own packet, or it waits for a timeout (and
 * path MTU discovery never ends): so the quoted packet is translated back
 * to client -> frontend, the error is sent to the client, and an error the
 * backend itself sent comes from the frontend, as its replies do.
 */
#ifndef KPR_LIB_ICMP_ERR_H
#define KPR_LIB_ICMP_ERR_H

#include "csum.h"
#include "fwd.h"
#include "maps.h"
#include "nat.h"
#include "parse.h"

/* Destination unreachable, packet too big (IPv6), time exceeded, parameter
 * problem: the errors that quote a packet. */
static __always_inline bool kpr_icmp_is_error(const struct kpr_pkt *p)
{
	const struct kpr_icmphdr *ih = p->l4;

	if (p->ip4)
		return ih->type == KPR_ICMP_DEST_UNREACH || ih->type == KPR_ICMP_TIME_EXCEEDED ||
		       ih->type == KPR_ICMP_PARAMETERPROB;
	return p->ip6 && ih->type >= ICMPV6_DEST_UNREACH && ih->type <= ICMPV6_PARAMPROB;
}

/*
 * Translates an IPv4 ICMP error to a node address in place, its new source
 * and destination also in p->key, for the caller to send on: 0, or -1 when
 * it quotes no flow of ours. The caller routes it, so that this frame and the
 * route lookup's are never on the stack together.
 */
static __noinline int kpr_icmp4_error(struct kpr_pkt *p)
{
	struct kpr_icmphdr *ih = p->l4;
	struct iphdr *in = (void *)(ih + 1);
	__be16 *l4 = (void *)(in + 1);
	union kpr_addr peer = {}, snat = {};
	__u32 isrc, idst, osrc;
	struct kpr_nat *rf;
	__u64 dip, dl4, dicmp;
	__u16 old_ipcheck;

	/* the quoted IP header and the 8 bytes of its transport header */
	if ((void *)(l4 + 4) > p->data_end || in->ihl != 5 ||
	    (in->protocol != IPPROTO_TCP && in->protocol != IPPROTO_UDP))
		return -1;
	isrc = in->saddr;
	idst = in->daddr;
	if (isrc != p->ip4->daddr)
		return -1;	/* not about a packet from this address */
	peer.v4 = idst;
	snat.v4 = isrc;
	rf = kpr_nat_lookup(&peer, l4[1], in->protocol, KPR_FAM_V4, &snat, l4[0]);
	if (!rf)
		return -1;

	/* the quoted packet: node:nat port -> backend becomes client -> frontend */
	dip = kpr_csum_diff32(0, isrc, rf->client.addr.v4);
	dip = kpr_csum_diff32(dip, idst, rf->frontend.addr.v4);
	dl4 = kpr_csum_diff16(dip, l4[0], rf->client.port);
	dl4 = kpr_csum_diff16(dl4, l4[1], rf->frontend.port);
	old_ipcheck = in->check;
	in->saddr = rf->client.addr.v4;
	in->daddr = rf->frontend.addr.v4;
	kpr_csum_apply(&in->check, dip);
	/* the ICMP sum covers every quoted byte: addresses, ports, sums */
	dicmp = kpr_csum_diff16(dl4, old_ipcheck, in->check);
	if (in->protocol == IPPROTO_UDP && l4[3]) {
		__u16 old = l4[3];

		kpr_csum_apply_udp(&l4[3], dl4);
		dicmp = kpr_csum_diff16(dicmp, old, l4[3]);
	}
	l4[0] = rf->client.port;
	l4[1] = rf->frontend.port;
	kpr_csum_apply(&ih->checksum, dicmp);

	/* the error itself: to the client, from the frontend if the backend
	 * sent it (a router on the way keeps its own address) */
	osrc = p->ip4->saddr;
	if (osrc == idst)
		osrc = rf->frontend.addr.v4;
	dip = kpr_csum_diff32(0, p->ip4->saddr, osrc);
	dip = kpr_csum_diff32(dip, p->ip4->daddr, rf->client.addr.v4);
	p->ip4->saddr = osrc;
	p->ip4->daddr = rf->client.addr.v4;
	kpr_csum_apply(&p->ip4->check, dip);
	p->key.saddr.v4 = osrc;
	p->key.daddr.v4 = rf->client.addr.v4;
	return 0;
}

/* The same for IPv6, whose ICMP sum also covers the outer addresses. The
 * quoted addresses are read where they lie: the 512-byte stack is shared
 * with the callers. */
static __noinline int kpr_icmp6_error(struct kpr_pkt *p)
{
	struct icmp6hdr *ih = p->l4;
	struct ipv6hdr *in = (void *)(ih + 1);
	__be16 *l4 = (void *)(in + 1);
	union kpr_addr *isrc = (void *)&in->saddr, *idst = (void *)&in->daddr;
	const union kpr_addr *osrc;
	struct kpr_nat *rf;
	__u64 d, dl4;
	__u16 old;

	if (!p->ip6 || (void *)(l4 + 4) > p->data_end ||
	    (in->nexthdr != IPPROTO_TCP && in->nexthdr != IPPROTO_UDP))
		return -1;
	if (!kpr_addr_eq(isrc, &p->key.daddr))
		return -1;	/* not about a packet from this address */
	rf = kpr_nat_lookup(idst, l4[1], in->nexthdr, KPR_FAM_V6, isrc, l4[0]);
	if (!rf)
		return -1;
	/* from the backend itself: from the frontend, as its replies */
	osrc = kpr_addr_eq(&p->key.saddr, idst) ? &rf->frontend.addr : &p->key.saddr;

	/* the quoted packet: node:nat port -> backend becomes client -> frontend */
	d = kpr_csum_diff_addr(0, isrc->w, rf->client.addr.w, true);
	d = kpr_csum_diff_addr(d, idst->w, rf->frontend.addr.w, true);
	dl4 = kpr_csum_diff16(d, l4[0], rf->client.port);
	dl4 = kpr_csum_diff16(dl4, l4[1], rf->frontend.port);
	d = dl4;
	if (in->nexthdr == IPPROTO_UDP) {
		old = l4[3];
		kpr_csum_apply_udp(&l4[3], dl4);
		d = kpr_csum_diff16(d, old, l4[3]);
	}
	/* and the error's own pseudo-header */
	d = kpr_csum_diff_addr(d, p->key.saddr.w, osrc->w, true);
	d = kpr_csum_diff_addr(d, p->key.daddr.w, rf->client.addr.w, true);
	kpr_csum_apply(&ih->icmp6_cksum, d);
	__builtin_memcpy(&p->ip6->saddr, osrc, 16);
	__builtin_memcpy(&p->ip6->daddr, &rf->client.addr, 16);
	p->key.saddr = *osrc;
	p->key.daddr = rf->client.addr;
	__builtin_memcpy(isrc, &rf->client.addr, 16);
	__builtin_memcpy(idst, &rf->frontend.addr, 16);
	l4[0] = rf->client.port;
	l4[1] = rf->frontend.port;
	return 0;
}

#endif
