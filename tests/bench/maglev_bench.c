// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Timing loop for kpr_maglev_build() (one core, no process start-up) and the
 * kernel memory of one service's inner table at each size. Prints figures,
 * asserts nothing. Built and run by tests/bench/maglev.sh.
 */
#include <bpf/bpf.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "svc/maglev.h"
#include "svc/maglev_map.h"
#include "core/out.h"

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* memlock of a map, from its fdinfo: what the kernel charges for it. */
static long memlock(int fd)
{
	char path[64], line[128];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %ld", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

/* regen_all over the services under a pin root, at each size. */
static void regen(const char *root)
{
	static const __u32 sizes[] = { 16381, 65521, 131071 };
	struct kpr_state st;
	struct kpr_config cfg;

	out_init(OUT_TEXT, true);
	if (kpr_state_open(&st, root, KPR_OPEN_WRITE, 10) || kpr_config_read(&st, &cfg))
		return;
	printf("\n# kpr_maglev_regen_all() (lb-mode's size/seed change): build, create, fill, swap\n");
	printf("%-8s %8s %10s %14s\n", "M", "tables", "total ms", "ms per table");
	for (size_t s = 0; s < 3; s++) {
		double t0;
		int n;

		cfg.maglev_size = sizes[s];
		t0 = now_ms();
		n = kpr_maglev_regen_all(&st, &cfg);
		t0 = now_ms() - t0;
		printf("%-8u %8d %10.1f %14.2f\n", sizes[s], n, t0, n > 0 ? t0 / n : 0);
	}
	kpr_state_close(&st);
}

int main(int argc, char **argv)
{
	static const __u32 sizes[] = { 16381, 65521, 131071 };
	static const unsigned int counts[] = { 100, 1000 };
	__u8 seed[KPR_SEED_LEN];

	kpr_maglev_seed_parse(KPR_MAGLEV_DEFAULT_SEED, seed);
	printf("# kpr_maglev_build(), one core: median and min of repeated runs (ms)\n");
	printf("%-8s %-6s %8s %8s %6s\n", "M", "N", "median", "min", "runs");
	for (size_t s = 0; s < 3; s++) {
		for (size_t c = 0; c < 2; c++) {
			__u32 m = sizes[s], *t = malloc(m * sizeof(*t));
			unsigned int n = counts[c], runs = 0;
			struct kpr_maglev_be *be = calloc(n, sizeof(*be));
			double times[2000], start = now_ms();

			for (unsigned int i = 0; i < n; i++) {
				be[i].addr.family = KPR_FAM_V4;
				be[i].addr.proto = IPPROTO_TCP;
				be[i].addr.port = htons(8080);
				be[i].addr.addr.b[0] = 10;
				be[i].addr.addr.b[2] = (__u8)(i >> 8);
				be[i].addr.addr.b[3] = (__u8)i;
				be[i].weight = 1;
			}
			while (runs < 2000 && (runs < 20 || now_ms() - start < 1000)) {
				double t0 = now_ms();

				kpr_maglev_build(be, n, m, seed, t);
				times[runs++] = now_ms() - t0;
			}
			qsort(times, runs, sizeof(*times), cmp_d);
			printf("%-8u %-6u %8.3f %8.3f %6u\n", m, n, times[runs / 2], times[0], runs);
			free(be);
			free(t);
		}
	}

	printf("\n# kernel memory of one service's Maglev table (inner ARRAY, u32 values)\n");
	if (geteuid()) {
		printf("# skipped: creating maps needs root\n");
		return 0;
	}
	printf("%-8s %12s %14s\n", "M", "memlock B", "B per slot");
	for (size_t s = 0; s < 10; s++) {
		LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = KPR_MAGLEV_INNER_FLAGS);
		__u32 m = kpr_maglev_sizes[s];
		int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "kpr_mg_bench", 4, 4, m, &o);
		long b = fd < 0 ? -1 : memlock(fd);

		printf("%-8u %12ld %14.2f\n", m, b, b > 0 ? (double)b / m : 0);
		if (fd >= 0)
			close(fd);
	}
	if (argc > 1)
		regen(argv[1]);
	return 0;
}
