// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "svc/maglev.h"
#include "svc/maglev_map.h"
#include "svc/svc.h"
#include "core/util.h"

bool kpr_maglev_wanted(const struct kpr_svc *svc, const struct kpr_config *cfg)
{
	return (svc->algorithm ? svc->algorithm : cfg->algorithm) == KPR_ALG_MAGLEV ||
	       (svc->flags & KPR_SVC_F_WEIGHTED);
}

static void drop_table(struct kpr_state *st, __u32 svc_id)
{
	bpf_map_delete_elem(st->maglev, &svc_id);
}

/*
 * Fills a new inner map with table[m]: a memory copy into the mapped array
 * (elements of an array map lie 8 bytes apart), or, where mapping fails, one
 * batch update, which the kernel applies element by element (ms per table).
 */
static int fill_inner(int fd, const __u32 *table, __u32 m)
{
	size_t len = ((size_t)m * 8 + (size_t)getpagesize() - 1) & ~((size_t)getpagesize() - 1);
	__u32 *keys, count = m;
	char *mem;
	int ret = 0;

	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem != MAP_FAILED) {
		for (__u32 k = 0; k < m; k++)
			memcpy(mem + (size_t)k * 8, &table[k], sizeof(__u32));
		munmap(mem, len);
		return 0;
	}
	keys = malloc(m * sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	for (__u32 k = 0; k < m; k++)
		keys[k] = k;
	if (bpf_map_update_batch(fd, keys, table, &count, NULL))
		ret = -errno;
	free(keys);
	return ret;
}

/* The swap: one update per service points it at its new table. */
int kpr_maglev_queue_flush(struct kpr_state *st, struct kpr_mg_queue *q)
{
	__u32 done = q->n;
	int ret = 0;

	if (q->n && bpf_map_update_batch(st->maglev, q->ids, q->fds, &done, NULL)) {
		/* a kernel without batches for map-in-maps: one by one */
		for (__u32 i = done < q->n ? done : 0; i < q->n && !ret; i++) {
			if (bpf_map_update_elem(st->maglev, &q->ids[i], &q->fds[i], BPF_ANY)) {
				ret = -errno;
				kpr_err("cannot install the Maglev table of service %u in %s/maglev: %s",
					q->ids[i], st->root, strerror(errno));
			}
		}
	}
	for (unsigned int i = 0; i < q->n; i++)
		close((int)q->fds[i]);
	q->n = 0;
	return ret;
}

struct share_rem {
	double rem;
	__u32 i;
};

static int cmp_rem_desc(const void *a, const void *b)
{
	const struct share_rem *x = a, *y = b;

	return x->rem < y->rem ? 1 : x->rem > y->rem ? -1 : (x->i > y->i) - (x->i < y->i);
}

/*
 * The table of weighted random: each backend holds round(M * w / W) slots
 * (largest remainders first, every backend at least one), in one run each:
 * the index is drawn at random, so where a backend's slots lie does not
 * matter. A random index then draws by weight exactly to 1/M, where Maglev's
 * weighted walk follows Cilium's rule (weights count only when W / N, in
 * integers, is above 1: 2 and 1 would be equal). O(N log N + M).
 */
static int build_even(const struct kpr_maglev_be *mbe, unsigned int n, __u32 m, __u32 *table)
{
	__u32 *want = calloc(n + 1u, sizeof(*want)), given = 0, k = 0;
	struct share_rem *r = calloc(n + 1u, sizeof(*r));
	__u64 wsum = 0;

	if (!want || !r || n > m || !n) {
		free(want);
		free(r);
		return n > m || !n ? -E2BIG : -ENOMEM;
	}
	for (unsigned int i = 0; i < n; i++)
		wsum += mbe[i].weight ? mbe[i].weight : 1;
	for (unsigned int i = 0; i < n; i++) {
		double exact = (double)m * (mbe[i].weight ? mbe[i].weight : 1) / (double)wsum;

		want[i] = (__u32)exact;
		if (!want[i])
			want[i] = 1;
		r[i] = (struct share_rem){ exact - want[i], i };
		given += want[i];
	}
	/* settle the rounding: the largest remainders gain, the smallest lose
	 * (those at one slot keep it); floors lose less than one each, so one
	 * pass gains enough, and each pass that loses takes at least one */
	qsort(r, n, sizeof(*r), cmp_rem_desc);
	for (unsigned int j = 0; given < m && j < n; j++, given++)
		want[r[j].i]++;
	while (given > m)
		for (unsigned int j = n; j-- > 0 && given > m;)
			if (want[r[j].i] > 1) {
				want[r[j].i]--;
				given--;
			}
	for (unsigned int i = 0; i < n; i++)
		for (__u32 w = 0; w < want[i] && k < m; w++)
			table[k++] = i;
	free(want);
	free(r);
	return 0;
}

