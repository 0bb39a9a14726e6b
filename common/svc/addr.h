/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The address grammar of every tool: ADDR:PORT[/tcp|/udp], IPv6 in
 * brackets, "*:PORT" for NodePort frontends on every node address, and for
 * backends ",weight=N" and ",state=active|terminating|quarantined|maintenance".
 */
#ifndef KPR_ADDR_H
#define KPR_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "../bpf/kpr_maps.h"

#define KPR_ERRLEN 256
/* "[ffff:...:ffff]:65535/udp" with room to spare */
#define KPR_ADDRSTRLEN 64

struct kpr_be_spec {
	struct kpr_l4addr addr;
	__u8 state;		/* enum kpr_backend_state */
	__u16 weight;
};

/* Frontend: allow_any accepts "*:PORT" (family KPR_FAM_ANY). */
int kpr_parse_frontend(const char *s, bool allow_any, struct kpr_l4addr *out,
		       char *err, size_t errlen);
/* Backend: the protocol defaults to default_proto when not given. */
int kpr_parse_backend(const char *s, __u8 default_proto, struct kpr_be_spec *out,
		      char *err, size_t errlen);

/* Canonical text forms: addresses as RFC 5952 / dotted quad. */
const char *kpr_fmt_addr(const union kpr_addr *a, __u8 family, char *buf, size_t len);
/* "10.0.0.1:80/tcp", "[2001:db8::1]:80/udp", "*:30080/tcp"; upper: "/TCP" */
/* Why a is no address a flow can be sent to or from (unspecified,
 * broadcast, multicast, IPv4-mapped), or NULL when it is one. */
const char *kpr_addr_unusable(const struct kpr_l4addr *a);
const char *kpr_fmt_l4addr(const struct kpr_l4addr *a, bool upper, char *buf, size_t len);
const char *kpr_proto_name(__u8 proto, bool upper);
/* A backend as svc-add reads it: "10.0.0.1:80/tcp[,weight=N][,state=S]". */
#define KPR_BACKENDSTRLEN (KPR_ADDRSTRLEN + 40)
const char *kpr_fmt_backend(const struct kpr_backend *b, char *buf, size_t len);

const char *kpr_state_name(__u8 state);
int kpr_state_parse(const char *s, __u8 *out);

#endif
