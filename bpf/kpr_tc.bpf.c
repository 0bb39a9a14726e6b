// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The node datapath at tc egress, for the paths that act on packets leaving
 * the node; xdp-attach hooks it to every device it attaches. A reply of a
 * DSR flow to a backend behind this node leaves from the flow's frontend
 * (lib/dsr.h); a pod's packet to the outside is masqueraded (lib/masq.h);
 * the rest pass. Packets are counted as parsed or not
 * (tests/datapath-tc.bats).
 */
#define KPR_CTX_SKB
#include "lib/parse.h"
#include "lib/dsr.h"
#include "lib/masq.h"

enum {
	KPR_TC_PARSED,		/* IPv4/IPv6 TCP, UDP or ICMP, as XDP parses it */
	KPR_TC_OTHER,		/* anything else */
	KPR_TC_NR,
};

/* Not pinned: this program's own counts, read by tests. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KPR_TC_NR);
	__type(key, __u32);
	__type(value, __u64);
} tc_seen SEC(".maps");

static __always_inline void kpr_tc_count(__u32 k)
{
	__u64 *n = bpf_map_lookup_elem(&tc_seen, &k);

	if (n)
		(*n)++;
}

SEC("tc")
int kpr_tc_egress(struct __sk_buff *skb)
{
	struct kpr_pkt p = {};
	struct kpr_frag *e;
	int rc = kpr_parse(skb, &p);

	/* a later fragment leaves as its first did (lib/frag.h) */
	if (rc == KPR_PARSE_FRAG) {
		e = kpr_frag_find(&p);
		if (e)
			kpr_frag_rewrite(skb, &p, e);
	}
	if (rc) {
		kpr_tc_count(KPR_TC_OTHER);
		return kpr_to_tc(skb, KPR_PASS);
	}
	kpr_tc_count(KPR_TC_PARSED);
	/* a DSR reply leaves from its frontend, never masqueraded */
	if (p.l4csum && kpr_dsr_reply(skb, &p))
		return kpr_to_tc(skb, KPR_PASS);
	return kpr_to_tc(skb, kpr_masq_egress(skb, &p));
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
