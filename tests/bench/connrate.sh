#!/usr/bin/env bash
# New connections per second through a service with one backend and with
# ten, kpr against kube-proxy's iptables layout, on one netns lab
# (tests/lab/lab.sh): short connections from one client
# (tests/unit/helper_storm.c, the server closing first as an HTTP server
# does), the rounds interleaved so that both see the same machine. Prints
# figures and the client's retransmitted segments; asserts nothing.
#   SECONDS_EACH (default 3), ROUNDS (default 3), PARALLEL (default 4
#   client processes).
#
# The iptables layout is kube-proxy's for a LoadBalancer IP: PREROUTING ->
# KUBE-SERVICES -> KUBE-SVC-* (statistic --mode random over the endpoints)
# -> KUBE-SEP-* (KUBE-MARK-MASQ, DNAT), and KUBE-POSTROUTING masquerading
# what was marked, with --random-fully as kube-proxy sets it when iptables
# has it; "iptables, plain MASQUERADE" is the same without it.
#
# Each configuration reaches the backends on a port of its own (kpr 9000,
# the two iptables layouts 9001 and 9002): a backend holds the tuples a
# configuration leaves in TIME_WAIT for 60 s, and the next one to run must
# not meet them, as it would not on a node where it is the only NAT. Each
# round brings a fresh lab up, for the same reason.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
: "${KPR_BIN:=$top/build}"
export PATH="$KPR_BIN:$PATH"
EACH=${SECONDS_EACH:-3}
ROUNDS=${ROUNDS:-3}
PAR=${PARALLEL:-4}
export KPR_LAB_PREFIX=kcr$$
export KPR_PIN_ROOT=/sys/fs/bpf/kpr-lab-$KPR_LAB_PREFIX
LAB=$top/tests/lab/lab.sh
STORM=$KPR_BIN/tests/helper_storm
VIP1=10.77.100.1
VIP10=10.77.100.10
EXTRA="b1:10.77.2.21 b2:10.77.2.22 b3:10.77.2.23 b1:10.77.2.24 b2:10.77.2.25 b3:10.77.2.26 b1:10.77.2.27"
BE10="10.77.2.11 10.77.2.12 10.77.2.13 10.77.2.21 10.77.2.22 10.77.2.23 10.77.2.24 10.77.2.25 10.77.2.26 10.77.2.27"
pids=()
tmp=$(mktemp -d)

[ -x "$STORM" ] || { echo "connrate.sh: $STORM missing: run make bench" >&2; exit 1; }
nx() { local n=$1; shift; nsenter --net="/run/netns/$KPR_LAB_PREFIX$n" "$@"; }

cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	"$LAB" down >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# A fresh lab for every round: the backends' TIME_WAIT tuples, conntrack's
# entries and kpr's nat slots of one round must not meet the next, or the
# later rounds measure what the earlier ones left rather than the NAT.
lab_fresh() {
	local e b port n
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	pids=()
	"$LAB" down >/dev/null 2>&1 || true
	"$LAB" up >/dev/null
	for e in $EXTRA; do
		nx "${e%%:*}" ip addr add "${e#*:}/24" dev eth0
	done
	for b in b1 b2 b3; do
		for port in 9000 9001 9002; do
			nx "$b" "$STORM" server $port </dev/null >/dev/null 2>&1 &
			pids+=($!)
		done
	done
	for b in $BE10; do
		n=0
		until nx node ping -c1 -W1 "$b" >/dev/null 2>&1 &&
			nx node bash -c "exec 3<>/dev/tcp/$b/9000 && exec 4<>/dev/tcp/$b/9001 && exec 5<>/dev/tcp/$b/9002" 2>/dev/null; do
			n=$((n + 1)); [ $n -lt 50 ] || { echo "connrate.sh: backend $b does not answer" >&2; exit 1; }
			sleep 0.2
		done
	done
}

retrans() {
	nx client awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "RetransSegs") c = i; h = 1 } else print $c }' /proc/net/snmp
}

kpr_on() {
	xdp-attach -q -N "${KPR_LAB_PREFIX}node" --mode native eth0 eth1
	svc-del -q --all 2>/dev/null || true
	svc-add -q -t loadbalancer $VIP1:9000 10.77.2.11:9000
	svc-add -q -t loadbalancer $VIP10:9000 $(printf '%s:9000 ' $BE10)
}

