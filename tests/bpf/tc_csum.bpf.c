// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Test-only: the checksum interface's tc path. Every TCP or UDP packet is
 * rewritten by the datapath's own kpr_rewrite() to the tuple the test sets,
 * so that bpf_l3_csum_replace() and bpf_l4_csum_replace() (lib/csum.h)
 * write its sums. tests/unit/helper_tc_csum.c runs it (BPF_PROG_TEST_RUN)
 * and checks them against a full recomputation.
 */
#define KPR_CTX_SKB
#include "lib/nat.h"

/* The new source and destination, written by the test before each run. */
struct kpr_l4addr tc_csum_src, tc_csum_dst;

SEC("tc")
int tc_csum(struct __sk_buff *skb)
{
	struct kpr_pkt p = {};

	/* ARP and the rest pass: attached, it must let a host resolve */
	if (kpr_parse(skb, &p) || !p.l4csum)
		return kpr_to_tc(skb, KPR_PASS);
	kpr_rewrite(skb, &p, &tc_csum_src.addr, tc_csum_src.port, &tc_csum_dst.addr,
		    tc_csum_dst.port);
	return kpr_to_tc(skb, KPR_PASS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
