// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/netns.h"
#include "core/util.h"

int kpr_netns_enter(const char *name)
{
	char path[4096];
	int fd, err = 0;

	if (!name)
		return 0;
	if (!*name || strchr(name, '/')) {
		kpr_err("bad network namespace name '%s'", name);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = errno == ENOENT ? -EINVAL : -errno;
		kpr_err("cannot open network namespace %s: %s (see ip netns list)", name, strerror(errno));
		return err;
	}
	if (setns(fd, CLONE_NEWNET)) {
		err = -errno;
		kpr_err("cannot enter network namespace %s: %s", name, strerror(errno));
	}
	close(fd);
	return err;
}

int kpr_netns_cookie(unsigned long long *cookie)
{
	socklen_t len = sizeof(*cookie);
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, cookie, &len)) {
		err = -errno;
		kpr_err("cannot read the network namespace's cookie (SO_NETNS_COOKIE): %s",
			strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	return err;
}
