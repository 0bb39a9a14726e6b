// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Test-only cgroup program (tests/datapath-cgroup.bats): proves that the
 * service lookup and backend pick of lib/lb.h work with no packet, on a
 * flow key built from a socket's connect() (no source yet: the hash and
 * affinity see 0). A TCP connect() to a frontend
 * of the pinned services map goes to the backend lb.h picks; any other
 * passes untouched. Not socket LB: no reverse translation, no affinity
 * update, no guards; it only shows the blocks are usable from this hook.
 */
#include "lib/lb.h"

SEC("cgroup/connect4")
int lb_connect4(struct bpf_sock_addr *ctx)
{
	struct kpr_flow_key fk = {
		.daddr.v4 = ctx->user_ip4,
		.dport = (__be16)ctx->user_port,
		.proto = IPPROTO_TCP,
		.family = KPR_FAM_V4,
		.dir = KPR_CT_FWD,
	};
	struct kpr_config *cfg = kpr_cfg();
	struct kpr_backend *be;
	struct kpr_svc_key sk = {};
	struct kpr_svc *svc;
	__u32 id;

	if (!cfg || ctx->protocol != IPPROTO_TCP)
		return 1;
	svc = kpr_svc_exact(&fk, &sk);
	if (!svc)
		return 1;
	be = kpr_lb_select(svc, cfg, &fk, bpf_ktime_get_ns(), &id);
	if (!be)
		return 0;	/* no usable backend: EPERM, as a refusal */
	ctx->user_ip4 = be->be.addr.v4;
	ctx->user_port = be->be.port;
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
