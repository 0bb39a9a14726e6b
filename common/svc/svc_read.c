// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Reading services back: one, all (each map read once with batch walks), and
 * the svc-add line that recreates one. Readers take no lock: a writer's
 * generation flip makes every service consistent on its own.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "state/mapio.h"
#include "svc/svc.h"
#include "core/util.h"

int kpr_svc_read_slots(struct kpr_state *st, const struct kpr_svc *svc, __u32 *ids)
{
	struct kpr_slot_key k = { .svc_id = svc->id };
	__u32 gen = (svc->flags & KPR_SVC_F_GEN) ? KPR_SLOT_GEN_BIT : 0;

	for (__u32 i = 0; i < svc->total; i++) {
		k.slot = gen | i;
		if (bpf_map_lookup_elem(st->svc_backends, &k, &ids[i])) {
			kpr_err("service %u: slot %u is missing from svc_backends", svc->id, i);
			return -EIO;
		}
	}
	return 0;
}

int kpr_svc_key_by_id(struct kpr_state *st, __u32 id, struct kpr_svc_key *key)
{
	return bpf_map_lookup_elem(st->revnat, &id, key) ? -errno : 0;
}

void kpr_svc_key_resolve(struct kpr_state *st, struct kpr_svc_key *key)
{
	struct kpr_svc svc;

	if (key->fe.family != KPR_FAM_ANY || KPR_ANY_FAMILY(&key->fe.addr))
		return;
	KPR_ANY_FAMILY(&key->fe.addr) = KPR_FAM_V4;
	if (!bpf_map_lookup_elem(st->services, key, &svc))
		return;
	KPR_ANY_FAMILY(&key->fe.addr) = KPR_FAM_V6;
	if (bpf_map_lookup_elem(st->services, key, &svc))
		KPR_ANY_FAMILY(&key->fe.addr) = KPR_FAM_V4;
}

int kpr_svc_get(struct kpr_state *st, const struct kpr_svc_key *key, struct kpr_svc_info *info)
{
	int ret;

	memset(info, 0, sizeof(*info));
	info->key = *key;
	ret = bpf_map_lookup_elem(st->services, key, &info->svc) ? -errno : 0;
	if (ret)
		return ret;
	info->be_ids = calloc(info->svc.total + 1u, sizeof(*info->be_ids));
	info->be = calloc(info->svc.total + 1u, sizeof(*info->be));
	ret = info->be_ids && info->be ? kpr_svc_read_slots(st, &info->svc, info->be_ids) : -ENOMEM;
	for (__u32 i = 0; !ret && i < info->svc.total; i++)
		if (bpf_map_lookup_elem(st->backends, &info->be_ids[i], &info->be[i])) {
			kpr_err("service %u: backend %u is missing", info->svc.id, info->be_ids[i]);
			ret = -EIO;
		}
	if (ret) {	/* nothing for the caller to free */
		free(info->be_ids);
		free(info->be);
		info->be_ids = NULL;
		info->be = NULL;
	}
	return ret;
}

void kpr_svc_info_free(struct kpr_svc_info *info, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(info[i].be_ids);
		free(info[i].be);
	}
	free(info);
}

static int cmp_info(const void *a, const void *b)
{
	const struct kpr_svc_info *x = a, *y = b;

	return x->svc.id < y->svc.id ? -1 : x->svc.id > y->svc.id;
}

/*
 * Listing reads each map once with batch walks. A reader takes no lock, so a
 * service flipped meanwhile may miss slots of the generation it was read
 * with: such a service is read again on its own.
 */
struct list_ctx {
	struct kpr_svc_info *v;
	__u32 *filled;
	size_t n, cap;
	__u32 *by_id;			/* index + 1 into v */
	__u32 svc_max;
	struct kpr_be_mirror bm;
};

