/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The pinned maps, declared once. Every BPF object that includes this file
 * shares the same pins under the pin root (libbpf pinning by name), so the
 * tools and every datapath program see one state. Each map declared here
 * is named in KPR_MAPS (../kpr_maps.h) too: the tools do not build when the
 * two differ.
 *
 * The maps svc-add fills by the hundred thousand (backends, backend_idx,
 * svc_backends) are preallocated: inserts then take no allocation, which
 * halves the time of a 10,000-service load.
 */
#ifndef KPR_LIB_MAPS_H
#define KPR_LIB_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "../kpr_maps.h"

#define KPR_PINNED __uint(pinning, LIBBPF_PIN_BY_NAME)

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kpr_config);
	KPR_PINNED;
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KPR_MAX_SERVICES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct kpr_svc_key);
	__type(value, struct kpr_svc);
	KPR_PINNED;
} services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KPR_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct kpr_backend);
	KPR_PINNED;
} backends SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KPR_MAX_BACKENDS);
	__type(key, struct kpr_l4addr);
	__type(value, struct kpr_backend_ref);
	KPR_PINNED;
} backend_idx SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KPR_MAX_SLOTS);
	__type(key, struct kpr_slot_key);
	__type(value, __u32);
	KPR_PINNED;
} svc_backends SEC(".maps");

struct kpr_maglev_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, KPR_MAGLEV_INNER_MAX);
	__uint(map_flags, KPR_MAGLEV_INNER_FLAGS);
	__type(key, __u32);
	__type(value, __u32);
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, KPR_MAX_SERVICES);
	__type(key, __u32);
	KPR_PINNED;
	__array(values, struct kpr_maglev_inner);	/* must come last */
} maglev SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KPR_MAX_SERVICES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct kpr_svc_key);
	KPR_PINNED;
} revnat SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KPR_MAX_CT);
	__type(key, struct kpr_flow_key);
	__type(value, struct kpr_ct);
	KPR_PINNED;
} ct SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, KPR_MAX_NAT);
	__type(key, __u32);
	__type(value, struct kpr_nat);
	KPR_PINNED;
} nat SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KPR_MAX_AFFINITY);
	__type(key, struct kpr_affinity_key);
	__type(value, struct kpr_affinity);
	KPR_PINNED;
} affinity SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KPR_MAX_NODE_ADDRS);
	__type(key, struct kpr_node_addr_key);
	__type(value, struct kpr_node_addr);
	KPR_PINNED;
} node_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kpr_masq);
	KPR_PINNED;
} masq SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, KPR_MAX_NATIVE_CIDRS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct kpr_lpm_key);
	__type(value, __u32);
	KPR_PINNED;
} masq_native SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, KPR_MAX_STATS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct kpr_stats_key);
	__type(value, struct kpr_stats);
	KPR_PINNED;
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KPR_MAX_SOCK_REVNAT);
	__type(key, struct kpr_sock_revnat_key);
	__type(value, struct kpr_svc_key);
	KPR_PINNED;
} sock_revnat SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KPR_MAX_DEVS);
	__type(key, __u32);
	__type(value, struct kpr_dev_addrs);
	KPR_PINNED;
} dev_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KPR_MAX_SVC_ADDRS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct kpr_svc_addr_key);
	__type(value, __u32);
	KPR_PINNED;
} svc_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KPR_MAX_DSR);
	__type(key, struct kpr_flow_key);
	__type(value, struct kpr_dsr);
	KPR_PINNED;
} dsr SEC(".maps");

#endif /* KPR_LIB_MAPS_H */
