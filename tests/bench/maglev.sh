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
root=
cleanup() {
	rm -rf "$tmp"
	[ -n "$root" ] && rm -rf "$root"
	return 0
}
trap cleanup EXIT

make -s -C "$top" all >/dev/null
${CC:-cc} -O2 ${KPR_SAN_FLAGS:-} -I"$top/common" -I"$KPR_BIN" "$top/tests/bench/maglev_bench.c" \
	-o "$tmp/maglev_bench" "$KPR_BIN/libkpr.a" -lbpf -lelf -lz -lmnl -ljansson
echo "# $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
# one core, the last one: CPU 0 takes most interrupts on small VMs
cpu=$(($(nproc) - 1))
echo "# pinned to CPU $cpu"

# With root: 100 Maglev services (10 backends each) in a private pin root,
# timed as svc-add writes them and as regen_all rewrites them.
if [ "$(id -u)" -eq 0 ]; then
	root=/sys/fs/bpf/kpr-bench-maglev-$$
	for ((i = 1; i <= 100; i++)); do
		printf -- '--algorithm maglev 10.98.0.%d:80' "$i"
		for ((j = 1; j <= 10; j++)); do printf ' 10.2.%d.%d:80' "$i" "$j"; done
		echo
	done >"$tmp/svcs"
	start=$(date +%s%N)
	KPR_PIN_ROOT=$root "$KPR_BIN/svc-add" -q -f "$tmp/svcs"
	echo "# svc-add -f, 100 Maglev services x 10 backends, M=16381:" \
		"$(( ($(date +%s%N) - start) / 1000000 )) ms"
fi
taskset -c "$cpu" "$tmp/maglev_bench" $root 2>/dev/null || "$tmp/maglev_bench" $root

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