kpr_off() {
	xdp-attach -q -N "${KPR_LAB_PREFIX}node" --detach
}

# kube-proxy's chains for the two services; $1: the backends' port, $2:
# extra MASQUERADE options
ipt_on() {
	local ipt="nx node iptables -w -t nat" i n svc port=$1
	shift
	$ipt -N KUBE-SERVICES
	$ipt -N KUBE-POSTROUTING
	$ipt -N KUBE-MARK-MASQ
	$ipt -A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
	$ipt -A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
	$ipt -A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
	$ipt -A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
	$ipt -A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0
	$ipt -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE $1
	for svc in "1 $VIP1 10.77.2.11" "10 $VIP10 $BE10"; do
		set -- $svc
		n=$1; vip=$2; shift 2
		$ipt -N KUBE-SVC-$n
		$ipt -A KUBE-SERVICES -d $vip/32 -p tcp --dport 9000 -j KUBE-SVC-$n
		i=0
		for b in "$@"; do
			$ipt -N KUBE-SEP-$n-$i
			$ipt -A KUBE-SEP-$n-$i -s $b/32 -j KUBE-MARK-MASQ
			$ipt -A KUBE-SEP-$n-$i -p tcp -j KUBE-MARK-MASQ
			$ipt -A KUBE-SEP-$n-$i -p tcp -j DNAT --to-destination $b:$port
			if [ $((n - i)) -gt 1 ]; then
				$ipt -A KUBE-SVC-$n -m statistic --mode random \
					--probability "$(awk -v k=$((n - i)) 'BEGIN { printf "%.11f", 1 / k }')" -j KUBE-SEP-$n-$i
			else
				$ipt -A KUBE-SVC-$n -j KUBE-SEP-$n-$i
			fi
			i=$((i + 1))
		done
	done
}

ipt_off() {
	nx node iptables -w -t nat -F
	nx node iptables -w -t nat -X
}

# One measurement: LABEL VIP; appends "LABEL rate retrans" to $tmp/res
measure() {
	local r0 r1 out
	r0=$(retrans)
	out=$(nx client "$STORM" client "$2" 9000 "${EACH}s" "$PAR" || true)
	r1=$(retrans)
	echo "$1|$(awk '{ print $8 }' <<<"$out")|$((r1 - r0))|$out" >>"$tmp/res"
}

echo "# new connections per second, one client, $PAR processes, ${EACH} s each, $ROUNDS rounds interleaved"
echo "# kernel $(uname -r), $(nproc) CPUs"
for r in $(seq 1 "$ROUNDS"); do
	lab_fresh
	kpr_on
	measure "kpr, 1 backend" $VIP1
	measure "kpr, 10 backends" $VIP10
	kpr_off
	ipt_on 9001 --random-fully
	measure "iptables (kube-proxy, --random-fully), 1 backend" $VIP1
	measure "iptables (kube-proxy, --random-fully), 10 backends" $VIP10
	ipt_off
	ipt_on 9002 ""
	measure "iptables, plain MASQUERADE, 1 backend" $VIP1
	measure "iptables, plain MASQUERADE, 10 backends" $VIP10
	ipt_off
done
awk -F'|' '{ print "#   round: " $1 ": " $4 ", retransmits " $3 }' "$tmp/res"
# per configuration: the median rate and the retransmits of all rounds
awk -F'|' '{ n[$1]++; v[$1, n[$1]] = $2; rt[$1] += $3; if (!($1 in o)) { o[$1] = ++k; name[k] = $1 } }
	END {
		for (j = 1; j <= k; j++) {
			c = name[j]; m = n[c]
			for (a = 1; a <= m; a++) for (b = a + 1; b <= m; b++)
				if (v[c, b] < v[c, a]) { t = v[c, a]; v[c, a] = v[c, b]; v[c, b] = t }
			printf "%-52s %7d conn/s (median of %d)  %d retransmitted segments\n", c, v[c, int((m + 1) / 2)], m, rt[c]
		}
	}' "$tmp/res"
