// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/out.h"
#include "core/util.h"
#include "state/mapio.h"
#include "svc/addr.h"
#include "svc/svc.h"
#include "dev/masq.h"
#include "dev/xdp.h"

void kpr_masq_change_init(struct kpr_masq_change *c)
{
	memset(c, 0, sizeof(*c));
	c->v4 = -1;
	c->v6 = -1;
}

bool kpr_masq_change_any(const struct kpr_masq_change *c)
{
	return c->v4 >= 0 || c->v6 >= 0 || c->set_devs || c->set_pod || c->set_nonmasq ||
	       c->set_ip4 || c->set_ip6 || c->agent;
}

const char *kpr_fmt_cidr(const struct kpr_cidr *c, char *buf, size_t len)
{
	char a[KPR_ADDRSTRLEN];

	snprintf(buf, len, "%s/%u", kpr_fmt_addr(&c->addr, c->family, a, sizeof(a)), c->prefix);
	return buf;
}

static bool host_bits(const struct kpr_cidr *c)
{
	unsigned int bits = c->family == KPR_FAM_V6 ? 128 : 32;

	for (unsigned int i = c->prefix; i < bits; i++)
		if (c->addr.b[i / 8] & (0x80 >> (i % 8)))
			return true;
	return false;
}

static bool cidr_eq(const struct kpr_cidr *a, const struct kpr_cidr *b)
{
	return a->family == b->family && a->prefix == b->prefix &&
	       !memcmp(&a->addr, &b->addr, sizeof(a->addr));
}

/* Appends c to l unless it is there: -E2BIG when l is full. */
static int list_add(struct kpr_cidr_list *l, const struct kpr_cidr *c)
{
	for (size_t i = 0; i < l->n; i++)
		if (cidr_eq(&l->v[i], c))
			return 0;
	if (l->n >= KPR_MASQ_MAX_CIDRS)
		return -E2BIG;
	l->v[l->n++] = *c;
	return 0;
}

/* A CIDR from its text: -EINVAL with the reason in err. */
static int cidr_parse(const char *s, struct kpr_cidr *c, char *err, size_t errlen)
{
	static const struct kpr_opt cidr_opt = { "cidr", 0, "CIDR", NULL, 0, .type = KPR_OPT_CIDR };
	struct kpr_optval v;
	char msg[256];

	if (kpr_opt_parse(&cidr_opt, s, &v, msg, sizeof(msg))) {
		snprintf(err, errlen, "'%s' is not a CIDR: give ADDR/PREFIX, IPv4 or IPv6", s);
		return -EINVAL;
	}
	memset(c, 0, sizeof(*c));
	c->family = v.family == AF_INET6 ? KPR_FAM_V6 : KPR_FAM_V4;
	c->prefix = (__u8)v.prefix;
	memcpy(c->addr.b, v.addr, c->family == KPR_FAM_V6 ? 16 : 4);
	if (host_bits(c)) {
		char net[KPR_ADDRSTRLEN + 8];
		struct kpr_cidr m = *c;
		unsigned int bits = c->family == KPR_FAM_V6 ? 128 : 32;

		for (unsigned int i = c->prefix; i < bits; i++)
			m.addr.b[i / 8] &= (__u8)~(0x80 >> (i % 8));
		snprintf(err, errlen, "'%s' has bits set past its prefix: give the network, %s", s,
			 kpr_fmt_cidr(&m, net, sizeof(net)));
		return -EINVAL;
	}
	return 0;
}

int kpr_masq_cidr_add(struct kpr_cidr_list *l, const char *s, const char *where)
{
	char err[KPR_ERRLEN];
	struct kpr_cidr c;

	if (cidr_parse(s, &c, err, sizeof(err))) {
		kpr_err("%s: %s", where, err);
		return -EINVAL;
	}
	if (list_add(l, &c)) {
		kpr_err("%s: too many CIDRs, at most %d", where, KPR_MASQ_MAX_CIDRS);
		return -EINVAL;
	}
	return 0;
}

