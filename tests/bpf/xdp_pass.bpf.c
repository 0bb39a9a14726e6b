// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A bare XDP_PASS: the lab puts it on the client's and backends' veths,
 * because native XDP_REDIRECT and XDP_TX into a veth are dropped unless the
 * receiving peer runs an XDP program. The benchmark's empty baseline too.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
