/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The attach module: every program kpr hooks into the kernel, as a pinned
 * bpf_link under <pin root>/links/, so that it outlives the tool:
 *
 *   links/<netns>/xdp-DEV		XDP ingress of DEV
 *   links/<netns>/tc-egress-DEV	tc egress of DEV (a tcx link; on kernels
 *					without tcx, the program itself is pinned
 *					here as the record of a clsact filter)
 *   links/cgroup-<cgroup>-<type>	a cgroup hook (connect4, ...)
 *
 * <netns> is the inode number of the network namespace the device lives in
 * (stat of /proc/self/ns/net there), and <cgroup> the inode of the cgroup2
 * directory, so that nodes sharing one pin root (a lab, tests) never see
 * each other's attachments as their own. KPR_TEST_NO_TCX in the environment
 * takes the clsact path on any kernel, for the tests.
 *
 * Pins of the older layout, links/xdp-DEV, carry no namespace: a writer
 * that finds one driving its own DEV (same ifindex, same program as the
 * device's XDP) moves it to the new name; --status lists the others as of
 * an unknown namespace and leaves them alone.
 *
 * Replacing an attachment never leaves the hook empty when the new one is
 * refused: the link is switched in place (bpf_link_update) when the hook
 * stays the same, and when XDP changes mode (the kernel refuses two modes
 * at once) the old program is put back in its old mode if the new mode
 * fails.
 */
#ifndef KPR_ATTACH_H
#define KPR_ATTACH_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <linux/bpf.h>

#include "core/params.h"

enum kpr_xdp_mode {
	KPR_XDP_NATIVE = 1,
	KPR_XDP_GENERIC,
	KPR_XDP_BEST_EFFORT,	/* native, else generic */
};

enum kpr_hook {
	KPR_HOOK_XDP = 1,
	KPR_HOOK_TC_EGRESS,
	KPR_HOOK_CGROUP,
};

struct kpr_attachment {
	enum kpr_hook hook;
	unsigned long long netns;	/* netns inode; 0: cgroup, or an old pin */
	char netns_name[NAME_MAX + 1];	/* /run/netns name, "init", or "" */
	bool legacy;			/* links/xdp-DEV: netns unknown */
	bool seen;			/* its netns was found: mode, ifindex known */
	char dev[IF_NAMESIZE];
	unsigned int ifindex;		/* 0: the device is gone */
	enum kpr_xdp_mode mode;		/* XDP as attached: native or generic */
	bool fallback;			/* best-effort fell back to generic */
	bool tc_filter;			/* tc: a clsact filter, not a tcx link */
	unsigned long long cgroup;	/* cgroup inode */
	char cgroup_path[PATH_MAX];	/* "" when not found */
	enum bpf_attach_type type;	/* cgroup: the attach type */
	unsigned int prog_id, link_id;	/* link_id 0 for a clsact filter */
	char pin[PATH_MAX];
};

extern const struct kpr_enum kpr_xdp_modes[];
const char *kpr_xdp_mode_name(enum kpr_xdp_mode m);
const char *kpr_hook_name(enum kpr_hook h);
/* connect4, connect6, sendmsg4, ...; NULL for a type this module lacks */
const char *kpr_cgroup_type_name(enum bpf_attach_type t);
int kpr_cgroup_type_parse(const char *s, enum bpf_attach_type *out);

/* The inode of the calling thread's network namespace. */
int kpr_netns_ino(unsigned long long *ino);

/*
 * Attaches prog_fd to a hook of DEV in the current network namespace, or
 * switches the existing link to it. Return KPR_ADDED, KPR_UPDATED,
 * KPR_UNCHANGED (the same program, by tag, in an acceptable mode) or -errno
 * after a message; fill *out. With dry_run (prog_fd unused) nothing is
 * touched and the return says what an attach would do.
 */
int kpr_attach_xdp(const char *root, const char *dev, int prog_fd, enum kpr_xdp_mode mode,
		   bool dry_run, struct kpr_attachment *out);
int kpr_attach_tc_egress(const char *root, const char *dev, int prog_fd, bool dry_run,
			 struct kpr_attachment *out);
/* Detaches every hook of DEV in this netns: KPR_DELETED, KPR_UNCHANGED, -errno. */
int kpr_detach_dev(const char *root, const char *dev, bool dry_run);
/* The hook of DEV in this netns, 0 when attached; -ENOENT when not. */
int kpr_attach_get(const char *root, enum kpr_hook hook, const char *dev,
		   struct kpr_attachment *out);

/* A cgroup link on the cgroup2 directory CGROUP; its root only with
 * allow_root (-EINVAL otherwise): a hook there sees every process. */
int kpr_attach_cgroup(const char *root, const char *cgroup, bool allow_root, int prog_fd,
		      enum bpf_attach_type type, struct kpr_attachment *out);
int kpr_detach_cgroup(const char *root, const char *cgroup, enum bpf_attach_type type);
/* Detaches what kpr_attach_list() found (its link, then its pin): a
 * cgroup's hook even when the cgroup can no longer be named. */
int kpr_detach_attachment(const struct kpr_attachment *a);
/* Where the cgroup2 hierarchy is mounted (its root), -ENOENT when nowhere. */
int kpr_cgroup2_mount(char *buf, size_t len);

/*
 * Every attachment pinned under root, sorted by netns, device and hook, then
 * cgroups. all_netns false: only those of this netns (the old pins it can
 * claim included). Devices and modes of other namespaces are read inside
 * them (/proc/1/ns/net, /run/netns/NAME); one that cannot be found keeps the
 * link's own information.
 */
int kpr_attach_list(const char *root, bool all_netns, struct kpr_attachment **out, size_t *n);

/*
 * Removes the pins of links that drive nothing any more, in every netns:
 * their device or cgroup is gone (the link says so, wherever it lives).
 * Returns how many, or -errno.
 */
int kpr_attach_prune(const char *root, bool dry_run);

#endif