static bool uses_maglev(const struct kpr_svc *svc, const struct kpr_config *cfg)
{
	return (svc->algorithm ? svc->algorithm : cfg->algorithm) == KPR_ALG_MAGLEV;
}

/* The table over mbe[0..n) at cfg's size and seed, in backend ids (be_ids[i]
 * is mbe[i]'s): what a service's inner map holds. */
static int build_ids(const struct kpr_svc *svc, const struct kpr_maglev_be *mbe, const __u32 *be_ids,
		     unsigned int n, const struct kpr_config *cfg, __u32 **out)
{
	__u32 m = cfg->maglev_size, *table = malloc(m * sizeof(*table));
	int ret;

	if (!table)
		return -ENOMEM;
	ret = uses_maglev(svc, cfg) ? kpr_maglev_build(mbe, n, m, cfg->maglev_seed, table) :
				      build_even(mbe, n, m, table);
	if (ret) {
		kpr_err("cannot build the table of service %u: %s", svc->id, strerror(-ret));
		free(table);
		return ret;
	}
	for (__u32 k = 0; k < m; k++)
		table[k] = be_ids[table[k]];
	*out = table;
	return 0;
}

/* Builds the table of a service into a new inner map and queues it; the
 * queue must have room (the caller flushes a full one). */
static int write_table(struct kpr_state *st, const struct kpr_svc *svc, const struct kpr_maglev_be *mbe,
		       const __u32 *be_ids, unsigned int n, const struct kpr_config *cfg,
		       struct kpr_mg_queue *q)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = KPR_MAGLEV_INNER_FLAGS);
	__u32 m = cfg->maglev_size, *table = NULL, svc_id = svc->id;
	char name[BPF_OBJ_NAME_LEN];
	int fd = -1, ret;

	if (!n) {
		drop_table(st, svc_id);
		return 0;
	}
	if (!kpr_maglev_size_ok(m)) {
		kpr_err("the config holds Maglev table size %u, which is not one of %s: set one with lb-mode --maglev-table-size",
			m, kpr_maglev_sizes_str());
		return -EINVAL;
	}
	ret = build_ids(svc, mbe, be_ids, n, cfg, &table);
	if (ret)
		goto out;
	snprintf(name, sizeof(name), "kpr_mg_%u", svc_id);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, name, sizeof(__u32), sizeof(__u32), m, &opts);
	if (fd < 0) {
		ret = -errno;
		kpr_err("cannot create the Maglev table of service %u (%u entries): %s", svc_id, m,
			strerror(errno));
		goto out;
	}
	ret = fill_inner(fd, table, m);
	if (ret) {
		kpr_err("cannot fill the Maglev table of service %u: %s", svc_id, strerror(-ret));
		goto out;
	}
	q->ids[q->n] = svc_id;
	q->fds[q->n++] = (__u32)fd;
	fd = -1;	/* the queue owns it */
out:
	if (fd >= 0)
		close(fd);
	free(table);
	return ret;
}

/* One service now: queued and swapped in at once. */
static int write_one(struct kpr_state *st, const struct kpr_svc *svc, const struct kpr_maglev_be *mbe,
		     const __u32 *be_ids, unsigned int n, const struct kpr_config *cfg)
{
	struct kpr_mg_queue q = { .n = 0 };
	int ret = write_table(st, svc, mbe, be_ids, n, cfg, &q);

	return kpr_maglev_queue_flush(st, &q) ?: ret;
}

static struct kpr_maglev_be *mbe_of(const struct kpr_backend *be, unsigned int n, __u8 scope)
{
	struct kpr_maglev_be *mbe = calloc(n + 1u, sizeof(*mbe));

	for (unsigned int i = 0; mbe && i < n; i++) {
		mbe[i].addr = be[i].be;
		mbe[i].weight = be[i].weight;
		mbe[i].scope = scope;
	}
	return mbe;
}

int kpr_maglev_expected(const struct kpr_svc_info *info, const struct kpr_config *cfg,
			__u32 **table)
{
	struct kpr_maglev_be *mbe;
	int ret;

	*table = NULL;
	if (!info->svc.active || !kpr_maglev_size_ok(cfg->maglev_size))
		return 0;
	mbe = mbe_of(info->be, info->svc.active, info->key.scope);
	if (!mbe)
		return -ENOMEM;
	ret = build_ids(&info->svc, mbe, info->be_ids, info->svc.active, cfg, table);
	free(mbe);
	return ret;
}

