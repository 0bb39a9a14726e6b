// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * An LD_PRELOAD for tests/killnine.bats: a tool is killed with SIGKILL as it
 * makes its Nth bpf() call (KPR_KILL_AT=N), before the kernel sees that
 * call, so that a kill lands between two chosen writes and on the same one
 * on every run, whatever the machine's speed. KPR_KILL_COUNT=FILE writes
 * the number of bpf() calls of a whole run to FILE at exit: a test picks its
 * points from it. libbpf makes every bpf() call through libc's syscall():
 * that is the function caught. Nothing is mocked; the calls go through.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef long (*syscall_fn)(long nr, ...);

static syscall_fn real_syscall;
static unsigned long n_bpf, kill_at;
static const char *count_file;

__attribute__((constructor)) static void kill_at_init(void)
{
	const char *s = getenv("KPR_KILL_AT");

	real_syscall = (syscall_fn)dlsym(RTLD_NEXT, "syscall");
	kill_at = s ? strtoul(s, NULL, 10) : 0;
	count_file = getenv("KPR_KILL_COUNT");
}

__attribute__((destructor)) static void kill_at_fini(void)
{
	FILE *f;

	if (!count_file)
		return;
	f = fopen(count_file, "w");
	if (!f)
		return;
	fprintf(f, "%lu\n", n_bpf);
	fclose(f);
}

long syscall(long nr, ...)
{
	long a[6];
	va_list ap;

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (nr == SYS_bpf && ++n_bpf == kill_at)
		kill(getpid(), SIGKILL);
	return real_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}
