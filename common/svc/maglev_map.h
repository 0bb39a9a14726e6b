/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Per-service Maglev tables in the pinned `maglev` map (HASH_OF_MAPS:
 * service id -> inner ARRAY of M backend ids). A new table is a fresh inner
 * map, filled first and then swapped into the service's slot with one update,
 * so the datapath sees the old table or the new one, never a mix. Inner maps
 * carry BPF_F_INNER_MAP, so tables of any of the ten sizes fit one outer map.
 */
#ifndef KPR_MAGLEV_MAP_H
#define KPR_MAGLEV_MAP_H

#include <stdbool.h>

#include "svc/addr.h"
#include "state/state.h"

struct kpr_svc_info;

/* Whether svc has a Maglev table: its algorithm (KPR_ALG_DEFAULT: the
 * config's) is Maglev, or it is weighted (KPR_SVC_F_WEIGHTED). */
bool kpr_maglev_wanted(const struct kpr_svc *svc, const struct kpr_config *cfg);

/*
 * Writes the table of service svc over its active backends be[0..n_active)
 * (be_ids[i] is be[i]'s id), hashed with the frontend's scope, at the size and
 * seed of cfg: Maglev's, or for weighted random each backend's share of the
 * slots by weight. With no active backend the service's table is removed.
 */
int kpr_maglev_write_service(struct kpr_state *st, const struct kpr_svc *svc, __u8 scope,
			     const struct kpr_backend *be, const __u32 *be_ids,
			     unsigned int n_active, const struct kpr_config *cfg);
/* The same from the parsed backends of svc-add. */
int kpr_maglev_write_specs(struct kpr_state *st, const struct kpr_svc *svc, __u8 scope,
			   const struct kpr_be_spec *const *be, const __u32 *be_ids,
			   unsigned int n_active, const struct kpr_config *cfg);

/*
 * The table service info should have at cfg's size and seed, in backend ids,
 * as kpr_maglev_write_service builds it: *table is malloc()ed, or NULL when
 * the service has no active backend or cfg no valid size.
 */
int kpr_maglev_expected(const struct kpr_svc_info *info, const struct kpr_config *cfg,
			__u32 **table);

/*
 * Tables built but not swapped in yet. Every update of a map-in-map from
 * user space waits for an RCU grace period (10 to 30 ms here), once per
 * syscall: a batch swaps its tables in batches of these, one wait each.
 */
#define KPR_MG_QUEUE 128

struct kpr_mg_queue {
	__u32 ids[KPR_MG_QUEUE];
	__u32 fds[KPR_MG_QUEUE];
	unsigned int n;
};

/* Builds a table as kpr_maglev_write_specs does, into the queue, which must
 * have room; with no active backend the table is removed at once. */
int kpr_maglev_queue_specs(struct kpr_state *st, struct kpr_mg_queue *q, const struct kpr_svc *svc, __u8 scope,
			   const struct kpr_be_spec *const *be, const __u32 *be_ids,
			   unsigned int n_active, const struct kpr_config *cfg);
/* Swaps every queued table in (one syscall) and empties the queue. */
int kpr_maglev_queue_flush(struct kpr_state *st, struct kpr_mg_queue *q);

/*
 * Rewrites the table of every service whose algorithm is Maglev, and removes
 * those of the others, at cfg's size and seed (NULL: the config map's).
 * Returns the number of tables written or -errno.
 */
int kpr_maglev_regen_all(struct kpr_state *st, const struct kpr_config *cfg);

/* Whether every table cfg would have (going from old) holds its service's
 * active backends: -E2BIG, naming each service that does not fit, before
 * anything is written; 0 when the Maglev settings do not change. */
int kpr_maglev_check_fit(struct kpr_state *st, const struct kpr_config *old,
			 const struct kpr_config *cfg);

/* Writes cfg over old (as read), with every Maglev table rewritten when the
 * algorithm, size or seed changes, in the order that keeps packets served. */
int kpr_config_apply(struct kpr_state *st, const struct kpr_config *old,
		     const struct kpr_config *cfg);

/* The live table of a service: *table (free it) gets *m backend ids.
 * -ENOENT when the service has no table. */
int kpr_maglev_read_service(struct kpr_state *st, __u32 svc_id, __u32 **table, __u32 *m);

/*
 * Each backend's share of new flows as the datapath draws them: share[j] for
 * x->be_ids[j] (x->svc.total entries), counted in the service's table when
 * it has one (Maglev, weighted random), else even over the active ones.
 */
int kpr_svc_shares(struct kpr_state *st, const struct kpr_svc_info *x,
		   const struct kpr_config *cfg, double *share);

#endif
