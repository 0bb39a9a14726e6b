// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * kp-cleanup's planning against the real dumps of tests/fixtures/kube-proxy
 * and its oracle, the restore inputs it computes, and the IPVS netlink
 * messages against the layout of linux/ip_vs.h. No privileges needed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/genetlink.h>
#include <linux/netfilter.h>
#include <linux/ip_vs.h>
#include <libmnl/libmnl.h>

#include "nl/ipvs.h"
#include "kpcleanup/kpcleanup.h"
#include "nl/rtnl.h"
#include "tap.h"

/* tap.h's ok() evaluates its condition twice: conditions here have effects. */
#define check(cond, ...) do {						\
	bool check_ = (cond);						\
	ok(check_, __VA_ARGS__);					\
} while (0)

#ifndef FIXTURES
#define FIXTURES "tests/fixtures/kube-proxy"
#endif

static char *slurp(const char *name)
{
	char path[512];
	FILE *f;
	char *s;
	long n;

	snprintf(path, sizeof(path), "%s/%s", FIXTURES, name);
	f = fopen(path, "r");
	if (!f) {
		printf("Bail out! cannot read %s (run from the top of the tree)\n", path);
		exit(1);
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = calloc(1, (size_t)n + 1);
	if (fread(s, 1, (size_t)n, f) != (size_t)n)
		exit(1);
	fclose(f);
	return s;
}

static int plan_text(const char *text, struct kpc_dump *d)
{
	if (kpc_dump_parse(text, d))
		return -1;
	return kpc_plan(d);
}

static int plan_file(const char *name, struct kpc_dump *d)
{
	char *s = slurp(name);
	int n = plan_text(s, d);

	free(s);
	return n;
}

/* What stays of table T after the plan, as iptables-save would list it. */
static void kept_text(const struct kpc_table *t, struct kpr_buf *b)
{
	for (size_t i = 0; i < t->nchains; i++)
		if (!t->chains[i].remove)
			kpr_buf_printf(b, ":%s\n", t->chains[i].name);
	for (size_t i = 0; i < t->nrules; i++) {
		const struct kpc_rule *r = &t->rules[i];

		if (!r->remove && !kpc_chain_find(t, r->chain)->remove)
			kpr_buf_printf(b, "-A %s %s\n", r->chain, r->spec);
	}
}

static void all_text(const struct kpc_table *t, struct kpr_buf *b)
{
	for (size_t i = 0; i < t->nchains; i++)
		kpr_buf_printf(b, ":%s\n", t->chains[i].name);
	for (size_t i = 0; i < t->nrules; i++)
		kpr_buf_printf(b, "-A %s %s\n", t->rules[i].chain, t->rules[i].spec);
}

static void test_oracle(void)
{
	struct kpc_dump in, oracle;
	char *s = slurp("kube-proxy-iptables-save.expected-after-kube-proxy-cleanup.txt");
	int n = plan_file("kube-proxy-iptables-save.txt", &in);

	check(n > 0, "the iptables-mode dump has kube-proxy leftovers (%d)", n);
	check(kpc_dump_parse(s, &oracle) == 0 && oracle.ntables == 3, "the oracle parses");
	for (size_t i = 0; i < oracle.ntables; i++) {
		struct kpc_table *t = kpc_table_find(&in, oracle.tables[i].name);
		struct kpr_buf got = {}, want = {};

		if (!t) {
			check(0, "table %s of the oracle is in the input", oracle.tables[i].name);
			continue;
		}
		kept_text(t, &got);
		all_text(&oracle.tables[i], &want);
		check(got.s && want.s && !strcmp(got.s, want.s), "table %s after the plan equals the oracle",
		   t->name);
		if (got.s && want.s && strcmp(got.s, want.s))
			printf("# got:\n%s# want:\n%s", got.s, want.s);
		kpr_buf_free(&got);
		kpr_buf_free(&want);
	}
	kpc_dump_free(&in);
	kpc_dump_free(&oracle);
	free(s);
}

static bool removed(const struct kpc_dump *d, const char *table, const char *chain)
{
	struct kpc_table *t = kpc_table_find(d, table);
	struct kpc_chain *c = t ? kpc_chain_find(t, chain) : NULL;

	return c && c->remove;
}

static bool kept(const struct kpc_dump *d, const char *table, const char *chain)
{
	struct kpc_table *t = kpc_table_find(d, table);
	struct kpc_chain *c = t ? kpc_chain_find(t, chain) : NULL;

	return c && !c->remove;
}

static void test_kubelet_only(void)
{
	struct kpc_dump d;

	check(plan_file("kubelet-iptables-save.txt", &d) == 0,
	   "kubelet >= 1.28 alone: nothing is kube-proxy's");
	kpc_dump_free(&d);
	check(plan_file("kubelet-legacy-iptables-save.txt", &d) == 0,
	   "kubelet < 1.28 alone: its KUBE-MARK-MASQ and KUBE-POSTROUTING stay");
	kpc_dump_free(&d);
}

static void test_ipvs(void)
{
	struct kpc_dump d;
	int n = plan_file("kube-proxy-ipvs-iptables-save.txt", &d);
	struct kpc_table *f = kpc_table_find(&d, "filter");
	int jumps, chains;

	check(n > 0, "IPVS mode: leftovers found");
	check(removed(&d, "nat", "KUBE-SERVICES") && removed(&d, "nat", "KUBE-NODE-PORT") &&
	   removed(&d, "nat", "KUBE-LOAD-BALANCER") && removed(&d, "nat", "KUBE-POSTROUTING") &&
	   removed(&d, "nat", "KUBE-MARK-MASQ") && removed(&d, "nat", "KUBE-FIREWALL"),
	   "IPVS mode: its nat chains go");
	check(kept(&d, "nat", "KUBE-MARK-DROP") && kept(&d, "nat", "DOCKER") &&
	   kept(&d, "filter", "KUBE-FIREWALL"), "IPVS mode: kubelet's and docker's chains stay");
	kpc_table_counts(f, &jumps, &chains);
	check(removed(&d, "filter", "KUBE-FORWARD") && jumps == 1 && chains == 1,
	   "IPVS mode: filter loses KUBE-FORWARD and its one jump");
	kpc_dump_free(&d);

	n = plan_file("kube-proxy-ipvs-iptables-save-nat-2022-calico.txt", &d);
	check(removed(&d, "nat", "KUBE-SVC-ERIFXISQEP7F7OF4") &&
	   removed(&d, "nat", "KUBE-SEP-2QTYKTXAEZZXTHRU") && removed(&d, "nat", "KUBE-NODEPORTS"),
	   "moved to IPVS: stale KUBE-SVC-/KUBE-SEP- chains go");
	check(kept(&d, "nat", "cali-nat-outgoing") && kept(&d, "nat", "cali-PREROUTING") &&
	   kept(&d, "nat", "KUBE-KUBELET-CANARY"), "Calico's chains and kubelet's canary stay");
	kpc_table_counts(kpc_table_find(&d, "nat"), &jumps, &chains);
	check(jumps == 3, "three jumps from PREROUTING, OUTPUT, POSTROUTING go (%d)", jumps);
	kpc_dump_free(&d);
}

static const char own_rules[] =
	"*filter\n"
	":INPUT ACCEPT [0:0]\n"
	":FORWARD ACCEPT [0:0]\n"
	":OUTPUT ACCEPT [0:0]\n"
	":KUBE-ROUTER-INPUT - [0:0]\n"
	":MY-KUBE-AUDIT - [0:0]\n"
	":KUBE-POD-FW-ABC - [0:0]\n"
	"-A INPUT -m comment --comment \"kube-router netpol\" -j KUBE-ROUTER-INPUT\n"
	"-A INPUT -m comment --comment \"kubernetes service portals audit\" -j MY-KUBE-AUDIT\n"
	"-A FORWARD -m comment --comment \"kubernetes pods\" -j KUBE-POD-FW-ABC\n"
	"-A KUBE-ROUTER-INPUT -d 10.96.0.0/12 -m comment --comment \"allow traffic to kubernetes cluster IPs\" -j RETURN\n"
	"-A MY-KUBE-AUDIT -j LOG --log-prefix \"KUBE \"\n"
	"COMMIT\n";

static void test_own(void)
{
	struct kpc_dump d;
	struct kpr_buf b = {};

	check(plan_text(own_rules, &d) == 0, "chains that merely contain KUBE, comments on kubernetes: kept");
	check(kpc_delta(&d, &b) == 0 && b.len == 0, "... and the delta is empty");
	kpc_dump_free(&d);
	kpr_buf_free(&b);
}

static const char shared_use[] =
	"*nat\n"
	":PREROUTING ACCEPT [0:0]\n"
	":POSTROUTING ACCEPT [0:0]\n"
	":KUBE-SERVICES - [0:0]\n"
	":KUBE-MARK-MASQ - [0:0]\n"
	":HOSTPORTS - [0:0]\n"
	"-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n"
	"-A PREROUTING -m comment --comment \"my hostports\" -j HOSTPORTS\n"
	"-A HOSTPORTS -p tcp --dport 80 -j KUBE-MARK-MASQ\n"
	"-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000\n"
	"-A KUBE-SERVICES -j KUBE-MARK-MASQ\n"
	"COMMIT\n";

static void test_delta_and_undo(void)
{
	struct kpc_dump d, cur;
	struct kpr_buf b = {};
	int n;

	check(plan_text(shared_use, &d) == 2, "a chain another rule still uses stays: 2 to remove");
	check(kept(&d, "nat", "KUBE-MARK-MASQ"), "KUBE-MARK-MASQ kept: HOSTPORTS jumps to it");
	kpc_delta(&d, &b);
	check(b.s && !strcmp(b.s, "*nat\n"
		 "-D PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n"
		 "-F KUBE-SERVICES\n"
		 "-X KUBE-SERVICES\n"
		 "COMMIT\n"), "the delta: -D the jump as saved, -F and -X the chain");
	kpr_buf_free(&b);

	/* The table as the delta leaves it. */
	kpc_dump_parse("*nat\n:PREROUTING ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n"
		       ":KUBE-MARK-MASQ - [0:0]\n:HOSTPORTS - [0:0]\n"
		       "-A PREROUTING -m comment --comment \"my hostports\" -j HOSTPORTS\n"
		       "-A HOSTPORTS -p tcp --dport 80 -j KUBE-MARK-MASQ\n"
		       "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000\nCOMMIT\n", &cur);
	check(kpc_undo(&d, &cur, &b, &n) == 0 && n == 2, "undo puts back 2 things");
	check(b.s && !strcmp(b.s, "*nat\n"
		 ":KUBE-SERVICES - [0:0]\n"
		 "-A KUBE-SERVICES -j KUBE-MARK-MASQ\n"
		 "-I PREROUTING 1 -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n"
		 "COMMIT\n"), "undo: the chain with its rules, the jump at its place");
	kpr_buf_free(&b);
	kpc_dump_free(&cur);

	kpc_dump_parse(shared_use, &cur);
	check(kpc_undo(&d, &cur, &b, &n) == 0 && n == 0 && b.len == 0,
	   "undo onto the original changes nothing");
	kpr_buf_free(&b);
	kpc_dump_free(&cur);
	kpc_dump_free(&d);
}

static void test_undo_fixture(void)
{
	struct kpc_dump in, cur;
	char *s = slurp("kube-proxy-iptables-save.expected-after-kube-proxy-cleanup.txt");
	struct kpr_buf b = {};
	int n, planned = plan_file("kube-proxy-iptables-save.txt", &in);

	kpc_dump_parse(s, &cur);
	check(kpc_undo(&in, &cur, &b, &n) == 0 && n == planned,
	   "undo onto the oracle puts back all %d (%d)", planned, n);
	check(b.s && strstr(b.s, "-I INPUT 1 -m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL\n") &&
	   strstr(b.s, "-I INPUT 3 -m conntrack --ctstate NEW -m comment --comment \"kubernetes externally-visible service portals\" -j KUBE-EXTERNAL-SERVICES\n") &&
	   strstr(b.s, "-I FORWARD 4 -m conntrack") && strstr(b.s, ":KUBE-SVC-XFIT55N4IPARHPG5 - [0:0]\n"),
	   "undo: jumps at their saved positions, chains declared");
	kpr_buf_free(&b);
	kpc_dump_free(&in);
	kpc_dump_free(&cur);
	free(s);
}

static void test_parse_errors(void)
{
	struct kpc_dump d;

	check(kpc_dump_parse("*nat\n:PREROUTING ACCEPT [0:0]\n", &d) == -EINVAL, "a table without COMMIT is refused");
	check(kpc_dump_parse("*nat\n-A NOPE -j ACCEPT\nCOMMIT\n", &d) == -EINVAL, "a rule of an undeclared chain is refused");
	check(kpc_dump_parse("", &d) == 0 && d.ntables == 0, "empty text: no tables");
}

/* kp-cleanup's --only, as its option table declares it */
static int parse_only(const char *s, unsigned int *k)
{
	static const struct kpr_opt only = {
		"only", 0, "KINDS", NULL, 0, .type = KPR_OPT_ENUM_LIST, .names = kpc_kinds,
	};
	struct kpr_optval v;
	char err[256];

	if (kpr_opt_parse(&only, s, &v, err, sizeof(err)))
		return -EINVAL;
	*k = (unsigned int)v.u;
	return 0;
}

static void test_only(void)
{
	unsigned int k;

	check(parse_only("iptables,ipvs,ipset,nft,link", &k) == 0 && k == KPC_ALL, "--only all kinds");
	check(parse_only("nft", &k) == 0 && k == KPC_NFT, "--only nft");
	check(parse_only("iptables,", &k) == -EINVAL, "--only with a trailing comma is refused");
	check(parse_only("", &k) == -EINVAL && parse_only("ipvsx", &k) == -EINVAL,
	   "--only with an unknown kind is refused");
}

static void test_ipsets(void)
{
	static const char *const yes[] = {
		"KUBE-CLUSTER-IP", "KUBE-LOOP-BACK", "KUBE-NODE-PORT-TCP", "KUBE-NODE-PORT-LOCAL-SCTP-HASH",
		"KUBE-LOAD-BALANCER-SOURCE-CIDR", "KUBE-EXTERNAL-IP-LOCAL", "KUBE-HEALTH-CHECK-NODE-PORT",
		"KUBE-IPVS-IPS", "KUBE-6-CLUSTER-IP", "KUBE-6-LOAD-BALANCER-SOURCE-CID",
		"KUBE-6-NODE-PORT-LOCAL-SCTP-HAS", "KUBE-6-HEALTH-CHECK-NODE-PORT",
	};
	static const char *const no[] = {
		"cali40all-ipam-pools", "KUBE-ROUTER-PODS", "KUBE-DST-ABC", "MY-KUBE-SET",
		"KUBE-6-ROUTER-PODS", "KUBE-CLUSTER-IPS",
	};
	bool all = true;

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (!kpc_ipset_is_kube_proxy(yes[i])) {
			printf("# not recognised: %s\n", yes[i]);
			all = false;
		}
	check(all, "kube-proxy's ipsets, IPv6 and cut to 31 characters, are recognised");
	all = true;
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (kpc_ipset_is_kube_proxy(no[i])) {
			printf("# wrongly taken: %s\n", no[i]);
			all = false;
		}
	check(all, "kube-router's, Calico's and users' ipsets are not");
}

static void test_set_in_use(void)
{
	struct kpc_dump d;
	char where[64] = "";

	plan_file("kube-proxy-ipvs-iptables-save-nat-2022-calico.txt", &d);
	check(!kpc_set_in_use(&d, "KUBE-CLUSTER-IP", where, sizeof(where)),
	   "KUBE-CLUSTER-IP is used only by rules that go");
	check(kpc_set_in_use(&d, "cali40masq-ipam-pools", where, sizeof(where)) &&
	   !strcmp(where, "nat cali-nat-outgoing"), "Calico's set is used by a rule that stays (%s)", where);
	kpc_dump_free(&d);
}

/* ---- IPVS messages against linux/ip_vs.h ---- */

static const struct nlattr *nested(const struct nlmsghdr *nlh, uint16_t type)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr))
		if (mnl_attr_get_type(a) == type)
			return a;
	return NULL;
}

