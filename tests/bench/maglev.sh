#!/usr/bin/env bash
# Maglev control-plane figures (make bench). Prints, never asserts:
#  - kpr_maglev_build() in a C timing loop, M in {16381, 65521, 131071} x
#    N in {100, 1000} (target: M=65521, N=1000 under 2 ms on one core);
#  - the whole maglev-gen process for the same inputs, with hyperfine;
#  - the kernel memory of one service's table at each size.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
: "${KPR_BIN:=$top/build}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

make -s -C "$top" all >/dev/null
${CC:-cc} -O2 -I"$top/common" -I"$top/build" "$top/tests/bench/maglev_bench.c" \
	-o "$tmp/maglev_bench" "$KPR_BIN/libkpr.a" -lbpf -lelf -lz -lmnl -ljansson
echo "# $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
# one core, the last one: CPU 0 takes most interrupts on small VMs
cpu=$(($(nproc) - 1))
echo "# pinned to CPU $cpu"
taskset -c "$cpu" "$tmp/maglev_bench" 2>/dev/null || "$tmp/maglev_bench"

backends() { local i; for ((i = 0; i < $1; i++)); do echo "10.0.$((i >> 8)).$((i & 255)):8080"; done; }

echo
if ! command -v hyperfine >/dev/null; then
	echo "# hyperfine not installed: no whole-process figures"
	exit 0
fi
echo "# maglev-gen -q, the whole process (start-up, parsing, building): mean +- stddev (ms)"
printf '%-8s %-6s %10s %10s\n' M N mean stddev
for m in 16381 65521 131071; do
	for n in 100 1000; do
		backends "$n" >"$tmp/be"
		taskset -c "$cpu" hyperfine -N --warmup 3 --runs 30 --export-json "$tmp/h.json" \
			"$KPR_BIN/maglev-gen -q --size $m $(tr '\n' ' ' <"$tmp/be")" >/dev/null 2>&1
		jq -r --arg m "$m" --arg n "$n" \
			'.results[0] | "\($m) \($n) \(.mean * 1000) \(.stddev * 1000)"' "$tmp/h.json" |
			awk '{ printf "%-8s %-6s %10.3f %10.3f\n", $1, $2, $3, $4 }'
	done
done
