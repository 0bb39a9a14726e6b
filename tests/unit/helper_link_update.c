// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Test helper, not a test: points the pinned BPF link LINK at the first
 * program of OBJECT, as a kpr of another version would have left it.
 * xdp-attach.bats uses it to check that attaching again upgrades in place.
 *   helper_link_update LINK OBJECT
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	int lfd, ret = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: helper_link_update LINK OBJECT\n");
		return 2;
	}
	obj = bpf_object__open_file(argv[2], NULL);
	if (!obj || bpf_object__load(obj))
		return 1;
	lfd = bpf_obj_get(argv[1]);
	if (lfd < 0 || bpf_link_update(lfd, bpf_program__fd(bpf_object__next_program(obj, NULL)), NULL)) {
		perror("helper_link_update");
		ret = 1;
	}
	/* the link holds the program: the object may go (and LSan stays quiet) */
	bpf_object__close(obj);
	return ret;
}
