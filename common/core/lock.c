// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "core/lock.h"
#include "core/util.h"

int kpr_lock(const char *path, int wait)
{
	struct timespec start, now, nap = { 0, 1000000 };
	int fd, err;

	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 && errno == ENOTDIR)
		fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		kpr_err("cannot open %s for locking: %s", path, strerror(errno));
		return -errno;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (flock(fd, LOCK_EX | LOCK_NB)) {
		if (errno != EWOULDBLOCK) {
			err = -errno;
			kpr_err("cannot lock %s: %s", path, strerror(errno));
			goto fail;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec + (now.tv_nsec - start.tv_nsec) / 1e9 >= wait) {
			kpr_err("another kpr tool holds the lock on %s; gave up after %d s (raise -w)",
				path, wait);
			err = -ETIME;
			goto fail;
		}
		/* back off from 1 ms to 20 ms: short waits stay short */
		nanosleep(&nap, NULL);
		if (nap.tv_nsec < 20000000)
			nap.tv_nsec *= 2;
	}
	return fd;
fail:
	close(fd);
	return err;
}
