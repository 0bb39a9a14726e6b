// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* IPVS over generic netlink, and its ipvsadm-save text: see ipvs.h. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/genetlink.h>
#include <linux/ip_vs.h>

#include "core/buf.h"
#include "nl/ipvs.h"
#include "nl/nl.h"
#include "core/util.h"

static struct nlmsghdr *genl_start(char *buf, uint16_t family, uint8_t cmd,
				   uint8_t version, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = family;
	nlh->nlmsg_flags = NLM_F_REQUEST | (flags ? flags : NLM_F_ACK);
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = version;
	return nlh;
}

struct nlmsghdr *kpr_ipvs_msg_family(char *buf)
{
	struct nlmsghdr *nlh = genl_start(buf, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, 0);

	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, IPVS_GENL_NAME);
	return nlh;
}

/* The attributes that name a service; with FULL those a new one needs. */
static void put_svc(struct nlmsghdr *nlh, const struct kpr_ipvs_svc *s, bool full)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, IPVS_CMD_ATTR_SERVICE);

	mnl_attr_put_u16(nlh, IPVS_SVC_ATTR_AF, s->af);
	if (s->fwmark) {
		mnl_attr_put_u32(nlh, IPVS_SVC_ATTR_FWMARK, s->fwmark);
	} else {
		mnl_attr_put_u16(nlh, IPVS_SVC_ATTR_PROTOCOL, s->proto);
		mnl_attr_put(nlh, IPVS_SVC_ATTR_ADDR, sizeof(s->addr), s->addr);
		mnl_attr_put_u16(nlh, IPVS_SVC_ATTR_PORT, htons(s->port));
	}
	if (full) {
		struct ip_vs_flags f = { .flags = s->flags, .mask = ~0U };

		mnl_attr_put_strz(nlh, IPVS_SVC_ATTR_SCHED_NAME, s->sched);
		mnl_attr_put(nlh, IPVS_SVC_ATTR_FLAGS, sizeof(f), &f);
		mnl_attr_put_u32(nlh, IPVS_SVC_ATTR_TIMEOUT, s->timeout);
		mnl_attr_put_u32(nlh, IPVS_SVC_ATTR_NETMASK, s->netmask);
	}
	mnl_attr_nest_end(nlh, nest);
}

struct nlmsghdr *kpr_ipvs_msg_svc(char *buf, uint16_t family, uint8_t cmd,
				  const struct kpr_ipvs_svc *s)
{
	struct nlmsghdr *nlh;

	nlh = genl_start(buf, family, cmd, IPVS_GENL_VERSION,
			 cmd == IPVS_CMD_GET_SERVICE && !s ? NLM_F_DUMP : 0);
	if (s)
		put_svc(nlh, s, cmd == IPVS_CMD_NEW_SERVICE);
	return nlh;
}

struct nlmsghdr *kpr_ipvs_msg_dest(char *buf, uint16_t family, uint8_t cmd,
				   const struct kpr_ipvs_svc *s, const struct kpr_ipvs_dest *d)
{
	struct nlmsghdr *nlh;
	struct nlattr *nest;

	nlh = genl_start(buf, family, cmd, IPVS_GENL_VERSION,
			 cmd == IPVS_CMD_GET_DEST ? NLM_F_DUMP : 0);
	put_svc(nlh, s, false);
	if (!d)
		return nlh;
	nest = mnl_attr_nest_start(nlh, IPVS_CMD_ATTR_DEST);
	mnl_attr_put(nlh, IPVS_DEST_ATTR_ADDR, sizeof(d->addr), d->addr);
	mnl_attr_put_u16(nlh, IPVS_DEST_ATTR_PORT, htons(d->port));
	if (cmd == IPVS_CMD_NEW_DEST) {
		mnl_attr_put_u32(nlh, IPVS_DEST_ATTR_FWD_METHOD, d->fwd & IP_VS_CONN_F_FWD_MASK);
		mnl_attr_put_u32(nlh, IPVS_DEST_ATTR_WEIGHT, d->weight);
		mnl_attr_put_u32(nlh, IPVS_DEST_ATTR_U_THRESH, d->u_thresh);
		mnl_attr_put_u32(nlh, IPVS_DEST_ATTR_L_THRESH, d->l_thresh);
	}
	mnl_attr_put_u16(nlh, IPVS_DEST_ATTR_ADDR_FAMILY, d->af);
	mnl_attr_nest_end(nlh, nest);
	return nlh;
}

