#!/usr/bin/env bash
# make bench: every benchmark under tests/bench/ prints its figures. Nothing
# here asserts on a timing: figures compare only within one run.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
: "${KPR_BIN:=$top/build}"
export KPR_BIN PATH="$KPR_BIN:$PATH"
echo "# kpr benchmarks, $(date -u +%FT%TZ), $(uname -r), $(nproc) cores"
rc=0
for b in "$top"/tests/bench/*.sh; do
	[ "$(basename "$b")" = run.sh ] && continue
	echo
	echo "## $(basename "$b" .sh)"
	bash "$b" || rc=1
done
exit $rc
