/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Masquerade's configuration (masq-ctl): the switches per family, the
 * devices, the masquerade addresses (masq) and the pod and non-masquerade
 * CIDRs (masq_native), read, changed and reported, with the counters of
 * the datapath (bpf/lib/masq.h). In the device layer: a change names
 * attached devices and node addresses.
 */
#ifndef KPR_MASQ_H
#define KPR_MASQ_H

#include <net/if.h>
#include <stdbool.h>

#include "core/params.h"
#include "state/state.h"

/* Per list; both lists share masq_native's KPR_MAX_NATIVE_CIDRS. */
#define KPR_MASQ_MAX_CIDRS	(KPR_MAX_NATIVE_CIDRS / 2)
/* ip-masq-agent's own limit on a file's nonMasqueradeCIDRs */
#define KPR_MASQ_AGENT_MAX	64

struct kpr_cidr {
	__u8 family;		/* KPR_FAM_V4 or KPR_FAM_V6 */
	__u8 prefix;
	union kpr_addr addr;
};

struct kpr_cidr_list {
	size_t n;
	struct kpr_cidr v[KPR_MASQ_MAX_CIDRS];
};

/* What one masq-ctl run changes; what it leaves unset stays. */
struct kpr_masq_change {
	int v4, v6;			/* 0 or 1; -1: leave */
	bool set_devs;			/* n_devs 0: every attached device */
	size_t n_devs;
	char devs[KPR_MASQ_MAX_DEVS][IF_NAMESIZE];
	bool set_pod, set_nonmasq;
	struct kpr_cidr_list pod, nonmasq;
	bool set_ip4, set_ip6;		/* an address of zero: the device's */
	union kpr_addr ip4, ip6;
	const char *agent;		/* --ip-masq-agent FILE|defaults */
};

/* The configuration as the maps hold it. */
struct kpr_masq_view {
	struct kpr_masq m;
	struct kpr_cidr_list pod, nonmasq;
};

void kpr_masq_change_init(struct kpr_masq_change *c);
bool kpr_masq_change_any(const struct kpr_masq_change *c);

/* Appends the CIDR s to l: -EINVAL after "WHERE: why" for one that is no
 * CIDR, has bits set past its prefix (ip-masq-agent refuses those too), or
 * overfills l. */
int kpr_masq_cidr_add(struct kpr_cidr_list *l, const char *s, const char *where);
/* Adds a CIDR option's value to a list (the first of a run replaces it):
 * -EINVAL after a message for one with host bits set or a full list. */
int kpr_masq_add_cidr(struct kpr_cidr_list *l, bool *set, const char *opt,
		      const struct kpr_optval *v);
/* --dev DEV (the first of a run replaces the list), "all" for every one. */
int kpr_masq_add_dev(struct kpr_masq_change *c, const char *dev);
/* --masq-ip ADDR, one per family; 0.0.0.0 or :: for the device's address. */
int kpr_masq_set_ip(struct kpr_masq_change *c, const struct kpr_optval *v);

/*
 * ip-masq-agent's non-masquerade CIDRs into c: "defaults", or a config
 * file, YAML or JSON (nonMasqueradeCIDRs, masqLinkLocal, masqLinkLocalIPv6),
 * read as ip-masq-agent reads it. -EINVAL after a message naming the file
 * for anything it would refuse.
 */
int kpr_masq_agent_load(struct kpr_masq_change *c, const char *src);
/* ip-masq-agent's defaults as a list: also used by the unit tests. */
void kpr_masq_agent_defaults(struct kpr_cidr_list *l, bool masq_ll, bool masq_ll6);

int kpr_masq_read(struct kpr_state *st, struct kpr_masq_view *out);
/* The switches alone (KPR_MASQ_*), for lb-mode. */
int kpr_masq_flags(struct kpr_state *st, __u32 *flags);
/* Applies c: checks it against the node first (-EINVAL: a device not
 * attached, a masquerade address that is not the node's), then writes
 * what differs. *changed says whether anything did. */
int kpr_masq_apply(struct kpr_state *st, const struct kpr_masq_change *c, bool dry_run,
		   bool *changed, struct kpr_masq_view *now);

/* Prints the configuration (text and JSON); with counters, the datapath's
 * counts and the nat ports in use too. */
int kpr_masq_print(struct kpr_state *st, const struct kpr_masq_view *v, bool counters);

const char *kpr_fmt_cidr(const struct kpr_cidr *c, char *buf, size_t len);

#endif
