// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "nl/nl.h"

#define KPR_NL_BUFSZ 32768	/* a dump message may exceed MNL_SOCKET_BUFFER_SIZE */

struct mnl_socket *kpr_nl_open(int bus)
{
	struct timeval tv = { .tv_sec = 10 };
	struct mnl_socket *nl = mnl_socket_open(bus);
	int err;

	if (!nl)
		return NULL;
	/* A request the kernel does not answer must fail, never hang. */
	if (setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = errno;
		mnl_socket_close(nl);
		errno = err;
		return NULL;
	}
	return nl;
}

int kpr_nl_talk(struct mnl_socket *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	static unsigned int seq;
	unsigned int portid = mnl_socket_get_portid(nl);
	char *buf;
	ssize_t n;
	int ret;

	buf = malloc(KPR_NL_BUFSZ);
	if (!buf)
		return -ENOMEM;
	if (!seq)
		seq = (unsigned int)time(NULL);
	nlh->nlmsg_seq = ++seq;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	do {
		n = mnl_socket_recvfrom(nl, buf, KPR_NL_BUFSZ);
		if (n < 0) {
			ret = errno == EAGAIN ? -ETIMEDOUT : -errno;
			goto out;
		}
		ret = mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, portid, cb, data);
	} while (ret > 0);
	ret = ret < 0 ? -errno : 0;
out:
	free(buf);
	return ret;
}

int kpr_nl_request(int bus, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	struct mnl_socket *nl = kpr_nl_open(bus);
	int ret;

	if (!nl)
		return -errno;
	ret = kpr_nl_talk(nl, nlh, cb, data);
	mnl_socket_close(nl);
	return ret;
}
