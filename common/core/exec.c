// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/exec.h"

bool kpr_have_prog(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0;
	if (!path)
		path = "/usr/sbin:/usr/bin:/sbin:/bin";
	while (*path) {
		size_t len = strcspn(path, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)len, path, prog);
		if (len && access(buf, X_OK) == 0)
			return true;
		path += len;
		if (*path == ':')
			path++;
	}
	return false;
}

static int slurp(int fd, struct kpr_buf *b)
{
	char chunk[8192];
	ssize_t n;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return -errno;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (kpr_buf_add(b, chunk, (size_t)n))
			return -ENOMEM;
	if (n < 0)
		return -errno;
	/* An empty output is still a string. */
	return kpr_buf_add(b, "", 0);
}

int kpr_run(const char *const argv[], const char *in, size_t inlen,
	    struct kpr_buf *out, struct kpr_buf *err)
{
	int fin = -1, fout = -1, ferr = -1, status, ret;
	pid_t pid;

	if (!kpr_have_prog(argv[0]))
		return -ENOENT;
	fin = memfd_create("kpr-in", MFD_CLOEXEC);
	fout = memfd_create("kpr-out", MFD_CLOEXEC);
	ferr = memfd_create("kpr-err", MFD_CLOEXEC);
	if (fin < 0 || fout < 0 || ferr < 0) {
		ret = -errno;
		goto out;
	}
	if (in && inlen && write(fin, in, inlen) != (ssize_t)inlen) {
		ret = -EIO;
		goto out;
	}
	lseek(fin, 0, SEEK_SET);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		goto out;
	}
	if (pid == 0) {
		dup2(fin, 0);
		dup2(fout, 1);
		dup2(ferr, 2);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			ret = -errno;
			goto out;
		}
	}
	ret = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if ((out && slurp(fout, out)) || (err && slurp(ferr, err)))
		ret = -ENOMEM;
out:
	if (fin >= 0)
		close(fin);
	if (fout >= 0)
		close(fout);
	if (ferr >= 0)
		close(ferr);
	return ret;
}

const char *kpr_first_line(const struct kpr_buf *b)
{
	static char line[512];
	const char *s = b && b->s ? b->s : "";

	snprintf(line, sizeof(line), "%.*s", (int)strcspn(s, "\n"), s);
	return line;
}
