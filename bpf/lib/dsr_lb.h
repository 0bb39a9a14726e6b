/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Direct server return, the LB side (XDP ingress): a flow whose mode is DSR
 * is DNATed to its backend with its source kept, and the frontend travels
 * with it to the backend's node, as lb-mode --dsr-dispatch says when the
 * flow begins (ct keeps it):
 *  - opt: Cilium's IPv4 option or IPv6 Destination Options header
 *    (lib/dsr.h), on a TCP SYN and on every UDP datagram; later TCP
 *    segments are known by ct here and by dsr on the backend's node;
 *  - ipip: every packet of the flow in an outer IPv4 (IPv6) header from the
 *    frontend to the next hop toward the backend (lib/dsr.h), for fabrics
 *    that drop IP options. The backend's node takes the outer header off.
 * The reply goes from the backend's node to the client.
 *
 * A packet the option or the outer header would push over the egress MTU
 * is answered with ICMP fragmentation needed (ICMPv6 packet too big),
 * carrying the MTU less that overhead and quoting the packet as the client
 * sent it: the client lowers its path MTU and the next packet fits. A flow
 * that begins with IPv4 options goes by SNAT (kpr_dsr_wanted()), so the
 * option is always the only one and never passes the header's 40 bytes; a
 * later datagram of a DSR flow that comes with options of its own is
 * dropped, counted. A first fragment carries the option like any datagram,
 * its later fragments go as they are to the backend (lib/frag.h).
 *
 * A backend this node hosts (reached by a device that is not attached) gets
 * no option and no outer header: this node records the flow in dsr itself,
 * and its own tc egress rewrites the replies.
 */
#ifndef KPR_LIB_DSR_LB_H
#define KPR_LIB_DSR_LB_H

#include "ctx.h"
#include "maps.h"
#include "parse.h"
#include "csum.h"
#include "ct.h"
#include "lb.h"
#include "nat.h"
#include "fwd.h"
#include "reject.h"
#include "stats.h"
#include "dsr.h"
#include "scratch.h"

#define KPR_ICMP_FRAG_NEEDED	4
#define KPR_IP_DF		0x4000
#define KPR_DSR_IPIP_TTL	64	/* the outer header's, as IPDEFTTL */

/* Whether a new flow p of service svc goes by DSR: the service's mode, else
 * the node's; hybrid is DSR for TCP only. A flow that begins with IPv4
 * options or IPv6 extension headers (a fragment header aside) goes by SNAT:
 * Cilium's option must be the first, and an IPv6 hop-by-hop header must
 * stay first too, so neither has a place. */
static __always_inline bool kpr_dsr_wanted(const struct kpr_svc *svc,
					   const struct kpr_config *cfg, const struct kpr_pkt *p)
{
	__u8 mode = svc->mode ? svc->mode : cfg->mode;

	if (p->opts)
		return false;

	if (mode == KPR_MODE_HYBRID)
		return p->key.proto == IPPROTO_TCP;
	return mode == KPR_MODE_DSR;
}

/*
 * Moves len bytes from `from` to `to`, which lies before it by at least 2:
 * ascending, so every byte is read before it is written over. In place,
 * not through a buffer: the stack is the program's.
 */
static __always_inline void kpr_dsr_move(void *to, const void *from, __u32 len)
{
#pragma unroll
	for (__u32 i = 0; i < len / 2; i++)
		((__u16 *)to)[i] = ((const __u16 *)from)[i];
}

/*
 * Puts the option for frontend fe:port after the IPv4 header of the
 * packet: 8 bytes more at the head, Ethernet and IP headers moved to the
 * front, IHL 7, total length and header sum updated. 0, or -1 when the
 * packet could not grow. Every packet pointer is to be read again.
 */