int kpr_maglev_write_service(struct kpr_state *st, const struct kpr_svc *svc, __u8 scope,
			     const struct kpr_backend *be, const __u32 *be_ids,
			     unsigned int n_active, const struct kpr_config *cfg)
{
	struct kpr_maglev_be *mbe = mbe_of(be, n_active, scope);
	int ret;

	if (!mbe)
		return -ENOMEM;
	ret = write_one(st, svc, mbe, be_ids, n_active, cfg);
	free(mbe);
	return ret;
}

int kpr_maglev_write_specs(struct kpr_state *st, const struct kpr_svc *svc, __u8 scope,
			   const struct kpr_be_spec *const *be, const __u32 *be_ids,
			   unsigned int n_active, const struct kpr_config *cfg)
{
	struct kpr_mg_queue q = { .n = 0 };
	int ret = kpr_maglev_queue_specs(st, &q, svc, scope, be, be_ids, n_active, cfg);

	return kpr_maglev_queue_flush(st, &q) ?: ret;
}

int kpr_maglev_queue_specs(struct kpr_state *st, struct kpr_mg_queue *q, const struct kpr_svc *svc, __u8 scope,
			   const struct kpr_be_spec *const *be, const __u32 *be_ids,
			   unsigned int n_active, const struct kpr_config *cfg)
{
	struct kpr_maglev_be *mbe = calloc(n_active + 1u, sizeof(*mbe));
	int ret;

	if (!mbe)
		return -ENOMEM;
	for (unsigned int i = 0; i < n_active; i++) {
		mbe[i].addr = be[i]->addr;
		mbe[i].weight = be[i]->weight;
		mbe[i].scope = scope;
	}
	ret = write_table(st, svc, mbe, be_ids, n_active, cfg, q);
	free(mbe);
	return ret;
}

int kpr_maglev_regen_all(struct kpr_state *st, const struct kpr_config *cfg)
{
	struct kpr_svc_info *v = NULL;
	struct kpr_mg_queue q = { .n = 0 };
	struct kpr_config cur;
	size_t n = 0;
	int ret, err, written = 0;

	if (!cfg) {
		ret = kpr_config_read(st, &cur);
		if (ret)
			return ret;
		cfg = &cur;
	}
	/* Refuse before touching any service. */
	if (!kpr_maglev_size_ok(cfg->maglev_size)) {
		kpr_err("Maglev table size %u is not one of %s", cfg->maglev_size, kpr_maglev_sizes_str());
		return -EINVAL;
	}
	ret = kpr_svc_list(st, &v, &n);
	if (ret)
		return ret;
	for (size_t i = 0; i < n; i++) {
		const struct kpr_svc_info *x = &v[i];
		struct kpr_maglev_be *mbe;

		if (!kpr_maglev_wanted(&x->svc, cfg)) {
			drop_table(st, x->svc.id);
			continue;
		}
		if (q.n == KPR_MG_QUEUE) {
			ret = kpr_maglev_queue_flush(st, &q);
			if (ret)
				goto out;
		}
		mbe = mbe_of(x->be, x->svc.active, x->key.scope);
		ret = mbe ? write_table(st, &x->svc, mbe, x->be_ids, x->svc.active, cfg, &q) : -ENOMEM;
		free(mbe);
		if (ret)
			goto out;
		written++;
	}
	ret = written;
out:
	/* What is queued was built for cfg: swap it in, even after an error. */
	err = kpr_maglev_queue_flush(st, &q);
	kpr_svc_info_free(v, n);
	return ret < 0 ? ret : err ?: ret;
}

int kpr_maglev_read_service(struct kpr_state *st, __u32 svc_id, __u32 **table, __u32 *m)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), inner_id, *keys = NULL, *t = NULL, count, next;
	int fd = -1, ret = 0;

	*table = NULL;
	*m = 0;
	if (bpf_map_lookup_elem(st->maglev, &svc_id, &inner_id))
		return errno == ENOENT ? -ENOENT : -errno;
	fd = bpf_map_get_fd_by_id(inner_id);
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len)) {
		ret = -errno;
		kpr_err("cannot open the Maglev table of service %u (map id %u): %s", svc_id,
			inner_id, strerror(errno));
		goto out;
	}
	keys = malloc((info.max_entries + 1u) * sizeof(*keys));
	t = malloc((info.max_entries + 1u) * sizeof(*t));
	if (!keys || !t) {
		ret = -ENOMEM;
		goto out;
	}
	count = info.max_entries;
	if (bpf_map_lookup_batch(fd, NULL, &next, keys, t, &count, NULL) &&
	    (errno != ENOENT || count != info.max_entries)) {
		for (__u32 k = 0; k < info.max_entries; k++) {
			if (bpf_map_lookup_elem(fd, &k, &t[k])) {
				ret = -errno;
				kpr_err("cannot read the Maglev table of service %u: %s", svc_id,
					strerror(errno));
				goto out;
			}
		}
	}
	*table = t;
	*m = info.max_entries;
	t = NULL;
