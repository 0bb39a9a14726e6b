// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The services and the slots of their current generation are the truth; the
 * rest follows from them: backend_idx counts the services that use each
 * backend, revnat holds each service's frontend, a Maglev service with active
 * backends has a table, svc_addrs counts the frontends on each address. A
 * writer raises counts before its flip and frees after it, so a kill leaves
 * counts above their use and parts nothing points at, never less: repairs
 * lower counts and delete what nothing uses.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/mapio.h"
#include "svc/maglev_map.h"
#include "svc/svc.h"
#include "svc/svc_check.h"
#include "core/util.h"

static const char *const fault_names[] = {
	[KPR_FAULT_SLOT_ORPHAN] = "slot_orphan",
	[KPR_FAULT_SLOT_MISSING] = "slot_missing",
	[KPR_FAULT_BACKEND_MISSING] = "backend_missing",
	[KPR_FAULT_BACKEND_ORPHAN] = "backend_orphan",
	[KPR_FAULT_BACKEND_DUP] = "backend_duplicate",
	[KPR_FAULT_PARTITION] = "partition",
	[KPR_FAULT_INDEX_MISSING] = "index_missing",
	[KPR_FAULT_INDEX_ORPHAN] = "index_orphan",
	[KPR_FAULT_REFCNT] = "refcnt",
	[KPR_FAULT_REVNAT_ORPHAN] = "revnat_orphan",
	[KPR_FAULT_REVNAT_WRONG] = "revnat_wrong",
	[KPR_FAULT_MAGLEV_ORPHAN] = "maglev_orphan",
	[KPR_FAULT_MAGLEV_MISSING] = "maglev_missing",
	[KPR_FAULT_MAGLEV_WRONG] = "maglev_wrong",
	[KPR_FAULT_SVC_ADDRS] = "svc_addrs",
	[KPR_FAULT_SERVICE_BAD] = "service_bad",
};

const char *kpr_fault_name(enum kpr_fault_kind kind)
{
	return (unsigned int)kind < ARRAY_SIZE(fault_names) ? fault_names[kind] : "unknown";
}

struct ent {
	struct kpr_svc_key key;
	struct kpr_svc svc;
	__u32 *ids;		/* svc.total slots; 0: absent */
	bool revnat_ok;
	bool has_table;
};

struct be_addr {
	struct kpr_l4addr addr;
	__u32 id;
};

struct addr_cnt {
	struct kpr_svc_addr_key key;
	__u32 n;
	bool seen;
};

struct chk {
	struct kpr_state *st;
	struct kpr_config cfg;
	bool deep;
	kpr_fault_fn fn;
	void *ctx;
	int count;
	/* a service entry or slot is lost: what uses each backend is not
	 * known, so counts and orphan backends are named, not repaired */
	bool uses_unknown;
	struct ent *sv;
	size_t n, cap;
	__u32 *by_id;		/* index + 1 into sv */
	__u32 svc_max;
	struct kpr_be_mirror bm;
	__u32 *use;		/* by backend id: services using it */
	__u8 *idx_ok;		/* by backend id: backend_idx names it */
	struct be_addr *ba;	/* every backend, by address */
	size_t n_ba;
	struct addr_cnt *ac;	/* svc_addrs as the services give it */
	size_t n_ac;
};

