/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * kp-cleanup's planning, from the text of iptables-save: what is
 * kube-proxy's (its chains, its jumps from the built-in chains, its ipsets)
 * and the iptables-restore --noflush input that removes exactly that, or
 * puts it back. Pure functions of text, so they are unit-tested without
 * privileges; kpc_apply.c runs them against the kernel.
 *
 * The facts come from kube-proxy's own cleanup code (iptables, IPVS and
 * nftables modes). kubelet's chains (KUBE-FIREWALL in filter,
 * KUBE-KUBELET-CANARY, KUBE-IPTABLES-HINT) and every chain that merely
 * contains "KUBE" are never kube-proxy's. KUBE-MARK-MASQ, KUBE-POSTROUTING
 * (kubelet < 1.28 made them too) and nat KUBE-FIREWALL (IPVS mode's before
 * kube-proxy 1.2x) are removed only from a table that holds chains that are
 * kube-proxy's alone: on a node where only kubelet ran they stay.
 */
#ifndef KPR_KPCLEANUP_H
#define KPR_KPCLEANUP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/params.h"

/* What --only selects. */
enum kpc_kind {
	KPC_IPTABLES	= 0x01,
	KPC_IPVS	= 0x02,
	KPC_IPSET	= 0x04,
	KPC_NFT		= 0x08,
	KPC_LINK	= 0x10,
	KPC_ALL		= 0x1f,
};

/* The names of the kinds, for --only. */
extern const struct kpr_enum kpc_kinds[];

struct kpc_rule {
	char *chain;
	char *spec;	/* the rule after "-A CHAIN ", exactly as saved */
	char *target;	/* the -j/-g target, or NULL */
	char *comment;	/* the first --comment, or NULL */
	int pos;	/* 1-based position in its chain */
	bool remove;	/* a kube-proxy jump from a chain that stays */
};

struct kpc_chain {
	char *name;
	bool builtin;
	bool remove;	/* kube-proxy's: flushed and deleted */
	int nrules;
};

struct kpc_table {
	char *name;
	struct kpc_chain *chains;
	size_t nchains;
	size_t *by_name;	/* chain indexes sorted by name, once rules come */
	struct kpc_rule *rules;
	size_t nrules;
};

struct kpc_dump {
	struct kpc_table *tables;
	size_t ntables;
};

/* Parses iptables-save output; -EINVAL on text it does not understand. */
int kpc_dump_parse(const char *text, struct kpc_dump *d);
void kpc_dump_free(struct kpc_dump *d);

struct kpc_table *kpc_table_find(const struct kpc_dump *d, const char *name);
struct kpc_chain *kpc_chain_find(const struct kpc_table *t, const char *name);

/* True for a chain name kube-proxy uses in that table (see above). */
bool kpc_chain_is_kube_proxy(const char *table, const char *chain, bool kube_proxy_table);

/*
 * Marks what is kube-proxy's: its chains and its jumps from the built-in
 * chains. A chain that a rule staying behind still jumps to is kept (with a
 * warning through kpr_warn), so the result always loads. Returns the number of
 * chains plus rules to remove.
 */
int kpc_plan(struct kpc_dump *d);

/* Counts what kpc_plan marked in one table. */
void kpc_table_counts(const struct kpc_table *t, int *jumps, int *chains);

/*
 * The iptables-restore --noflush input that removes what kpc_plan marked:
 * per table the jumps (-D by their exact text), then -F and -X of the chains,
 * one COMMIT per table so that each table changes atomically.
 */
int kpc_delta(const struct kpc_dump *d, struct kpr_buf *b);

/*
 * The input that puts back what kpc_plan marked in SAVED (a backup) into the
 * tables as they are now (CUR): chains that are missing, with their rules,
 * and jumps that are missing, at their saved positions. What is already
 * there is left alone, so restoring twice changes nothing the second time.
 * Sets *n to the number of chains plus rules it puts back.
 */
int kpc_undo(const struct kpc_dump *saved, const struct kpc_dump *cur,
	     struct kpr_buf *b, int *n);

/* True for an ipset name kube-proxy's IPVS mode makes (KUBE-6-... included). */
bool kpc_ipset_is_kube_proxy(const char *name);

/* True when a rule that stays (not marked) in D matches on ipset NAME;
 * *where gets "TABLE CHAIN" of the first such rule. */
bool kpc_set_in_use(const struct kpc_dump *d, const char *name, char *where, size_t len);

/* ---- running it (kpc_apply.c) ---- */

struct kpc_opts {
	unsigned int kinds;	/* enum kpc_kind */
	bool dry_run;
	bool force;		/* go on while kube-proxy runs */
	const char *backup_dir;	/* NULL: KPC_BACKUP_ROOT/<UTC timestamp> */
	int wait;		/* seconds to wait for the lock */
};

#define KPC_BACKUP_ROOT "/var/lib/kpr/backup"

/*
 * Removes kube-proxy's leftovers in the current network namespace: finds
 * them, prints the plan (out.h), saves them under the backup directory, then
 * removes IPVS services, iptables rules and chains (per table atomically),
 * ipsets, nftables tables and the kube-ipvs0 link, in that order. Refuses
 * with -EBUSY while a kube-proxy process runs (unless force). Reports
 * "changed" (with dry_run, what would change). Returns 0 or -errno.
 */
int kpc_cleanup(const struct kpc_opts *o);

/* Puts back what a backup directory holds and is missing now. */
int kpc_restore(const struct kpc_opts *o, const char *dir);

/* The pid of a running kube-proxy process, or 0. */
int kpc_find_kube_proxy(void);

#endif