/* The nested attribute TYPE at the top of a reply, its members in tb. */
static int parse_nest(const struct nlmsghdr *nlh, uint16_t type, const struct nlattr **tb,
		      int max)
{
	const struct nlattr *a;

	memset(tb, 0, (size_t)(max + 1) * sizeof(*tb));
	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		const struct nlattr *in;

		if (mnl_attr_get_type(a) != type)
			continue;
		mnl_attr_for_each_nested(in, a)
			if (mnl_attr_get_type(in) <= max)
				tb[mnl_attr_get_type(in)] = in;
		return 0;
	}
	return -EPROTO;
}

static uint32_t u32_or0(const struct nlattr *a)
{
	return a ? mnl_attr_get_u32(a) : 0;
}

static void get_addr(const struct nlattr *a, uint8_t *addr)
{
	uint16_t len = a ? mnl_attr_get_payload_len(a) : 0;

	memset(addr, 0, 16);
	memcpy(addr, mnl_attr_get_payload(a), len < 16 ? len : 16);
}

int kpr_ipvs_parse_svc(const struct nlmsghdr *nlh, struct kpr_ipvs_svc *s)
{
	const struct nlattr *tb[IPVS_SVC_ATTR_MAX + 1];

	memset(s, 0, sizeof(*s));
	if (parse_nest(nlh, IPVS_CMD_ATTR_SERVICE, tb, IPVS_SVC_ATTR_MAX) || !tb[IPVS_SVC_ATTR_AF])
		return -EPROTO;
	s->af = mnl_attr_get_u16(tb[IPVS_SVC_ATTR_AF]);
	s->fwmark = u32_or0(tb[IPVS_SVC_ATTR_FWMARK]);
	if (tb[IPVS_SVC_ATTR_PROTOCOL])
		s->proto = mnl_attr_get_u16(tb[IPVS_SVC_ATTR_PROTOCOL]);
	if (tb[IPVS_SVC_ATTR_ADDR])
		get_addr(tb[IPVS_SVC_ATTR_ADDR], s->addr);
	if (tb[IPVS_SVC_ATTR_PORT])
		s->port = ntohs(mnl_attr_get_u16(tb[IPVS_SVC_ATTR_PORT]));
	if (tb[IPVS_SVC_ATTR_SCHED_NAME])
		snprintf(s->sched, sizeof(s->sched), "%s",
			 mnl_attr_get_str(tb[IPVS_SVC_ATTR_SCHED_NAME]));
	if (tb[IPVS_SVC_ATTR_FLAGS] &&
	    mnl_attr_get_payload_len(tb[IPVS_SVC_ATTR_FLAGS]) >= sizeof(struct ip_vs_flags))
		s->flags = ((const struct ip_vs_flags *)
			    mnl_attr_get_payload(tb[IPVS_SVC_ATTR_FLAGS]))->flags;
	s->timeout = u32_or0(tb[IPVS_SVC_ATTR_TIMEOUT]);
	s->netmask = u32_or0(tb[IPVS_SVC_ATTR_NETMASK]);
	return 0;
}

