/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * An fsck for the pinned services: walks services -> slots -> backends ->
 * backend index -> Maglev tables -> revnat (and svc_addrs) and names each
 * place where they disagree. The services and the slots of their current
 * generation are the truth; everything else follows from them, so most
 * faults have one repair, which kpr_svc_heal() applies. A writer killed
 * between two of its writes leaves only faults of that kind: the next
 * batch heals them before it writes.
 */
#ifndef KPR_SVC_CHECK_H
#define KPR_SVC_CHECK_H

#include <stdbool.h>

#include "state/state.h"

enum kpr_fault_kind {
	KPR_FAULT_SLOT_ORPHAN,		/* a slot of no service, or not of its current generation */
	KPR_FAULT_SLOT_MISSING,		/* a slot of a service's current generation is absent */
	KPR_FAULT_BACKEND_MISSING,	/* a slot names a backend id that does not exist */
	KPR_FAULT_BACKEND_ORPHAN,	/* a backend no service uses */
	KPR_FAULT_BACKEND_DUP,		/* two backend ids with one address */
	KPR_FAULT_PARTITION,		/* the active slots disagree with the backends' states */
	KPR_FAULT_INDEX_MISSING,	/* a backend in use has no backend_idx entry naming it */
	KPR_FAULT_INDEX_ORPHAN,		/* a backend_idx entry that names no backend of its address */
	KPR_FAULT_REFCNT,		/* a backend_idx count is not the number of services using it */
	KPR_FAULT_REVNAT_ORPHAN,	/* revnat of an id no service has */
	KPR_FAULT_REVNAT_WRONG,		/* a service's revnat entry is absent or another frontend */
	KPR_FAULT_MAGLEV_ORPHAN,	/* a Maglev table of no service, or of one that is not Maglev */
	KPR_FAULT_MAGLEV_MISSING,	/* a Maglev service with active backends has no table */
	KPR_FAULT_MAGLEV_WRONG,		/* a table is not the one its backends, size and seed give */
	KPR_FAULT_SVC_ADDRS,		/* svc_addrs does not count the frontends on an address */
	KPR_FAULT_SERVICE_BAD,		/* a service entry that cannot be (active > total, id 0) */
};

struct kpr_fault {
	enum kpr_fault_kind kind;
	bool healable;
	__u32 svc_id, be_id;
	struct kpr_slot_key slot;	/* SLOT_* */
	struct kpr_l4addr addr;		/* INDEX_*, REFCNT, BACKEND_*: the backend's address */
	struct kpr_svc_key key;		/* REVNAT_WRONG, SVC_ADDRS: the frontend */
	__u32 want, have;		/* REFCNT, SVC_ADDRS: counts */
	__u8 addr_class;		/* SVC_ADDRS: KPR_SVC_ADDR_* */
	char msg[192];
};

/* The kind's name as --verify prints it in JSON ("refcnt", "slot_orphan"). */
const char *kpr_fault_name(enum kpr_fault_kind kind);

typedef int (*kpr_fault_fn)(const struct kpr_fault *f, void *ctx);

/*
 * Calls fn for every fault, and returns their number or -errno. deep also
 * compares every Maglev table with the one it should be (a table build per
 * Maglev service). Run it under the writer lock for a picture that holds
 * still: a writer at work raises counts before its flip.
 */
int kpr_svc_check(struct kpr_state *st, bool deep, kpr_fault_fn fn, void *ctx);

/*
 * Repairs every healable fault (not deep: tables are compared only by
 * --verify), under the writer lock. A lost service entry or slot makes the
 * counts and orphan backends unhealable: their truth is not known. stale, when not NULL, gets the ids of
 * backends whose services must be written again (PARTITION): the caller
 * resyncs them. Returns the number of repairs or -errno.
 */
typedef int (*kpr_stale_fn)(__u32 be_id, void *ctx);
int kpr_svc_heal(struct kpr_state *st, kpr_stale_fn stale, void *ctx);

#endif