static const struct nlattr *member(const struct nlattr *nest, uint16_t type)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, nest)
		if (mnl_attr_get_type(a) == type)
			return a;
	return NULL;
}

static bool attr_is(const struct nlattr *nest, uint16_t type, uint16_t len, const void *val)
{
	const struct nlattr *a = member(nest, type);

	return a && mnl_attr_get_payload_len(a) == len && !memcmp(mnl_attr_get_payload(a), val, len);
}

static void test_ipvs_msgs(void)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct kpr_ipvs_svc s = { .af = AF_INET, .proto = IPPROTO_TCP, .port = 443, .sched = "rr" }, back;
	struct kpr_ipvs_dest d = { .af = AF_INET, .port = 6443, .fwd = IP_VS_CONN_F_MASQ, .weight = 1 }, dback;
	struct ip_vs_flags flags = { .flags = 0, .mask = ~0U };
	const struct nlattr *svc, *dst;
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;
	uint8_t addr[16] = { 10, 96, 0, 1 }, daddr[16] = { 192, 168, 157, 133 };
	uint16_t v16;
	uint32_t v32;

	inet_pton(AF_INET, "10.96.0.1", s.addr);
	inet_pton(AF_INET, "192.168.157.133", d.addr);

	nlh = kpr_ipvs_msg_family(buf);
	g = mnl_nlmsg_get_payload(nlh);
	check(nlh->nlmsg_type == GENL_ID_CTRL && g->cmd == CTRL_CMD_GETFAMILY &&
	   mnl_attr_get_type(nested(nlh, CTRL_ATTR_FAMILY_NAME)) == CTRL_ATTR_FAMILY_NAME &&
	   !strcmp(mnl_attr_get_str(nested(nlh, CTRL_ATTR_FAMILY_NAME)), IPVS_GENL_NAME),
	   "family lookup asks the controller for \"IPVS\"");

	nlh = kpr_ipvs_msg_svc(buf, 42, IPVS_CMD_NEW_SERVICE, &s);
	g = mnl_nlmsg_get_payload(nlh);
	check(nlh->nlmsg_type == 42 && (nlh->nlmsg_flags & NLM_F_REQUEST) && g->cmd == IPVS_CMD_NEW_SERVICE &&
	   g->version == IPVS_GENL_VERSION, "NEW_SERVICE: family id, command, version %d", IPVS_GENL_VERSION);
	svc = nested(nlh, IPVS_CMD_ATTR_SERVICE);
	check(svc != NULL, "NEW_SERVICE: one nested IPVS_CMD_ATTR_SERVICE");
	v16 = AF_INET;
	check(attr_is(svc, IPVS_SVC_ATTR_AF, 2, &v16), "IPVS_SVC_ATTR_AF: u16 AF_INET");
	v16 = IPPROTO_TCP;
	check(attr_is(svc, IPVS_SVC_ATTR_PROTOCOL, 2, &v16), "IPVS_SVC_ATTR_PROTOCOL: u16 TCP");
	check(attr_is(svc, IPVS_SVC_ATTR_ADDR, sizeof(union nf_inet_addr), addr),
	   "IPVS_SVC_ATTR_ADDR: union nf_inet_addr (%zu bytes)", sizeof(union nf_inet_addr));
	v16 = htons(443);
	check(attr_is(svc, IPVS_SVC_ATTR_PORT, 2, &v16), "IPVS_SVC_ATTR_PORT: u16, network order");
	check(attr_is(svc, IPVS_SVC_ATTR_SCHED_NAME, 3, "rr"), "IPVS_SVC_ATTR_SCHED_NAME: NUL-terminated");
	check(attr_is(svc, IPVS_SVC_ATTR_FLAGS, sizeof(struct ip_vs_flags), &flags),
	   "IPVS_SVC_ATTR_FLAGS: struct ip_vs_flags (%zu bytes)", sizeof(struct ip_vs_flags));
	v32 = 0;
	check(attr_is(svc, IPVS_SVC_ATTR_TIMEOUT, 4, &v32) && attr_is(svc, IPVS_SVC_ATTR_NETMASK, 4, &v32),
	   "IPVS_SVC_ATTR_TIMEOUT and _NETMASK: u32");
	check(!member(svc, IPVS_SVC_ATTR_FWMARK), "no fwmark for an address service");
	check(kpr_ipvs_parse_svc(nlh, &back) == 0 && back.af == AF_INET && back.proto == IPPROTO_TCP &&
	   back.port == 443 && !memcmp(back.addr, s.addr, 16) && !strcmp(back.sched, "rr"),
	   "the service parses back");

	nlh = kpr_ipvs_msg_svc(buf, 42, IPVS_CMD_DEL_SERVICE, &s);
	svc = nested(nlh, IPVS_CMD_ATTR_SERVICE);
	check(svc && member(svc, IPVS_SVC_ATTR_ADDR) && !member(svc, IPVS_SVC_ATTR_SCHED_NAME) &&
	   !(nlh->nlmsg_flags & NLM_F_DUMP), "DEL_SERVICE names the service only");

	nlh = kpr_ipvs_msg_svc(buf, 42, IPVS_CMD_GET_SERVICE, NULL);
	check((nlh->nlmsg_flags & NLM_F_DUMP) && !nested(nlh, IPVS_CMD_ATTR_SERVICE),
	   "GET_SERVICE without a service is a dump");

	nlh = kpr_ipvs_msg_dest(buf, 42, IPVS_CMD_NEW_DEST, &s, &d);
	g = mnl_nlmsg_get_payload(nlh);
	dst = nested(nlh, IPVS_CMD_ATTR_DEST);
	check(g->cmd == IPVS_CMD_NEW_DEST && nested(nlh, IPVS_CMD_ATTR_SERVICE) && dst,
	   "NEW_DEST: the service and the nested IPVS_CMD_ATTR_DEST");
	check(attr_is(dst, IPVS_DEST_ATTR_ADDR, 16, daddr), "IPVS_DEST_ATTR_ADDR: 16 bytes");
	v16 = htons(6443);
	check(attr_is(dst, IPVS_DEST_ATTR_PORT, 2, &v16), "IPVS_DEST_ATTR_PORT: u16, network order");
	v32 = IP_VS_CONN_F_MASQ;
	check(attr_is(dst, IPVS_DEST_ATTR_FWD_METHOD, 4, &v32), "IPVS_DEST_ATTR_FWD_METHOD: u32 masq");
	v32 = 1;
	check(attr_is(dst, IPVS_DEST_ATTR_WEIGHT, 4, &v32), "IPVS_DEST_ATTR_WEIGHT: u32");
	v32 = 0;
	check(attr_is(dst, IPVS_DEST_ATTR_U_THRESH, 4, &v32) && attr_is(dst, IPVS_DEST_ATTR_L_THRESH, 4, &v32),
	   "IPVS_DEST_ATTR_U_THRESH and _L_THRESH: u32");
	v16 = AF_INET;
	check(attr_is(dst, IPVS_DEST_ATTR_ADDR_FAMILY, 2, &v16), "IPVS_DEST_ATTR_ADDR_FAMILY: u16");
	check(kpr_ipvs_parse_dest(nlh, &dback) == 0 && dback.port == 6443 && dback.weight == 1 &&
	   !memcmp(dback.addr, d.addr, 16), "the real server parses back");

	nlh = kpr_ipvs_msg_dest(buf, 42, IPVS_CMD_GET_DEST, &s, NULL);
	check((nlh->nlmsg_flags & NLM_F_DUMP) && nested(nlh, IPVS_CMD_ATTR_SERVICE) &&
	   !nested(nlh, IPVS_CMD_ATTR_DEST), "GET_DEST: a dump of one service's servers");

	s.fwmark = 7;
	nlh = kpr_ipvs_msg_svc(buf, 42, IPVS_CMD_DEL_SERVICE, &s);
	svc = nested(nlh, IPVS_CMD_ATTR_SERVICE);
	v32 = 7;
	check(attr_is(svc, IPVS_SVC_ATTR_FWMARK, 4, &v32) && !member(svc, IPVS_SVC_ATTR_ADDR),
	   "a fwmark service is named by its mark");
}

