/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Attaching the node datapath to devices: the XDP program of
 * bpf/kpr_xdp.bpf.c loaded against the pinned maps, one bpf_link per device
 * pinned as <pin root>/links/xdp-DEV so that it outlives the tool, and the
 * device's addresses written to node_addrs (NodePort) and dev_addrs (SNAT).
 */
#ifndef KPR_XDP_H
#define KPR_XDP_H

#include <net/if.h>
#include <stdbool.h>

#include "state/state.h"

enum kpr_xdp_mode {
	KPR_XDP_NATIVE = 1,
	KPR_XDP_GENERIC,
	KPR_XDP_BEST_EFFORT,	/* native, else generic */
};

struct kpr_xdp_dev {
	char name[IF_NAMESIZE];
	unsigned int ifindex;
	enum kpr_xdp_mode mode;	/* as attached: native or generic */
	unsigned int prog_id;
	unsigned int link_id;
	bool fallback;		/* best-effort fell back to generic */
	bool ours;		/* a kpr link; false: a foreign XDP program */
};

struct kpr_xdp {
	struct kpr_state *st;
	struct kpr_xdp_bpf *skel;	/* loaded on the first attach */
};

const char *kpr_xdp_mode_name(enum kpr_xdp_mode m);
int kpr_xdp_mode_parse(const char *s, enum kpr_xdp_mode *out);

/* Checks that DEV exists (-EINVAL, a usage error, after an error naming it). */
int kpr_xdp_dev_check(const char *dev);
/* Returns KPR_ADDED, KPR_UPDATED (same mode, another build of the program:
 * the link switched to this one), KPR_UNCHANGED or -errno; fills *out. */
int kpr_xdp_attach(struct kpr_xdp *x, const char *dev, enum kpr_xdp_mode mode, bool dry_run,
		   struct kpr_xdp_dev *out);
/* Returns KPR_DELETED, KPR_UNCHANGED or -errno. */
int kpr_xdp_detach(struct kpr_xdp *x, const char *dev, bool dry_run);
void kpr_xdp_close(struct kpr_xdp *x);

/* The devices with a kpr link pinned, sorted by name. */
int kpr_xdp_list(struct kpr_state *st, struct kpr_xdp_dev **out, size_t *n);

/* Writes DEV's addresses (ifindex) to node_addrs and dev_addrs. */
int kpr_dev_addrs_sync(struct kpr_state *st, const char *dev, unsigned int ifindex);
/* An extra node address for NodePorts (--node-ip); ADDR is v4 or v6. */
int kpr_node_ip_add(struct kpr_state *st, const char *addr, bool dry_run);

/* Every node address (NodePort frontends), in map order, with the ifindex
 * it came from (0: --node-ip). */
struct kpr_node_addr_ent {
	struct kpr_node_addr_key key;
	struct kpr_node_addr val;
};
int kpr_node_addrs_list(struct kpr_state *st, struct kpr_node_addr_ent **out, size_t *n);

#endif
