// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Test helper, not a test: the nat slot (bpf/lib/nat_slot.h) of a reply from
 * PEER:PEER_PORT to SNAT:PORT over UDP or TCP. With FROM_ADDR, it prints
 * instead the first source port >= 1024 from which FROM_ADDR's packets to
 * SNAT:PORT land on that same slot: datapath.bats aims spoofed replies there,
 * where only the slot's check of the peer can tell them apart.
 *   helper_nat_slot udp|tcp PEER PEER_PORT SNAT PORT [FROM_ADDR]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bpf/lib/nat_slot.h"

static int addr(const char *s, union kpr_addr *a, __u8 *family)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &a->v4) == 1) {
		*family = KPR_FAM_V4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->b) == 1) {
		*family = KPR_FAM_V6;
		return 0;
	}
	return -1;
}

static __u32 slot(const union kpr_addr *peer, unsigned int peer_port, __u8 proto, __u8 family,
		  const union kpr_addr *snat, unsigned int port)
{
	return kpr_nat_slot(kpr_nat_bucket(peer, htons(peer_port), proto, family, snat),
			    htons(port));
}

int main(int argc, char **argv)
{
	union kpr_addr peer, snat, from;
	__u8 family, f2, f3, proto;
	unsigned int peer_port, port;
	__u32 want;

	if (argc < 6 || argc > 7) {
		fprintf(stderr, "usage: helper_nat_slot udp|tcp PEER PEER_PORT SNAT PORT [FROM_ADDR]\n");
		return 2;
	}
	proto = !strcmp(argv[1], "tcp") ? IPPROTO_TCP : IPPROTO_UDP;
	peer_port = atoi(argv[3]);
	port = atoi(argv[5]);
	if (addr(argv[2], &peer, &family) || addr(argv[4], &snat, &f2) || f2 != family) {
		fprintf(stderr, "helper_nat_slot: bad address\n");
		return 2;
	}
	want = slot(&peer, peer_port, proto, family, &snat, port);
	if (argc == 6) {
		printf("%u\n", want);
		return 0;
	}
	if (addr(argv[6], &from, &f3) || f3 != family) {
		fprintf(stderr, "helper_nat_slot: bad address\n");
		return 2;
	}
	for (unsigned int p = 1024; p < 65536; p++) {
		if ((p == peer_port && !memcmp(&from, &peer, sizeof(from))))
			continue;
		if (slot(&from, p, proto, family, &snat, port) == want) {
			printf("%u\n", p);
			return 0;
		}
	}
	return 1;
}
