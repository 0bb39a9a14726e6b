#!/usr/bin/env bash
# Socket LB's cost (lb-mode --socket-lb): new connections per second from
# the node's own namespace to a ClusterIP through socket LB, against the
# same to the backend directly, to a LoadBalancer IP from the client
# through the packet path (XDP, SNAT), and to a ClusterIP served by
# kube-proxy's iptables layout in the node's namespace (nat OUTPUT ->
# KUBE-SERVICES -> KUBE-SVC-* -> KUBE-SEP-* DNAT, loaded with
# iptables-restore; the measured service last in KUBE-SERVICES, so that a
# connection's first packet walks every rule, as one to the service
# kube-proxy happened to list last does), with 1 and with 10,000 services
# loaded; the rounds interleaved so that all see the same machine. Short
# connections (tests/unit/helper_storm.c: connect, read the answer, close).
# Socket LB is attached to a child cgroup this script creates, holding only
# its own client processes. Prints figures; asserts nothing.
#   SECONDS_EACH (default 3), ROUNDS (default 3), PARALLEL (default 2).
#
# Each configuration reaches the backend on a port of its own (socket LB
# 9000, direct 9001, packet path 9002, iptables 9003), so that none meets
# the tuples another left in the backend's TIME_WAIT.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
: "${KPR_BIN:=$top/build}"
export PATH="$KPR_BIN:$PATH"
EACH=${SECONDS_EACH:-3}
ROUNDS=${ROUNDS:-3}
PAR=${PARALLEL:-2}
export KPR_LAB_PREFIX=ksr$$
export KPR_PIN_ROOT=/sys/fs/bpf/kpr-lab-$KPR_LAB_PREFIX
LAB=$top/tests/lab/lab.sh
STORM=$KPR_BIN/tests/helper_storm
VIP=10.77.100.1
LBIP=10.77.100.2
IPTVIP=10.98.0.1	# the iptables layout's measured ClusterIP, not kpr's
BE=10.77.2.11
pids=()
tmp=$(mktemp -d)
CG=

[ -x "$STORM" ] || { echo "sockrate.sh: $STORM missing: run make bench" >&2; exit 1; }
nx() { local n=$1; shift; nsenter --net="/run/netns/$KPR_LAB_PREFIX$n" "$@"; }

cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	lb-mode -q --socket-lb off 2>/dev/null || true
	nx node iptables-restore <<<$'*nat\nCOMMIT' 2>/dev/null || true
	[ -n "$CG" ] && rmdir "$CG" 2>/dev/null
	"$LAB" down >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT

cg2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
[ -n "$cg2" ] || { echo "sockrate.sh: no cgroup2 mount" >&2; exit 1; }
"$LAB" up >/dev/null
CG=$cg2/kpr-sockrate-$$
mkdir "$CG"
for port in 9000 9001 9002 9003; do
	nx b1 "$STORM" server $port </dev/null >/dev/null 2>&1 &
	pids+=($!)
done
n=0
until nx node bash -c "exec 3<>/dev/tcp/$BE/9000 && exec 4<>/dev/tcp/$BE/9001 && exec 5<>/dev/tcp/$BE/9002 && exec 6<>/dev/tcp/$BE/9003" 2>/dev/null; do
	n=$((n + 1)); [ $n -lt 50 ] || { echo "sockrate.sh: the backend does not answer" >&2; exit 1; }
	sleep 0.2
done
xdp-attach -q -N "${KPR_LAB_PREFIX}node" --mode native eth0 eth1
# the iptables layout's ClusterIPs are routed as a node's default route
# would route them; its DNAT then sends them to the backend
nx node ip route add 10.98.0.0/15 dev eth1
lb-mode -q -N "${KPR_LAB_PREFIX}node" --socket-lb on --cgroup "$CG"

# N services: the two measured, and N - 1 more ClusterIPs to the same backend
services() {
	{
		echo "$VIP:80 $BE:9000"
		echo "-t loadbalancer $LBIP:80 $BE:9002"
		for i in $(seq 1 $(($1 - 1))); do
			echo "10.96.$((i / 250)).$((i % 250 + 1)):80 $BE:9000"
		done
	} >"$tmp/svc"
	svc-add -q -f "$tmp/svc" --replace
}