int kpr_masq_add_cidr(struct kpr_cidr_list *l, bool *set, const char *opt,
		      const struct kpr_optval *v)
{
	char where[64];

	if (!*set)
		l->n = 0;
	*set = true;
	snprintf(where, sizeof(where), "bad --%s", opt);
	return kpr_masq_cidr_add(l, v->s, where);
}

int kpr_masq_add_dev(struct kpr_masq_change *c, const char *dev)
{
	if (!c->set_devs)
		c->n_devs = 0;
	c->set_devs = true;
	if (!strcmp(dev, "all"))
		return 0;
	if (strlen(dev) >= IF_NAMESIZE || !*dev || strchr(dev, '/')) {
		kpr_err("bad --dev '%s': give a device name (see ip link), or all", dev);
		return -EINVAL;
	}
	for (size_t i = 0; i < c->n_devs; i++)
		if (!strcmp(c->devs[i], dev))
			return 0;
	if (c->n_devs >= KPR_MASQ_MAX_DEVS) {
		kpr_err("too many --dev: at most %d devices", KPR_MASQ_MAX_DEVS);
		return -EINVAL;
	}
	snprintf(c->devs[c->n_devs++], IF_NAMESIZE, "%s", dev);
	return 0;
}

int kpr_masq_set_ip(struct kpr_masq_change *c, const struct kpr_optval *v)
{
	bool v6 = v->family == AF_INET6;
	union kpr_addr *a = v6 ? &c->ip6 : &c->ip4;
	bool *set = v6 ? &c->set_ip6 : &c->set_ip4;

	if (*set) {
		kpr_err("--masq-ip given twice for IPv%d: one address per family", v6 ? 6 : 4);
		return -EINVAL;
	}
	*set = true;
	memset(a, 0, sizeof(*a));
	memcpy(a->b, v->addr, v6 ? 16 : 4);
	return 0;
}

/* --- reading and writing the maps --- */

static void lpm_key(struct kpr_lpm_key *k, __u8 kind, const struct kpr_cidr *c)
{
	memset(k, 0, sizeof(*k));
	k->prefixlen = KPR_LPM_HDR_BITS + c->prefix;
	k->kind = kind;
	k->family = c->family;
	memcpy(k->addr, c->addr.b, sizeof(k->addr));
}

int kpr_masq_flags(struct kpr_state *st, __u32 *flags)
{
	struct kpr_masq m;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(st->masq, &zero, &m)) {
		int err = -errno;

		kpr_err("cannot read the masq map: %s", strerror(errno));
		return err;
	}
	*flags = m.flags;
	return 0;
}

/* IPv4 first, then by address and prefix: a stable order to print */
static int cidr_cmp(const void *a, const void *b)
{
	const struct kpr_cidr *x = a, *y = b;
	int d = memcmp(x->addr.b, y->addr.b, sizeof(x->addr.b));

	if (x->family != y->family)
		return x->family - y->family;
	return d ? d : x->prefix - y->prefix;
}

/* LPM tries have no batch lookup: one key at a time. */
int kpr_masq_read(struct kpr_state *st, struct kpr_masq_view *out)
{
	struct kpr_lpm_key k, next;
	__u32 zero = 0;
	void *prev = NULL;

	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(st->masq, &zero, &out->m)) {
		int err = -errno;

		kpr_err("cannot read the masq map: %s", strerror(errno));
		return err;
	}
	while (!bpf_map_get_next_key(st->masq_native, prev, &next)) {
		struct kpr_cidr c = { .family = next.family,
				      .prefix = (__u8)(next.prefixlen - KPR_LPM_HDR_BITS) };
		struct kpr_cidr_list *l = next.kind == KPR_MASQ_POD ? &out->pod : &out->nonmasq;

		memcpy(c.addr.b, next.addr, sizeof(c.addr.b));
		if (next.kind == KPR_MASQ_POD || next.kind == KPR_MASQ_NONMASQ)
			list_add(l, &c);
		k = next;
		prev = &k;
	}
	if (errno != ENOENT) {
		int err = -errno;

		kpr_err("cannot read the masq_native map: %s", strerror(errno));
		return err;
	}
	qsort(out->pod.v, out->pod.n, sizeof(out->pod.v[0]), cidr_cmp);
	qsort(out->nonmasq.v, out->nonmasq.n, sizeof(out->nonmasq.v[0]), cidr_cmp);
	return 0;
}