int kpr_ipvs_parse_dest(const struct nlmsghdr *nlh, struct kpr_ipvs_dest *d)
{
	const struct nlattr *tb[IPVS_DEST_ATTR_MAX + 1];

	memset(d, 0, sizeof(*d));
	if (parse_nest(nlh, IPVS_CMD_ATTR_DEST, tb, IPVS_DEST_ATTR_MAX) ||
	    !tb[IPVS_DEST_ATTR_ADDR] || !tb[IPVS_DEST_ATTR_PORT])
		return -EPROTO;
	get_addr(tb[IPVS_DEST_ATTR_ADDR], d->addr);
	d->port = ntohs(mnl_attr_get_u16(tb[IPVS_DEST_ATTR_PORT]));
	d->af = tb[IPVS_DEST_ATTR_ADDR_FAMILY] ? mnl_attr_get_u16(tb[IPVS_DEST_ATTR_ADDR_FAMILY]) : 0;
	d->fwd = u32_or0(tb[IPVS_DEST_ATTR_FWD_METHOD]);
	d->weight = u32_or0(tb[IPVS_DEST_ATTR_WEIGHT]);
	d->u_thresh = u32_or0(tb[IPVS_DEST_ATTR_U_THRESH]);
	d->l_thresh = u32_or0(tb[IPVS_DEST_ATTR_L_THRESH]);
	return 0;
}

/* ---- talking to the kernel ---- */

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr))
		if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID)
			*(uint16_t *)data = mnl_attr_get_u16(a);
	return MNL_CB_OK;
}

static int genl_talk(struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	return kpr_nl_request(NETLINK_GENERIC, nlh, cb, data);
}

int kpr_ipvs_family(uint16_t *family)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint16_t id = 0;
	int ret;

	ret = genl_talk(kpr_ipvs_msg_family(buf), family_cb, &id);
	if (ret)
		return ret == -ENOENT ? -ENOENT : ret;
	if (!id)
		return -ENOENT;
	*family = id;
	return 0;
}

struct list_ctx {
	struct kpr_ipvs_svc *svcs;
	size_t n;
	int err;
};

static int svc_cb(const struct nlmsghdr *nlh, void *data)
{
	struct list_ctx *c = data;
	struct kpr_ipvs_svc *s = kpr_push((void **)&c->svcs, &c->n, sizeof(*s));

	if (!s) {
		c->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	if (kpr_ipvs_parse_svc(nlh, s))
		c->n--;		/* not a service: its slot is reused */
	return MNL_CB_OK;
}

static int dest_cb(const struct nlmsghdr *nlh, void *data)
{
	struct kpr_ipvs_svc *s = data;
	struct kpr_ipvs_dest *d = kpr_push((void **)&s->dests, &s->ndests, sizeof(*d));

	if (!d)
		return MNL_CB_ERROR;
	if (kpr_ipvs_parse_dest(nlh, d))
		s->ndests--;	/* not a real server: its slot is reused */
	else if (!d->af)
		d->af = s->af;
	return MNL_CB_OK;
}

int kpr_ipvs_list(uint16_t family, struct kpr_ipvs_svc **svcs, size_t *n)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct list_ctx c = {};
	int ret;

	ret = genl_talk(kpr_ipvs_msg_svc(buf, family, IPVS_CMD_GET_SERVICE, NULL), svc_cb, &c);
	if (!ret && c.err)
		ret = c.err;
	for (size_t i = 0; !ret && i < c.n; i++)
		ret = genl_talk(kpr_ipvs_msg_dest(buf, family, IPVS_CMD_GET_DEST, &c.svcs[i], NULL),
				dest_cb, &c.svcs[i]);
	if (ret) {
		kpr_ipvs_free(c.svcs, c.n);
		return ret;
	}
	*svcs = c.svcs;
	*n = c.n;
	return 0;
}

void kpr_ipvs_free(struct kpr_ipvs_svc *svcs, size_t n)
{
	for (size_t i = 0; svcs && i < n; i++)
		free(svcs[i].dests);
	free(svcs);
}

int kpr_ipvs_del(uint16_t family, const struct kpr_ipvs_svc *s)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int ret = genl_talk(kpr_ipvs_msg_svc(buf, family, IPVS_CMD_DEL_SERVICE, s), NULL, NULL);

	return ret == -ESRCH ? 0 : ret;	/* gone already */
}

