// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The node datapath's XDP ingress program, attached by xdp-attach to every
 * device of the node. Its maps are the pinned ones of lib/maps.h.
 */
#include "lib/xdp.h"

SEC("xdp")
int kpr_xdp_ingress(struct xdp_md *ctx)
{
	return kpr_xdp(ctx);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
