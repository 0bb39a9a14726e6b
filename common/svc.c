// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Writing services so that a packet never sees half of one:
 *   1. new backends are written (backends, backend_idx),
 *   2. the service's slots go into the generation not in use,
 *   3. the service entry flips to that generation (one map update),
 *   4. the old generation's slots are deleted, unused backends freed.
 * Backend ids are shared by every service naming the same address:port/proto
 * and reference-counted in backend_idx.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "svc.h"
#include "util.h"

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

static int alloc_id(int fd, __u32 *hint, __u32 max, __u32 *out, const char *what)
{
	__u32 id = *hint, tries;
	__u8 buf[64];

	for (tries = 0; tries < max; tries++, id++) {
		if (id == 0 || id >= max)
			id = 1;
		if (bpf_map_lookup_elem(fd, &id, buf) && errno == ENOENT) {
			*out = id;
			*hint = id + 1;
			return 0;
		}
	}
	kpr_err("no free %s id: all %u are in use", what, max - 1);
	return -ENOSPC;
}

/* Reads the current slots of a service into ids[svc->total]. */
static int read_slots(struct kpr_state *st, const struct kpr_svc *svc, __u32 *ids)
{
	struct kpr_slot_key k = { .svc_id = svc->id };
	__u32 gen = (svc->flags & KPR_SVC_F_GEN) ? KPR_SLOT_GEN_BIT : 0;

	for (__u32 i = 0; i < svc->total; i++) {
		k.slot = gen | i;
		if (lookup(st->svc_backends, &k, &ids[i])) {
			kpr_err("service %u: slot %u is missing from svc_backends", svc->id, i);
			return -EIO;
		}
	}
	return 0;
}

static void delete_slots(struct kpr_state *st, const struct kpr_svc *svc)
{
	struct kpr_slot_key k = { .svc_id = svc->id };
	__u32 gen = (svc->flags & KPR_SVC_F_GEN) ? KPR_SLOT_GEN_BIT : 0;

	for (__u32 i = 0; i < svc->total; i++) {
		k.slot = gen | i;
		del(st->svc_backends, &k);
	}
}

static void stats_forget(struct kpr_state *st, __u32 kind, __u32 id)
{
	struct kpr_stats_key k = { .kind = kind, .id = id };

	del(st->stats, &k);
}

/*
 * svc_addrs counts the frontends on each address, so the datapath can tell
 * a service address from any other when an ICMP echo request (no port)
 * arrives. "*:PORT" NodePorts live on the node addresses, which the kernel
 * answers itself.
 */
static int svc_addr_ref(struct kpr_state *st, const struct kpr_svc_key *key, int delta)
{
	struct kpr_svc_addr_key k = { .addr = key->fe.addr, .family = key->fe.family };
	__u32 n = 0;

	if (key->fe.family == KPR_FAM_ANY)
		return 0;
	lookup(st->svc_addrs, &k, &n);
	if (delta < 0 && n <= 1) {
		del(st->svc_addrs, &k);
		return 0;
	}
	n += delta;
	return update(st->svc_addrs, &k, &n, "svc_addrs");
}

/* Drops one reference; the last one frees the backend. */
static int backend_put(struct kpr_state *st, __u32 id)
{
	struct kpr_backend be;
	struct kpr_backend_ref ref;

	if (lookup(st->backends, &id, &be))
		return 0;
	if (lookup(st->backend_idx, &be.be, &ref) || ref.id != id)
		return 0;
	if (ref.refcnt > 1) {
		ref.refcnt--;
		return update(st->backend_idx, &be.be, &ref, "backend_idx");
	}
	del(st->backends, &id);
	del(st->backend_idx, &be.be);
	stats_forget(st, KPR_STATS_BACKEND, id);
	return 0;
}

