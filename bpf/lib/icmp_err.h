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

static __always_inline bool kpr_icmp4_is_error(const struct kpr_pkt *p)
{
	const struct kpr_icmphdr *ih = p->l4;

	return p->ip4 && (ih->type == KPR_ICMP_DEST_UNREACH || ih->type == KPR_ICMP_TIME_EXCEEDED ||
			  ih->type == KPR_ICMP_PARAMETERPROB);
}

/*
 * For an IPv4 ICMP error to a node address: the translated error, sent on
 * (XDP_REDIRECT, or XDP_PASS to let the kernel resolve the next hop), or -1
 * when it quotes no flow of ours. p->now must be set; fib is room for the
 * route lookup.
 */
static __noinline int kpr_icmp4_error(struct xdp_md *ctx, struct kpr_pkt *p,
				      struct bpf_fib_lookup *fib)
{
	struct kpr_icmphdr *ih = p->l4;
	struct iphdr *in = (void *)(ih + 1);
	__be16 *l4 = (void *)(in + 1);
	union kpr_addr peer = {}, snat = {};
	__u32 isrc, idst, i, osrc;
	struct kpr_nat *rf;
	__u64 dip, dl4, dicmp;
	__u16 old_ipcheck;
	int rc;

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
	i = kpr_nat_slot(kpr_nat_bucket(&peer, l4[1], in->protocol, KPR_FAM_V4, &snat), l4[0]);
	rf = bpf_map_lookup_elem(&nat, &i);
	if (!rf || !rf->last_seen || rf->port != l4[0] || rf->peer.port != l4[1] ||
	    rf->peer.proto != in->protocol || rf->peer.family != KPR_FAM_V4 ||
	    rf->peer.addr.v4 != idst || rf->snat.v4 != isrc)
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

		kpr_csum_apply(&l4[3], dl4);
		if (!l4[3])
			l4[3] = 0xffff;
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

	rc = kpr_fib_cached(ctx, p, &rf->client.addr, fib, NULL);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH)
		return XDP_DROP;	/* no route to the client */
	return kpr_redirect(p, fib, rc);
}

#endif