int kpr_ipvs_add(uint16_t family, const struct kpr_ipvs_svc *s)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int ret, added = 0;

	ret = genl_talk(kpr_ipvs_msg_svc(buf, family, IPVS_CMD_NEW_SERVICE, s), NULL, NULL);
	if (ret && ret != -EEXIST)
		return ret;
	added |= !ret;
	for (size_t i = 0; i < s->ndests; i++) {
		ret = genl_talk(kpr_ipvs_msg_dest(buf, family, IPVS_CMD_NEW_DEST, s, &s->dests[i]),
				NULL, NULL);
		if (ret && ret != -EEXIST)
			return ret;
		added |= !ret;
	}
	return added;
}

/* ---- ipvsadm-save text ---- */

static void addr_port(uint16_t af, const uint8_t *addr, uint16_t port, char *out, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(af == AF_INET6 ? AF_INET6 : AF_INET, addr, a, sizeof(a));
	snprintf(out, len, af == AF_INET6 ? "[%s]:%u" : "%s:%u", a, port);
}

void kpr_ipvs_svc_name(const struct kpr_ipvs_svc *s, char *out, size_t len)
{
	char ap[INET6_ADDRSTRLEN + 16];
	const char *opt = s->proto == IPPROTO_UDP ? "-u" :
			  s->proto == IPPROTO_SCTP ? "--sctp-service" : "-t";

	if (s->fwmark) {
		snprintf(out, len, "-f %u%s", s->fwmark, s->af == AF_INET6 ? " -6" : "");
		return;
	}
	addr_port(s->af, s->addr, s->port, ap, sizeof(ap));
	snprintf(out, len, "%s %s", opt, ap);
}

int kpr_ipvs_save(const struct kpr_ipvs_svc *svcs, size_t n, struct kpr_buf *b)
{
	int ret = 0;

	for (size_t i = 0; i < n; i++) {
		const struct kpr_ipvs_svc *s = &svcs[i];
		char name[96], ap[INET6_ADDRSTRLEN + 16];

		kpr_ipvs_svc_name(s, name, sizeof(name));
		ret |= kpr_buf_printf(b, "-A %s -s %s", name, s->sched);
		if (s->flags & IP_VS_SVC_F_PERSISTENT)
			ret |= kpr_buf_printf(b, " -p %u", s->timeout);
		if ((s->flags & IP_VS_SVC_F_PERSISTENT) && s->netmask && s->netmask != ~0U &&
		    s->netmask != 128)
			ret |= kpr_buf_printf(b, " -M %u", s->netmask);
		ret |= kpr_buf_printf(b, "\n");
		for (size_t j = 0; j < s->ndests; j++) {
			const struct kpr_ipvs_dest *d = &s->dests[j];
			uint32_t fwd = d->fwd & IP_VS_CONN_F_FWD_MASK;

			addr_port(d->af, d->addr, d->port, ap, sizeof(ap));
			ret |= kpr_buf_printf(b, "-a %s -r %s %s -w %u", name, ap,
					      fwd == IP_VS_CONN_F_DROUTE ? "-g" :
					      fwd == IP_VS_CONN_F_TUNNEL ? "-i" : "-m", d->weight);
			if (d->u_thresh)
				ret |= kpr_buf_printf(b, " -x %u", d->u_thresh);
			if (d->l_thresh)
				ret |= kpr_buf_printf(b, " -y %u", d->l_thresh);
			ret |= kpr_buf_printf(b, "\n");
		}
	}
	return ret ? -ENOMEM : 0;
}

