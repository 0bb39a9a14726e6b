#!/usr/bin/env bash
# Per-packet cost of the XDP datapath (BPF_PROG_TEST_RUN), with 1 and with
# 100,000 services loaded: see xdp_bench.c for the paths and how the reused
# packet buffer is handled. Runs in a private network namespace with a
# veth towards 100 backends (permanent neighbours, so bpf_fib_lookup
# succeeds as on a real node). Prints figures; asserts nothing.
#   REPEAT (default 1000000) and RUNS (default 5) shape each measurement;
#   SERVICES (default 100000) is the size of the second round.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
: "${KPR_BIN:=$top/build}"
export PATH="$KPR_BIN:$PATH"
B=kpb$$
export KPR_PIN_ROOT=/sys/fs/bpf/kpr-bench-$B
REPEAT=${REPEAT:-1000000}
RUNS=${RUNS:-5}
SERVICES=${SERVICES:-100000}
VIP=10.96.0.1
tmp=$(mktemp -d)

cleanup() {
	[ -n "${KPR_BENCH_KEEP:-}" ] && { echo "# kept: netns $B, pins $KPR_PIN_ROOT"; return; }
	ip netns del "$B" 2>/dev/null || true
	rm -rf "$KPR_PIN_ROOT" "$tmp"
}
trap cleanup EXIT

# the wrappers' skeleton is made here, only for the benchmark
obj=$KPR_BIN/tests/bpf/kpr_bench.bpf.o
[ -f "$obj" ] || { echo "datapath.sh: $obj missing: run make bench" >&2; exit 1; }
bpftool gen skeleton "$obj" name kpr_bench_bpf >"$tmp/kpr_bench.skel.h"
bpftool gen skeleton "$KPR_BIN/tests/bpf/kpr_masq_bench.bpf.o" name kpr_masq_bench_bpf >"$tmp/kpr_masq_bench.skel.h"
cc -O2 -Wall ${KPR_SAN_FLAGS:-} -I"$tmp" -I"$KPR_BIN" -I"$top/common" "$top/tests/bench/xdp_bench.c" -o "$tmp/xdp_bench" \
	"$KPR_BIN/libkpr.a" -lbpf -lelf -lz -lmnl -ljansson -lyaml

ip netns add "$B"
nx() { nsenter --net="/run/netns/$B" "$@"; }
ip -n "$B" link set lo up
ip -n "$B" link add d0 type veth peer name d1
ip -n "$B" addr add 10.99.0.1/16 dev d0
ip -n "$B" link set d0 up
ip -n "$B" link set d1 up
# bpf_fib_lookup answers only where forwarding is on, as on a node
nx sysctl -qw net.ipv4.ip_forward=1
# the clients (10.98/16) behind a router on d0, for the replies' fib lookup
ip -n "$B" neigh add 10.99.255.254 lladdr 02:00:00:00:ff:fe dev d0 nud permanent
ip -n "$B" route add 10.98.0.0/16 via 10.99.255.254
for i in $(seq 2 101); do
	ip -n "$B" neigh add 10.99.0.$i lladdr 02:00:00:00:00:$(printf %02x $i) dev d0 nud permanent
done
ifindex=$(ip -n "$B" -o link show d0 | cut -d: -f1)
bes=$(for i in $(seq 1 100); do printf '10.99.0.%d:80 ' $((i + 1)); done)

# Every round starts from empty flow tables, so that "tables filling" is
# what it says: the datapath detached, the pins gone, attached again (d0's
# address becomes the SNAT address) and the two measured services added.
fresh() {	# [svc-add options for the TCP service]
	xdp-attach -q -N "$B" --detach 2>/dev/null || true
	rm -rf "$KPR_PIN_ROOT"
	xdp-attach -q -N "$B" --mode generic d0
	svc-add -q -t loadbalancer "$@" $VIP:80 $bes
	svc-add -q -t loadbalancer $VIP:53/udp $(for i in $(seq 2 101); do printf '10.99.0.%d:53/udp ' $i; done)
}
fresh

echo "# kpr XDP datapath, BPF_PROG_TEST_RUN, 54-byte packets, 100 backends, median of $RUNS runs x $REPEAT repeats"
echo "# Katran's figures beside: its balancer.bpf.c measured side by side with kpr on this machine type, 2026-12-01 (15 rounds, interleaved); kpr's goals are 0.8 of them"
echo "# kernel $(uname -r), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
nx "$tmp/xdp_bench" "$KPR_PIN_ROOT" "$ifindex" $VIP "1 service" "$REPEAT" "$RUNS"

# masquerade: the clients' network stands for pods, the backends' for the
# outside, d0's address the node's (BPF_PROG_TEST_RUN runs a tc program on
# lo: the address is named). On fresh tables: the SYN flood above holds
# every nat port, which masquerade shares.
fresh
masq-ctl -q -N "$B" --ipv4 on --pod-cidr 10.98.0.0/16 --masq-ip 10.99.0.1
nx "$tmp/xdp_bench" "$KPR_PIN_ROOT" "$ifindex" $VIP "masquerade" "$REPEAT" "$RUNS" masq
masq-ctl -q -N "$B" --ipv4 off

# DSR beside SNAT, on fresh tables: a DSR service with the same backends,
# the LB side with the option and with IPIP, then the backend node's side
# (d0's address 10.99.0.1 standing for the backend node's)
fresh
svc-add -q -t loadbalancer --mode dsr 10.96.0.2:80 $bes
nx "$tmp/xdp_bench" "$KPR_PIN_ROOT" "$ifindex" $VIP "DSR" "$REPEAT" "$RUNS" dsr 10.96.0.2 10.99.0.1

# the same service choosing by Maglev (M = 16381): what a table lookup costs
fresh --algorithm maglev
nx "$tmp/xdp_bench" "$KPR_PIN_ROOT" "$ifindex" $VIP "1 service, Maglev" "$REPEAT" "$RUNS"
fresh

# SERVICES - 2 more services (one backend each), loaded as an operator would
awk -v n=$((SERVICES - 2)) 'BEGIN { for (i = 0; i < n; i++)
	printf "-t loadbalancer 10.%d.%d.%d:80 10.99.%d.%d:80\n", 100 + int(i / 65536), int(i / 256) % 256, i % 256, 1 + int(i / 250) % 200, 2 + i % 250 }' >"$tmp/svcs"
echo "$VIP:80 $bes" | sed 's/^/-t loadbalancer /' >>"$tmp/svcs"
echo "-t loadbalancer $VIP:53/udp $(for i in $(seq 2 101); do printf '10.99.0.%d:53/udp ' $i; done)" >>"$tmp/svcs"
start=$(date +%s.%N)
svc-add -q -f "$tmp/svcs" --replace
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" -v n=$SERVICES 'BEGIN { printf "# control plane: svc-add -f of %d services: %.2f s\n", n, e - s }'
n=$(bpftool map show pinned "$KPR_PIN_ROOT/services" >/dev/null && svc-list -o json | jq '.services | length')
echo "# services loaded: $n"
nx "$tmp/xdp_bench" "$KPR_PIN_ROOT" "$ifindex" $VIP "$n services" "$REPEAT" "$RUNS"
