#!/usr/bin/env bash
# Control plane: 10,000 services x 10 backends through svc-add -f into a fresh
# pin root, one service update with 10,000 loaded, a no-op reload, a save, a
# svc-del --all; then the load and the delete of the same with Maglev.
# Medians of several runs where it says so, in milliseconds.
set -euo pipefail	# a failed run must stop the bench, not print 0.00 ms
top=$(cd "$(dirname "$0")/../.." && pwd)
: "${KPR_BIN:=$top/build}"
export PATH="$KPR_BIN:$PATH"
root=/sys/fs/bpf/kpr-bench-$$
tmp=$(mktemp -d)
trap 'rm -rf "$root" "$tmp"' EXIT
export KPR_PIN_ROOT=$root

# 10,000 ClusterIPs, each with 10 backends of its own (100,000 backends)
awk 'BEGIN {
	for (i = 0; i < 10000; i++) {
		line = sprintf("10.%d.%d.%d:80/tcp", 96 + int(i / 62500), int(i / 250) % 250, i % 250 + 1)
		for (j = 0; j < 10; j++) {
			b = i * 10 + j
			line = line sprintf(" 172.%d.%d.%d:8080", 16 + int(b / 62500), int(b / 250) % 250, b % 250 + 1)
		}
		print line
	}
}' >"$tmp/10k.txt"

now() { date +%s%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ms() { awk -v ns="$1" 'BEGIN { printf "%.2f", ns / 1e6 }'; }

runs=5
for r in $(seq $runs); do
	rm -rf "$root"
	t0=$(now); svc-add -q -f "$tmp/10k.txt"; t1=$(now)
	echo $((t1 - t0))
done | median >"$tmp/load"
echo "load 10,000 services x 10 backends (svc-add -f, fresh root): $(ms "$(cat "$tmp/load")") ms (median of $runs)"

for r in $(seq 5); do
	t0=$(now); svc-add -q -f "$tmp/10k.txt" --replace; t1=$(now)
	echo $((t1 - t0))
done | median >"$tmp/noop"
echo "reload the same 10,000 with --replace (all unchanged): $(ms "$(cat "$tmp/noop")") ms"

for r in $(seq 21); do
	t0=$(now); svc-add -q 10.96.0.1:80/tcp 172.16.0.1:8080 "192.0.2.$((r % 2 + 1)):8080"; t1=$(now)
	echo $((t1 - t0))
done | median >"$tmp/one"
echo "update one service with 10,000 loaded (whole svc-add process): $(ms "$(cat "$tmp/one")") ms (median of 21)"

t0=$(now); svc-list -o save >"$tmp/saved"; t1=$(now)
echo "svc-list -o save of 10,000 services: $(ms $((t1 - t0))) ms"
t0=$(now); svc-del -q --all; t1=$(now)
echo "svc-del --all of 10,000 services: $(ms $((t1 - t0))) ms"

# Maglev (default table size): every table a map of its own in the maglev
# hash of maps, whose deletes wait for RCU once per batch, not per table
rm -rf "$root"
lb-mode -q --algorithm maglev
t0=$(now); svc-add -q -f "$tmp/10k.txt"; t1=$(now)
echo "load 10,000 Maglev services x 10 backends (M 16381, fresh root): $(ms $((t1 - t0))) ms"
t0=$(now); svc-del -q --all; t1=$(now)
echo "svc-del --all of 10,000 Maglev services: $(ms $((t1 - t0))) ms"