static bool list_has(const struct kpr_cidr_list *l, const struct kpr_cidr *c)
{
	for (size_t i = 0; i < l->n; i++)
		if (cidr_eq(&l->v[i], c))
			return true;
	return false;
}

static bool list_eq(const struct kpr_cidr_list *a, const struct kpr_cidr_list *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!list_has(b, &a->v[i]))
			return false;
	return true;
}

/* Writes the CIDRs of want missing from have, then deletes those of have
 * missing from want: an address is never left out of both meanwhile. */
static int list_write(struct kpr_state *st, __u8 kind, const struct kpr_cidr_list *have,
		      const struct kpr_cidr_list *want)
{
	struct kpr_lpm_key k;
	__u32 one = 1;

	for (size_t i = 0; i < want->n; i++) {
		if (list_has(have, &want->v[i]))
			continue;
		lpm_key(&k, kind, &want->v[i]);
		if (bpf_map_update_elem(st->masq_native, &k, &one, BPF_ANY)) {
			int err = -errno;

			kpr_err("cannot write masq_native: %s", strerror(errno));
			return err;
		}
	}
	for (size_t i = 0; i < have->n; i++) {
		if (list_has(want, &have->v[i]))
			continue;
		lpm_key(&k, kind, &have->v[i]);
		if (bpf_map_delete_elem(st->masq_native, &k) && errno != ENOENT) {
			int err = -errno;

			kpr_err("cannot delete from masq_native: %s", strerror(errno));
			return err;
		}
	}
	return 0;
}

static bool is_node_addr(struct kpr_state *st, const union kpr_addr *a, __u8 family)
{
	struct kpr_node_addr_key k = { .addr = *a, .family = family };
	struct kpr_node_addr v;

	return !bpf_map_lookup_elem(st->node_addrs, &k, &v);
}

/* The ifindexes of c's devices, each attached (kpr_xdp_list). */
static int resolve_devs(struct kpr_state *st, const struct kpr_masq_change *c, struct kpr_masq *m)
{
	struct kpr_xdp_dev *devs;
	size_t n;
	int ret = kpr_xdp_list(st, &devs, &n);

	if (ret)
		return ret;
	memset(m->ifindex, 0, sizeof(m->ifindex));
	m->n_devs = 0;
	for (size_t i = 0; i < c->n_devs; i++) {
		size_t j;

		for (j = 0; j < n; j++)
			if (!strcmp(devs[j].name, c->devs[i]))
				break;
		if (j == n) {
			kpr_err("--dev %s: not attached in this network namespace (xdp-attach %s first; xdp-attach --status lists them)",
				c->devs[i], c->devs[i]);
			ret = -EINVAL;
			break;
		}
		m->ifindex[m->n_devs++] = devs[j].ifindex;
	}
	free(devs);
	return ret;
}

static bool addr_zero(const union kpr_addr *a)
{
	return !(a->w[0] | a->w[1] | a->w[2] | a->w[3]);
}

static int check_ip(struct kpr_state *st, const union kpr_addr *a, __u8 family)
{
	char s[KPR_ADDRSTRLEN];

	if (addr_zero(a) || is_node_addr(st, a, family))
		return 0;
	kpr_err("--masq-ip %s: not an address of the node (an attached device's, or xdp-attach --node-ip): replies to it would not reach the datapath",
		kpr_fmt_addr(a, family, s, sizeof(s)));
	return -EINVAL;
}

