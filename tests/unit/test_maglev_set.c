// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Backend sets for Maglev (svc/maglev_set.c) and the hashed index under them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hidx.h"
#include "svc/maglev_set.h"
#include "tap.h"

#define MANY 20000

static const __u8 seed[KPR_SEED_LEN] = { 0x24, 0xb7, 0xef, 0x82, 0x71, 0xdc, 0xda, 0x46,
					 0x92, 0x50, 0x56, 0x88 };

/* "10.A.B.C:80" for i, in buf (16 bytes each) */
static char **many_names(char *buf, unsigned int n)
{
	char **v = calloc(n, sizeof(*v));

	for (unsigned int i = 0; v && i < n; i++) {
		v[i] = buf + 24 * i;
		snprintf(v[i], 24, "10.%u.%u.%u:80", i >> 16 & 255, i >> 8 & 255, i & 255);
	}
	return v;
}

static void test_hidx(void)
{
	__u32 keys[] = { 7, 9, 7, 100000, 9 };
	struct kpr_hidx h;
	int dup[5];

	ok(!kpr_hidx_init(&h, keys, sizeof(keys[0]), sizeof(keys[0]), 5), "hidx init");
	for (int i = 0; i < 5; i++)
		dup[i] = kpr_hidx_add(&h, i);
	ok(dup[0] == -1 && dup[1] == -1 && dup[2] == 0 && dup[3] == -1 && dup[4] == 1,
	   "hidx add names the earlier equal key");
	ok(kpr_hidx_find(&h, &keys[3]) == 3 && kpr_hidx_find(&h, &(__u32){ 8 }) == -1, "hidx find");
	kpr_hidx_free(&h);
}

static void test_parse(void)
{
	char *buf = malloc(24 * MANY), **names = many_names(buf, MANY);
	struct kpr_maglev_set s;
	char *two[] = { "10.0.0.1:80", "10.0.0.1:80/tcp" };
	char *idle[] = { "10.0.0.1:80,state=maintenance" };

	ok(!kpr_maglev_set_parse(&s, names, MANY, "BACKEND") && s.n_active == MANY,
	   "%u distinct backends", MANY);
	kpr_maglev_set_free(&s);
	snprintf(names[MANY - 1], 24, "%s", names[3]);
	ok(kpr_maglev_set_parse(&s, names, MANY, "BACKEND") == -EINVAL,
	   "the same backend first and last of %u is found", MANY);
	kpr_maglev_set_free(&s);
	ok(kpr_maglev_set_parse(&s, two, 2, "BACKEND") == -EINVAL,
	   "the same backend spelt twice (tcp is the default)");
	kpr_maglev_set_free(&s);
	ok(kpr_maglev_set_parse(&s, idle, 1, "BACKEND") == -EINVAL, "no active backend");
	kpr_maglev_set_free(&s);
	ok(kpr_maglev_set_parse(&s, names, 0, "BACKEND") == -EINVAL, "no backend");
	kpr_maglev_set_free(&s);
	free(names);
	free(buf);
}

static void test_split(void)
{
	char list[] = "10.0.0.1:80,10.0.0.2:80,weight=3,state=maintenance,10.0.0.3:80";
	unsigned int n;
	char **v;

	ok(!kpr_maglev_split_list(list, &v, &n) && n == 3, "three backends in the list");
	ok(!strcmp(v[1], "10.0.0.2:80,weight=3,state=maintenance") && !strcmp(v[2], "10.0.0.3:80"),
	   "weight and state stay with their backend: %s", v[1]);
	free(v);
}

static void test_build_diff(void)
{
	char *a[] = { "10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80" };
	char *b[] = { "10.0.0.3:80", "10.0.0.1:80", "10.0.0.4:80" };
	char *w[] = { "10.0.0.1:80,weight=1", "10.0.0.2:80,weight=2" };
	struct kpr_maglev_set o, nw, same;
	struct kpr_maglev_diff d;
	unsigned long sum = 0;

	ok(!kpr_maglev_set_parse(&o, a, 3, "old") && !kpr_maglev_set_build(&o, 251, seed), "old");
	ok(!kpr_maglev_set_parse(&nw, b, 3, "new") && !kpr_maglev_set_build(&nw, 251, seed), "new");
	for (unsigned int i = 0; i < 3; i++)
		sum += o.slots[i];
	ok(sum == 251, "every slot has an owner");
	ok(!kpr_maglev_set_diff(&o, &o, 251, &d) && d.changed == 0, "a set against itself: no change");
	ok(!kpr_maglev_set_diff(&o, &nw, 251, &d) && d.removed == o.slots[1] &&
	   d.surviving == o.slots[0] + o.slots[2] && d.changed >= d.removed,
	   "the slots of the backend that left move: %lu changed, %lu removed", d.changed, d.removed);
	ok(!kpr_maglev_set_parse(&same, w, 2, "weighted"), "weights 1 and 2: ignored, with a warning");
	kpr_maglev_set_free(&o);
	kpr_maglev_set_free(&nw);
	kpr_maglev_set_free(&same);
}

int main(void)
{
	test_hidx();
	test_parse();
	test_split();
	test_build_diff();
	return tap_done();
}
