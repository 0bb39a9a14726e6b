/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Links and their addresses over rtnetlink with libmnl: enough to find,
 * save, delete and recreate a dummy link such as kube-proxy's kube-ipvs0.
 */
#ifndef KPR_RTNL_H
#define KPR_RTNL_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

struct kpr_link_addr {
	int family;
	uint8_t prefixlen;
	uint8_t addr[16];
};

struct kpr_link {
	int ifindex;
	char name[IFNAMSIZ];
	char kind[32];		/* IFLA_INFO_KIND, "" for none */
	bool up;
	struct kpr_link_addr *addrs;
	size_t naddrs;
};

/* The link NAME with its addresses; -ENODEV when there is none. */
int kpr_link_get(const char *name, struct kpr_link *l);
void kpr_link_free(struct kpr_link *l);
int kpr_link_del(const struct kpr_link *l);
/* Creates a link of l->kind named l->name with its addresses, up if l->up.
 * -EEXIST when the name is taken. */
int kpr_link_create(const struct kpr_link *l);

/* "kind dummy\nstate down\naddr 10.96.0.1/32\n": the backup text, and back. */
int kpr_link_save(const struct kpr_link *l, struct kpr_buf *b);
int kpr_link_parse(const char *name, const char *text, struct kpr_link *l);
/* "10.96.0.1/32" */
void kpr_link_addr_str(const struct kpr_link_addr *a, char *out, size_t len);

#endif