/* "ADDR:PORT" or "[ADDR6]:PORT". */
static int parse_addr_port(const char *s, uint16_t *af, uint8_t *addr, uint16_t *port)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(s, ':');
	unsigned long v;
	size_t len;

	if (!colon || kpr_parse_uint(colon + 1, 0, 65535, &v))
		return -EINVAL;
	len = (size_t)(colon - s);
	if (len >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, len);
	host[len] = '\0';
	memset(addr, 0, 16);
	if (host[0] == '[' && len > 2 && host[len - 1] == ']') {
		host[len - 1] = '\0';
		*af = AF_INET6;
		if (inet_pton(AF_INET6, host + 1, addr) != 1)
			return -EINVAL;
	} else {
		*af = AF_INET;
		if (inet_pton(AF_INET, host, addr) != 1)
			return -EINVAL;
	}
	*port = (uint16_t)v;
	return 0;
}

static bool same_svc(const struct kpr_ipvs_svc *a, const struct kpr_ipvs_svc *b)
{
	return a->af == b->af && a->proto == b->proto && a->port == b->port &&
	       a->fwmark == b->fwmark && !memcmp(a->addr, b->addr, sizeof(a->addr));
}

/* One line of ipvsadm-save; the service (-A) or real server (-a) it holds. */
/* Which options a line may carry, as ipvsadm's own table has it: a
 * service line (-A) takes none of a real server's, and the reverse. */
static bool option_fits(const char *o, bool is_dest)
{
	static const char *const svc_only[] = { "-s", "-p", "-M", NULL };
	static const char *const dest_only[] = { "-r", "-m", "-g", "-i", "-w", "-x", "-y", NULL };
	const char *const *l = is_dest ? svc_only : dest_only;

	for (; *l; l++)
		if (!strcmp(o, *l))
			return false;
	return true;
}

/* Scheduler names are short words ("rr", "wlc", "mh"): anything else is
 * another option swallowed as the value, or garbage. */
static bool sched_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= IP_VS_SCHEDNAME_MAXLEN)
		return false;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s))
			return false;
	return true;
}

static int parse_line(char **w, int nw, struct kpr_ipvs_svc *s, struct kpr_ipvs_dest *d,
		      bool *is_dest)
{
	bool named = false, six = false;
	unsigned long v;

	memset(s, 0, sizeof(*s));
	memset(d, 0, sizeof(*d));
	if (nw < 3 || (strcmp(w[0], "-A") && strcmp(w[0], "-a")))
		return -EINVAL;
	*is_dest = w[0][1] == 'a';
	snprintf(s->sched, sizeof(s->sched), "wlc");
	d->fwd = IP_VS_CONN_F_MASQ;
	d->weight = 1;
	for (int i = 1; i < nw; i++) {
		const char *o = w[i], *arg = i + 1 < nw ? w[i + 1] : NULL;

		if (!option_fits(o, *is_dest))
			return -EINVAL;
		/* an option twice is a typo or a pasted line, never a change
		 * of mind to take silently */
		for (int j = 1; j < i; j++)
			if (!strcmp(w[j], o) && w[j][0] == '-')
				return -EINVAL;
		if (!strcmp(o, "-6")) {
			six = true;
			continue;
		}
		if (!strcmp(o, "-m") || !strcmp(o, "-g") || !strcmp(o, "-i")) {
			d->fwd = o[1] == 'm' ? IP_VS_CONN_F_MASQ :
				 o[1] == 'g' ? IP_VS_CONN_F_DROUTE : IP_VS_CONN_F_TUNNEL;
			continue;
		}
		if (!arg)
			return -EINVAL;
		i++;
		if (!strcmp(o, "-t") || !strcmp(o, "-u") || !strcmp(o, "--sctp-service") ||
		    !strcmp(o, "-f")) {
			/* one service per line: a second one is not a change of mind */
			if (named)
				return -EINVAL;
			named = true;
		}
		if (!strcmp(o, "-t") || !strcmp(o, "-u") || !strcmp(o, "--sctp-service")) {
			s->proto = o[1] == 't' ? IPPROTO_TCP : o[1] == 'u' ? IPPROTO_UDP : IPPROTO_SCTP;
			if (parse_addr_port(arg, &s->af, s->addr, &s->port))
				return -EINVAL;
		} else if (!strcmp(o, "-f")) {
			if (kpr_parse_uint(arg, 1, 0xffffffffUL, &v))
				return -EINVAL;
			s->fwmark = (uint32_t)v;
		} else if (!strcmp(o, "-s")) {
			if (!sched_name_ok(arg))
				return -EINVAL;
			snprintf(s->sched, sizeof(s->sched), "%s", arg);
		} else if (!strcmp(o, "-p") || !strcmp(o, "-M") || !strcmp(o, "-w") ||
			   !strcmp(o, "-x") || !strcmp(o, "-y")) {
			if (kpr_parse_uint(arg, 0, 0xffffffffUL, &v))
				return -EINVAL;
			if (o[1] == 'p') {
				s->flags |= IP_VS_SVC_F_PERSISTENT;
				s->timeout = (uint32_t)v;
			} else if (o[1] == 'M') {
				s->netmask = (uint32_t)v;
			} else if (o[1] == 'w') {
				d->weight = (uint32_t)v;
			} else if (o[1] == 'x') {
				d->u_thresh = (uint32_t)v;
			} else {
				d->l_thresh = (uint32_t)v;
			}
		} else if (!strcmp(o, "-r")) {
			if (parse_addr_port(arg, &d->af, d->addr, &d->port))
				return -EINVAL;
		} else {
			return -EINVAL;
		}
	}
	/* -6 names the family of a firewall-mark service only: an address
	 * says its own */
	if (s->fwmark)
		s->af = six ? AF_INET6 : AF_INET;
	else if (six)
		return -EINVAL;
	if (!named || (*is_dest && !d->af))
		return -EINVAL;
	/* the netmask groups the clients of a persistent service only */
	if (s->netmask && !(s->flags & IP_VS_SVC_F_PERSISTENT))
		return -EINVAL;
	if ((s->flags & IP_VS_SVC_F_PERSISTENT) && !s->netmask)
		s->netmask = s->af == AF_INET6 ? 128 : ~0U;
	return 0;
}