# kube-proxy's nat table for N ClusterIPs of one endpoint each, in the
# node's namespace, where its OUTPUT chain serves the node's own sockets;
# the one measured ($IPTVIP) comes last. One iptables-restore replaces the
# whole table.
iptables_services() {
	local n=$1
	awk -v n="$n" -v vip="$IPTVIP" -v be="$BE" 'BEGIN {
		print "*nat"
		print ":KUBE-SERVICES - [0:0]"
		print ":KUBE-MARK-MASQ - [0:0]"
		for (i = 1; i <= n; i++)
			printf ":KUBE-SVC-%08X - [0:0]\n:KUBE-SEP-%08X - [0:0]\n", i, i
		print "-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"
		print "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000"
		for (i = 1; i <= n; i++) {
			a = i == n ? vip : sprintf("10.99.%d.%d", int(i / 250), i % 250 + 1)
			printf "-A KUBE-SERVICES -d %s/32 -p tcp -m comment --comment \"ns/svc%d:http cluster IP\" -m tcp --dport 80 -j KUBE-SVC-%08X\n", a, i, i
			printf "-A KUBE-SVC-%08X -m comment --comment \"ns/svc%d:http -> %s:9003\" -j KUBE-SEP-%08X\n", i, i, be, i
			printf "-A KUBE-SEP-%08X -s %s/32 -j KUBE-MARK-MASQ\n", i, be
			printf "-A KUBE-SEP-%08X -p tcp -m tcp -j DNAT --to-destination %s:9003\n", i, be
		}
		print "COMMIT"
	}' >"$tmp/ipt"
	nx node iptables-restore <"$tmp/ipt"
}

# One measurement: LABEL NS ADDR PORT [cg]; appends "LABEL|rate|line" to $tmp/res
measure() {
	local out
	if [ "${5:-}" = cg ]; then
		out=$(sh -c 'echo $$ >"$0/cgroup.procs" && exec nsenter --net="/run/netns/$1" "$2" client "$3" "$4" "$5" "$6"' \
			"$CG" "$KPR_LAB_PREFIX$2" "$STORM" "$3" "$4" "${EACH}s" "$PAR" || true)
	else
		out=$(nx "$2" "$STORM" client "$3" "$4" "${EACH}s" "$PAR" || true)
	fi
	echo "$1|$(awk '{ print $8 }' <<<"$out")|$out" >>"$tmp/res"
}

echo "# new connections per second, $PAR processes, ${EACH} s each, $ROUNDS rounds interleaved"
echo "# kernel $(uname -r), $(nproc) CPUs; $(nx node iptables -V)"
for r in $(seq 1 "$ROUNDS"); do
	for n in 1 10000; do
		services $n
		measure "socket LB, ClusterIP, $n services" node $VIP 80 cg
		measure "backend directly, $n services" node $BE 9001
		measure "packet path (XDP), LoadBalancer IP, $n services" client $LBIP 80
		# loaded only for its own run: nat OUTPUT walks KUBE-SERVICES for
		# every new connection of the node, the others' included
		iptables_services $n
		measure "iptables (kube-proxy layout), ClusterIP, $n services" node $IPTVIP 80
		nx node iptables-restore <<<$'*nat\nCOMMIT'
		nx node conntrack -F >/dev/null 2>&1 || true
	done
done
awk -F'|' '{ print "#   round: " $1 ": " $3 }' "$tmp/res"
awk -F'|' '{ n[$1]++; v[$1, n[$1]] = $2; if (!($1 in o)) { o[$1] = ++k; name[k] = $1 } }
	END {
		for (j = 1; j <= k; j++) {
			c = name[j]; m = n[c]
			for (a = 1; a <= m; a++) for (b = a + 1; b <= m; b++)
				if (v[c, b] < v[c, a]) { t = v[c, a]; v[c, a] = v[c, b]; v[c, b] = t }
			printf "%-52s %7d conn/s (median of %d)\n", c, v[c, int((m + 1) / 2)], m
		}
	}' "$tmp/res"
