#!/usr/bin/env bash
# make bench: every benchmark under tests/bench/ (*.sh but this one).
# Benchmarks print figures; they never fail on them.
set -u
dir=$(cd "$(dirname "$0")" && pwd)
rc=0
for b in "$dir"/*.sh; do
	[ "$(basename "$b")" = run.sh ] && continue
	echo "# --- $(basename "$b")"
	"$b" || rc=1
done
exit $rc
