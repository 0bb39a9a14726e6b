// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Test and bench helper, not a test: short TCP connections as fast as they
 * go, as wrk's short-connection runs make them, and a server that answers
 * them. Both run inside a lab namespace (nsenter --net).
 *
 *   helper_storm server PORT
 *	accepts on 0.0.0.0:PORT, writes "ok\n" and closes first, as an HTTP
 *	server closing the connection does: the server (the backend) then
 *	holds TIME_WAIT. Runs until killed.
 *   helper_storm client ADDR PORT COUNT|SECONDSs [PARALLEL]
 *	opens COUNT connections, or as many as fit in SECONDS ("5s"), spread
 *	over PARALLEL processes (default 1); each reads the answer to its end
 *	and closes. Prints "ok N fail M seconds S rate R" (R: successful
 *	connections per second); exits 0 when none failed, 1 otherwise.
 *
 * A connection fails when connect or the answer takes more than 3 s, or
 * when the answer is not "ok".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int serve(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, s;

	/* a server outlives the shell that started it: pipes it inherited
	 * (a test runner's output) would keep their readers waiting */
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	s = socket(AF_INET, SOCK_STREAM, 0);

	signal(SIGPIPE, SIG_IGN);
	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 4096)) {
		perror("helper_storm: listen");
		return 2;
	}
	for (;;) {
		int c = accept(s, NULL, NULL);

		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("helper_storm: accept");
			return 2;
		}
		if (write(c, "ok\n", 3) < 0) {
			/* the client went first: nothing to answer */
		}
		close(c);
	}
}

/* One connection: 0 when it was answered "ok". */
static int one_conn(const struct sockaddr_in *to)
{
	struct timeval tmo = { .tv_sec = 3 };
	char buf[16];
	size_t got = 0;
	ssize_t n;
	int s = socket(AF_INET, SOCK_STREAM, 0), ret = -1;

	if (s < 0)
		return -1;
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tmo, sizeof(tmo));
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
	if (connect(s, (const struct sockaddr *)to, sizeof(*to)))
		goto out;
	while (got < sizeof(buf) && (n = read(s, buf + got, sizeof(buf) - got)) > 0)
		got += (size_t)n;
	if (got == 3 && !memcmp(buf, "ok\n", 3))
		ret = 0;
out:
	close(s);
	return ret;
}

/* A child's share: counts written to fd as two unsigned longs. */
static void run_share(const struct sockaddr_in *to, unsigned long count, double until, int fd)
{
	unsigned long r[2] = { 0, 0 };

	for (unsigned long i = 0; until ? now_s() < until : i < count; i++)
		r[one_conn(to) ? 1 : 0]++;
	if (write(fd, r, sizeof(r)) != sizeof(r))
		_exit(2);
	_exit(0);
}

static int client(const char *addr, int port, const char *what, int par)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
	unsigned long count = 0, ok = 0, fail = 0;
	double start, until = 0, secs;
	char *end;
	int p[2];

	if (inet_pton(AF_INET, addr, &to.sin_addr) != 1 || par < 1 || par > 64) {
		fprintf(stderr, "helper_storm: bad address or parallelism\n");
		return 2;
	}
	errno = 0;
	count = strtoul(what, &end, 10);
	if (errno || end == what || (*end && strcmp(end, "s")) || !count) {
		fprintf(stderr, "helper_storm: bad count '%s'\n", what);
		return 2;
	}
	if (pipe(p))
		return 2;
	start = now_s();
	if (*end)
		until = start + (double)count;
	for (int i = 0; i < par; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return 2;
		if (!pid) {
			close(p[0]);
			run_share(&to, count / par + (i < (int)(count % par)), until, p[1]);
		}
	}
	close(p[1]);
	for (int i = 0; i < par; i++) {
		unsigned long r[2];

		if (read(p[0], r, sizeof(r)) != sizeof(r))
			return 2;
		ok += r[0];
		fail += r[1];
	}
	while (wait(NULL) > 0)
		;
	secs = now_s() - start;
	printf("ok %lu fail %lu seconds %.2f rate %.0f\n", ok, fail, secs, ok / secs);
	return fail ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "server"))
		return serve(atoi(argv[2]));
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "client"))
		return client(argv[2], atoi(argv[3]), argv[4], argc == 6 ? atoi(argv[5]) : 1);
	fprintf(stderr, "usage: helper_storm server PORT | client ADDR PORT COUNT|SECONDSs [PARALLEL]\n");
	return 2;
}