static int report(struct chk *c, struct kpr_fault *f, bool healable, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int report(struct chk *c, struct kpr_fault *f, bool healable, const char *fmt, ...)
{
	va_list ap;

	if (f->kind == KPR_FAULT_SLOT_MISSING || f->kind == KPR_FAULT_SERVICE_BAD)
		c->uses_unknown = true;
	if (c->uses_unknown && (f->kind == KPR_FAULT_REFCNT || f->kind == KPR_FAULT_BACKEND_ORPHAN ||
				f->kind == KPR_FAULT_INDEX_ORPHAN || f->kind == KPR_FAULT_INDEX_MISSING))
		healable = false;
	f->healable = healable;
	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
	c->count++;
	return c->fn ? c->fn(f, c->ctx) : 0;
}

/* Room for one more of *arr's n elements of size, doubling from first. */
static int grow(void *arr, size_t *cap, size_t n, size_t size, size_t first)
{
	void **p = arr, *nv;
	size_t want;

	if (n < *cap)
		return 0;
	want = *cap ? *cap * 2 : first;
	nv = realloc(*p, want * size);
	if (!nv)
		return -ENOMEM;
	*p = nv;
	*cap = want;
	return 0;
}

static const char *fe_str(const struct kpr_svc_key *k, char *buf, size_t len)
{
	return kpr_fmt_l4addr(&k->fe, false, buf, len);
}

static int walk_svc(const void *k, const void *v, void *ctx)
{
	struct chk *c = ctx;
	const struct kpr_svc *svc = v;
	char a[KPR_ADDRSTRLEN];
	struct ent *x;

	if (grow(&c->sv, &c->cap, c->n, sizeof(*c->sv), 1024))
		return -ENOMEM;
	x = &c->sv[c->n];
	memset(x, 0, sizeof(*x));
	x->key = *(const struct kpr_svc_key *)k;
	x->svc = *svc;
	fe_str(&x->key, a, sizeof(a));
	if (!svc->id || svc->id >= c->svc_max || svc->active > svc->total) {
		struct kpr_fault f = { .kind = KPR_FAULT_SERVICE_BAD, .svc_id = svc->id, .key = x->key };

		/* not taken into the walk: its slots count as orphans */
		return report(c, &f, false, "service %s has id %u, %u active of %u backends: not a valid entry",
			      a, svc->id, svc->active, svc->total);
	}
	if (c->by_id[svc->id]) {
		struct kpr_fault f = { .kind = KPR_FAULT_SERVICE_BAD, .svc_id = svc->id, .key = x->key };
		char b[KPR_ADDRSTRLEN];

		return report(c, &f, false, "services %s and %s both have id %u", a,
			      fe_str(&c->sv[c->by_id[svc->id] - 1].key, b, sizeof(b)), svc->id);
	}
	x->ids = calloc(svc->total + 1u, sizeof(*x->ids));
	if (!x->ids)
		return -ENOMEM;
	c->by_id[svc->id] = (__u32)++c->n;
	return 0;
}

static int walk_slot(const void *k, const void *v, void *ctx)
{
	const struct kpr_slot_key *sk = k;
	struct chk *c = ctx;
	struct kpr_fault f = { .kind = KPR_FAULT_SLOT_ORPHAN, .svc_id = sk->svc_id, .slot = *sk };
	__u32 slot = sk->slot & ~KPR_SLOT_GEN_BIT, gen = !!(sk->slot & KPR_SLOT_GEN_BIT);
	struct ent *x;

	if (sk->svc_id >= c->svc_max || !c->by_id[sk->svc_id])
		return report(c, &f, true, "slot %u (generation %u) of service id %u: no such service",
			      slot, gen, sk->svc_id);
	x = &c->sv[c->by_id[sk->svc_id] - 1];
	if (gen != !!(x->svc.flags & KPR_SVC_F_GEN) || slot >= x->svc.total)
		return report(c, &f, true, "slot %u (generation %u) of service %u: not in its %u slots of generation %u",
			      slot, gen, sk->svc_id, x->svc.total, !!(x->svc.flags & KPR_SVC_F_GEN));
	x->ids[slot] = *(const __u32 *)v;
	return 0;
}

static int cmp_ba(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct kpr_l4addr));
}

static struct be_addr *find_ba(struct chk *c, const struct kpr_l4addr *a)
{
	struct be_addr k = { .addr = *a };

	return bsearch(&k, c->ba, c->n_ba, sizeof(*c->ba), cmp_ba);
}

/* slots -> backends: what each backend is used by, and whether the active
 * slots hold exactly the active backends. */
static int check_slots(struct chk *c)
{
	char a[KPR_ADDRSTRLEN];
	int ret = 0;

	for (size_t i = 0; !ret && i < c->n; i++) {
		struct ent *x = &c->sv[i];
		bool part_bad = false;

		fe_str(&x->key, a, sizeof(a));
		for (__u32 s = 0; !ret && s < x->svc.total; s++) {
			__u32 id = x->ids[s];
			struct kpr_fault f = { .svc_id = x->svc.id, .be_id = id, .key = x->key };

			if (!id) {
				f.kind = KPR_FAULT_SLOT_MISSING;
				f.slot.svc_id = x->svc.id;
				f.slot.slot = s;
				ret = report(c, &f, false, "service %u (%s): slot %u of its %u is missing",
					     x->svc.id, a, s, x->svc.total);
				continue;
			}
			if (id >= c->bm.max || !c->bm.used[id]) {
				f.kind = KPR_FAULT_BACKEND_MISSING;
				ret = report(c, &f, false, "service %u (%s): slot %u names backend id %u, which does not exist",
					     x->svc.id, a, s, id);
				continue;
			}
			c->use[id]++;
			if (!part_bad && (s < x->svc.active) != (c->bm.be[id].state == KPR_BE_ACTIVE)) {
				char b[KPR_ADDRSTRLEN];

				part_bad = true;
				f.kind = KPR_FAULT_PARTITION;
				f.addr = c->bm.be[id].be;
				ret = report(c, &f, true, "service %u (%s): backend %s is %s but in slot %u of %u active",
					     x->svc.id, a, kpr_fmt_l4addr(&f.addr, false, b, sizeof(b)),
					     kpr_state_name(c->bm.be[id].state), s, x->svc.active);
			}
		}
	}
	return ret;
}

