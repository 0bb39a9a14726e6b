// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Writing services so that a packet never sees half of one:
 *   1. new backends are written (backends, backend_idx),
 *   2. the service's slots go into the generation not in use,
 *   3. the service entry flips to that generation (one map update),
 *   4. the old generation's slots are deleted, unused backends freed.
 * Backend ids are shared by every service naming the same address:port/proto
 * and reference-counted in backend_idx. Counts go up before the flip and
 * down after it, so a writer killed midway leaves counts above their use and
 * parts that nothing uses, never a service without its parts: every batch
 * first repairs those (svc_check.c), so a rerun heals what a kill left.
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <search.h>

#include "svc/maglev_map.h"
#include "state/mapio.h"
#include "svc/svc.h"
#include "svc/svc_check.h"
#include "core/util.h"

static int lookup(int fd, const void *key, void *val)
{
	return bpf_map_lookup_elem(fd, key, val) ? -errno : 0;
}

static int update(int fd, const void *key, const void *val, const char *what)
{
	if (bpf_map_update_elem(fd, key, val, BPF_ANY)) {
		int err = -errno;

		kpr_err("cannot write %s: %s%s", what, strerror(errno),
			errno == E2BIG || errno == ENOMEM ? " (map full?)" : "");
		return err;
	}
	return 0;
}

static void del(int fd, const void *key)
{
	bpf_map_delete_elem(fd, key);
}

/*
 * A transaction: the writes of one tool run. For a batch it mirrors the
 * backend index, the backends and the used ids in memory (read with a few
 * BPF_MAP_LOOKUP_BATCH calls), so that each service costs a handful of
 * syscalls instead of one per lookup; a single service goes to the kernel
 * directly. Each service is still written in the order above.
 */
struct idx_node {
	struct kpr_l4addr addr;
	struct kpr_backend_ref ref;
};

/* A service written up to its slots, whose flip waits for its table. */
struct pending {
	struct kpr_svc_key key;
	struct kpr_svc nv, old;
	bool exists;
	__u32 *old_ids, *new_ids;
};

struct txn {
	struct kpr_state *st;
	struct kpr_config cfg;
	bool cached;
	void *idx;			/* tsearch tree of struct idx_node */
	struct kpr_be_mirror bm;	/* batches: every backend by id */
	__u8 *svc_used;
	__u32 svc_max;
	/* Backends whose state or weight this run changed: every service that
	 * shares one is re-partitioned and gets a new Maglev table (resync). */
	__u32 *touched;
	__u32 n_touched, cap_touched;
	__u32 *done_seq;		/* by service id: n_touched + 1 when written */
	/* batches: services whose Maglev table is queued, flipped after it */
	struct kpr_mg_queue *mq;
	struct pending *pend;
	unsigned int n_pend;
	/* batches: tables of deleted services, removed together (one RCU
	 * wait per batch instead of one per service) */
	__u32 *mg_del;
	unsigned int n_mg_del;
};

/* Deleting 10,000 Maglev services: three waits, not 10,000. */
#define MG_DEL_BATCH 4096

static int cmp_l4(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct kpr_l4addr));
}

static int idx_put_node(struct txn *t, const struct kpr_l4addr *a, const struct kpr_backend_ref *ref)
{
	struct idx_node *n = malloc(sizeof(*n)), **found;

	if (!n)
		return -ENOMEM;
	n->addr = *a;
	n->ref = *ref;
	found = tsearch(n, &t->idx, cmp_l4);
	if (!found) {
		free(n);
		return -ENOMEM;
	}
	if (*found != n) {
		(*found)->ref = *ref;
		free(n);
	}
	return 0;
}

static int walk_idx(const void *k, const void *v, void *ctx)
{
	return idx_put_node(ctx, k, v);
}

static int walk_revnat(const void *k, const void *v, void *ctx)
{
	struct txn *t = ctx;
	__u32 id = *(const __u32 *)k;

	if (id < t->svc_max)
		t->svc_used[id] = 1;
	return 0;
}

static void txn_free(struct txn *t)
{
	tdestroy(t->idx, free);
	t->idx = NULL;
	kpr_be_mirror_free(&t->bm);
	free(t->svc_used);
	free(t->touched);
	free(t->done_seq);
	free(t->mq);
	free(t->pend);
	free(t->mg_del);
	t->mg_del = NULL;
	t->mq = NULL;
	t->pend = NULL;
	t->svc_used = NULL;
	t->touched = t->done_seq = NULL;
}

