// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "svc/addr.h"
#include "core/util.h"

static const char *const state_names[] = {
	[KPR_BE_ACTIVE] = "active",
	[KPR_BE_TERMINATING] = "terminating",
	[KPR_BE_QUARANTINED] = "quarantined",
	[KPR_BE_MAINTENANCE] = "maintenance",
};

const char *kpr_state_name(__u8 state)
{
	return state < ARRAY_SIZE(state_names) ? state_names[state] : "unknown";
}

int kpr_state_parse(const char *s, __u8 *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(state_names); i++) {
		if (!strcmp(s, state_names[i])) {
			*out = (__u8)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *kpr_proto_name(__u8 proto, bool upper)
{
	switch (proto) {
	case IPPROTO_TCP:
		return upper ? "TCP" : "tcp";
	case IPPROTO_UDP:
		return upper ? "UDP" : "udp";
	default:
		return "?";
	}
}

#define fail(...) do { snprintf(err, errlen, __VA_ARGS__); return -EINVAL; } while (0)

/*
 * Splits "ADDR:PORT/PROTO" (no backend options) into its parts. what names
 * the thing in messages ("frontend", "backend").
 */
static int parse_endpoint(const char *s, const char *what, bool allow_any,
			  __u8 default_proto, struct kpr_l4addr *out,
			  char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 2], portbuf[16];
	const char *port, *slash, *colon;
	unsigned long p;
	size_t hlen;

	memset(out, 0, sizeof(*out));
	if (!*s)
		fail("empty %s: expected ADDR:PORT[/tcp|/udp]", what);
	/* pasted from a shell line into a file, or quoted twice */
	if (*s == '\'' || *s == '"')
		fail("%s %s: the quotes are not part of it (they are the shell's): write it without them",
		     what, s);

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close)
			fail("%s '%s': missing ']' after the IPv6 address", what, s);
		if (close[1] != ':')
			fail("%s '%s': expected ':PORT' after ']'", what, s);
		hlen = (size_t)(close - s - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			fail("%s '%s': bad IPv6 address", what, s);
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
		if (!strcmp(host, "*")) {
			if (!allow_any)
				fail("%s '%s': '[*]' is only for NodePort frontends (-t nodeport)", what, s);
			out->family = KPR_FAM_ANY;
			KPR_ANY_FAMILY(&out->addr) = KPR_FAM_V6;
		} else if (inet_pton(AF_INET6, host, out->addr.b) != 1) {
			fail("%s '%s': '%s' is not an IPv6 address", what, s, host);
		} else {
			out->family = KPR_FAM_V6;
		}
		port = close + 2;
	} else {
		colon = strchr(s, ':');
		if (!colon)
			fail("%s '%s': missing ':PORT'", what, s);
		if (strchr(colon + 1, ':'))
			fail("%s '%s': IPv6 addresses go in brackets, as [2001:db8::1]:80", what, s);
		hlen = (size_t)(colon - s);
		if (hlen == 0 || hlen >= sizeof(host))
			fail("%s '%s': missing address before ':'", what, s);
		memcpy(host, s, hlen);
		host[hlen] = '\0';
		if (!strcmp(host, "*")) {
			if (!allow_any)
				fail("%s '%s': '*' is only for NodePort frontends (-t nodeport)", what, s);
			out->family = KPR_FAM_ANY;
		} else if (inet_pton(AF_INET, host, out->addr.b) == 1) {
			out->family = KPR_FAM_V4;
		} else {
			fail("%s '%s': '%s' is not an IPv4 address", what, s, host);
		}
		port = colon + 1;
	}

	slash = strchr(port, '/');
	hlen = slash ? (size_t)(slash - port) : strlen(port);
	if (hlen == 0 || hlen >= sizeof(portbuf))
		fail("%s '%s': missing or bad port", what, s);
	memcpy(portbuf, port, hlen);
	portbuf[hlen] = '\0';
	if (kpr_parse_uint(portbuf, 1, 65535, &p))
		fail("%s '%s': bad port '%s': use 1 to 65535", what, s, portbuf);
	out->port = htons((__u16)p);

	if (!slash) {
		out->proto = default_proto;
	} else if (!strcasecmp(slash + 1, "tcp")) {
		out->proto = IPPROTO_TCP;
	} else if (!strcasecmp(slash + 1, "udp")) {
		out->proto = IPPROTO_UDP;
	} else {
		fail("%s '%s': unknown protocol '%s': use tcp or udp", what, s, slash + 1);
	}
	return 0;
}