static __noinline int kpr_dsr_opt4_push(kpr_ctx_t *ctx, const union kpr_addr *fe, __be16 port)
{
	void *data, *end;
	struct iphdr *ip;

	if (kpr_ctx_adjust_head(ctx, -KPR_DSR_OPT4_LEN))
		return -1;
	data = kpr_ctx_data(ctx);
	end = kpr_ctx_data_end(ctx);
	if (data + sizeof(struct ethhdr) + sizeof(struct iphdr) + KPR_DSR_OPT4_LEN > end)
		return -1;
	kpr_dsr_move(data, data + KPR_DSR_OPT4_LEN, sizeof(struct ethhdr) + sizeof(struct iphdr));
	ip = data + sizeof(struct ethhdr);
	kpr_dsr_opt4_write((__u8 *)(ip + 1), fe, port);
	ip->ihl = 7;
	ip->tot_len = bpf_htons(bpf_ntohs(ip->tot_len) + KPR_DSR_OPT4_LEN);
	ip->check = 0;
	ip->check = kpr_csum_full(ip, sizeof(*ip) + KPR_DSR_OPT4_LEN, 0);
	return 0;
}

/* The same for IPv6: the Destination Options header after the fixed
 * header, which names it as its next header. */
static __noinline int kpr_dsr_opt6_push(kpr_ctx_t *ctx, const union kpr_addr *fe, __be16 port)
{
	void *data, *end;
	struct ipv6hdr *ip6;

	if (kpr_ctx_adjust_head(ctx, -KPR_DSR_EXT6_LEN))
		return -1;
	data = kpr_ctx_data(ctx);
	end = kpr_ctx_data_end(ctx);
	if (data + sizeof(struct ethhdr) + sizeof(struct ipv6hdr) + KPR_DSR_EXT6_LEN > end)
		return -1;
	kpr_dsr_move(data, data + KPR_DSR_EXT6_LEN, sizeof(struct ethhdr) + sizeof(struct ipv6hdr));
	ip6 = data + sizeof(struct ethhdr);
	kpr_dsr_opt6_write((__u8 *)(ip6 + 1), ip6->nexthdr, fe, port);
	ip6->nexthdr = KPR_IP6_DSTOPTS;
	ip6->payload_len = bpf_htons(bpf_ntohs(ip6->payload_len) + KPR_DSR_EXT6_LEN);
	return 0;
}

/*
 * kpr's IPIP dispatch, IPv4: an outer header in front of the IPv4 packet,
 * from the frontend fe to nexthop, the frontend's port in the ID: the outer
 * header has DF set, so its ID names no fragment (RFC 6864). 0, or -1 when
 * the packet could not grow. Every packet pointer is to be read again.
 */
static __noinline int kpr_dsr_ipip4_push(kpr_ctx_t *ctx, const union kpr_addr *fe, __be16 port,
					 __be32 nexthop)
{
	struct iphdr *ip, *in;
	void *data, *end;

	if (kpr_ctx_adjust_head(ctx, -(int)sizeof(struct iphdr)))
		return -1;
	data = kpr_ctx_data(ctx);
	end = kpr_ctx_data_end(ctx);
	if (data + sizeof(struct ethhdr) + 2 * sizeof(struct iphdr) > end)
		return -1;
	kpr_dsr_move(data, data + sizeof(struct iphdr), sizeof(struct ethhdr));
	ip = data + sizeof(struct ethhdr);
	in = ip + 1;
	ip->version = 4;
	ip->ihl = 5;
	ip->tos = in->tos;
	ip->tot_len = bpf_htons(bpf_ntohs(in->tot_len) + sizeof(struct iphdr));
	ip->id = port;
	ip->frag_off = bpf_htons(KPR_IP_DF);
	ip->ttl = KPR_DSR_IPIP_TTL;
	ip->protocol = IPPROTO_IPIP;
	ip->saddr = fe->v4;
	ip->daddr = nexthop;
	ip->check = 0;
	ip->check = kpr_csum_full(ip, sizeof(*ip), 0);
	return 0;
}

