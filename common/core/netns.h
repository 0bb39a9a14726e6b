/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef KPR_NETNS_H
#define KPR_NETNS_H

/*
 * Enters the network namespace NAME (/run/netns/NAME, as ip -n) with setns()
 * on the network namespace only: unlike `ip netns exec`, the mount namespace
 * stays, so pins under the host's /sys/fs/bpf remain reachable. NULL is a
 * no-op. Errors are reported; -EINVAL for a namespace that does not exist.
 */
int kpr_netns_enter(const char *name);

/* The calling thread's network namespace as bpf_get_netns_cookie() names
 * it (SO_NETNS_COOKIE), for the datapath to tell it from others. */
int kpr_netns_cookie(unsigned long long *cookie);

#endif