static void test_ipvs_save(void)
{
	static const char text[] =
		"-A -t 10.96.0.1:443 -s rr\n"
		"-a -t 10.96.0.1:443 -r 192.168.157.133:6443 -m -w 1\n"
		"-A -u [fd00::a]:53 -s rr -p 10800\n"
		"-a -u [fd00::a]:53 -r [fd00:1::5]:53 -m -w 1\n"
		"-a -u [fd00::a]:53 -r [fd00:1::6]:53 -m -w 2 -x 100\n"
		"-A -f 42 -s wlc\n";
	struct kpr_ipvs_svc *svcs;
	struct kpr_buf b = {};
	size_t n;

	check(kpr_ipvs_restore_parse(text, &svcs, &n) == 0 && n == 3 && svcs[0].ndests == 1 &&
	   svcs[1].ndests == 2, "ipvsadm-save text parses: 3 services");
	check(kpr_ipvs_save(svcs, n, &b) == 0 && b.s && !strcmp(b.s, text), "and prints back the same");
	if (b.s && strcmp(b.s, text))
		printf("# got:\n%s", b.s);
	kpr_buf_free(&b);
	kpr_ipvs_free(svcs, n);
	check(kpr_ipvs_restore_parse("-a -t 10.0.0.1:80 -r 10.0.0.2:80 -m -w 1\n", &svcs, &n) == -EINVAL,
	   "a real server of no service is refused");
	/* what the fuzzer (tests/fuzz/fuzz_ipvs.c) found accepted and then
	 * saved as another service */
	static const char *const bad[] = {
		"-A -u [fd00::a]:53 -s -A -f 46 -p 30\n",	/* -A as a scheduler, two services */
		"-A -t 10.0.0.1:80 -f 7\n",			/* two services on one line */
		"-A -f 24 -M 3 -s sh\n",			/* a netmask, not persistent */
		"-A -f 24 -s rr -s sh\n",			/* an option twice */
		"-A -6 -t 10.0.0.1:80 -s rr\n",			/* -6 beside an IPv4 address */
		"-A -t 10.0.0.1:80 -m -w 1\n",			/* a real server's options */
		"-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.0.2:80 -p 5\n",
		NULL,
	};
	for (int i = 0; bad[i]; i++)
		check(kpr_ipvs_restore_parse(bad[i], &svcs, &n) == -EINVAL,
		      "refused: %.*s", (int)strcspn(bad[i], "\n"), bad[i]);
}

static void test_link_text(void)
{
	struct kpr_link l;
	struct kpr_buf b = {};
	const char *text = "kind dummy\nstate down\naddr 10.96.0.1/32\naddr fd00::a/128\n";

	check(kpr_link_parse("kube-ipvs0", text, &l) == 0 && l.naddrs == 2 && !l.up &&
	   !strcmp(l.kind, "dummy"), "the link backup parses");
	check(kpr_link_save(&l, &b) == 0 && !strcmp(b.s, text), "and prints back the same");
	kpr_link_free(&l);
	kpr_buf_free(&b);
	check(kpr_link_parse("kube-ipvs0", "kind dummy\naddr 10.96.0.1\n", &l) == -EINVAL,
	   "an address without a prefix length is refused");
}

int main(void)
{
	test_only();
	test_parse_errors();
	test_oracle();
	test_kubelet_only();
	test_ipvs();
	test_own();
	test_delta_and_undo();
	test_undo_fixture();
	test_ipsets();
	test_set_in_use();
	test_ipvs_msgs();
	test_ipvs_save();
	test_link_text();
	return tap_done();
}