int kpr_parse_frontend(const char *s, bool allow_any, struct kpr_l4addr *out,
		       char *err, size_t errlen)
{
	if (strchr(s, ','))
		fail("frontend '%s': weight and state belong to backends", s);
	return parse_endpoint(s, "frontend", allow_any, IPPROTO_TCP, out, err, errlen);
}

int kpr_parse_backend(const char *s, __u8 default_proto, struct kpr_be_spec *out,
		      char *err, size_t errlen)
{
	char buf[256], *opt, *next;
	bool seen_w = false, seen_s = false;
	unsigned long w;
	int ret;

	if (strlen(s) >= sizeof(buf))
		fail("backend '%.40s...': too long", s);
	strcpy(buf, s);
	next = strchr(buf, ',');
	if (next)
		*next++ = '\0';
	memset(out, 0, sizeof(*out));
	ret = parse_endpoint(buf, "backend", false, default_proto, &out->addr, err, errlen);
	if (ret)
		return ret;
	out->weight = 1;
	out->state = KPR_BE_ACTIVE;

	while ((opt = next)) {
		next = strchr(opt, ',');
		if (next)
			*next++ = '\0';
		if (!strncmp(opt, "weight=", 7)) {
			if (seen_w)
				fail("backend '%s': weight given twice", s);
			seen_w = true;
			if (kpr_parse_uint(opt + 7, 1, 65535, &w))
				fail("backend '%s': bad weight '%s': use 1 to 65535 (state=maintenance takes a backend out)",
				     s, opt + 7);
			out->weight = (__u16)w;
		} else if (!strncmp(opt, "state=", 6)) {
			if (seen_s)
				fail("backend '%s': state given twice", s);
			seen_s = true;
			if (kpr_state_parse(opt + 6, &out->state))
				fail("backend '%s': unknown state '%s': use active, terminating, quarantined or maintenance",
				     s, opt + 6);
		} else {
			fail("backend '%s': unknown option '%s': use weight=N or state=STATE", s, opt);
		}
	}
	return 0;
}

const char *kpr_addr_unusable(const struct kpr_l4addr *a)
{
	static const __u8 mapped[12] = { [10] = 0xff, [11] = 0xff };
	static const __u8 zero[16];
	const __u8 *b = a->addr.b;

	if (a->family == KPR_FAM_V4) {
		if (!memcmp(b, zero, 4))
			return "the unspecified address";
		if (b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255)
			return "the broadcast address";
		if ((b[0] & 0xf0) == 0xe0)
			return "a multicast address";
	} else if (a->family == KPR_FAM_V6) {
		if (!memcmp(b, zero, 16))
			return "the unspecified address";
		if (b[0] == 0xff)
			return "a multicast address";
		if (!memcmp(b, mapped, 12))
			return "an IPv4-mapped address (give the IPv4 address itself)";
	}
	return NULL;
}

const char *kpr_fmt_addr(const union kpr_addr *a, __u8 family, char *buf, size_t len)
{
	if (family == KPR_FAM_ANY)
		snprintf(buf, len, KPR_ANY_FAMILY(a) == KPR_FAM_V6 ? "[*]" : "*");
	else if (!inet_ntop(family == KPR_FAM_V6 ? AF_INET6 : AF_INET, a->b, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

const char *kpr_fmt_l4addr(const struct kpr_l4addr *a, bool upper, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	kpr_fmt_addr(&a->addr, a->family, host, sizeof(host));
	snprintf(buf, len, a->family == KPR_FAM_V6 ? "[%s]:%u/%s" : "%s:%u/%s", host,
		 ntohs(a->port), kpr_proto_name(a->proto, upper));
	return buf;
}

const char *kpr_fmt_backend(const struct kpr_backend *b, char *buf, size_t len)
{
	char a[KPR_ADDRSTRLEN];
	int n;

	n = snprintf(buf, len, "%s", kpr_fmt_l4addr(&b->be, false, a, sizeof(a)));
	if (b->weight != 1 && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, ",weight=%u", b->weight);
	if (b->state != KPR_BE_ACTIVE && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, ",state=%s", kpr_state_name(b->state));
	return buf;
}