static int backend_get(struct kpr_state *st, __u32 id)
{
	struct kpr_backend be;
	struct kpr_backend_ref ref;

	if (lookup(st->backends, &id, &be) || lookup(st->backend_idx, &be.be, &ref)) {
		kpr_err("backend %u vanished from the maps", id);
		return -EIO;
	}
	ref.refcnt++;
	return update(st->backend_idx, &be.be, &ref, "backend_idx");
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

int kpr_svc_upsert(struct kpr_state *st, const struct kpr_svc_spec *sp, bool dry_run,
		   __u32 *id_out)
{
	const struct kpr_be_spec **ord = NULL;
	__u32 *old_ids = NULL, *new_ids = NULL, max_svc;
	struct kpr_svc old = {}, nv = {};
	struct kpr_svc_key owner;
	struct kpr_config cfg;
	bool exists, same;
	int ret;

	ret = kpr_config_read(st, &cfg);
	if (ret)
		return ret;
	max_svc = kpr_map_size(st->maglev);
	exists = !lookup(st->services, &sp->key, &old);

	nv.type = sp->type;
	nv.algorithm = sp->algorithm;
	nv.mode = sp->mode;
	nv.affinity_timeout = sp->affinity;
	nv.id = sp->id ? sp->id : (exists ? old.id : 0);

	if (nv.id >= max_svc) {
		kpr_err("service id %u is beyond this node's %u services (map size)", nv.id, max_svc);
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
	old_ids = calloc(exists ? old.total + 1u : 1u, sizeof(*old_ids));
	if (!ord || !new_ids || !old_ids) {
		ret = -ENOMEM;
		goto out;
	}
	order_backends(sp, ord, &nv.active);
	nv.total = (__u16)sp->n_be;
	if (exists) {
		ret = read_slots(st, &old, old_ids);
		if (ret)
			goto out;
	}

	/* Resolve ids; an unknown backend gets id 0 for now. */
	same = exists && nv.id == old.id && nv.total == old.total &&
	       nv.active == old.active && nv.type == old.type &&
	       nv.algorithm == old.algorithm && nv.mode == old.mode &&
	       nv.affinity_timeout == old.affinity_timeout;
	for (unsigned int i = 0; i < sp->n_be; i++) {
		struct kpr_backend_ref ref;
		struct kpr_backend cur, want;

		if (lookup(st->backend_idx, &ord[i]->addr, &ref)) {
			new_ids[i] = 0;
			same = false;
			continue;
		}
		new_ids[i] = ref.id;
		backend_value(ord[i], &want);
		if (lookup(st->backends, &ref.id, &cur) || memcmp(&cur, &want, sizeof(cur)))
			same = false;
		if (same && old_ids[i] != ref.id)
			same = false;
	}
	if (same) {
		*id_out = old.id;
		ret = KPR_UNCHANGED;
		goto out;
	}
	ret = exists ? KPR_UPDATED : KPR_ADDED;
	if (dry_run) {
		*id_out = nv.id;
		goto out;
	}

	/* 1. backends: new ones, and new state or weight of known ones */
	for (unsigned int i = 0; i < sp->n_be; i++) {
		struct kpr_backend want;
		struct kpr_backend_ref ref = { .refcnt = 0 };
		int err;

		backend_value(ord[i], &want);
		if (!new_ids[i]) {
			err = alloc_id(st->backends, &cfg.next_backend_id,
				       kpr_map_size(st->backends), &new_ids[i], "backend");
			if (!err)
				err = update(st->backends, &new_ids[i], &want, "backends");
			ref.id = new_ids[i];
			if (!err)
				err = update(st->backend_idx, &ord[i]->addr, &ref, "backend_idx");
		} else {
			err = update(st->backends, &new_ids[i], &want, "backends");
		}
		if (err) {
			ret = err;
			goto out;
		}
	}
	for (unsigned int i = 0; i < sp->n_be; i++) {
		if (exists && old.id == nv.id && has_id(old_ids, old.total, new_ids[i]))
			continue;
		ret = backend_get(st, new_ids[i]);
		if (ret)
			goto out;
	}

	/* 2. slots of the generation not in use */
	if (!nv.id) {
		ret = alloc_id(st->revnat, &cfg.next_svc_id, max_svc, &nv.id, "service");
		if (ret)
			goto out;
	}
	if (exists && old.id == nv.id)
		nv.flags = (old.flags & KPR_SVC_F_GEN) ^ KPR_SVC_F_GEN;
	for (__u32 i = 0; i < nv.total; i++) {
		struct kpr_slot_key k = {
			.svc_id = nv.id,
			.slot = i | ((nv.flags & KPR_SVC_F_GEN) ? KPR_SLOT_GEN_BIT : 0),
		};

		ret = update(st->svc_backends, &k, &new_ids[i], "svc_backends");
		if (ret)
			goto out;
	}

	/* 3. the flip */
	ret = update(st->revnat, &nv.id, &sp->key, "revnat");
	if (!ret && !exists)
		ret = svc_addr_ref(st, &sp->key, 1);
	if (!ret)
		ret = update(st->services, &sp->key, &nv, "services");
	if (ret)
		goto out;

	/* 4. the old generation, and what only it used */
	if (exists) {
		delete_slots(st, &old);
		if (old.id != nv.id) {
			del(st->revnat, &old.id);
			stats_forget(st, KPR_STATS_SVC, old.id);
		}
		for (__u32 i = 0; i < old.total; i++)
			if (old.id != nv.id || !has_id(new_ids, nv.total, old_ids[i]))
				backend_put(st, old_ids[i]);
	}
	ret = kpr_config_write(st, &cfg) ?: (exists ? KPR_UPDATED : KPR_ADDED);
	*id_out = nv.id;
out:
	free(ord);
	free(new_ids);
	free(old_ids);
	return ret;
}

int kpr_svc_delete(struct kpr_state *st, const struct kpr_svc_key *key, bool dry_run,
		   __u32 *id_out)
{
	struct kpr_svc svc;
	__u32 *ids;
	int ret;

	if (lookup(st->services, key, &svc))
		return KPR_UNCHANGED;
	*id_out = svc.id;
	if (dry_run)
		return KPR_DELETED;
	ids = calloc(svc.total + 1u, sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	ret = read_slots(st, &svc, ids);
	/* The service goes first: no packet finds it while its parts go. */
	if (bpf_map_delete_elem(st->services, key)) {
		ret = -errno;
		kpr_err("cannot delete service %u: %s", svc.id, strerror(errno));
		goto out;
	}
	del(st->revnat, &svc.id);
	del(st->maglev, &svc.id);
	svc_addr_ref(st, key, -1);
	delete_slots(st, &svc);
	stats_forget(st, KPR_STATS_SVC, svc.id);
	if (!ret)
		for (__u32 i = 0; i < svc.total; i++)
			backend_put(st, ids[i]);
	ret = KPR_DELETED;
out:
	free(ids);
	return ret;
}

int kpr_svc_key_by_id(struct kpr_state *st, __u32 id, struct kpr_svc_key *key)
{
	return lookup(st->revnat, &id, key);
}

int kpr_svc_get(struct kpr_state *st, const struct kpr_svc_key *key, struct kpr_svc_info *info)
{
	int ret;

	memset(info, 0, sizeof(*info));
	info->key = *key;
	ret = lookup(st->services, key, &info->svc);
	if (ret)
		return ret;
	info->be_ids = calloc(info->svc.total + 1u, sizeof(*info->be_ids));
	info->be = calloc(info->svc.total + 1u, sizeof(*info->be));
	if (!info->be_ids || !info->be)
		return -ENOMEM;
	ret = read_slots(st, &info->svc, info->be_ids);
	for (__u32 i = 0; !ret && i < info->svc.total; i++)
		if (lookup(st->backends, &info->be_ids[i], &info->be[i])) {
			kpr_err("service %u: backend %u is missing", info->svc.id, info->be_ids[i]);
			ret = -EIO;
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

int kpr_svc_list(struct kpr_state *st, struct kpr_svc_info **out, size_t *n)
{
	struct kpr_svc_info *v;
	struct kpr_svc_key *keys;
	size_t cnt, got = 0;
	int ret;

	ret = list_keys(st, &keys, &cnt);
	if (ret)
		return ret;
	v = calloc(cnt + 1, sizeof(*v));
	if (!v) {
		free(keys);
		return -ENOMEM;
	}
	for (size_t i = 0; i < cnt; i++) {
		ret = kpr_svc_get(st, &keys[i], &v[got]);
		if (ret == -ENOENT) {		/* deleted meanwhile */
			kpr_svc_info_free(&v[got], 0);
			continue;
		}
		got++;
		if (ret)
			break;
	}
	free(keys);
	if (ret && ret != -ENOENT) {
		kpr_svc_info_free(v, got);
		return ret;
	}
	qsort(v, got, sizeof(*v), cmp_info);
	*out = v;
	*n = got;
	return 0;
}

static int cmp_key(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct kpr_svc_key));
}

/* Checks a batch against itself and the maps; reports every conflict. */
static int validate(struct kpr_state *st, const struct kpr_svc_spec *sp, size_t n,
		    bool replace, struct kpr_svc_key *sorted)
{
	__u32 max_id = kpr_map_size(st->maglev);
	__u32 *id_line = calloc(max_id + 1, sizeof(*id_line));
	int bad = 0;

	if (!id_line)
		return -ENOMEM;
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
				kpr_err("line %d: frontend %s is already on line %zu", sp[j].line,
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
				kpr_err("line %d: id %u is beyond this node's %u services", sp[i].line, id, max_id);
			continue;
		}
		if (id_line[id]) {
			if (bad++ < 20)
				kpr_err("line %d: id %u is already used on line %u", sp[i].line, id, id_line[id]);
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
				kpr_err("line %d: id %u is taken by %s", sp[i].line, id,
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
	size_t nkeys = 0;
	__u32 id;
	int ret;

	memset(res, 0, sizeof(*res));
	sorted = calloc(n + 1, sizeof(*sorted));
	if (!sorted)
		return -ENOMEM;
	ret = validate(st, sp, n, replace, sorted);
	if (ret)
		goto out;

	/* Deletions first: they free ids that the batch may give out again. */
	if (replace) {
		ret = list_keys(st, &keys, &nkeys);
		if (ret)
			goto out;
		for (size_t i = 0; i < nkeys; i++) {
			if (bsearch(&keys[i], sorted, n, sizeof(*sorted), cmp_key))
				continue;
			ret = kpr_svc_delete(st, &keys[i], dry_run, &id);
			if (ret < 0)
				goto out;
			res->deleted++;
			report(KPR_DELETED, &keys[i], id);
		}
	}
	/* Lines that give their frontend a new id go after the lines that
	 * free that id; with ids checked above, two passes suffice. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n; i++) {
			struct kpr_svc_key owner;
			bool blocked = sp[i].id && !kpr_svc_key_by_id(st, sp[i].id, &owner) &&
				       cmp_key(&owner, &sp[i].key);

			if (blocked != (pass == 1))
				continue;
			if (dry_run && blocked) {
				/* The owner of the id has not really moved away. */
				struct kpr_svc cur;

				id = sp[i].id;
				ret = lookup(st->services, &sp[i].key, &cur) ? KPR_ADDED : KPR_UPDATED;
			} else {
				ret = kpr_svc_upsert(st, &sp[i], dry_run, &id);
			}
			if (ret < 0)
				goto out;
			switch (ret) {
			case KPR_ADDED: res->added++; break;
			case KPR_UPDATED: res->updated++; break;
			default: res->unchanged++; break;
			}
			report((enum kpr_change)ret, &sp[i].key, id);
		}
	}
	ret = 0;
out:
	free(keys);
	free(sorted);
	return ret;
}

int kpr_svc_stats(struct kpr_state *st, __u32 kind, __u32 id, struct kpr_stats *sum)
{
	struct kpr_stats_key k = { .kind = kind, .id = id };
	int ncpu = libbpf_num_possible_cpus();
	struct kpr_stats *v;

	memset(sum, 0, sizeof(*sum));
	if (ncpu <= 0)
		return -EIO;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (!bpf_map_lookup_elem(st->stats, &k, v)) {
		for (int c = 0; c < ncpu; c++) {
			sum->packets += v[c].packets;
			sum->bytes += v[c].bytes;
			sum->flows += v[c].flows;
			sum->drops += v[c].drops;
		}
	}
	free(v);
	return 0;
}

void kpr_svc_save_line(const struct kpr_svc_info *info, FILE *f)
{
	char a[KPR_ADDRSTRLEN];

	fprintf(f, "-t %s --id %u", kpr_svc_type_name(info->svc.type, false), info->svc.id);
	if (info->svc.affinity_timeout)
		fprintf(f, " --affinity %u", info->svc.affinity_timeout);
	if (info->svc.algorithm)
		fprintf(f, " --algorithm %s", kpr_alg_name(info->svc.algorithm));
	if (info->svc.mode)
		fprintf(f, " --mode %s", kpr_mode_name(info->svc.mode));
	fprintf(f, " %s", kpr_fmt_l4addr(&info->key.fe, false, a, sizeof(a)));
	for (__u32 i = 0; i < info->svc.total; i++) {
		const struct kpr_backend *b = &info->be[i];

		fprintf(f, " %s", kpr_fmt_l4addr(&b->be, false, a, sizeof(a)));
		if (b->weight != 1)
			fprintf(f, ",weight=%u", b->weight);
		if (b->state != KPR_BE_ACTIVE)
			fprintf(f, ",state=%s", kpr_state_name(b->state));
	}
	fputc('\n', f);
}