/* The same for IPv6 in IPv6: the frontend's port in the flow label's low
 * 16 bits, the inner packet's traffic class kept. */
static __noinline int kpr_dsr_ipip6_push(kpr_ctx_t *ctx, const union kpr_addr *fe, __be16 port,
					 const union kpr_addr *nexthop)
{
	struct ipv6hdr *ip6, *in;
	void *data, *end;
	__u32 w;

	if (kpr_ctx_adjust_head(ctx, -(int)sizeof(struct ipv6hdr)))
		return -1;
	data = kpr_ctx_data(ctx);
	end = kpr_ctx_data_end(ctx);
	if (data + sizeof(struct ethhdr) + 2 * sizeof(struct ipv6hdr) > end)
		return -1;
	kpr_dsr_move(data, data + sizeof(struct ipv6hdr), sizeof(struct ethhdr));
	ip6 = data + sizeof(struct ethhdr);
	in = ip6 + 1;
	w = bpf_ntohl(*(__be32 *)in) & 0x0ff00000;
	*(__be32 *)ip6 = bpf_htonl(0x60000000 | w | bpf_ntohs(port));
	ip6->payload_len = bpf_htons(bpf_ntohs(in->payload_len) + sizeof(struct ipv6hdr));
	ip6->nexthdr = IPPROTO_IPV6;
	ip6->hop_limit = KPR_DSR_IPIP_TTL;
	__builtin_memcpy(&ip6->saddr, fe, 16);
	__builtin_memcpy(&ip6->daddr, nexthop, 16);
	return 0;
}

/* Pushes the option of p's family, or with ipip the outer header to the
 * next hop fib names, then points p at the (outer) IP header, for
 * kpr_redirect(). 0, or -1. */
static __always_inline int kpr_dsr_push(kpr_ctx_t *ctx, struct kpr_pkt *p, const union kpr_addr *fe,
					__be16 port, bool ipip, const struct bpf_fib_lookup *fib)
{
	bool v6 = p->ip6 != NULL;
	void *data, *end;
	int rc;

	if (ipip)
		rc = v6 ? kpr_dsr_ipip6_push(ctx, fe, port, (const union kpr_addr *)fib->ipv6_dst) :
			  kpr_dsr_ipip4_push(ctx, fe, port, fib->ipv4_dst);
	else
		rc = v6 ? kpr_dsr_opt6_push(ctx, fe, port) : kpr_dsr_opt4_push(ctx, fe, port);
	if (rc)
		return -1;
	data = kpr_ctx_data(ctx);
	end = kpr_ctx_data_end(ctx);
	p->data_end = end;
	p->eth = data;
	p->ip4 = NULL;
	p->ip6 = NULL;
	if (v6) {
		if (data + sizeof(struct ethhdr) + sizeof(struct ipv6hdr) > end)
			return -1;
		p->ip6 = data + sizeof(struct ethhdr);
	} else {
		if (data + sizeof(struct ethhdr) + sizeof(struct iphdr) > end)
			return -1;
		p->ip4 = data + sizeof(struct ethhdr);
	}
	return 0;
}

#define KPR_ICMP6_PKT_TOOBIG	2

/* The packet as the client sent it becomes an ICMP fragmentation needed
 * (ICMPv6 packet too big) for mtu, back to the client; counted as a drop of
 * the service. */
static __always_inline enum kpr_verdict kpr_dsr_too_big(kpr_ctx_t *ctx, struct kpr_pkt *p,
							__u32 svc_id, __u32 mtu)
{
	kpr_stats_add(KPR_STATS_SVC, svc_id, p->len, 0, 1);
	if (p->ip6)
		return kpr_icmp_quote(ctx, true, KPR_ICMP6_PKT_TOOBIG, 0, bpf_htonl(mtu));
	return kpr_icmp_quote(ctx, false, KPR_ICMP_DEST_UNREACH, KPR_ICMP_FRAG_NEEDED,
			      bpf_htonl(mtu & 0xffff));
}

