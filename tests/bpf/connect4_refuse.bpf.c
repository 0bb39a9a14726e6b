// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Test-only cgroup program (tests/xdp-attach.bats): refuses connect() to
 * port 9999 (EPERM) and lets every other one through, so that a test sees
 * whether its cgroup link is in force. kpr's socket LB will bring the real
 * cgroup programs.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("cgroup/connect4")
int refuse_9999(struct bpf_sock_addr *ctx)
{
	return ctx->user_port == bpf_htons(9999) ? 0 : 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
