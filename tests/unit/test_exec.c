// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* kpr_run: argv as given (no shell), stdin, stdout, stderr, exit status. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/exec.h"
#include "tap.h"

int main(void)
{
	const char *cat[] = { "cat", NULL };
	const char *sh[] = { "sh", "-c", "echo out; echo err >&2; exit 3", NULL };
	const char *quote[] = { "printf", "%s|", "a b", "$(id)", "\"q\"", NULL };
	const char *none[] = { "kpr-no-such-program", NULL };
	struct kpr_buf out = {}, err = {};
	char *big = malloc(1 << 20);
	int ret;
	bool same;

	ret = kpr_run(cat, "line\n", 5, &out, NULL);
	same = out.s && !strcmp(out.s, "line\n");
	ok(ret == 0 && same, "stdin reaches the program, stdout comes back");
	kpr_buf_free(&out);

	ret = kpr_run(sh, NULL, 0, &out, &err);
	same = out.s && err.s && !strcmp(out.s, "out\n") && !strcmp(err.s, "err\n");
	ok(ret == 3 && same, "exit status, stdout and stderr apart");
	ok(!strcmp(kpr_first_line(&err), "err"), "first line of the errors");
	kpr_buf_free(&out);
	kpr_buf_free(&err);

	ret = kpr_run(quote, NULL, 0, &out, NULL);
	same = out.s && !strcmp(out.s, "a b|$(id)|\"q\"|");
	ok(ret == 0 && same, "arguments are passed as they are, never through a shell");
	kpr_buf_free(&out);

	memset(big, 'x', 1 << 20);
	ret = kpr_run(cat, big, 1 << 20, &out, NULL);
	ok(ret == 0 && out.len == 1 << 20, "a megabyte in and out does not deadlock");
	kpr_buf_free(&out);
	free(big);

	ok(kpr_run(none, NULL, 0, NULL, NULL) == -ENOENT && !kpr_have_prog("kpr-no-such-program"),
	   "a program that is not installed: -ENOENT");
	ok(kpr_have_prog("sh"), "sh is found in PATH");
	return tap_done();
}
