/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Socket LB's hooks: the programs of bpf/kpr_sock.bpf.c (connect, sendmsg,
 * recvmsg, getpeername, post_bind for both families, sock_release), loaded
 * against the pinned maps and attached to one cgroup2 directory as pinned
 * cgroup links (dev/attach.h), so that they outlive lb-mode.
 */
#ifndef KPR_SOCK_H
#define KPR_SOCK_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "state/state.h"

/* The cgroup --socket-lb uses when none is given: the cgroup2 root. */
int kpr_sock_default_cgroup(char *buf, size_t len);

/*
 * Attaches every hook to the cgroup2 directory CGROUP (its root allowed).
 * KPR_ADDED, KPR_UPDATED (another build: links switched to it),
 * KPR_UNCHANGED or -errno (-EINVAL: not a cgroup2 directory). A refused
 * hook takes back the ones this call added. dry_run touches nothing.
 */
int kpr_sock_attach(struct kpr_state *st, const char *cgroup, bool dry_run);
/* Detaches them from every cgroup but KEEP (NULL: from every one):
 * KPR_DELETED, KPR_UNCHANGED or -errno. Socket LB serves one cgroup. */
int kpr_sock_detach(struct kpr_state *st, const char *keep, bool dry_run);

/*
 * Writes cfg (the config as old was, changed), with --socket-lb's hooks in
 * the order that never leaves a socket half served: on (socket_lb 1)
 * attaches them to cgroup (NULL: the cgroup2 root) first, which do nothing
 * until the switch is on, then writes the switch, then removes the hooks
 * of any other cgroup; off (0) writes the switch first, then removes every
 * hook; -1 only writes. *changed is set when anything changed.
 */
int kpr_sock_config_apply(struct kpr_state *st, const struct kpr_config *old,
			  const struct kpr_config *cfg, int socket_lb, const char *cgroup,
			  bool dry_run, bool *changed);

/* A cgroup that socket LB hooks are pinned for. */
struct kpr_sock_cg {
	char path[PATH_MAX];	/* "" when the cgroup is gone */
	unsigned long long ino;
	unsigned int hooks;	/* how many of KPR_SOCK_HOOKS */
};
#define KPR_SOCK_HOOKS	11

int kpr_sock_list(struct kpr_state *st, struct kpr_sock_cg **out, size_t *n);
/* lb-mode's lines (and JSON keys) of socket LB: the switches and the cgroups. */
int kpr_sock_show(struct kpr_state *st, const struct kpr_config *cfg);

#endif
