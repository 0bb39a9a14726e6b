// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * svc-list -o prometheus: the services' counters and the tables' fill in
 * node_exporter's textfile format.
 *
 * The datapath counts per service and per (service, backend), though a
 * backend is shared by every service that names the same
 * address:port/protocol: kpr_service_backend_* holds every backend of every
 * service, and a service's backends add up to the service's own series;
 * kpr_backend_* holds every backend once, summed over the services that
 * share it.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <stddef.h>
#include <time.h>

#include "core/prom.h"
#include "state/mapio.h"
#include "svc/svc_prom.h"
#include "core/util.h"

struct prom_svc {
	struct kpr_stats s;
	struct kpr_stats *be;	/* per backend of the service, in slot order */
	char fe[KPR_ADDRSTRLEN];
	char id[16];
};

static void stats_acc(struct kpr_stats *to, const struct kpr_stats *s)
{
	to->packets += s->packets;
	to->bytes += s->bytes;
	to->flows += s->flows;
	to->drops += s->drops;
	to->nat_fail += s->nat_fail;
}

static void svc_labels(FILE *f, const struct prom_svc *p, const struct kpr_svc_info *x)
{
	kpr_prom_label(f, '{', "id", p->id);
	kpr_prom_label(f, ',', "frontend", p->fe);
	kpr_prom_label(f, ',', "type", kpr_svc_type_name(x->svc.type, false));
}

#define STAT(field) offsetof(struct kpr_stats, field)

static const struct {
	const char *name;
	size_t off;
	const char *help;
} svc_counters[] = {
	{ "packets", STAT(packets), "Packets of the service forwarded to a backend (both directions)." },
	{ "bytes", STAT(bytes), "Bytes of the service forwarded to a backend (both directions)." },
	{ "flows", STAT(flows), "New flows of the service." },
	{ "drops", STAT(drops), "Packets of the service dropped (no backend, no nat port, ...)." },
	{ "nat_alloc_failures", STAT(nat_fail), "New flows of the service dropped for want of a free nat port (also in drops)." },
};

static __u64 stat_of(const struct kpr_stats *s, size_t off)
{
	return *(const __u64 *)((const char *)s + off);
}

int kpr_prom_services(struct kpr_state *st, const struct kpr_svc_info *v, size_t n, FILE *f)
{
	__u32 be_max = kpr_map_size(st->backends);
	struct prom_svc *p = calloc(n + 1, sizeof(*p));
	__u32 *users = calloc(be_max + 1, sizeof(*users));
	struct kpr_stats *bs = calloc(be_max + 1, sizeof(*bs));
	__u8 *done = calloc(be_max + 1, 1);
	char name[96];
	int ret = 0;

	if (!p || !users || !bs || !done) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n && !ret; i++) {
		kpr_fmt_l4addr(&v[i].key.fe, false, p[i].fe, sizeof(p[i].fe));
		snprintf(p[i].id, sizeof(p[i].id), "%u", v[i].svc.id);
		ret = kpr_svc_stats(st, KPR_STATS_SVC, v[i].svc.id, &p[i].s);
		p[i].be = calloc(v[i].svc.total + 1u, sizeof(*p[i].be));
		if (!ret && !p[i].be)
			ret = -ENOMEM;
		for (__u32 j = 0; !ret && j < v[i].svc.total; j++) {
			__u32 id = v[i].be_ids[j];

			if (id >= be_max)
				continue;
			users[id]++;
			ret = kpr_svc_be_stats(st, v[i].svc.id, id, &p[i].be[j]);
			stats_acc(&bs[id], &p[i].be[j]);
		}
	}
	if (ret)
		goto out;

	for (size_t c = 0; c < ARRAY_SIZE(svc_counters); c++) {
		snprintf(name, sizeof(name), "kpr_service_%s_total", svc_counters[c].name);
		kpr_prom_family(f, name, "counter", svc_counters[c].help);
		for (size_t i = 0; i < n; i++) {
			fputs(name, f);
			svc_labels(f, &p[i], &v[i]);
			fprintf(f, "} %llu\n", (unsigned long long)stat_of(&p[i].s, svc_counters[c].off));
		}
	}
	kpr_prom_family(f, "kpr_service_backends", "gauge",
			"Backends of the service by state (active ones take new flows).");
	for (size_t i = 0; i < n; i++) {
		for (__u8 s = KPR_BE_ACTIVE; s <= KPR_BE_MAINTENANCE; s++) {
			unsigned int cnt = 0;

			for (__u32 j = 0; j < v[i].svc.total; j++)
				cnt += v[i].be[j].state == s;
			fputs("kpr_service_backends", f);
			svc_labels(f, &p[i], &v[i]);
			kpr_prom_label(f, ',', "state", kpr_state_name(s));
			fprintf(f, "} %u\n", cnt);
		}
	}

	/* drops and nat failures are the service's alone: no backend was chosen */
	for (size_t c = 0; c < 3; c++) {
		snprintf(name, sizeof(name), "kpr_service_backend_%s_total", svc_counters[c].name);
		kpr_prom_family(f, name, "counter", c == 0 ?
				"Packets of the service forwarded to or from this backend (a service's backends add up to it)." :
				c == 1 ? "Bytes of the service forwarded to or from this backend." :
				"New flows of the service sent to this backend.");
		for (size_t i = 0; i < n; i++) {
			for (__u32 j = 0; j < v[i].svc.total; j++) {
				__u32 id = v[i].be_ids[j];
				char b[KPR_ADDRSTRLEN];

				if (id >= be_max)
					continue;
				fputs(name, f);
				svc_labels(f, &p[i], &v[i]);
				kpr_prom_label(f, ',', "backend", kpr_fmt_l4addr(&v[i].be[j].be, false, b, sizeof(b)));
				fprintf(f, "} %llu\n", (unsigned long long)stat_of(&p[i].be[j], svc_counters[c].off));
			}
		}
	}
	for (size_t c = 0; c < 4; c++) {
		const char *what = c == 3 ? "services" : svc_counters[c].name;

		snprintf(name, sizeof(name), c == 3 ? "kpr_backend_%s" : "kpr_backend_%s_total", what);
		kpr_prom_family(f, name, c == 3 ? "gauge" : "counter", c == 0 ?
				"Packets forwarded to the backend, for every service that names it." :
				c == 1 ? "Bytes forwarded to the backend, for every service that names it." :
				c == 2 ? "New flows sent to the backend, for every service that names it." :
				"Services that name the backend.");
		memset(done, 0, be_max + 1);
		for (size_t i = 0; i < n; i++) {
			for (__u32 j = 0; j < v[i].svc.total; j++) {
				__u32 id = v[i].be_ids[j];
				char b[KPR_ADDRSTRLEN];

				if (id >= be_max || done[id])
					continue;
				done[id] = 1;
				fputs(name, f);
				kpr_prom_label(f, '{', "backend", kpr_fmt_l4addr(&v[i].be[j].be, false, b, sizeof(b)));
				fprintf(f, "} %llu\n", c == 3 ? (unsigned long long)users[id] :
					(unsigned long long)stat_of(&bs[id], svc_counters[c].off));
			}
		}
	}