static int build_ba(struct chk *c)
{
	char a[KPR_ADDRSTRLEN];
	int ret = 0;

	c->ba = calloc(c->bm.max + 1, sizeof(*c->ba));
	if (!c->ba)
		return -ENOMEM;
	for (__u32 id = 0; id < c->bm.max; id++) {
		if (!c->bm.used[id])
			continue;
		c->ba[c->n_ba].addr = c->bm.be[id].be;
		c->ba[c->n_ba++].id = id;
	}
	qsort(c->ba, c->n_ba, sizeof(*c->ba), cmp_ba);
	for (size_t i = 1; !ret && i < c->n_ba; i++) {
		struct kpr_fault f = { .kind = KPR_FAULT_BACKEND_DUP, .be_id = c->ba[i].id,
				       .addr = c->ba[i].addr };

		if (cmp_ba(&c->ba[i - 1], &c->ba[i]))
			continue;
		ret = report(c, &f, false, "backends %u and %u both are %s", c->ba[i - 1].id,
			     c->ba[i].id, kpr_fmt_l4addr(&f.addr, false, a, sizeof(a)));
	}
	return ret;
}

static int walk_idx(const void *k, const void *v, void *ctx)
{
	const struct kpr_l4addr *addr = k;
	const struct kpr_backend_ref *ref = v;
	struct chk *c = ctx;
	struct kpr_fault f = { .be_id = ref->id, .addr = *addr };
	char a[KPR_ADDRSTRLEN];
	struct be_addr *b;

	kpr_fmt_l4addr(addr, false, a, sizeof(a));
	if (ref->id < c->bm.max && c->bm.used[ref->id] && !cmp_ba(&c->bm.be[ref->id].be, addr)) {
		c->idx_ok[ref->id] = 1;
		if (!c->use[ref->id] || ref->refcnt == c->use[ref->id])
			return 0;	/* unused: an orphan backend, repaired with it */
		f.kind = KPR_FAULT_REFCNT;
		f.want = c->use[ref->id];
		f.have = ref->refcnt;
		return report(c, &f, true, "backend %s (id %u): backend_idx counts %u services, %u use it",
			      a, ref->id, ref->refcnt, c->use[ref->id]);
	}
	b = find_ba(c, addr);
	if (b && b->id < c->bm.max && c->use[b->id])
		return 0;	/* the backend in use gets its entry back (INDEX_MISSING) */
	f.kind = KPR_FAULT_INDEX_ORPHAN;
	return report(c, &f, true, "backend_idx entry %s names backend id %u, which is not that backend",
		      a, ref->id);
}

static int check_backends(struct chk *c)
{
	char a[KPR_ADDRSTRLEN];
	int ret = 0;

	for (__u32 id = 0; !ret && id < c->bm.max; id++) {
		struct kpr_fault f = { .be_id = id };

		if (!c->bm.used[id])
			continue;
		f.addr = c->bm.be[id].be;
		kpr_fmt_l4addr(&f.addr, false, a, sizeof(a));
		if (!c->use[id]) {
			f.kind = KPR_FAULT_BACKEND_ORPHAN;
			ret = report(c, &f, true, "backend %u (%s): no service uses it", id, a);
		} else if (!c->idx_ok[id]) {
			f.kind = KPR_FAULT_INDEX_MISSING;
			f.want = c->use[id];
			ret = report(c, &f, true, "backend %u (%s): used by %u services, backend_idx does not name it",
				     id, a, c->use[id]);
		}
	}
	return ret;
}