static int touch(struct txn *t, __u32 id)
{
	if (t->n_touched == t->cap_touched) {
		__u32 cap = t->cap_touched ? t->cap_touched * 2 : 64, *n;

		n = realloc(t->touched, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		t->touched = n;
		t->cap_touched = cap;
	}
	t->touched[t->n_touched++] = id;
	return 0;
}

/* A service to write again (kpr_svc_heal): its slots disagree with the
 * states of its backends. */
static int heal_stale(__u32 be_id, void *ctx)
{
	return touch(ctx, be_id);
}

/*
 * A batch first repairs what a writer killed midway left (counts above
 * their use, parts of services that are gone): each write below assumes
 * exact counts, so a rerun of the killed batch heals everything.
 */
static int txn_begin(struct txn *t, struct kpr_state *st, bool cached, bool heal)
{
	int ret;

	memset(t, 0, sizeof(*t));
	t->st = st;
	t->bm.max = kpr_map_size(st->backends);
	t->svc_max = kpr_map_size(st->maglev);
	t->done_seq = calloc(t->svc_max + 1, sizeof(*t->done_seq));
	if (!t->done_seq)
		return -ENOMEM;
	ret = kpr_config_read(st, &t->cfg);
	if (ret) {
		txn_free(t);
		return ret;
	}
	if (!cached)
		return 0;
	t->cached = true;
	t->mq = calloc(1, sizeof(*t->mq));
	t->pend = calloc(KPR_MG_QUEUE, sizeof(*t->pend));
	t->mg_del = calloc(MG_DEL_BATCH, sizeof(*t->mg_del));
	t->svc_used = calloc(t->svc_max, 1);
	if (!t->svc_used || !t->mq || !t->pend || !t->mg_del)
		ret = -ENOMEM;
	if (!ret && heal) {
		ret = kpr_svc_heal(st, heal_stale, t);
		ret = ret > 0 ? 0 : ret;
	}
	if (!ret)
		ret = kpr_map_walk(st->backend_idx, walk_idx, t);
	if (!ret)
		ret = kpr_be_mirror_load(st, &t->bm);
	if (!ret)
		ret = kpr_map_walk(st->revnat, walk_revnat, t);
	if (ret)
		txn_free(t);
	return ret;
}

static int flush_pending(struct txn *t);

/* Removes the queued tables of deleted services, before their ids go to
 * other services. */
static int flush_mg_del(struct txn *t)
{
	int ret = kpr_map_delete_n(t->st->maglev, t->mg_del, t->n_mg_del);

	if (ret)
		kpr_err("cannot remove Maglev tables from %s/maglev: %s", t->st->root, strerror(-ret));
	t->n_mg_del = 0;
	return ret;
}

/* What is prepared is finished, even after an error: each pending service
 * has its backends and slots in place and only waits for its flip. */
static int txn_end(struct txn *t, bool write)
{
	int ret = flush_pending(t);

	ret = flush_mg_del(t) ?: ret;

	if (write)
		ret = kpr_config_write(t->st, &t->cfg) ?: ret;
	txn_free(t);
	return ret;
}

static int idx_find(struct txn *t, const struct kpr_l4addr *a, struct kpr_backend_ref *ref)
{
	struct idx_node **n;

	if (!t->cached)
		return lookup(t->st->backend_idx, a, ref);
	n = tfind(a, &t->idx, cmp_l4);
	if (!n)
		return -ENOENT;
	*ref = (*n)->ref;
	return 0;
}

static int be_find(struct txn *t, __u32 id, struct kpr_backend *be)
{
	if (!t->cached)
		return lookup(t->st->backends, &id, be);
	if (id >= t->bm.max || !t->bm.used[id])
		return -ENOENT;
	*be = t->bm.be[id];
	return 0;
}

/* Writes a backend's index entry; refcnt 0 deletes it and the backend. */
static int idx_write(struct txn *t, const struct kpr_l4addr *a, const struct kpr_backend_ref *ref)
{
	if (ref->refcnt) {
		if (t->cached && idx_put_node(t, a, ref))
			return -ENOMEM;
		return update(t->st->backend_idx, a, ref, "backend_idx");
	}
	if (t->cached) {
		struct idx_node **n = tfind(a, &t->idx, cmp_l4), *node;

		if (n) {
			node = *n;
			tdelete(a, &t->idx, cmp_l4);
			free(node);
		}
		if (ref->id < t->bm.max)
			t->bm.used[ref->id] = 0;
	}
	del(t->st->backends, &ref->id);
	del(t->st->backend_idx, a);
	return 0;
}

static int alloc_id(struct txn *t, bool svc, __u32 *out)
{
	__u32 *hint = svc ? &t->cfg.next_svc_id : &t->cfg.next_backend_id;
	__u32 max = svc ? t->svc_max : t->bm.max, id = *hint;
	int fd = svc ? t->st->revnat : t->st->backends;
	__u8 *used = svc ? t->svc_used : t->bm.used;
	__u8 buf[64];

	for (__u32 tries = 0; tries < max; tries++, id++) {
		if (id == 0 || id >= max)
			id = 1;
		if (t->cached ? !used[id] :
		    (bpf_map_lookup_elem(fd, &id, buf) && errno == ENOENT)) {
			if (t->cached)
				used[id] = 1;
			*out = id;
			*hint = id + 1;
			return 0;
		}
	}
	kpr_err("no free %s id: all %u are in use", svc ? "service" : "backend", max - 1);
	return -ENOSPC;
}

static int delete_slots(struct kpr_state *st, const struct kpr_svc *svc)
{
	__u32 gen = (svc->flags & KPR_SVC_F_GEN) ? KPR_SLOT_GEN_BIT : 0;
	struct kpr_slot_key *k = calloc(svc->total + 1u, sizeof(*k));
	int ret;

	if (!k)
		return -ENOMEM;
	for (__u32 i = 0; i < svc->total; i++) {
		k[i].svc_id = svc->id;
		k[i].slot = gen | i;
	}
	ret = kpr_map_delete_n(st->svc_backends, k, svc->total);
	free(k);
	return ret;
}

/* svc_id: for KPR_STATS_BACKEND, the service whose counters of backend id go. */
static void stats_forget(struct kpr_state *st, __u32 kind, __u32 id, __u32 svc_id)
{
	struct kpr_stats_key k = { .kind = kind == KPR_STATS_BACKEND ? KPR_STATS_BE_KIND(svc_id) : kind,
				   .id = id };

	del(st->stats, &k);
}

/*
 * svc_addrs counts the frontends on each address, so the datapath can tell
 * a service address from any other when an ICMP echo request (no port)
 * arrives, and those reachable from outside the node apart (class
 * KPR_SVC_ADDR_EXT). "*:PORT" NodePorts live on the node addresses, which
 * the kernel answers itself.
 */
static int svc_addr_ref1(struct kpr_state *st, const struct kpr_svc_key *key, __u8 class, int delta)
{
	struct kpr_svc_addr_key k = { .addr = key->fe.addr, .family = key->fe.family,
				      .class = class };
	__u32 n = 0;

	lookup(st->svc_addrs, &k, &n);
	if (delta < 0 && n <= 1) {
		del(st->svc_addrs, &k);
		return 0;
	}
	n += delta;
	return update(st->svc_addrs, &k, &n, "svc_addrs");
}

/* The frontend key of type `type` (KPR_SVC_*, 0 for none) becomes one of
 * type `now` (0: it goes). */
static int svc_addr_ref(struct kpr_state *st, const struct kpr_svc_key *key, __u8 type, __u8 now)
{
	bool was_ext = type && type != KPR_SVC_CLUSTERIP, is_ext = now && now != KPR_SVC_CLUSTERIP;
	int ret = 0;

	if (key->fe.family == KPR_FAM_ANY)
		return 0;
	if (!type != !now)
		ret = svc_addr_ref1(st, key, KPR_SVC_ADDR_ALL, now ? 1 : -1);
	if (!ret && was_ext != is_ext)
		ret = svc_addr_ref1(st, key, KPR_SVC_ADDR_EXT, is_ext ? 1 : -1);
	return ret;
}

/* Drops one reference; the last one frees the backend. */
static int backend_put(struct txn *t, __u32 id)
{
	struct kpr_backend_ref ref;
	struct kpr_backend be;

	if (be_find(t, id, &be) || idx_find(t, &be.be, &ref) || ref.id != id)
		return 0;
	ref.refcnt--;
	return idx_write(t, &be.be, &ref);
}

static bool has_id(const __u32 *ids, __u32 n, __u32 id)
{
	for (__u32 i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/* Slots hold active backends first, so the datapath picks among [0, active). */
static void order_backends(const struct kpr_svc_spec *sp, const struct kpr_be_spec **ord,
			   __u16 *active)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < sp->n_be; i++)
		if (sp->be[i].state == KPR_BE_ACTIVE)
			ord[n++] = &sp->be[i];
	*active = (__u16)n;
	for (unsigned int i = 0; i < sp->n_be; i++)
		if (sp->be[i].state != KPR_BE_ACTIVE)
			ord[n++] = &sp->be[i];
}

static void backend_value(const struct kpr_be_spec *b, struct kpr_backend *v)
{
	memset(v, 0, sizeof(*v));
	v->be = b->addr;
	v->state = b->state;
	v->weight = b->weight;
}

/* What one upsert writes, gathered so that each map takes one batch. */
struct writes {
	__u32 *be_ids;
	struct kpr_backend *be_vals;
	struct kpr_l4addr *idx_keys;
	struct kpr_backend_ref *idx_vals;
	struct kpr_slot_key *slot_keys;
	__u32 n_be, n_idx;
};

static void writes_free(struct writes *w)
{
	free(w->be_ids);
	free(w->be_vals);
	free(w->idx_keys);
	free(w->idx_vals);
	free(w->slot_keys);
}

static int writes_alloc(struct writes *w, unsigned int n)
{
	memset(w, 0, sizeof(*w));
	w->be_ids = calloc(n + 1, sizeof(*w->be_ids));
	w->be_vals = calloc(n + 1, sizeof(*w->be_vals));
	w->idx_keys = calloc(n + 1, sizeof(*w->idx_keys));
	w->idx_vals = calloc(n + 1, sizeof(*w->idx_vals));
	w->slot_keys = calloc(n + 1, sizeof(*w->slot_keys));
	if (w->be_ids && w->be_vals && w->idx_keys && w->idx_vals && w->slot_keys)
		return 0;
	writes_free(w);
	return -ENOMEM;
}

/* 3. the flip, and 4. the old generation and what only it used. old is
 * NULL for a new service. */
static int finish(struct txn *t, const struct kpr_svc_key *key, const struct kpr_svc *nv,
		  const struct kpr_svc *old, const __u32 *old_ids, const __u32 *new_ids)
{
	struct kpr_state *st = t->st;
	int ret;

	/* Counts go up before the flip and down after it: a kill in between
	 * leaves them above their use, which the next batch repairs. */
	ret = update(st->revnat, &nv->id, key, "revnat");
	if (!ret)
		ret = svc_addr_ref(st, key, old ? old->type : 0, nv->type);
	if (!ret)
		ret = update(st->services, key, nv, "services");
	if (ret || !old)
		return ret;

	if (!kpr_maglev_wanted(nv, &t->cfg))
		del(st->maglev, &nv->id);
	delete_slots(st, old);
	if (old->id != nv->id) {
		del(st->revnat, &old->id);
		del(st->maglev, &old->id);
		stats_forget(st, KPR_STATS_SVC, old->id, 0);
		if (t->cached)
			t->svc_used[old->id] = 0;
	}
	for (__u32 i = 0; i < old->total; i++)
		if (old->id != nv->id || !has_id(new_ids, nv->total, old_ids[i])) {
			stats_forget(st, KPR_STATS_BACKEND, old_ids[i], old->id);
			backend_put(t, old_ids[i]);
		}
	return 0;
}

/* Swaps the queued tables in, then flips the services that wait for them. */
static int flush_pending(struct txn *t)
{
	int ret = t->mq ? kpr_maglev_queue_flush(t->st, t->mq) : 0;

	for (unsigned int i = 0; i < t->n_pend; i++) {
		struct pending *pd = &t->pend[i];
		int err = ret ? 0 : finish(t, &pd->key, &pd->nv, pd->exists ? &pd->old : NULL,
					   pd->old_ids, pd->new_ids);

		ret = ret ?: err;
		free(pd->old_ids);
		free(pd->new_ids);
	}
	t->n_pend = 0;
	return ret;
}

static int upsert(struct txn *t, const struct kpr_svc_spec *sp, bool dry_run, __u32 *id_out)
{
	struct kpr_state *st = t->st;
	const struct kpr_be_spec **ord = NULL;
	struct kpr_backend_ref *refs = NULL;
	__u32 *old_ids = NULL, *new_ids = NULL;
	struct kpr_svc old = {}, nv = {};
	struct kpr_svc_key owner;
	struct writes w = {};
	bool exists, same;
	int ret;

	exists = !lookup(st->services, &sp->key, &old);

	nv.type = sp->type;
	nv.algorithm = sp->algorithm;
	nv.mode = sp->mode;
	nv.affinity_timeout = sp->affinity;
	nv.id = sp->id ? sp->id : (exists ? old.id : 0);

	if (nv.id >= t->svc_max) {
		kpr_err("service id %u is beyond this node's %u services (map size)", nv.id, t->svc_max);
		return -ERANGE;
	}
	if (nv.id && (!exists || nv.id != old.id) && !kpr_svc_key_by_id(st, nv.id, &owner)) {
		char a[KPR_ADDRSTRLEN];

		kpr_err("service id %u is taken by %s: pick another --id or delete that service",
			nv.id, kpr_fmt_l4addr(&owner.fe, false, a, sizeof(a)));
		return -EEXIST;
	}

	ord = calloc(sp->n_be + 1, sizeof(*ord));
	new_ids = calloc(sp->n_be + 1, sizeof(*new_ids));
	refs = calloc(sp->n_be + 1, sizeof(*refs));
	old_ids = calloc(exists ? old.total + 1u : 1u, sizeof(*old_ids));
	if (!ord || !new_ids || !old_ids || !refs || writes_alloc(&w, sp->n_be)) {
		ret = -ENOMEM;
		goto out;
	}
	order_backends(sp, ord, &nv.active);
	nv.total = (__u16)sp->n_be;
	for (unsigned int i = 1; i < nv.active; i++)
		if (ord[i]->weight != ord[0]->weight)
			nv.flags = KPR_SVC_F_WEIGHTED;
	/* A table of M slots holds at most M backends. A line is refused before
	 * (validate); a service a shared backend's new weight reaches keeps its
	 * even draw rather than fail halfway through a batch. */
	if ((nv.flags & KPR_SVC_F_WEIGHTED) && nv.active > t->cfg.maglev_size) {
		char a[KPR_ADDRSTRLEN];

		nv.flags &= (__u8)~KPR_SVC_F_WEIGHTED;
		kpr_warn("%s: %u active backends do not fit a weighted table of %u slots: its weights are ignored (an even draw)",
			 kpr_fmt_l4addr(&sp->key.fe, false, a, sizeof(a)), nv.active, t->cfg.maglev_size);
	}
	if (exists) {
		ret = kpr_svc_read_slots(st, &old, old_ids);
		if (ret)
			goto out;
	}

	/* Resolve ids; an unknown backend gets id 0 for now. */
	same = exists && nv.id == old.id && nv.total == old.total &&
	       nv.active == old.active && nv.type == old.type &&
	       nv.algorithm == old.algorithm && nv.mode == old.mode &&
	       nv.affinity_timeout == old.affinity_timeout &&
	       (nv.flags & KPR_SVC_F_WEIGHTED) == (old.flags & KPR_SVC_F_WEIGHTED);
	for (unsigned int i = 0; i < sp->n_be; i++) {
		struct kpr_backend cur, want;

		if (idx_find(t, &ord[i]->addr, &refs[i])) {
			same = false;
			continue;
		}
		new_ids[i] = refs[i].id;
		backend_value(ord[i], &want);
		if (be_find(t, refs[i].id, &cur) || memcmp(&cur, &want, sizeof(cur)))
			same = false;
		if (!same || old_ids[i] != refs[i].id)
			same = false;	/* !same: old_ids may hold fewer than n_be */
	}
	if (same) {
		*id_out = old.id;
		t->done_seq[old.id] = t->n_touched + 1;
		ret = KPR_UNCHANGED;
		goto out;
	}
	if (dry_run) {
		*id_out = nv.id;
		ret = exists ? KPR_UPDATED : KPR_ADDED;
		goto out;
	}

	/* 1. backends: new ones, new state or weight of known ones, and one
	 * more reference from each backend this service did not use before */
	for (unsigned int i = 0; i < sp->n_be; i++) {
		bool gains = !(exists && old.id == nv.id && has_id(old_ids, old.total, new_ids[i]));
		struct kpr_backend want, cur;

		backend_value(ord[i], &want);
		if (!new_ids[i]) {
			ret = alloc_id(t, false, &new_ids[i]);
			if (ret)
				goto out;
			refs[i].id = new_ids[i];
			refs[i].refcnt = 0;
			ret = -ENOENT;		/* new: nothing to compare with */
		} else {
			ret = be_find(t, new_ids[i], &cur);
			/* a known backend changes: the services sharing it follow */
			if (!ret && memcmp(&cur, &want, sizeof(cur)) && touch(t, new_ids[i])) {
				ret = -ENOMEM;
				goto out;
			}
		}
		if (ret || memcmp(&cur, &want, sizeof(cur))) {
			w.be_ids[w.n_be] = new_ids[i];
			w.be_vals[w.n_be++] = want;
			if (t->cached) {
				t->bm.be[new_ids[i]] = want;
				t->bm.used[new_ids[i]] = 1;
			}
		}
		if (gains) {
			refs[i].refcnt++;
			w.idx_keys[w.n_idx] = ord[i]->addr;
			w.idx_vals[w.n_idx++] = refs[i];
			if (t->cached && idx_put_node(t, &ord[i]->addr, &refs[i])) {
				ret = -ENOMEM;
				goto out;
			}
		}
	}
	ret = kpr_map_update_n(st->backends, w.be_ids, w.be_vals, w.n_be, "backends");
	if (!ret)
		ret = kpr_map_update_n(st->backend_idx, w.idx_keys, w.idx_vals, w.n_idx, "backend_idx");
	if (ret)
		goto out;

	/* 2. slots of the generation not in use */
	if (!nv.id) {
		ret = alloc_id(t, true, &nv.id);
		if (ret)
			goto out;
	} else {
		if (t->cached)
			t->svc_used[nv.id] = 1;
		/* as auto-increment does: a restore then hands out the same ids */
		if (nv.id >= t->cfg.next_svc_id)
			t->cfg.next_svc_id = nv.id + 1;
	}
	if (exists && old.id == nv.id)
		nv.flags |= (old.flags & KPR_SVC_F_GEN) ^ KPR_SVC_F_GEN;
	for (__u32 i = 0; i < nv.total; i++) {
		w.slot_keys[i].svc_id = nv.id;
		w.slot_keys[i].slot = i | ((nv.flags & KPR_SVC_F_GEN) ? KPR_SLOT_GEN_BIT : 0);
	}
	ret = kpr_map_update_n(st->svc_backends, w.slot_keys, new_ids, nv.total, "svc_backends");
	if (ret)
		goto out;

	/* 2b. the Maglev table the flipped service will use; in a batch the
	 * swap and the flip wait until a queue of tables goes in together */
	if (kpr_maglev_wanted(&nv, &t->cfg) && t->mq && nv.active) {
		struct pending *pd;

		if (t->mq->n == KPR_MG_QUEUE) {
			ret = flush_pending(t);
			if (ret)
				goto out;
		}
		ret = kpr_maglev_queue_specs(st, t->mq, &nv, sp->key.scope, ord, new_ids,
					     nv.active, &t->cfg);
		if (ret)
			goto out;
		pd = &t->pend[t->n_pend++];
		pd->key = sp->key;
		pd->nv = nv;
		pd->old = old;
		pd->exists = exists;
		pd->old_ids = old_ids;
		pd->new_ids = new_ids;
		old_ids = new_ids = NULL;	/* the pending flip owns them */
		ret = exists ? KPR_UPDATED : KPR_ADDED;
	} else {
		if (kpr_maglev_wanted(&nv, &t->cfg)) {
			ret = kpr_maglev_write_specs(st, &nv, sp->key.scope, ord, new_ids,
						     nv.active, &t->cfg);
			if (ret)
				goto out;
		}
		ret = finish(t, &sp->key, &nv, exists ? &old : NULL, old_ids, new_ids);
		if (ret)
			goto out;
		ret = exists ? KPR_UPDATED : KPR_ADDED;
	}
	*id_out = nv.id;
	t->done_seq[nv.id] = t->n_touched + 1;
out:
	writes_free(&w);
	free(ord);
	free(refs);
	free(new_ids);
	free(old_ids);
	return ret;
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

struct resync_ctx {
	struct txn *t;
	__u8 *mark;		/* by service id */
};

static int resync_slot(const void *k, const void *v, void *ctx)
{
	const struct kpr_slot_key *sk = k;
	struct resync_ctx *c = ctx;

	if (sk->svc_id < c->t->svc_max &&
	    bsearch(v, c->t->touched, c->t->n_touched, sizeof(__u32), cmp_u32))
		c->mark[sk->svc_id] = 1;
	return 0;
}

/*
 * A backend's state and weight are the backend's, whichever service named
 * them: the other services that share a changed backend are written again
 * from what their backends now are, so that their active slots and Maglev
 * tables follow.
 */
static int resync(struct txn *t, kpr_change_fn report, struct kpr_batch_result *res)
{
	struct resync_ctx c = { .t = t };
	int ret = 0;

	if (!t->n_touched)
		return 0;
	qsort(t->touched, t->n_touched, sizeof(__u32), cmp_u32);
	c.mark = calloc(t->svc_max + 1, 1);
	if (!c.mark)
		return -ENOMEM;
	ret = kpr_map_walk(t->st->svc_backends, resync_slot, &c);
	for (__u32 id = 1; !ret && id < t->svc_max; id++) {
		struct kpr_svc_spec sp;
		struct kpr_svc_info info;
		__u32 got;

		if (!c.mark[id] || t->done_seq[id] == t->n_touched + 1)
			continue;
		kpr_svc_spec_init(&sp);
		if (kpr_svc_key_by_id(t->st, id, &sp.key))
			continue;	/* went away meanwhile */
		ret = kpr_svc_get(t->st, &sp.key, &info);
		if (ret == -ENOENT) {
			ret = 0;
			continue;
		}
		if (ret)
			break;
		sp.type = info.svc.type;
		sp.algorithm = info.svc.algorithm;
		sp.mode = info.svc.mode;
		sp.affinity = info.svc.affinity_timeout;
		sp.id = id;
		sp.n_be = info.svc.total;
		sp.be = calloc(sp.n_be + 1, sizeof(*sp.be));
		if (!sp.be) {
			ret = -ENOMEM;
		} else {
			for (__u32 i = 0; i < sp.n_be; i++) {
				sp.be[i].addr = info.be[i].be;
				sp.be[i].state = info.be[i].state;
				sp.be[i].weight = info.be[i].weight;
			}
			ret = upsert(t, &sp, false, &got);
			/* The slots may not move while the weights still do. */
			if (ret == KPR_UNCHANGED && kpr_maglev_wanted(&info.svc, &t->cfg))
				ret = kpr_maglev_write_service(t->st, &info.svc, sp.key.scope, info.be, info.be_ids,
							       info.svc.active, &t->cfg) ?: KPR_UPDATED;
		}
		if (ret > 0) {
			const struct kpr_l4addr *via = NULL;

			struct kpr_change_note note = {};

			for (__u32 i = 0; i < info.svc.total && !via; i++)
				if (bsearch(&info.be_ids[i], t->touched, t->n_touched, sizeof(__u32), cmp_u32))
					via = &info.be[i].be;
			note.via = via;
			res->updated++;
			report(KPR_UPDATED, &sp.key, id, &note);
			ret = 0;
		}
		kpr_svc_spec_free(&sp);
		free(info.be_ids);
		free(info.be);
	}
	free(c.mark);
	return ret;
}

static int svc_delete(struct txn *t, const struct kpr_svc_key *key, bool dry_run, __u32 *id_out)
{
	struct kpr_state *st = t->st;
	struct kpr_svc svc;
	__u32 *ids;
	int ret;

	if (lookup(st->services, key, &svc)) {
		struct kpr_svc_key other = *key;
		char a[KPR_ADDRSTRLEN], b[KPR_ADDRSTRLEN];

		/* 10.96.0.10:53 is TCP; the DNS service a user means is UDP */
		other.fe.proto = key->fe.proto == IPPROTO_TCP ? IPPROTO_UDP : IPPROTO_TCP;
		if (!lookup(st->services, &other, &svc))
			kpr_warn("no service %s, so nothing was deleted; %s differs in protocol: name it with /%s",
				 kpr_fmt_l4addr(&key->fe, false, a, sizeof(a)),
				 kpr_fmt_l4addr(&other.fe, false, b, sizeof(b)),
				 kpr_proto_name(other.fe.proto, false));
		return KPR_UNCHANGED;
	}
	*id_out = svc.id;
	if (dry_run)
		return KPR_DELETED;
	ids = calloc(svc.total + 1u, sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	ret = kpr_svc_read_slots(st, &svc, ids);
	/* The service goes first: no packet finds it while its parts go. */
	if (bpf_map_delete_elem(st->services, key)) {
		ret = -errno;
		kpr_err("cannot delete service %u: %s", svc.id, strerror(errno));
		goto out;
	}
	svc_addr_ref(st, key, svc.type, 0);
	del(st->revnat, &svc.id);
	if (t->mg_del) {
		__u32 inner;

		/* only tables that exist: a batch stops at an absent one */
		if (!bpf_map_lookup_elem(st->maglev, &svc.id, &inner))
			t->mg_del[t->n_mg_del++] = svc.id;
		if (t->n_mg_del == MG_DEL_BATCH)
			flush_mg_del(t);
	} else {
		del(st->maglev, &svc.id);
	}
	if (t->cached && svc.id < t->svc_max)
		t->svc_used[svc.id] = 0;
	delete_slots(st, &svc);
	stats_forget(st, KPR_STATS_SVC, svc.id, 0);
	if (!ret)
		for (__u32 i = 0; i < svc.total; i++) {
			stats_forget(st, KPR_STATS_BACKEND, ids[i], svc.id);
			backend_put(t, ids[i]);
		}
	ret = KPR_DELETED;
out:
	free(ids);
	return ret;
}

/* Below this many services a batch goes straight to the kernel; above it,
 * reading the maps once is cheaper than a lookup per backend. */
#define TXN_CACHE_MIN 32

static int delete_keys(struct txn *t, const struct kpr_svc_key *keys, size_t n, bool dry_run,
		       kpr_change_fn report, struct kpr_batch_result *res)
{
	__u32 id = 0;
	int ret = 0;

	for (size_t i = 0; i < n; i++) {
		ret = svc_delete(t, &keys[i], dry_run, &id);
		if (ret < 0)
			break;
		if (ret == KPR_DELETED)
			res->deleted++;
		else
			res->unchanged++;
		report((enum kpr_change)ret, &keys[i], ret == KPR_DELETED ? id : 0, NULL);
		ret = 0;
	}
	return flush_mg_del(t) ?: ret;
}

int kpr_svc_delete_keys(struct kpr_state *st, const struct kpr_svc_key *keys, size_t n,
			bool dry_run, kpr_change_fn report, struct kpr_batch_result *res)
{
	struct txn t;
	int ret;

	ret = txn_begin(&t, st, n >= TXN_CACHE_MIN, false);
	if (ret)
		return ret;
	ret = delete_keys(&t, keys, n, dry_run, report, res);
	txn_end(&t, false);
	return ret;
}

static int list_keys(struct kpr_state *st, struct kpr_svc_key **out, size_t *n);

int kpr_svc_delete_all(struct kpr_state *st, bool dry_run, kpr_change_fn report,
		       struct kpr_batch_result *res)
{
	struct kpr_svc_key *keys = NULL;
	struct txn t;
	size_t n = 0;
	int ret;

	ret = list_keys(st, &keys, &n);
	if (ret)
		return ret;
	ret = txn_begin(&t, st, true, false);
	if (ret)
		goto out;
	ret = delete_keys(&t, keys, n, dry_run, report, res);
	txn_end(&t, false);
	/* With no service left, whatever remains (a killed writer's parts,
	 * counts above their use) is an orphan: the maps end empty. */
	if (!ret && !dry_run) {
		ret = kpr_svc_heal(st, NULL, NULL);
		ret = ret > 0 ? 0 : ret;
	}
out:
	free(keys);
	return ret;
}

static int list_keys(struct kpr_state *st, struct kpr_svc_key **out, size_t *n)
{
	struct kpr_svc_key k, *keys = NULL, *prev = NULL;
	size_t cnt = 0, cap = 0;

	while (!bpf_map_get_next_key(st->services, prev, &k)) {
		if (cnt == cap) {
			struct kpr_svc_key *nk;

			cap = cap ? cap * 2 : 1024;
			nk = realloc(keys, cap * sizeof(*keys));
			if (!nk) {
				free(keys);
				return -ENOMEM;
			}
			keys = nk;
		}
		keys[cnt] = k;
		prev = &keys[cnt++];
	}
	*out = keys;
	*n = cnt;
	return 0;
}

static int cmp_key(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct kpr_svc_key));
}

/* Checks a batch against itself and the maps; reports every conflict. */
/* "line N: " in a batch file; nothing for the command line's one service. */
static const char *loc(const struct kpr_svc_spec *sp, char *buf, size_t len)
{
	if (sp->line > 0)
		snprintf(buf, len, "line %d: ", sp->line);
	else
		buf[0] = '\0';
	return buf;
}

/*
 * A table of M slots holds at most M backends, and Maglev's promise (a
 * backend change moves about 1/N of the flows) wants more than 100 slots
 * each (the Maglev paper; Cilium says the same of its table size).
 */
static int check_table_fit(const struct kpr_svc_spec *sp, const struct kpr_config *cfg)
{
	bool maglev = (sp->algorithm ? sp->algorithm : cfg->algorithm) == KPR_ALG_MAGLEV;
	unsigned int active = 0, uneven = 0, w0 = 0;
	char at[32], a[KPR_ADDRSTRLEN];

	for (unsigned int i = 0; i < sp->n_be; i++) {
		if (sp->be[i].state != KPR_BE_ACTIVE)
			continue;
		if (!active++)
			w0 = sp->be[i].weight;	/* as upsert: the first active one */
		uneven |= sp->be[i].weight != w0;
	}
	/* weighted random with too many backends falls back to an even draw
	 * (upsert), warned there: only Maglev's table must hold them all */
	if (!maglev && !uneven)
		return 0;
	kpr_fmt_l4addr(&sp->key.fe, false, a, sizeof(a));
	if (active > cfg->maglev_size) {
		kpr_err("%s%s: %u active backends do not fit its %s table of %u slots: raise lb-mode --maglev-table-size",
			loc(sp, at, sizeof(at)), a, active, maglev ? "Maglev" : "weighted", cfg->maglev_size);
		return -E2BIG;
	}
	if (maglev && (__u64)active * 100 > cfg->maglev_size)
		kpr_warn("%s%s: %u active backends in a Maglev table of %u slots, fewer than 100 each: a backend change moves more than 1%% of the other flows; raise lb-mode --maglev-table-size",
			 loc(sp, at, sizeof(at)), a, active, cfg->maglev_size);
	return 0;
}

static int validate(struct kpr_state *st, const struct kpr_svc_spec *sp, size_t n,
		    bool replace, struct kpr_svc_key *sorted)
{
	__u32 max_id = kpr_map_size(st->maglev);
	__u32 *id_line = calloc(max_id + 1, sizeof(*id_line));
	struct kpr_config cfg;
	char at[32];
	int bad = 0;

	if (!id_line)
		return -ENOMEM;
	if (kpr_config_read(st, &cfg)) {
		free(id_line);
		return -EIO;
	}
	for (size_t i = 0; i < n; i++)
		if (check_table_fit(&sp[i], &cfg) && bad++ >= 20)
			break;
	for (size_t i = 0; i < n; i++)
		sorted[i] = sp[i].key;
	qsort(sorted, n, sizeof(*sorted), cmp_key);
	for (size_t i = 1; i < n; i++) {
		if (cmp_key(&sorted[i - 1], &sorted[i]))
			continue;
		for (size_t j = 0, first = 0; j < n; j++) {
			char a[KPR_ADDRSTRLEN];

			if (cmp_key(&sp[j].key, &sorted[i]))
				continue;
			if (!first) {
				first = (size_t)sp[j].line;
				continue;
			}
			if (bad++ < 20)
				kpr_err("%sfrontend %s is already on line %zu", loc(&sp[j], at, sizeof(at)),
					kpr_fmt_l4addr(&sp[j].key.fe, false, a, sizeof(a)), first);
		}
		while (i + 1 < n && !cmp_key(&sorted[i], &sorted[i + 1]))
			i++;
	}
	for (size_t i = 0; i < n; i++) {
		struct kpr_svc_key owner;
		char a[KPR_ADDRSTRLEN];
		__u32 id = sp[i].id;

		if (!id)
			continue;
		if (id >= max_id) {
			if (bad++ < 20)
				kpr_err("%sid %u is beyond this node's %u services", loc(&sp[i], at, sizeof(at)),
					id, max_id);
			continue;
		}
		if (id_line[id]) {
			if (bad++ < 20)
				kpr_err("%sid %u is already used on line %u", loc(&sp[i], at, sizeof(at)),
					id, id_line[id]);
			continue;
		}
		id_line[id] = (__u32)sp[i].line;
		if (kpr_svc_key_by_id(st, id, &owner) || !cmp_key(&owner, &sp[i].key))
			continue;
		/* The owner may be going away: another line takes its frontend
		 * elsewhere, or --replace deletes it. */
		if (bsearch(&owner, sorted, n, sizeof(*sorted), cmp_key) || !replace) {
			bool moves = false;

			for (size_t j = 0; j < n; j++)
				if (!cmp_key(&sp[j].key, &owner) && sp[j].id && sp[j].id != id)
					moves = true;
			if (moves)
				continue;
			if (bad++ < 20)
				kpr_err("%sid %u is taken by %s", loc(&sp[i], at, sizeof(at)), id,
					kpr_fmt_l4addr(&owner.fe, false, a, sizeof(a)));
		}
	}
	free(id_line);
	return bad ? -EINVAL : 0;
}

int kpr_svc_apply(struct kpr_state *st, const struct kpr_svc_spec *sp, size_t n,
		  bool replace, bool dry_run, kpr_change_fn report,
		  struct kpr_batch_result *res)
{
	struct kpr_svc_key *sorted, *keys = NULL;
	/* -n and -v show each change as its save lines, before and after */
	bool in_txn = false, diff = dry_run || kpr_verbose;
	__u8 *done = NULL;
	size_t nkeys = 0;
	struct txn t;
	__u32 id;
	int ret;

	memset(res, 0, sizeof(*res));
	sorted = calloc(n + 1, sizeof(*sorted));
	if (!sorted)
		return -ENOMEM;
	ret = validate(st, sp, n, replace, sorted);
	if (ret)
		goto out;
	ret = txn_begin(&t, st, n >= TXN_CACHE_MIN || replace, !dry_run);
	if (ret)
		goto out;
	in_txn = true;
	done = calloc(n + 1, 1);
	if (!done) {
		ret = -ENOMEM;
		goto out;
	}

	/*
	 * Additions and updates first, deletions after them: a writer killed
	 * midway never leaves fewer services than the old set less what the
	 * input removes. A line whose --id another service still holds (one
	 * that moves to another id, or that --replace deletes) waits for the
	 * second pass; with ids checked above, two passes suffice.
	 */
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1 && replace) {
			/* what is added is in place before anything goes */
			ret = dry_run ? 0 : flush_pending(&t);
			if (!ret)
				ret = list_keys(st, &keys, &nkeys);
			if (ret)
				goto out;
			for (size_t i = 0; i < nkeys; i++) {
				struct kpr_change_note note = {};
				char *before;

				if (bsearch(&keys[i], sorted, n, sizeof(*sorted), cmp_key))
					continue;
				before = diff ? kpr_svc_line(st, &keys[i]) : NULL;
				ret = svc_delete(&t, &keys[i], dry_run, &id);
				if (ret < 0) {
					free(before);
					goto out;
				}
				res->deleted++;
				note.before = before;
				report(KPR_DELETED, &keys[i], id, &note);
				free(before);
			}
			/* their ids may go to the lines that wait */
			ret = flush_mg_del(&t);
			if (ret)
				goto out;
		}
		for (size_t i = 0; i < n; i++) {
			struct kpr_change_note note = {};
			struct kpr_svc_key owner;
			bool blocked = sp[i].id && !kpr_svc_key_by_id(st, sp[i].id, &owner) &&
				       cmp_key(&owner, &sp[i].key);
			char *before = NULL, *after = NULL;

			if (done[i] || (blocked && pass == 0))
				continue;
			done[i] = 1;
			if (diff)
				before = kpr_svc_line(st, &sp[i].key);
			if (dry_run && blocked) {
				/* The owner of the id has not really moved away. */
				struct kpr_svc cur;

				id = sp[i].id;
				ret = lookup(st->services, &sp[i].key, &cur) ? KPR_ADDED : KPR_UPDATED;
			} else {
				ret = upsert(&t, &sp[i], dry_run, &id);
			}
			if (ret < 0) {
				free(before);
				goto out;
			}
			switch (ret) {
			case KPR_ADDED: res->added++; break;
			case KPR_UPDATED: res->updated++; break;
			default: res->unchanged++; break;
			}
			if (diff && ret != KPR_UNCHANGED) {
				after = kpr_svc_spec_line(&sp[i], id);
				note.before = before;
				note.after = after;
			}
			report((enum kpr_change)ret, &sp[i].key, id, &note);
			free(before);
			free(after);
		}
	}
	ret = dry_run ? 0 : flush_pending(&t) ?: resync(&t, report, res);
out:
	if (in_txn) {
		int err = txn_end(&t, !ret && !dry_run);

		ret = ret ?: err;
	}
	free(keys);
	free(done);
	free(sorted);
	return ret;
}