out:
	for (size_t i = 0; p && i < n; i++)
		free(p[i].be);
	free(p);
	free(users);
	free(bs);
	free(done);
	return ret;
}

static int count_entry(const void *k, const void *v, void *ctx)
{
	(*(__u64 *)ctx)++;
	return 0;
}

struct nat_count {
	__u64 now, used;
	const struct kpr_config *cfg;
};

/* A slot whose flow was seen within its timeout, as the datapath's
 * kpr_flow_dead() judges it from the slot alone (it also reads the flow's ct
 * entry, which outlives the slot's own last reply on a busy flow). */
static int count_nat(const void *k, const void *v, void *ctx)
{
	const struct kpr_nat *s = v;
	struct nat_count *c = ctx;
	__u64 t;

	if (!s->last_seen || (s->flags & KPR_CT_F_RST))
		return 0;
	if (s->flags & KPR_NAT_F_TW)
		t = KPR_NAT_TW_TIMEOUT;
	else if (s->flags & KPR_CT_F_FIN_SEEN)
		t = KPR_CT_CLOSING_TIMEOUT;
	else
		t = s->peer.proto == IPPROTO_UDP ? c->cfg->ct_timeout_udp : c->cfg->ct_timeout_tcp;
	c->used += c->now < s->last_seen || c->now - s->last_seen <= t * 1000000000ull;
	return 0;
}

int kpr_prom_tables(struct kpr_state *st, FILE *f)
{
	static const char *const names[] = { "services", "backends", "ct", "nat", "affinity", "sock_revnat" };
	int fds[] = { st->services, st->backends, st->ct, st->nat, st->affinity, st->sock_revnat };
	__u64 used[ARRAY_SIZE(names)] = {};
	struct kpr_stats node;
	struct kpr_config cfg;
	struct timespec ts;
	struct nat_count nc = { .cfg = &cfg };
	__u32 zero = 0;
	int ret = 0;

	if (bpf_map_lookup_elem(st->config, &zero, &cfg))
		return -errno;
	/* the datapath's clock: bpf_ktime_get_coarse_ns() */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	nc.now = (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
	for (size_t i = 0; i < ARRAY_SIZE(names) && !ret; i++) {
		if (fds[i] == st->nat) {
			ret = kpr_map_walk(st->nat, count_nat, &nc);
			used[i] = nc.used;
		} else {
			ret = kpr_map_walk(fds[i], count_entry, &used[i]);
		}
	}
	if (ret)
		return ret;
	kpr_prom_family(f, "kpr_table_entries", "gauge",
			"Entries in use in a pinned table (nat: port slots whose flow was seen within its timeout).");
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		fputs("kpr_table_entries", f);
		kpr_prom_label(f, '{', "table", names[i]);
		fprintf(f, "} %llu\n", (unsigned long long)used[i]);
	}
	kpr_prom_family(f, "kpr_table_size", "gauge", "Entries a pinned table holds at most (chosen at creation).");
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		fputs("kpr_table_size", f);
		kpr_prom_label(f, '{', "table", names[i]);
		fprintf(f, "} %u\n", kpr_map_size(fds[i]));
	}
	ret = kpr_svc_stats(st, KPR_STATS_NODE, 0, &node);
	if (ret)
		return ret;
	kpr_prom_family(f, "kpr_nat_alloc_failures_total", "counter",
			"New flows dropped for want of a free nat port, every service together (port exhaustion).");
	fprintf(f, "kpr_nat_alloc_failures_total %llu\n", (unsigned long long)node.nat_fail);
	kpr_prom_family(f, "kpr_nat_ports", "gauge", "The nat port range of lb-mode --nat-ports.");
	fprintf(f, "kpr_nat_ports{bound=\"min\"} %u\nkpr_nat_ports{bound=\"max\"} %u\n",
		cfg.nat_port_min, cfg.nat_port_max);
	return 0;
}
