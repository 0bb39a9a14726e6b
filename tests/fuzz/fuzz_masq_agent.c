/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* ip-masq-agent configuration files, YAML or JSON (libyaml, jansson). */
#include "fuzz.h"
#include "dev/masq.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kpr_masq_change c;
	char path[64];
	int fd = fuzz_file(data, size, path, sizeof(path));

	kpr_masq_change_init(&c);
	if (!kpr_masq_agent_load(&c, path))
		FUZZ_ASSERT(c.nonmasq.n <= KPR_MASQ_MAX_CIDRS);
	close(fd);
	return 0;
}
