// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Test helper, not a test: the socket calls whose addresses socket LB
 * rewrites, each printing what the socket was told (tests/sock.bats).
 *   helper_sock tcp ADDR PORT       connect, send a line: "peer=A:P answer"
 *   helper_sock udp ADDR PORT       connected UDP: "from=A:P peer=A:P answer"
 *   helper_sock udpu ADDR PORT [N]  unconnected UDP (sendto): "from=A:P answer",
 *                                   N exchanges on the one socket (default 1)
 *   helper_sock bind tcp|udp ADDR PORT   "bound", or fails with the error
 *   helper_sock udpmany N ADDR PORT N unconnected sockets, one datagram each
 * A failed call prints "CALL: strerror" on stderr and exits 1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int fail(const char *call)
{
	fprintf(stderr, "%s: %s\n", call, strerror(errno));
	return 1;
}

static int addr_of(const char *host, const char *port, int type, struct sockaddr_storage *ss,
		   socklen_t *len)
{
	struct addrinfo hints = { .ai_socktype = type, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *ai;

	if (getaddrinfo(host, port, &hints, &ai)) {
		fprintf(stderr, "bad address %s port %s\n", host, port);
		return -1;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static const char *fmt(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char h[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)ss;

		inet_ntop(AF_INET6, &s->sin6_addr, h, sizeof(h));
		snprintf(buf, len, "[%s]:%u", h, ntohs(s->sin6_port));
	} else {
		const struct sockaddr_in *s = (const void *)ss;

		inet_ntop(AF_INET, &s->sin_addr, h, sizeof(h));
		snprintf(buf, len, "%s:%u", h, ntohs(s->sin_port));
	}
	return buf;
}

static int sock(const struct sockaddr_storage *ss, int type)
{
	struct timeval tv = { .tv_sec = 3 };
	int fd = socket(ss->ss_family, type, 0);

	/* bounded: a connect() the packet path drops fails in time too */
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	return fd;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage dst, from, peer;
	socklen_t dlen, flen = sizeof(from), plen = sizeof(peer);
	char a[80], b[80], buf[512];
	const char *mode = argc > 1 ? argv[1] : "";
	int type, fd;
	ssize_t n;

	if (!strcmp(mode, "udpmany") && argc == 5) {
		long cnt = atol(argv[2]);

		if (addr_of(argv[3], argv[4], SOCK_DGRAM, &dst, &dlen))
			return 2;
		for (long i = 0; i < cnt; i++) {
			fd = sock(&dst, SOCK_DGRAM);
			if (fd < 0)
				return fail("socket");
			if (sendto(fd, "x\n", 2, 0, (void *)&dst, dlen) < 0)
				return fail("sendto");
			close(fd);
		}
		printf("sent %ld\n", cnt);
		return 0;
	}
	if (!strcmp(mode, "bind") && argc == 5) {
		type = !strcmp(argv[2], "udp") ? SOCK_DGRAM : SOCK_STREAM;
		if (addr_of(argv[3], argv[4], type, &dst, &dlen))
			return 2;
		fd = sock(&dst, type);
		if (fd < 0 || bind(fd, (void *)&dst, dlen))
			return fail("bind");
		printf("bound\n");
		return 0;
	}
	if (!strcmp(mode, "udpu") && argc == 5) {
		long cnt = atol(argv[4]);

		if (addr_of(argv[2], argv[3], SOCK_DGRAM, &dst, &dlen))
			return 2;
		fd = sock(&dst, SOCK_DGRAM);
		if (fd < 0)
			return fail("socket");
		for (long i = 0; i < cnt; i++) {
			flen = sizeof(from);
			if (sendto(fd, "ping\n", 5, 0, (void *)&dst, dlen) < 0)
				return fail("sendto");
			n = recvfrom(fd, buf, sizeof(buf) - 1, 0, (void *)&from, &flen);
			if (n < 0)
				return fail("recvfrom");
			buf[n] = 0;
			buf[strcspn(buf, "\n")] = 0;
			printf("from=%s %s\n", fmt(&from, a, sizeof(a)), buf);
		}
		return 0;
	}
	if (argc != 4 || (strcmp(mode, "tcp") && strcmp(mode, "udp") && strcmp(mode, "udpu"))) {
		fprintf(stderr, "usage: helper_sock tcp|udp|udpu ADDR PORT | bind tcp|udp ADDR PORT | udpmany N ADDR PORT\n");
		return 2;
	}
	type = !strcmp(mode, "tcp") ? SOCK_STREAM : SOCK_DGRAM;
	if (addr_of(argv[2], argv[3], type, &dst, &dlen))
		return 2;
	fd = sock(&dst, type);
	if (fd < 0)
		return fail("socket");
	if (!strcmp(mode, "udpu")) {
		if (sendto(fd, "ping\n", 5, 0, (void *)&dst, dlen) < 0)
			return fail("sendto");
	} else {
		if (connect(fd, (void *)&dst, dlen))
			return fail("connect");
		if (getpeername(fd, (void *)&peer, &plen))
			return fail("getpeername");
		if (send(fd, "ping\n", 5, 0) < 0)
			return fail("send");
	}
	n = recvfrom(fd, buf, sizeof(buf) - 1, 0, (void *)&from, &flen);
	if (n < 0)
		return fail("recvfrom");
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	if (type == SOCK_STREAM)
		printf("peer=%s %s\n", fmt(&peer, a, sizeof(a)), buf);
	else if (!strcmp(mode, "udp"))
		printf("from=%s peer=%s %s\n", fmt(&from, a, sizeof(a)), fmt(&peer, b, sizeof(b)), buf);
	else
		printf("from=%s %s\n", fmt(&from, a, sizeof(a)), buf);
	close(fd);
	return 0;
}