static int walk_revnat(const void *k, const void *v, void *ctx)
{
	__u32 id = *(const __u32 *)k;
	struct chk *c = ctx;
	struct kpr_fault f = { .kind = KPR_FAULT_REVNAT_ORPHAN, .svc_id = id };
	char a[KPR_ADDRSTRLEN];

	if (id < c->svc_max && c->by_id[id]) {
		struct ent *x = &c->sv[c->by_id[id] - 1];

		x->revnat_ok = !memcmp(&x->key, v, sizeof(x->key));
		return 0;	/* a wrong one is rewritten (REVNAT_WRONG) */
	}
	f.key = *(const struct kpr_svc_key *)v;
	return report(c, &f, true, "revnat of service id %u (%s): no such service", id,
		      fe_str(&f.key, a, sizeof(a)));
}

static int check_revnat(struct chk *c)
{
	char a[KPR_ADDRSTRLEN];
	int ret = 0;

	for (size_t i = 0; !ret && i < c->n; i++) {
		struct ent *x = &c->sv[i];
		struct kpr_fault f = { .kind = KPR_FAULT_REVNAT_WRONG, .svc_id = x->svc.id, .key = x->key };

		if (!x->revnat_ok)
			ret = report(c, &f, true, "service %u (%s): revnat is missing or names another frontend",
				     x->svc.id, fe_str(&x->key, a, sizeof(a)));
	}
	return ret;
}

/* The table a service holds against the one it should: both in backend ids. */
static int table_differs(struct chk *c, const struct ent *x, bool *differs)
{
	struct kpr_svc_info info = { .key = x->key, .svc = x->svc, .be_ids = x->ids };
	__u32 *want = NULL, *have = NULL, m = 0;
	int ret;

	info.be = calloc(x->svc.total + 1u, sizeof(*info.be));
	if (!info.be)
		return -ENOMEM;
	for (__u32 s = 0; s < x->svc.total; s++)
		info.be[s] = c->bm.be[x->ids[s]];
	ret = kpr_maglev_expected(&info, &c->cfg, &want);
	if (!ret)
		ret = kpr_maglev_read_service(c->st, x->svc.id, &have, &m);
	if (!ret)
		*differs = !want || m != c->cfg.maglev_size ||
			   memcmp(want, have, (size_t)m * sizeof(*want));
	free(info.be);
	free(want);
	free(have);
	return ret;
}

/* Whether every slot of x names a backend that exists: its table can be built. */
static bool ent_whole(struct chk *c, const struct ent *x)
{
	for (__u32 s = 0; s < x->svc.total; s++)
		if (!x->ids[s] || x->ids[s] >= c->bm.max || !c->bm.used[x->ids[s]])
			return false;
	return true;
}

static int walk_maglev(const void *k, const void *v, void *ctx)
{
	__u32 id = *(const __u32 *)k;
	struct chk *c = ctx;
	struct ent *x = id < c->svc_max && c->by_id[id] ? &c->sv[c->by_id[id] - 1] : NULL;
	struct kpr_fault f = { .kind = KPR_FAULT_MAGLEV_ORPHAN, .svc_id = id };
	char a[KPR_ADDRSTRLEN];

	if (!x)
		return report(c, &f, true, "Maglev table of service id %u: no such service", id);
	x->has_table = true;
	if (x->svc.active && kpr_maglev_wanted(&x->svc, &c->cfg))
		return 0;
	f.key = x->key;
	return report(c, &f, true, "service %u (%s): a Maglev table, but it does not use Maglev%s", id,
		      fe_str(&x->key, a, sizeof(a)), x->svc.active ? "" : " (no active backend)");
}

static int check_maglev(struct chk *c)
{
	char a[KPR_ADDRSTRLEN];
	int ret = kpr_map_walk(c->st->maglev, walk_maglev, c);

	for (size_t i = 0; !ret && i < c->n; i++) {
		struct ent *x = &c->sv[i];
		struct kpr_fault f = { .svc_id = x->svc.id, .key = x->key };
		bool differs = false;

		if (!x->svc.active || !kpr_maglev_wanted(&x->svc, &c->cfg))
			continue;
		fe_str(&x->key, a, sizeof(a));
		if (!x->has_table) {
			f.kind = KPR_FAULT_MAGLEV_MISSING;
			ret = report(c, &f, true, "service %u (%s): uses Maglev and has no table", x->svc.id, a);
			continue;
		}
		if (!c->deep || !ent_whole(c, x))
			continue;
		ret = table_differs(c, x, &differs);
		if (!ret && differs) {
			f.kind = KPR_FAULT_MAGLEV_WRONG;
			ret = report(c, &f, true, "service %u (%s): its Maglev table is not the one its backends, the table size and the seed give",
				     x->svc.id, a);
		}
	}
	return ret;
}

