// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The node datapath, attached by xdp-attach to every device of the node: XDP
 * ingress, and tc egress for the paths that act on packets leaving the node.
 * Both share the maps of lib/maps.h, pinned under the pin root.
 */
#include <linux/pkt_cls.h>

#include "lib/xdp.h"

SEC("xdp")
int kpr_xdp_ingress(struct xdp_md *ctx)
{
	return kpr_xdp(ctx);
}

/* Nothing leaving the node is rewritten yet: every packet passes. */
SEC("tc")
int kpr_tc_egress(struct __sk_buff *skb)
{
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
