// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The node datapath, attached by xdp-attach to every device of the node: XDP
 * ingress. Its tc counterpart is kpr_tc.bpf.c, an object of its own because
 * the context shim (lib/ctx.h) is chosen per object. Both share the maps of
 * lib/maps.h, pinned under the pin root.
 */
#include "lib/xdp.h"

SEC("xdp")
int kpr_xdp_ingress(struct xdp_md *ctx)
{
	return kpr_xdp(ctx);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
