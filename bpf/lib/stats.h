/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Per-service counters, and per backend of each service (so that a
 * service's backends add up to it, shared backends included): per-CPU, so
 * plain increments. */
#ifndef KPR_LIB_STATS_H
#define KPR_LIB_STATS_H

#include "maps.h"

/* The first value of a counter: read-only data, not the 512-byte stack. */
static const struct kpr_stats kpr_stats_zero;

static __always_inline struct kpr_stats *kpr_stats_get(__u32 kind, __u32 id)
{
	struct kpr_stats_key k = { .kind = kind, .id = id };
	struct kpr_stats *s = bpf_map_lookup_elem(&stats, &k);

	if (!s) {
		/* The control plane deletes counters with their service or
		 * backend; the first packet after a (re)creation starts them. */
		bpf_map_update_elem(&stats, &k, &kpr_stats_zero, BPF_NOEXIST);
		s = bpf_map_lookup_elem(&stats, &k);
	}
	return s;
}

/* Inline, saving a call per packet and counter. */
static __always_inline void kpr_stats_add(__u32 kind, __u32 id, __u32 bytes,
					  __u32 flows, __u32 drops)
{
	struct kpr_stats *s = kpr_stats_get(kind, id);

	if (!s)
		return;
	s->packets += !drops;
	s->bytes += drops ? 0 : bytes;
	s->flows += flows;
	s->drops += drops;
}

/* A packet of service svc_id sent on to backend be_id. */
static __always_inline void kpr_stats_fwd(__u32 svc_id, __u32 be_id, __u32 bytes, bool new_flow)
{
	/* the backend's first: then no more values outlive the first
	 * update than before the service id was in its key (the verifier
	 * counts every byte of the stack on the deepest path) */
	kpr_stats_add(KPR_STATS_BE_KIND(svc_id), be_id, bytes, new_flow, 0);
	kpr_stats_add(KPR_STATS_SVC, svc_id, bytes, new_flow, 0);
}

/* A new flow of service svc_id dropped for want of a nat port: counted for
 * the service and the node (its drop is counted with the packet's). Out of
 * line: it is the rare path. */
static __noinline void kpr_stats_nat_fail(__u32 svc_id)
{
	struct kpr_stats *s = kpr_stats_get(KPR_STATS_SVC, svc_id);

	if (s)
		s->nat_fail++;
	s = kpr_stats_get(KPR_STATS_NODE, 0);
	if (s)
		s->nat_fail++;
}

#endif