static int cmp_ac(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct kpr_svc_addr_key));
}

static int walk_addrs(const void *k, const void *v, void *ctx)
{
	struct chk *c = ctx;
	struct addr_cnt key = { .key = *(const struct kpr_svc_addr_key *)k };
	struct addr_cnt *e = bsearch(&key, c->ac, c->n_ac, sizeof(*c->ac), cmp_ac);
	__u32 have = *(const __u32 *)v;
	struct kpr_fault f = { .kind = KPR_FAULT_SVC_ADDRS, .have = have };
	char a[KPR_ADDRSTRLEN];

	if (e)
		e->seen = true;
	if (e && e->n == have)
		return 0;
	f.want = e ? e->n : 0;
	f.key.fe.addr = key.key.addr;
	f.key.fe.family = key.key.family;
	f.addr_class = key.key.class;
	return report(c, &f, true, "svc_addrs counts %u frontends%s on %s, the services have %u", have,
		      key.key.class ? " reachable from outside" : "",
		      kpr_fmt_addr(&key.key.addr, key.key.family, a, sizeof(a)), f.want);
}

static int check_addrs(struct chk *c)
{
	char a[KPR_ADDRSTRLEN];
	size_t n = 0;
	int ret;

	c->ac = calloc(2 * c->n + 1, sizeof(*c->ac));
	if (!c->ac)
		return -ENOMEM;
	for (size_t i = 0; i < c->n; i++) {
		if (c->sv[i].key.fe.family == KPR_FAM_ANY)
			continue;
		c->ac[n].key.addr = c->sv[i].key.fe.addr;
		c->ac[n++].key.family = c->sv[i].key.fe.family;
		if (c->sv[i].svc.type == KPR_SVC_CLUSTERIP)
			continue;
		c->ac[n] = c->ac[n - 1];
		c->ac[n++].key.class = KPR_SVC_ADDR_EXT;
	}
	qsort(c->ac, n, sizeof(*c->ac), cmp_ac);
	for (size_t i = 0; i < n; i++) {
		if (c->n_ac && !cmp_ac(&c->ac[c->n_ac - 1], &c->ac[i])) {
			c->ac[c->n_ac - 1].n++;
			continue;
		}
		c->ac[c->n_ac] = c->ac[i];
		c->ac[c->n_ac++].n = 1;
	}
	ret = kpr_map_walk(c->st->svc_addrs, walk_addrs, c);
	for (size_t i = 0; !ret && i < c->n_ac; i++) {
		struct kpr_fault f = { .kind = KPR_FAULT_SVC_ADDRS, .want = c->ac[i].n };

		if (c->ac[i].seen)
			continue;
		f.key.fe.addr = c->ac[i].key.addr;
		f.key.fe.family = c->ac[i].key.family;
		f.addr_class = c->ac[i].key.class;
		ret = report(c, &f, true, "svc_addrs has no entry for %s, which %u frontends%s use",
			     kpr_fmt_addr(&f.key.fe.addr, f.key.fe.family, a, sizeof(a)), f.want,
			     f.addr_class ? " reachable from outside" : "");
	}
	return ret;
}