static int list_svc(const void *k, const void *val, void *ctx)
{
	const struct kpr_svc *svc = val;
	struct list_ctx *c = ctx;
	struct kpr_svc_info *x;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 1024;
		struct kpr_svc_info *nv = realloc(c->v, cap * sizeof(*nv));
		__u32 *nf;

		if (!nv)
			return -ENOMEM;
		c->v = nv;
		nf = realloc(c->filled, cap * sizeof(*nf));
		if (!nf)
			return -ENOMEM;
		c->filled = nf;
		c->cap = cap;
	}
	x = &c->v[c->n];
	memset(x, 0, sizeof(*x));
	x->key = *(const struct kpr_svc_key *)k;
	x->svc = *svc;
	c->filled[c->n] = 0;
	x->be_ids = calloc(svc->total + 1u, sizeof(*x->be_ids));
	x->be = calloc(svc->total + 1u, sizeof(*x->be));
	c->n++;
	if (!x->be_ids || !x->be)
		return -ENOMEM;
	if (svc->id < c->svc_max)
		c->by_id[svc->id] = (__u32)c->n;
	return 0;
}

static int list_slot(const void *k, const void *val, void *ctx)
{
	const struct kpr_slot_key *sk = k;
	struct list_ctx *c = ctx;
	struct kpr_svc_info *x;
	__u32 i, slot;

	if (sk->svc_id >= c->svc_max || !c->by_id[sk->svc_id])
		return 0;
	i = c->by_id[sk->svc_id] - 1;
	x = &c->v[i];
	slot = sk->slot & ~KPR_SLOT_GEN_BIT;
	if (!(sk->slot & KPR_SLOT_GEN_BIT) != !(x->svc.flags & KPR_SVC_F_GEN) ||
	    slot >= x->svc.total)
		return 0;
	x->be_ids[slot] = *(const __u32 *)val;
	c->filled[i]++;
	return 0;
}

static int mirror_backend(const void *k, const void *val, void *ctx)
{
	struct kpr_be_mirror *m = ctx;
	__u32 id = *(const __u32 *)k;

	if (id < m->max) {
		m->be[id] = *(const struct kpr_backend *)val;
		m->used[id] = 1;
	}
	return 0;
}

int kpr_be_mirror_load(struct kpr_state *st, struct kpr_be_mirror *m)
{
	m->max = kpr_map_size(st->backends);
	m->be = calloc(m->max + 1, sizeof(*m->be));
	m->used = calloc(m->max + 1, 1);
	if (!m->be || !m->used) {
		kpr_be_mirror_free(m);
		return -ENOMEM;
	}
	return kpr_map_walk(st->backends, mirror_backend, m);
}

void kpr_be_mirror_free(struct kpr_be_mirror *m)
{
	free(m->be);
	free(m->used);
	m->be = NULL;
	m->used = NULL;
}

int kpr_svc_list(struct kpr_state *st, struct kpr_svc_info **out, size_t *n)
{
	struct list_ctx c = {
		.svc_max = kpr_map_size(st->maglev),
	};
	size_t got = 0;
	int ret;

	c.by_id = calloc(c.svc_max + 1, sizeof(*c.by_id));
	ret = c.by_id ? 0 : -ENOMEM;
	if (!ret)
		ret = kpr_map_walk(st->services, list_svc, &c);
	if (!ret)
		ret = kpr_map_walk(st->svc_backends, list_slot, &c);
	if (!ret)
		ret = kpr_be_mirror_load(st, &c.bm);

	for (size_t i = 0; !ret && i < c.n; i++) {
		struct kpr_svc_info *x = &c.v[i];
		bool whole = c.filled[i] == x->svc.total;

		for (__u32 j = 0; whole && j < x->svc.total; j++) {
			whole = x->be_ids[j] < c.bm.max && c.bm.used[x->be_ids[j]];
			if (whole)
				x->be[j] = c.bm.be[x->be_ids[j]];
		}
		if (!whole) {
			struct kpr_svc_key key = x->key;

			free(x->be_ids);
			free(x->be);
			x->be_ids = NULL;
			x->be = NULL;
			ret = kpr_svc_get(st, &key, x);
			if (ret == -ENOENT) {	/* deleted meanwhile */
				ret = 0;
				continue;
			}
		}
		c.v[got++] = *x;
		if (&c.v[got - 1] != x) {	/* moved: one owner of its arrays */
			x->be_ids = NULL;
			x->be = NULL;
		}
	}
	free(c.by_id);
	kpr_be_mirror_free(&c.bm);
	free(c.filled);
	if (ret) {
		kpr_svc_info_free(c.v, c.n);
		return ret;
	}
	if (got)	/* c.v may be NULL then, which qsort may not be given */
		qsort(c.v, got, sizeof(*c.v), cmp_info);
	*out = c.v;
	*n = got;
	return 0;
}