out:
	if (fd >= 0)
		close(fd);
	free(keys);
	free(t);
	return ret;
}

static bool maglev_settings_differ(const struct kpr_config *x, const struct kpr_config *y)
{
	return x->algorithm != y->algorithm || x->maglev_size != y->maglev_size ||
	       memcmp(x->maglev_seed, y->maglev_seed, KPR_SEED_LEN);
}

/*
 * A new size or seed, or Maglev as the default, needs every Maglev service's
 * table written again (each swapped in atomically). They are written before
 * the config points the datapath at them; going back to random, the config
 * goes first and the tables after. A packet that meets a table of the other
 * size falls back to random, and established flows keep their backend.
 */
static int check_fit(struct kpr_state *st, const struct kpr_config *cfg)
{
	struct kpr_svc_info *v = NULL;
	size_t n = 0;
	int ret = kpr_svc_list(st, &v, &n), bad = 0;

	for (size_t i = 0; !ret && i < n; i++) {
		char a[KPR_ADDRSTRLEN];

		if (!kpr_maglev_wanted(&v[i].svc, cfg) || v[i].svc.active <= cfg->maglev_size)
			continue;
		if (bad++ < 20)
			kpr_err("service %s has %u active backends, more than a table of %u slots holds: give a larger --maglev-table-size",
				kpr_fmt_l4addr(&v[i].key.fe, false, a, sizeof(a)), v[i].svc.active,
				cfg->maglev_size);
	}
	kpr_svc_info_free(v, n);
	return ret ?: bad ? -E2BIG : 0;
}

int kpr_maglev_check_fit(struct kpr_state *st, const struct kpr_config *old,
			 const struct kpr_config *cfg)
{
	return maglev_settings_differ(old, cfg) ? check_fit(st, cfg) : 0;
}

int kpr_config_apply(struct kpr_state *st, const struct kpr_config *old,
		     const struct kpr_config *cfg)
{
	bool regen = maglev_settings_differ(old, cfg);
	bool tables_first = cfg->algorithm == KPR_ALG_MAGLEV || old->algorithm == cfg->algorithm;
	int ret = regen ? check_fit(st, cfg) : 0;

	if (ret)
		return ret;
	if (regen && tables_first)
		ret = kpr_maglev_regen_all(st, cfg);
	if (ret >= 0)
		ret = kpr_config_write(st, cfg);
	if (!ret && regen && !tables_first)
		ret = kpr_maglev_regen_all(st, cfg);
	if (ret > 0) {
		kpr_dbg("%d Maglev tables written", ret);
		ret = 0;
	}
	return ret;
}

int kpr_svc_shares(struct kpr_state *st, const struct kpr_svc_info *x,
		   const struct kpr_config *cfg, double *share)
{
	__u32 *table = NULL, m = 0, *cnt, max_id = 0;
	int ret = -ENOENT;

	for (__u32 j = 0; j < x->svc.total; j++) {
		share[j] = 0;
		if (x->be_ids[j] > max_id)
			max_id = x->be_ids[j];
	}
	if (!x->svc.active)
		return 0;
	if (kpr_maglev_wanted(&x->svc, cfg) && cfg->maglev_size)
		ret = kpr_maglev_read_service(st, x->svc.id, &table, &m);
	if (ret == -ENOENT || !m) {
		/* no table: an even draw over the active slots */
		for (__u32 j = 0; j < x->svc.active; j++)
			share[j] = 1.0 / x->svc.active;
		free(table);
		return 0;
	}
	if (ret)
		return ret;
	/* counted by backend id: one pass over the table */
	cnt = calloc((size_t)max_id + 1, sizeof(*cnt));
	if (!cnt) {
		free(table);
		return -ENOMEM;
	}
	for (__u32 k = 0; k < m; k++)
		if (table[k] <= max_id)
			cnt[table[k]]++;
	for (__u32 j = 0; j < x->svc.active; j++)
		share[j] = (double)cnt[x->be_ids[j]] / m;
	free(cnt);
	free(table);
	return 0;
}