int kpr_svc_check(struct kpr_state *st, bool deep, kpr_fault_fn fn, void *ctx)
{
	struct chk c = { .st = st, .deep = deep, .fn = fn, .ctx = ctx };
	int ret;

	c.svc_max = kpr_map_size(st->maglev);
	c.by_id = calloc(c.svc_max + 1, sizeof(*c.by_id));
	ret = c.by_id ? kpr_config_read(st, &c.cfg) : -ENOMEM;
	if (!ret)
		ret = kpr_map_walk(st->services, walk_svc, &c);
	if (!ret)
		ret = kpr_map_walk(st->svc_backends, walk_slot, &c);
	if (!ret)
		ret = kpr_be_mirror_load(st, &c.bm);
	if (!ret) {
		c.use = calloc(c.bm.max + 1, sizeof(*c.use));
		c.idx_ok = calloc(c.bm.max + 1, 1);
		ret = c.use && c.idx_ok ? 0 : -ENOMEM;
	}
	if (!ret)
		ret = check_slots(&c);
	if (!ret)
		ret = build_ba(&c);
	if (!ret)
		ret = kpr_map_walk(st->backend_idx, walk_idx, &c);
	if (!ret)
		ret = check_backends(&c);
	if (!ret)
		ret = kpr_map_walk(st->revnat, walk_revnat, &c);
	if (!ret)
		ret = check_revnat(&c);
	if (!ret)
		ret = check_maglev(&c);
	if (!ret)
		ret = check_addrs(&c);

	for (size_t i = 0; i < c.n; i++)
		free(c.sv[i].ids);
	free(c.sv);
	free(c.by_id);
	kpr_be_mirror_free(&c.bm);
	free(c.use);
	free(c.idx_ok);
	free(c.ba);
	free(c.ac);
	return ret ? ret : c.count;
}

/* Repairs are gathered first and applied after the walk: a map is not
 * changed under its own batch read. */
struct heal {
	struct kpr_fault *f;
	size_t n, cap;
};

static int gather(const struct kpr_fault *f, void *ctx)
{
	struct heal *h = ctx;

	if (!f->healable)
		return 0;
	if (grow(&h->f, &h->cap, h->n, sizeof(*h->f), 256))
		return -ENOMEM;
	h->f[h->n++] = *f;
	return 0;
}

/* The keys of one map to delete, in one batch. */
struct keys {
	void *k;
	size_t size;
	__u32 n;
};

static void keys_add(struct keys *ks, const void *key)
{
	memcpy((char *)ks->k + (size_t)ks->n++ * ks->size, key, ks->size);
}

static int write_table(struct kpr_state *st, const struct kpr_fault *f)
{
	struct kpr_svc_info info;
	struct kpr_config cfg;
	int ret = kpr_config_read(st, &cfg);

	if (!ret)
		ret = kpr_svc_get(st, &f->key, &info);
	if (ret)
		return ret;
	ret = kpr_maglev_write_service(st, &info.svc, info.key.scope, info.be, info.be_ids,
				       info.svc.active, &cfg);
	free(info.be_ids);
	free(info.be);
	return ret;
}