int kpr_masq_apply(struct kpr_state *st, const struct kpr_masq_change *c, bool dry_run,
		   bool *changed, struct kpr_masq_view *now)
{
	struct kpr_masq_view *old = calloc(1, sizeof(*old));
	struct kpr_masq m;
	__u32 zero = 0;
	int ret;

	*changed = false;
	if (!old)
		return -ENOMEM;
	ret = kpr_masq_read(st, old);
	if (ret)
		goto out;
	*now = *old;
	m = old->m;
	if (c->v4 >= 0)
		m.flags = c->v4 ? m.flags | KPR_MASQ_V4 : m.flags & ~KPR_MASQ_V4;
	if (c->v6 >= 0)
		m.flags = c->v6 ? m.flags | KPR_MASQ_V6 : m.flags & ~KPR_MASQ_V6;
	if (c->set_devs) {
		ret = resolve_devs(st, c, &m);
		if (ret)
			goto out;
	}
	if (c->set_ip4) {
		ret = check_ip(st, &c->ip4, KPR_FAM_V4);
		if (ret)
			goto out;
		m.masq_ip4 = c->ip4;
	}
	if (c->set_ip6) {
		ret = check_ip(st, &c->ip6, KPR_FAM_V6);
		if (ret)
			goto out;
		m.masq_ip6 = c->ip6;
	}
	if (c->set_pod)
		now->pod = c->pod;
	if (c->set_nonmasq)
		now->nonmasq = c->nonmasq;
	qsort(now->pod.v, now->pod.n, sizeof(now->pod.v[0]), cidr_cmp);
	qsort(now->nonmasq.v, now->nonmasq.n, sizeof(now->nonmasq.v[0]), cidr_cmp);
	now->m = m;
	*changed = memcmp(&m, &old->m, sizeof(m)) || !list_eq(&now->pod, &old->pod) ||
		   !list_eq(&now->nonmasq, &old->nonmasq);
	if (!*changed || dry_run)
		goto out;
	/* the CIDRs first, the switches last: a family turned on meets its
	 * lists complete */
	ret = list_write(st, KPR_MASQ_POD, &old->pod, &now->pod);
	if (!ret)
		ret = list_write(st, KPR_MASQ_NONMASQ, &old->nonmasq, &now->nonmasq);
	if (!ret && memcmp(&m, &old->m, sizeof(m)) &&
	    bpf_map_update_elem(st->masq, &zero, &m, BPF_ANY)) {
		ret = -errno;
		kpr_err("cannot write the masq map: %s", strerror(errno));
	}
out:
	free(old);
	return ret;
}

/* --- reporting --- */

struct nat_count {
	const struct kpr_config *cfg;
	__u64 now;
	__u64 masq, snat;
};

static bool stale(__u64 last, __u64 now, __u32 s)
{
	return now > last && now - last > (__u64)s * 1000000000ull;
}

/* A slot in use, as the allocator would judge it without ct: held until
 * its timeout after the last reply (lib/nat.h, kpr_flow_dead()). */
static int count_slot(const void *key, const void *val, void *ctx)
{
	const struct kpr_nat *rf = val;
	struct nat_count *n = ctx;
	__u32 t;

	if (rf->last_seen <= 1 || (rf->flags & KPR_CT_F_RST))
		return 0;
	if (rf->flags & KPR_NAT_F_TW)
		t = KPR_NAT_TW_TIMEOUT;
	else if (rf->flags & KPR_CT_F_FIN_SEEN)
		t = KPR_CT_CLOSING_TIMEOUT;
	else
		t = rf->peer.proto == IPPROTO_TCP ? n->cfg->ct_timeout_tcp : n->cfg->ct_timeout_udp;
	if (stale(rf->last_seen, n->now, t))
		return 0;
	if (rf->svc_id)
		n->snat++;
	else
		n->masq++;
	return 0;
}

static void print_list(const char *key, const char *label, const struct kpr_cidr_list *l)
{
	char buf[KPR_ADDRSTRLEN + 8];

	out_text("%-24s", label);
	out_arr_open(key);
	for (size_t i = 0; i < l->n; i++)
		out_str("cidr", i ? ", %s" : "%s", kpr_fmt_cidr(&l->v[i], buf, sizeof(buf)));
	out_arr_close();
	out_text("%s\n", l->n ? "" : "(none)");
}

