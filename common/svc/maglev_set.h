/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Maglev over a set of backends given on a command line (maglev-gen): parse
 * and check them, build their table, compare two sets, and check the live
 * table of a loaded service against the one it should be.
 */
#ifndef KPR_MAGLEV_SET_H
#define KPR_MAGLEV_SET_H

#include <stdbool.h>

#include "svc/addr.h"
#include "svc/maglev.h"
#include "svc/svc.h"
#include "state/state.h"

/* A set of backends and its table. */
struct kpr_maglev_set {
	unsigned int n, n_active;
	char **names;			/* as given */
	struct kpr_be_spec *spec;
	struct kpr_maglev_be *mbe;	/* the active ones */
	unsigned int *act;		/* mbe[i] is spec[act[i]] */
	__u32 *table;			/* indexes into names */
	unsigned int *slots;		/* slots of each backend */
};

/*
 * Parses names[0..n) (ADDR:PORT[/tcp|/udp][,weight=N][,state=S]); what names
 * them in messages. Refuses a backend given twice and a set without an active
 * one; warns when Cilium's rule ignores the weights. -EINVAL after kpr_err.
 */
int kpr_maglev_set_parse(struct kpr_maglev_set *s, char **names, unsigned int n,
			 const char *what);
/* The table of the active backends at size m with seed. */
int kpr_maglev_set_build(struct kpr_maglev_set *s, __u32 m, const __u8 *seed);
void kpr_maglev_set_free(struct kpr_maglev_set *s);

/* Splits "A,B,weight=2,C" in place into backends ("B,weight=2" stays one):
 * *out (free it) gets *n pointers into list. */
int kpr_maglev_split_list(char *list, char ***out, unsigned int *n);

/* What moves from the table of old to that of nw (both built at size m). */
int kpr_maglev_set_diff(const struct kpr_maglev_set *old, const struct kpr_maglev_set *nw,
			__u32 m, struct kpr_maglev_diff *d);

/* A loaded service's live Maglev table, against the expected one. */
struct kpr_maglev_check {
	struct kpr_svc_info info;	/* the service and its backends */
	char **names;			/* the backends as svc-list prints them */
	struct kpr_config cfg;
	__u32 m;			/* live size; 0: no table */
	__u32 *live;			/* m backend ids */
	__u32 *want;			/* the expected ids, NULL if none */
	__u32 *idx;			/* m indexes into info.be, ~0U: unknown id */
	unsigned int *slots;		/* info.svc.total counts */
	__u32 diff;			/* slots that differ */
	__u32 first;			/* the first of them */
};

/*
 * Reads the service of key (named fe in messages), its live table and the
 * one it should have. A service without active backends has no table and
 * m 0. -ENOENT after kpr_err when the service is missing, uses no Maglev or
 * lacks its table.
 */
int kpr_maglev_check_service(struct kpr_state *st, const struct kpr_svc_key *key,
			     const char *fe, struct kpr_maglev_check *c);
/* 0 when the live table is the expected one, else -EIO after kpr_err
 * saying how it differs and how to mend it. */
int kpr_maglev_check_report(const struct kpr_maglev_check *c, const char *fe);
void kpr_maglev_check_free(struct kpr_maglev_check *c);

#endif
