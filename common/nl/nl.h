/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* One request/answer exchange over netlink with libmnl, for rtnl.c and ipvs.c. */
#ifndef KPR_NL_H
#define KPR_NL_H

#include <libmnl/libmnl.h>

/* Opens a socket of BUS (NETLINK_ROUTE, NETLINK_GENERIC); NULL and errno. */
struct mnl_socket *kpr_nl_open(int bus);

/*
 * Sends NLH (the sequence number is filled in) and reads the answer: every
 * data message goes to CB (may be NULL), until the acknowledgement or the end
 * of a dump. A request that is no dump must carry NLM_F_ACK: NLM_F_DUMP
 * shares bits with NLM_F_EXCL and NLM_F_REPLACE, so only the caller knows.
 * Returns 0 or the kernel's -errno (-ETIMEDOUT after 10 s of silence).
 */
int kpr_nl_talk(struct mnl_socket *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data);

/* kpr_nl_talk on a fresh socket of BUS, closed afterwards. */
int kpr_nl_request(int bus, struct nlmsghdr *nlh, mnl_cb_t cb, void *data);

#endif