int kpr_ipvs_restore_parse(const char *text, struct kpr_ipvs_svc **svcs, size_t *n)
{
	struct kpr_ipvs_svc *all = NULL;
	size_t cnt = 0;
	const char *p = text, *start;
	int lineno = 0, ret = 0;
	size_t len;

	while (!ret && kpr_next_line(&p, &start, &len)) {
		char *line = strndup(start, len), *w[32];
		struct kpr_ipvs_svc s, *owner = NULL;
		struct kpr_ipvs_dest d;
		bool is_dest;
		int nw;

		lineno++;
		if (!line) {
			ret = -ENOMEM;
			break;
		}
		nw = kpr_split_words(line, w, (int)ARRAY_SIZE(w));
		if (nw == 0) {
			free(line);
			continue;
		}
		ret = nw < 0 ? -EINVAL : parse_line(w, nw, &s, &d, &is_dest);
		for (size_t i = 0; !ret && i < cnt; i++)
			if (same_svc(&all[i], &s))
				owner = &all[i];
		if (!ret && !is_dest && !owner) {
			struct kpr_ipvs_svc *slot = kpr_push((void **)&all, &cnt, sizeof(*all));

			if (slot)
				*slot = s;
			else
				ret = -ENOMEM;
		} else if (!ret && is_dest && owner) {
			struct kpr_ipvs_dest *slot = kpr_push((void **)&owner->dests,
							      &owner->ndests, sizeof(d));

			if (slot)
				*slot = d;
			else
				ret = -ENOMEM;
		} else if (!ret) {
			ret = -EINVAL;	/* a service twice, or a server of none */
		}
		if (ret == -EINVAL)
			kpr_err("bad ipvsadm-save line %d: '%.*s'", lineno, (int)len, start);
		free(line);
	}
	if (ret) {
		kpr_ipvs_free(all, cnt);
		return ret;
	}
	*svcs = all;
	*n = cnt;
	return 0;
}