static int stats_sum(struct kpr_state *st, const struct kpr_stats_key *k, struct kpr_stats *sum)
{
	int ncpu = libbpf_num_possible_cpus();
	struct kpr_stats *v;

	memset(sum, 0, sizeof(*sum));
	if (ncpu <= 0)
		return -EIO;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (!bpf_map_lookup_elem(st->stats, k, v)) {
		for (int c = 0; c < ncpu; c++) {
			sum->packets += v[c].packets;
			sum->bytes += v[c].bytes;
			sum->flows += v[c].flows;
			sum->drops += v[c].drops;
			sum->nat_fail += v[c].nat_fail;
		}
	}
	free(v);
	return 0;
}

int kpr_svc_stats(struct kpr_state *st, __u32 kind, __u32 id, struct kpr_stats *sum)
{
	struct kpr_stats_key k = { .kind = kind, .id = id };

	return stats_sum(st, &k, sum);
}

int kpr_svc_be_stats(struct kpr_state *st, __u32 svc_id, __u32 be_id, struct kpr_stats *sum)
{
	struct kpr_stats_key k = { .kind = KPR_STATS_BE_KIND(svc_id), .id = be_id };

	return stats_sum(st, &k, sum);
}

void kpr_svc_save_line(const struct kpr_svc_info *info, FILE *f)
{
	char a[KPR_ADDRSTRLEN];

	fprintf(f, "-t %s", kpr_svc_type_name(info->svc.type, false));
	if (info->svc.id)	/* 0: a dry run's new service, whose id is not chosen */
		fprintf(f, " --id %u", info->svc.id);
	if (info->svc.affinity_timeout)
		fprintf(f, " --affinity %u", info->svc.affinity_timeout);
	if (info->svc.algorithm)
		fprintf(f, " --algorithm %s", kpr_alg_name(info->svc.algorithm));
	if (info->svc.mode)
		fprintf(f, " --mode %s", kpr_mode_name(info->svc.mode));
	fprintf(f, " %s", kpr_fmt_l4addr(&info->key.fe, false, a, sizeof(a)));
	for (__u32 i = 0; i < info->svc.total; i++) {
		char b[KPR_BACKENDSTRLEN];

		fprintf(f, " %s", kpr_fmt_backend(&info->be[i], b, sizeof(b)));
	}
	fputc('\n', f);
}

/* A save line without its newline, malloc()ed; NULL when out of memory. */
static char *line_of(const struct kpr_svc_info *info)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m)
		return NULL;
	kpr_svc_save_line(info, m);
	if (fclose(m)) {
		free(buf);
		return NULL;
	}
	if (len && buf[len - 1] == '\n')
		buf[len - 1] = '\0';
	return buf;
}

char *kpr_svc_line(struct kpr_state *st, const struct kpr_svc_key *key)
{
	struct kpr_svc_info info;
	char *s;

	if (kpr_svc_get(st, key, &info))
		return NULL;
	s = line_of(&info);
	free(info.be_ids);
	free(info.be);
	return s;
}

char *kpr_svc_spec_line(const struct kpr_svc_spec *sp, __u32 id)
{
	struct kpr_svc_info info = { .key = sp->key };
	char *s;

	info.svc.id = id;
	info.svc.type = sp->type;
	info.svc.algorithm = sp->algorithm;
	info.svc.mode = sp->mode;
	info.svc.affinity_timeout = sp->affinity;
	info.svc.total = (__u16)sp->n_be;
	info.be = calloc(sp->n_be + 1u, sizeof(*info.be));
	if (!info.be)
		return NULL;
	/* in slot order, as svc-list -o save prints it: active ones first */
	for (int pass = 0, k = 0; pass < 2; pass++)
		for (unsigned int i = 0; i < sp->n_be; i++) {
			if ((sp->be[i].state == KPR_BE_ACTIVE) != !pass)
				continue;
			info.be[k].be = sp->be[i].addr;
			info.be[k].state = sp->be[i].state;
			info.be[k++].weight = sp->be[i].weight;
		}
	s = line_of(&info);
	free(info.be);
	return s;
}
