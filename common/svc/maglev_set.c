// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Maglev over backends given on a command line, and the live-table check. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "core/hidx.h"
#include "core/util.h"
#include "svc/maglev_map.h"
#include "svc/maglev_set.h"

void kpr_maglev_set_free(struct kpr_maglev_set *s)
{
	free(s->names);
	free(s->spec);
	free(s->mbe);
	free(s->act);
	free(s->table);
	free(s->slots);
	memset(s, 0, sizeof(*s));
}

/* A backend given twice, found with a hashed index: thousands stay cheap. */
static int check_twice(const struct kpr_maglev_set *s)
{
	struct kpr_hidx seen;
	int ret, j;

	ret = kpr_hidx_init(&seen, s->spec, sizeof(*s->spec), sizeof(s->spec->addr), s->n);
	if (ret)
		return ret;
	for (unsigned int i = 0; i < s->n; i++) {
		j = kpr_hidx_add(&seen, i);
		if (j < 0)
			continue;
		kpr_err("backend '%s' is given twice (as '%s')", s->names[i], s->names[j]);
		ret = -EINVAL;
		break;
	}
	kpr_hidx_free(&seen);
	return ret;
}

static void warn_weights(const struct kpr_maglev_set *s, const char *what)
{
	bool uneven = false;
	__u64 wsum;

	for (unsigned int i = 1; i < s->n_active; i++)
		uneven |= s->mbe[i].weight != s->mbe[0].weight;
	if (uneven && !kpr_maglev_weighted(s->mbe, s->n_active, &wsum))
		kpr_warn("weights of %s ignored: as in Cilium, they count only when their sum (%llu) divided by the number of active backends (%u) is above 1",
			 what, (unsigned long long)wsum, s->n_active);
}

int kpr_maglev_set_parse(struct kpr_maglev_set *s, char **names, unsigned int n,
			 const char *what)
{
	char err[KPR_ERRLEN];
	int ret;

	memset(s, 0, sizeof(*s));
	if (!n) {
		kpr_err("no %s given: expected at least one ADDR:PORT[/tcp|/udp][,weight=N]", what);
		return -EINVAL;
	}
	s->n = n;
	s->names = calloc(n, sizeof(*s->names));
	s->spec = calloc(n, sizeof(*s->spec));
	s->mbe = calloc(n, sizeof(*s->mbe));
	s->act = calloc(n, sizeof(*s->act));
	s->slots = calloc(n, sizeof(*s->slots));
	if (!s->names || !s->spec || !s->mbe || !s->act || !s->slots)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++) {
		s->names[i] = names[i];
		if (kpr_parse_backend(names[i], IPPROTO_TCP, &s->spec[i], err, sizeof(err))) {
			kpr_err("%s", err);
			return -EINVAL;
		}
		if (s->spec[i].state != KPR_BE_ACTIVE)
			continue;
		s->mbe[s->n_active].addr = s->spec[i].addr;
		s->mbe[s->n_active].weight = s->spec[i].weight;
		s->act[s->n_active++] = i;
	}
	ret = check_twice(s);
	if (ret)
		return ret;
	if (!s->n_active) {
		kpr_err("none of the %s is active: only active backends get slots", what);
		return -EINVAL;
	}
	warn_weights(s, what);
	return 0;
}

int kpr_maglev_set_build(struct kpr_maglev_set *s, __u32 m, const __u8 *seed)
{
	int ret;

	s->table = malloc(m * sizeof(*s->table));
	if (!s->table)
		return -ENOMEM;
	ret = kpr_maglev_build(s->mbe, s->n_active, m, seed, s->table);
	if (ret) {
		kpr_err("cannot build the Maglev table: %s", strerror(-ret));
		return ret;
	}
	for (__u32 k = 0; k < m; k++) {
		s->table[k] = s->act[s->table[k]];
		s->slots[s->table[k]]++;
	}
	return 0;
}

int kpr_maglev_split_list(char *list, char ***out, unsigned int *n)
{
	unsigned int cnt = 0, cap = 1;
	char **v, *p, *save;

	for (p = list; *p; p++)
		cap += *p == ',';
	v = calloc(cap, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		if ((!strncmp(p, "weight=", 7) || !strncmp(p, "state=", 6)) && cnt) {
			p[-1] = ',';	/* glue it back to its backend */
			continue;
		}
		v[cnt++] = p;
	}
	*out = v;
	*n = cnt;
	return 0;
}