static int cmp_id(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/*
 * Counters of what is gone: of a service without its revnat entry (a writer
 * killed between deleting a service and its counters), and of a backend no
 * service uses. The keys are gathered first, then deleted in one batch: a
 * delete under a key walk sends the walk back to the start.
 */
static void forget_stats(struct kpr_state *st, __u32 *svcs, size_t n_svc, __u32 *bes, size_t n_be)
{
	struct kpr_stats_key k, cur, *gone = NULL;
	size_t n = 0, cap = 0;
	bool first = true;

	qsort(svcs, n_svc, sizeof(*svcs), cmp_id);
	qsort(bes, n_be, sizeof(*bes), cmp_id);
	while (!bpf_map_get_next_key(st->stats, first ? NULL : &cur, &k)) {
		__u32 kind = k.kind & ((1u << KPR_STATS_SVC_SHIFT) - 1);
		__u32 svc_id = kind == KPR_STATS_BACKEND ? k.kind >> KPR_STATS_SVC_SHIFT :
			       kind == KPR_STATS_SVC ? k.id : 0;

		if ((svc_id && n_svc && bsearch(&svc_id, svcs, n_svc, sizeof(*svcs), cmp_id)) ||
		    (kind == KPR_STATS_BACKEND && n_be && bsearch(&k.id, bes, n_be, sizeof(*bes), cmp_id))) {
			if (n == cap) {
				size_t nc = cap ? cap * 2 : 256;
				struct kpr_stats_key *ng = realloc(gone, nc * sizeof(*gone));

				if (!ng)
					break;
				gone = ng;
				cap = nc;
			}
			gone[n++] = k;
		}
		cur = k;
		first = false;
	}
	if (n)
		kpr_map_delete_n(st->stats, gone, (__u32)n);
	free(gone);
}

static int apply(struct kpr_state *st, struct heal *h, kpr_stale_fn stale, void *ctx)
{
	struct keys slots = { .size = sizeof(struct kpr_slot_key) };
	struct keys bes = { .size = sizeof(__u32) }, mg = { .size = sizeof(__u32) };
	struct keys idx = { .size = sizeof(struct kpr_l4addr) }, rn = { .size = sizeof(__u32) };
	struct keys *all[] = { &slots, &bes, &mg, &idx, &rn };
	int ret = 0, err;

	for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
		all[i]->k = calloc(h->n + 1, all[i]->size);
		if (!all[i]->k) {
			ret = -ENOMEM;
			goto out;
		}
	}
	/* Deletions first: a backend_idx entry written below may have the
	 * address of an orphan backend's entry. */
	for (size_t i = 0; i < h->n; i++) {
		const struct kpr_fault *f = &h->f[i];
		struct kpr_backend_ref ref;

		switch (f->kind) {
		case KPR_FAULT_SLOT_ORPHAN:
			keys_add(&slots, &f->slot);
			break;
		case KPR_FAULT_BACKEND_ORPHAN:
			keys_add(&bes, &f->be_id);
			if (!bpf_map_lookup_elem(st->backend_idx, &f->addr, &ref) && ref.id == f->be_id)
				keys_add(&idx, &f->addr);
			break;
		case KPR_FAULT_INDEX_ORPHAN:
			keys_add(&idx, &f->addr);
			break;
		case KPR_FAULT_REVNAT_ORPHAN:
			keys_add(&rn, &f->svc_id);
			break;
		case KPR_FAULT_MAGLEV_ORPHAN:
			keys_add(&mg, &f->svc_id);
			break;
		default:
			break;
		}
	}
	/* one batch each; the outer Maglev map waits for RCU once per call */
	ret = kpr_map_delete_n(st->svc_backends, slots.k, slots.n);
	err = kpr_map_delete_n(st->maglev, mg.k, mg.n);
	ret = ret ?: err;
	err = kpr_map_delete_n(st->backend_idx, idx.k, idx.n);
	ret = ret ?: err;
	err = kpr_map_delete_n(st->backends, bes.k, bes.n);
	ret = ret ?: err;
	err = kpr_map_delete_n(st->revnat, rn.k, rn.n);
	ret = ret ?: err;
	if (rn.n || bes.n)
		forget_stats(st, rn.k, rn.n, bes.k, bes.n);

	for (size_t i = 0; i < h->n; i++) {
		const struct kpr_fault *f = &h->f[i];
		struct kpr_svc_addr_key ak = { .addr = f->key.fe.addr, .family = f->key.fe.family,
					       .class = f->addr_class };
		struct kpr_backend_ref ref = { .id = f->be_id, .refcnt = f->want };

		err = 0;
		switch (f->kind) {
		case KPR_FAULT_REFCNT:
		case KPR_FAULT_INDEX_MISSING:
			err = bpf_map_update_elem(st->backend_idx, &f->addr, &ref, BPF_ANY) ? -errno : 0;
			break;
		case KPR_FAULT_REVNAT_WRONG:
			err = bpf_map_update_elem(st->revnat, &f->svc_id, &f->key, BPF_ANY) ? -errno : 0;
			break;
		case KPR_FAULT_SVC_ADDRS:
			if (!f->want)
				err = bpf_map_delete_elem(st->svc_addrs, &ak) && errno != ENOENT ? -errno : 0;
			else
				err = bpf_map_update_elem(st->svc_addrs, &ak, &f->want, BPF_ANY) ? -errno : 0;
			break;
		case KPR_FAULT_MAGLEV_MISSING:
		case KPR_FAULT_MAGLEV_WRONG:
			err = write_table(st, f);
			break;
		case KPR_FAULT_PARTITION:
			err = stale ? stale(f->be_id, ctx) : 0;
			break;
		default:
			break;
		}
		ret = ret ?: err;
	}
	if (ret)
		kpr_err("cannot repair the services under %s: %s", st->root, strerror(-ret));
out:
	for (size_t i = 0; i < ARRAY_SIZE(all); i++)
		free(all[i]->k);
	return ret;
}

int kpr_svc_heal(struct kpr_state *st, kpr_stale_fn stale, void *ctx)
{
	struct heal h = {};
	int ret = kpr_svc_check(st, false, gather, &h);

	if (ret > 0 && h.n) {
		kpr_dbg("repairing %zu faults left under %s (a writer was stopped midway)", h.n, st->root);
		ret = apply(st, &h, stale, ctx);
		ret = ret ?: (int)h.n;
	} else if (ret > 0) {
		ret = 0;
	}
	free(h.f);
	return ret;
}
