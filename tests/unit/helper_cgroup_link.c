// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Test helper, not a test: attaches the first program of OBJECT to CGROUP
 * with the attach module, as the socket-LB tools will, or detaches it. The
 * pin root is $KPR_PIN_ROOT; the object's maps are its pinned ones.
 *   helper_cgroup_link attach CGROUP TYPE OBJECT
 *   helper_cgroup_link detach CGROUP TYPE
 */
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev/attach.h"
#include "state/state.h"
#include "svc/svc.h"

int main(int argc, char **argv)
{
	const char *root = getenv("KPR_PIN_ROOT");
	struct bpf_object *obj = NULL;
	struct kpr_attachment a;
	enum bpf_attach_type type;
	int ret;

	if (argc < 4 || !root || kpr_cgroup_type_parse(argv[3], &type) ||
	    (strcmp(argv[1], "detach") && (strcmp(argv[1], "attach") || argc != 5))) {
		fprintf(stderr, "usage: helper_cgroup_link attach|detach CGROUP TYPE [OBJECT] (KPR_PIN_ROOT set)\n");
		return 2;
	}
	if (!strcmp(argv[1], "detach")) {
		ret = kpr_detach_cgroup(root, argv[2], type);
		return ret < 0;
	}
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = root);

	obj = bpf_object__open_file(argv[4], &opts);
	if (!obj || kpr_obj_use_pins(root, obj) || bpf_object__load(obj)) {
		fprintf(stderr, "helper_cgroup_link: cannot load %s\n", argv[4]);
		return 1;
	}
	ret = kpr_attach_cgroup(root, argv[2], false,
				bpf_program__fd(bpf_object__next_program(obj, NULL)), type, &a);
	if (ret >= 0)
		printf("%s %s %s prog %u link %u\n", ret == KPR_ADDED ? "attached" :
		       ret == KPR_UPDATED ? "updated" : "unchanged", a.cgroup_path,
		       kpr_cgroup_type_name(type), a.prog_id, a.link_id);
	bpf_object__close(obj);	/* the pin holds the link */
	return ret < 0;
}