int kpr_maglev_set_diff(const struct kpr_maglev_set *old, const struct kpr_maglev_set *nw,
			__u32 m, struct kpr_maglev_diff *d)
{
	struct kpr_hidx active;
	int *old_to_new, ret;

	old_to_new = calloc(old->n, sizeof(*old_to_new));
	if (!old_to_new)
		return -ENOMEM;
	/* The new backends that take new flows, by address. */
	ret = kpr_hidx_init(&active, nw->mbe, sizeof(*nw->mbe), sizeof(nw->mbe->addr),
			    nw->n_active);
	if (ret)
		goto out;
	for (unsigned int j = 0; j < nw->n_active; j++)
		kpr_hidx_add(&active, j);
	for (unsigned int i = 0; i < old->n; i++) {
		int j = kpr_hidx_find(&active, &old->spec[i].addr);

		old_to_new[i] = j < 0 ? -1 : (int)nw->act[j];
	}
	kpr_hidx_free(&active);
	kpr_maglev_diff(old->table, nw->table, m, old_to_new, d);
out:
	free(old_to_new);
	return ret;
}

void kpr_maglev_check_free(struct kpr_maglev_check *c)
{
	for (unsigned int i = 0; c->names && i < c->info.svc.total; i++)
		free(c->names[i]);
	free(c->names);
	free(c->live);
	free(c->want);
	free(c->idx);
	free(c->slots);
	free(c->info.be_ids);
	free(c->info.be);
	memset(c, 0, sizeof(*c));
}

static int name_backends(struct kpr_maglev_check *c)
{
	c->names = calloc(c->info.svc.total + 1u, sizeof(*c->names));
	if (!c->names)
		return -ENOMEM;
	for (unsigned int i = 0; i < c->info.svc.total; i++) {
		char b[KPR_BACKENDSTRLEN];

		c->names[i] = strdup(kpr_fmt_backend(&c->info.be[i], b, sizeof(b)));
		if (!c->names[i])
			return -ENOMEM;
	}
	return 0;
}

/* Where each live slot's backend is in the service, by an id -> index map. */
static int index_live(struct kpr_maglev_check *c)
{
	unsigned int n = c->info.svc.total;
	struct kpr_hidx ids;
	int ret;

	ret = kpr_hidx_init(&ids, c->info.be_ids, sizeof(*c->info.be_ids),
			    sizeof(*c->info.be_ids), n);
	if (ret)
		return ret;
	for (unsigned int i = 0; i < n; i++)
		kpr_hidx_add(&ids, i);
	for (__u32 k = 0; k < c->m; k++) {
		int i = kpr_hidx_find(&ids, &c->live[k]);

		c->idx[k] = i < 0 ? ~0U : (__u32)i;
		if (i >= 0)
			c->slots[i]++;
		if (!c->want || c->m != c->cfg.maglev_size || c->want[k] != c->live[k]) {
			if (!c->diff)
				c->first = k;
			c->diff++;
		}
	}
	kpr_hidx_free(&ids);
	return 0;
}

int kpr_maglev_check_service(struct kpr_state *st, const struct kpr_svc_key *key,
			     const char *fe, struct kpr_maglev_check *c)
{
	int ret;

	memset(c, 0, sizeof(*c));
	ret = kpr_config_read(st, &c->cfg);
	if (!ret)
		ret = kpr_svc_get(st, key, &c->info);
	if (ret == -ENOENT)
		kpr_err("no service %s under %s", fe, st->root);
	if (ret)
		return ret;
	if (!kpr_maglev_wanted(&c->info.svc, &c->cfg)) {
		kpr_err("service %s (id %u) uses the random algorithm and has no Maglev table: svc-add --algorithm maglev, or lb-mode --algorithm maglev",
			fe, c->info.svc.id);
		return -ENOENT;
	}
	c->slots = calloc(c->info.svc.total + 1u, sizeof(*c->slots));
	if (!c->slots || name_backends(c))
		return -ENOMEM;
	ret = kpr_maglev_read_service(st, c->info.svc.id, &c->live, &c->m);
	if (ret == -ENOENT && !c->info.svc.active) {
		c->m = 0;
		return 0;
	}
	if (ret == -ENOENT)
		kpr_err("service %s (id %u) has no Maglev table in %s/maglev: rewrite it with svc-add",
			fe, c->info.svc.id, st->root);
	if (ret)
		return ret;
	ret = kpr_maglev_expected(&c->info, &c->cfg, &c->want);
	if (ret)
		return ret;
	c->idx = malloc((c->m + 1u) * sizeof(*c->idx));
	if (!c->idx)
		return -ENOMEM;
	return index_live(c);
}

int kpr_maglev_check_report(const struct kpr_maglev_check *c, const char *fe)
{
	if (!c->diff)
		return 0;
	if (c->m != c->cfg.maglev_size)
		kpr_err("the Maglev table of service %s has %u slots, the config says %u: rewrite it by updating the service (svc-add)",
			fe, c->m, c->cfg.maglev_size);
	else
		kpr_err("the Maglev table of service %s differs from the expected one in %u of %u slots (first: slot %u holds backend id %u, expected %u): the table is stale (a weight or state changed through another service sharing a backend?) or was changed outside kpr; an svc-add that changes this service rewrites it",
			fe, c->diff, c->m, c->first, c->live[c->first], c->want ? c->want[c->first] : 0);
	return -EIO;
}