static void print_ip(const char *key, const char *label, const union kpr_addr *a, __u8 family)
{
	char s[KPR_ADDRSTRLEN];

	out_text("%-24s", label);
	if (addr_zero(a)) {
		out_null(key);
		out_text("the device's address\n");
	} else {
		out_str(key, "%s\n", kpr_fmt_addr(a, family, s, sizeof(s)));
	}
}

static int print_counters(struct kpr_state *st, __u8 family)
{
	struct kpr_stats out, rep;
	char key[8];
	int ret;

	ret = kpr_svc_stats(st, KPR_STATS_MASQ, family, &out);
	if (!ret)
		ret = kpr_svc_stats(st, KPR_STATS_MASQ, KPR_MASQ_ST_REPLY | family, &rep);
	if (ret)
		return ret;
	snprintf(key, sizeof(key), "ipv%u", family);
	out_obj_open(key);
	out_text("IPv%-21u", family);
	out_uint("flows", "flows %llu", out.flows);
	out_uint("packets", ", packets out %llu", out.packets);
	out_uint("bytes", " (%llu bytes)", out.bytes);
	out_uint("replies", ", replies %llu", rep.packets);
	out_uint("reply_bytes", " (%llu bytes)", rep.bytes);
	out_obj_open("drops");
	out_uint("no_port", ", drops: no port %llu", out.nat_fail);
	out_uint("no_address", ", no address %llu\n", out.drops - out.nat_fail);
	out_obj_close();
	out_obj_close();
	return 0;
}

int kpr_masq_print(struct kpr_state *st, const struct kpr_masq_view *v, bool counters)
{
	struct nat_count nc = { 0 };
	struct kpr_config cfg;
	struct timespec ts;
	int ret;

	out_bool("ipv4", NULL, v->m.flags & KPR_MASQ_V4);
	out_text("%-24s%s\n", "IPv4 masquerade:", v->m.flags & KPR_MASQ_V4 ? "on" : "off");
	out_bool("ipv6", NULL, v->m.flags & KPR_MASQ_V6);
	out_text("%-24s%s\n", "IPv6 masquerade:", v->m.flags & KPR_MASQ_V6 ? "on" : "off");
	out_text("%-24s", "Devices:");
	out_bool("all_devices", NULL, !v->m.n_devs);
	out_arr_open("devices");
	for (__u32 i = 0; i < v->m.n_devs && i < KPR_MASQ_MAX_DEVS; i++) {
		char name[IF_NAMESIZE];

		if (!if_indextoname(v->m.ifindex[i], name))
			snprintf(name, sizeof(name), "#%u", v->m.ifindex[i]);
		out_str("dev", i ? ", %s" : "%s", name);
	}
	out_arr_close();
	out_text("%s\n", v->m.n_devs ? "" : "every attached device");
	print_ip("masq_ip4", "Masquerade IPv4 from:", &v->m.masq_ip4, KPR_FAM_V4);
	print_ip("masq_ip6", "Masquerade IPv6 from:", &v->m.masq_ip6, KPR_FAM_V6);
	print_list("pod_cidrs", "Pod CIDRs:", &v->pod);
	print_list("non_masq_cidrs", "Non-masquerade CIDRs:", &v->nonmasq);
	if (!counters)
		return 0;

	out_obj_open("counters");
	ret = print_counters(st, KPR_FAM_V4);
	if (!ret)
		ret = print_counters(st, KPR_FAM_V6);
	out_obj_close();
	if (ret)
		return ret;
	ret = kpr_config_read(st, &cfg);
	if (ret)
		return ret;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	nc.cfg = &cfg;
	nc.now = (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
	ret = kpr_map_walk(st->nat, count_slot, &nc);
	if (ret)
		return ret;
	out_obj_open("nat_ports");
	out_text("%-24s", "NAT ports in use:");
	out_uint("masquerade", "masquerade %llu", nc.masq);
	out_uint("snat", ", node-port SNAT %llu", nc.snat);
	out_uint("min", " (range %llu", cfg.nat_port_min);
	out_uint("max", "-%llu)\n", cfg.nat_port_max);
	out_obj_close();
	return 0;
}