/*
 * A packet of a DSR flow to backend be (be_id): a new flow when ce is NULL,
 * which gets its ct entry (mode DSR, the node's dispatch, no nat port);
 * else the flow of ce, in the dispatch it began with. Then client ->
 * backend, the option when it carries one (every packet's outer header with
 * ipip), and on to the backend's node.
 */
static __always_inline enum kpr_verdict kpr_dsr_forward(kpr_ctx_t *ctx, struct kpr_pkt *p,
							const struct kpr_svc *svc, __u32 be_id,
							const struct kpr_backend *be,
							const struct kpr_ct *ce)
{
	struct kpr_scratch *x = kpr_scratch();
	bool new_flow = !ce, opt, ipip, local = false;
	__u32 svc_id = svc->id, over;
	union kpr_addr fe;
	__be16 fe_port;
	int rc;

	if (!x)
		return KPR_PASS;
	ipip = ce ? !!(ce->flags & KPR_CT_F_IPIP) : p->cfg->dsr_dispatch == KPR_DISPATCH_IPIP;
	opt = ipip || p->key.proto == IPPROTO_UDP || kpr_tcp_syn(p);
	if (!opt)
		over = 0;
	else if (ipip)
		over = p->ip6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr);
	else
		over = p->ip6 ? KPR_DSR_EXT6_LEN : KPR_DSR_OPT4_LEN;
	rc = kpr_fib_cached(ctx, p, &be->be.addr, &x->fib, NULL);
	if (rc == BPF_FIB_LKUP_RET_FRAG_NEEDED)
		return kpr_dsr_too_big(ctx, p, svc_id, x->fib.mtu_result - over);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH)
		goto drop;
	/* a backend behind a device that is not attached: one this node hosts */
	if (!bpf_map_lookup_elem(&dev_addrs, &x->fib.ifindex))
		local = true;
	if (!local && rc == BPF_FIB_LKUP_RET_SUCCESS && kpr_l3_len(p) + over > x->fib.mtu_result)
		return kpr_dsr_too_big(ctx, p, svc_id, x->fib.mtu_result - over);

	if (new_flow) {
		x->ct = (struct kpr_ct){
			.last_seen = p->now, .backend_id = be_id, .svc_id = svc_id,
			.flags = KPR_CT_F_DSR | (ipip ? KPR_CT_F_IPIP : 0) | kpr_tcp_close_flags(p),
		};
		kpr_ct_create(&p->key, &x->ct);
		kpr_affinity_put(svc, &p->key, be_id, p->now, &x->ak, &x->av);
	}
	fe = p->key.daddr;
	fe_port = p->key.dport;
	if (local && (p->key.proto == IPPROTO_UDP || kpr_tcp_syn(p))) {
		x->fk = p->key;
		x->fk.daddr = be->be.addr;
		x->fk.dport = be->be.port;
		__builtin_memset(&x->dsr, 0, sizeof(x->dsr));
		x->dsr.last_seen = p->now;
		x->dsr.frontend.addr = fe;
		x->dsr.frontend.port = fe_port;
		x->dsr.frontend.proto = p->key.proto;
		x->dsr.frontend.family = p->key.family;
		kpr_dsr_note(&x->fk, &x->dsr, p->now);
	}
	kpr_rewrite(ctx, p, &p->key.saddr, p->key.sport, &be->be.addr, be->be.port);
	/* options of its own leave the option no place */
	if (opt && !local && ((p->opts && !ipip) || kpr_dsr_push(ctx, p, &fe, fe_port, ipip, &x->fib)))
		goto drop;
	kpr_stats_fwd(svc_id, be_id, p->len, new_flow);
	return kpr_redirect(ctx, p, &x->fib, rc);
drop:
	kpr_stats_add(KPR_STATS_SVC, svc_id, p->len, 0, 1);
	return KPR_DROP;
}

#endif
