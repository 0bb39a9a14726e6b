/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * IPVS over generic netlink (family "IPVS", linux/ip_vs.h) with libmnl: list
 * the virtual services and their real servers, delete a service, add one
 * back; and the ipvsadm-save text of them (what `ipvsadm-save -n` prints and
 * `ipvsadm-restore` reads), which is kp-cleanup's backup format.
 *
 * The message builders are separate from the socket, so a unit test checks
 * them against the layout of linux/ip_vs.h without privileges.
 */
#ifndef KPR_IPVS_H
#define KPR_IPVS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

struct kpr_ipvs_dest {
	uint16_t af;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];	/* union nf_inet_addr */
	uint16_t port;		/* host order */
	uint32_t fwd;		/* IP_VS_CONN_F_MASQ, _DROUTE, _TUNNEL */
	uint32_t weight;
	uint32_t u_thresh;
	uint32_t l_thresh;
};

struct kpr_ipvs_svc {
	uint16_t af;
	uint16_t proto;		/* IPPROTO_TCP, _UDP, _SCTP; 0 with a fwmark */
	uint8_t addr[16];
	uint16_t port;		/* host order */
	uint32_t fwmark;	/* non-zero: a firewall-mark service */
	char sched[16];
	uint32_t flags;		/* IP_VS_SVC_F_* */
	uint32_t timeout;	/* persistence, seconds */
	uint32_t netmask;	/* persistence netmask (IPv4) or prefix length */
	struct kpr_ipvs_dest *dests;
	size_t ndests;
};

/* Message builders: BUF holds at least MNL_SOCKET_BUFFER_SIZE bytes. The
 * sequence number is left for kpr_nl_talk. */
struct nlmsghdr *kpr_ipvs_msg_family(char *buf);
struct nlmsghdr *kpr_ipvs_msg_svc(char *buf, uint16_t family, uint8_t cmd,
				  const struct kpr_ipvs_svc *s);
struct nlmsghdr *kpr_ipvs_msg_dest(char *buf, uint16_t family, uint8_t cmd,
				   const struct kpr_ipvs_svc *s, const struct kpr_ipvs_dest *d);
/* Parses one IPVS_CMD_ATTR_SERVICE or _DEST reply into s (or d). */
int kpr_ipvs_parse_svc(const struct nlmsghdr *nlh, struct kpr_ipvs_svc *s);
int kpr_ipvs_parse_dest(const struct nlmsghdr *nlh, struct kpr_ipvs_dest *d);

/*
 * The generic netlink family id of IPVS in the current network namespace:
 * -ENOENT when the kernel has no IPVS (module absent or not loadable).
 */
int kpr_ipvs_family(uint16_t *family);

/* Every virtual service with its real servers. */
int kpr_ipvs_list(uint16_t family, struct kpr_ipvs_svc **svcs, size_t *n);
void kpr_ipvs_free(struct kpr_ipvs_svc *svcs, size_t n);
int kpr_ipvs_del(uint16_t family, const struct kpr_ipvs_svc *s);
/* Adds the service and its real servers; what exists already is kept.
 * Returns 1 when something was added, 0 when all was there. */
int kpr_ipvs_add(uint16_t family, const struct kpr_ipvs_svc *s);

/* "-t 10.96.0.1:443", "-u [fd00::a]:53", "-f 42": how ipvsadm names a service. */
void kpr_ipvs_svc_name(const struct kpr_ipvs_svc *s, char *out, size_t len);
/* ipvsadm-save -n text of the services. */
int kpr_ipvs_save(const struct kpr_ipvs_svc *svcs, size_t n, struct kpr_buf *b);
/* Reads it back; -EINVAL (after kpr_err naming the line) on bad text. */
int kpr_ipvs_restore_parse(const char *text, struct kpr_ipvs_svc **svcs, size_t *n);

#endif
