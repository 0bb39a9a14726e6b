// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Links over rtnetlink with libmnl: see rtnl.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "core/buf.h"
#include "nl/nl.h"
#include "nl/rtnl.h"
#include "core/util.h"

static int rt_talk(struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	return kpr_nl_request(NETLINK_ROUTE, nlh, cb, data);
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct kpr_link *l = data;
	const struct nlattr *a, *in;

	l->ifindex = ifi->ifi_index;
	l->up = ifi->ifi_flags & IFF_UP;
	mnl_attr_for_each(a, nlh, sizeof(*ifi)) {
		if (mnl_attr_get_type(a) == IFLA_IFNAME)
			snprintf(l->name, sizeof(l->name), "%s", mnl_attr_get_str(a));
		if (mnl_attr_get_type(a) != IFLA_LINKINFO)
			continue;
		mnl_attr_for_each_nested(in, a)
			if (mnl_attr_get_type(in) == IFLA_INFO_KIND)
				snprintf(l->kind, sizeof(l->kind), "%s", mnl_attr_get_str(in));
	}
	return MNL_CB_OK;
}

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct kpr_link *l = data;
	struct kpr_link_addr *na;
	const struct nlattr *a;

	if ((int)ifa->ifa_index != l->ifindex)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*ifa)) {
		uint16_t len = mnl_attr_get_payload_len(a);

		if (mnl_attr_get_type(a) != IFA_LOCAL && mnl_attr_get_type(a) != IFA_ADDRESS)
			continue;
		/* IPv4 has both (the same for a dummy); keep one. */
		if (ifa->ifa_family == AF_INET && mnl_attr_get_type(a) != IFA_LOCAL)
			continue;
		na = kpr_push((void **)&l->addrs, &l->naddrs, sizeof(*na));
		if (!na)
			return MNL_CB_ERROR;
		na->family = ifa->ifa_family;
		na->prefixlen = ifa->ifa_prefixlen;
		memcpy(na->addr, mnl_attr_get_payload(a), len < 16 ? len : 16);
	}
	return MNL_CB_OK;
}

int kpr_link_get(const char *name, struct kpr_link *l)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	struct rtgenmsg *rt;
	int ret;

	memset(l, 0, sizeof(*l));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	ret = rt_talk(nlh, link_cb, l);
	if (ret)
		return ret == -ENODEV ? -ENODEV : ret;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	rt = mnl_nlmsg_put_extra_header(nlh, sizeof(*rt));
	rt->rtgen_family = AF_UNSPEC;
	ret = rt_talk(nlh, addr_cb, l);
	if (ret)
		kpr_link_free(l);
	return ret;
}

void kpr_link_free(struct kpr_link *l)
{
	free(l->addrs);
	l->addrs = NULL;
	l->naddrs = 0;
}

int kpr_link_del(const struct kpr_link *l)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_DELLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = l->ifindex;
	return rt_talk(nlh, NULL, NULL);
}

static int add_addr(int ifindex, const struct kpr_link_addr *a)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;
	size_t len = a->family == AF_INET6 ? 16 : 4;

	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)a->family;
	ifa->ifa_prefixlen = a->prefixlen;
	ifa->ifa_index = (uint32_t)ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, len, a->addr);
	mnl_attr_put(nlh, IFA_ADDRESS, len, a->addr);
	return rt_talk(nlh, NULL, NULL);
}

int kpr_link_create(const struct kpr_link *l)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct kpr_link now;
	struct ifinfomsg *ifi;
	struct nlattr *nest;
	int ret;

	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	if (l->up) {
		ifi->ifi_flags = IFF_UP;
		ifi->ifi_change = IFF_UP;
	}
	mnl_attr_put_strz(nlh, IFLA_IFNAME, l->name);
	nest = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, l->kind);
	mnl_attr_nest_end(nlh, nest);
	ret = rt_talk(nlh, NULL, NULL);
	if (ret)
		return ret;
	ret = kpr_link_get(l->name, &now);
	for (size_t i = 0; !ret && i < l->naddrs; i++)
		ret = add_addr(now.ifindex, &l->addrs[i]);
	kpr_link_free(&now);
	return ret;
}

void kpr_link_addr_str(const struct kpr_link_addr *a, char *out, size_t len)
{
	char s[INET6_ADDRSTRLEN];

	inet_ntop(a->family, a->addr, s, sizeof(s));
	snprintf(out, len, "%s/%u", s, a->prefixlen);
}

int kpr_link_save(const struct kpr_link *l, struct kpr_buf *b)
{
	int ret = kpr_buf_printf(b, "kind %s\nstate %s\n", l->kind[0] ? l->kind : "none",
				 l->up ? "up" : "down");

	for (size_t i = 0; !ret && i < l->naddrs; i++) {
		char a[INET6_ADDRSTRLEN + 8];

		kpr_link_addr_str(&l->addrs[i], a, sizeof(a));
		ret = kpr_buf_printf(b, "addr %s\n", a);
	}
	return ret;
}

static int parse_addr(const char *s, struct kpr_link_addr *a)
{
	char host[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	unsigned long plen;

	memset(a, 0, sizeof(*a));
	if (!slash || (size_t)(slash - s) >= sizeof(host))
		return -EINVAL;
	snprintf(host, sizeof(host), "%.*s", (int)(slash - s), s);
	a->family = strchr(host, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(a->family, host, a->addr) != 1 ||
	    kpr_parse_uint(slash + 1, 0, a->family == AF_INET6 ? 128 : 32, &plen))
		return -EINVAL;
	a->prefixlen = (uint8_t)plen;
	return 0;
}

int kpr_link_parse(const char *name, const char *text, struct kpr_link *l)
{
	const char *p = text, *ln;
	size_t len;
	int ret = 0;

	memset(l, 0, sizeof(*l));
	snprintf(l->name, sizeof(l->name), "%s", name);
	while (!ret && kpr_next_line(&p, &ln, &len)) {
		char *line = strndup(ln, len), *w[3];
		int nw;

		if (!line) {
			ret = -ENOMEM;
			break;
		}
		nw = kpr_split_words(line, w, 3);
		if (nw == 2 && !strcmp(w[0], "kind")) {
			snprintf(l->kind, sizeof(l->kind), "%s", w[1]);
		} else if (nw == 2 && !strcmp(w[0], "state")) {
			l->up = !strcmp(w[1], "up");
		} else if (nw == 2 && !strcmp(w[0], "addr")) {
			struct kpr_link_addr *na = kpr_push((void **)&l->addrs, &l->naddrs,
							    sizeof(*na));

			ret = na ? parse_addr(w[1], na) : -ENOMEM;
		} else if (nw != 0) {
			ret = -EINVAL;
		}
		free(line);
	}
	if (!ret && !l->kind[0])
		ret = -EINVAL;
	if (ret)
		kpr_link_free(l);
	return ret;
}
