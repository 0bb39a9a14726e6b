/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The forward paths' scratch space (lib/snat.h, lib/dsr_lb.h): the route
 * lookup and the values of a new flow are built here, not on the 512-byte
 * stack, which the program and its out-of-line helpers share. Per CPU, and
 * one packet at a time uses it.
 */
#ifndef KPR_LIB_SCRATCH_H
#define KPR_LIB_SCRATCH_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "maps.h"

struct kpr_scratch {
	struct bpf_fib_lookup fib;
	struct kpr_nat nat;
	struct kpr_ct ct;
	struct kpr_dsr dsr;
	struct kpr_affinity_key ak;
	struct kpr_affinity av;
	struct kpr_flow_key fk;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kpr_scratch);
} scratch SEC(".maps");

static __always_inline struct kpr_scratch *kpr_scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&scratch, &zero);
}

#endif
