/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Attaching the node datapath to devices: the programs of bpf/kpr_xdp.bpf.c
 * (XDP ingress) and bpf/kpr_tc.bpf.c (tc egress), one object per program
 * type, loaded against the pinned maps and hooked to each
 * device by the attach module (dev/attach.h: pinned links named by network
 * namespace and device), and the device's addresses written to node_addrs
 * (NodePort) and dev_addrs (SNAT).
 */
#ifndef KPR_XDP_H
#define KPR_XDP_H

#include <net/if.h>
#include <stdbool.h>

#include "state/state.h"
#include "dev/attach.h"

struct kpr_xdp_dev {
	char name[IF_NAMESIZE];
	unsigned int ifindex;
	enum kpr_xdp_mode mode;	/* as attached: native or generic */
	unsigned int prog_id;
	unsigned int link_id;
	bool fallback;		/* best-effort fell back to generic */
	bool ours;		/* a kpr link; false: a foreign XDP program */
	bool internal;		/* KPR_DEV_F_INTERNAL: a pod's host-side veth */
};

struct kpr_xdp {
	struct kpr_state *st;
	struct kpr_xdp_bpf *skel;	/* both loaded on the first attach */
	struct kpr_tc_bpf *tc_skel;
	bool internal;		/* the devices attached are internal ones */
};

/* Checks that DEV exists (-EINVAL, a usage error, after an error naming it). */
int kpr_xdp_dev_check(const char *dev);
/* Attaches XDP ingress and tc egress to DEV of this netns, an internal
 * device when x->internal. Returns
 * KPR_ADDED, KPR_UPDATED (same mode, another build of the program: the
 * links switched to this one), KPR_UNCHANGED or -errno; fills *out with the
 * XDP hook. A refused attach leaves what was attached before in place. */
int kpr_xdp_attach(struct kpr_xdp *x, const char *dev, enum kpr_xdp_mode mode, bool dry_run,
		   struct kpr_xdp_dev *out);
/* Detaches every hook of DEV in this netns and forgets its addresses.
 * Returns KPR_DELETED, KPR_UNCHANGED or -errno. */
int kpr_xdp_detach(struct kpr_xdp *x, const char *dev, bool dry_run);
void kpr_xdp_close(struct kpr_xdp *x);

/* The devices of this netns with a kpr XDP link pinned, sorted by name. */
int kpr_xdp_list(struct kpr_state *st, struct kpr_xdp_dev **out, size_t *n);

/* Writes DEV's addresses (ifindex) to node_addrs, and them and flags
 * (KPR_DEV_F_*) to dev_addrs. */
int kpr_dev_addrs_sync(struct kpr_state *st, const char *dev, unsigned int ifindex, __u8 flags);
/* An extra node address for NodePorts (--node-ip); ADDR is v4 or v6. */
int kpr_node_ip_add(struct kpr_state *st, const char *addr, bool dry_run);

/* Every node address (NodePort frontends), in map order, with the ifindex
 * it came from (0: --node-ip). */
struct kpr_node_addr_ent {
	struct kpr_node_addr_key key;
	struct kpr_node_addr val;
};
int kpr_node_addrs_list(struct kpr_state *st, struct kpr_node_addr_ent **out, size_t *n);

/* lb-mode's first line: "KubeProxyReplacement: Strict [DEV ADDR... (XDP
 * mode, fwd), ...]", or Disabled; in JSON the devices, their addresses and
 * XDP modes. */
int kpr_xdp_show_kpr_line(struct kpr_state *st, const char *fwd);

#endif
