#!/usr/bin/env bash
# The netns lab (docs/design.md): a client, a node with two interfaces and its own
# pin root, and three backends running echo servers, all in namespaces whose
# names start with $KPR_LAB_PREFIX, so concurrent labs never meet.
#
#   lab.sh up | down | exec NS CMD... | env
#
#   client (eth0 10.77.1.2, fd00:77:1::2)
#     |
#   node   eth0 10.77.1.1 fd00:77:1::1 | eth1 10.77.2.1 fd00:77:2::1
#     |
#   switch (bridge br0)                  pod0 10.77.3.1 fd00:77:3::1 (KPR_LAB_POD=1)
#     |                                      |
#     |                                    pod (eth0 10.77.3.2, fd00:77:3::2)
#     |-- b1 10.77.2.11 fd00:77:2::11
#     |-- b2 10.77.2.12 fd00:77:2::12
#     `-- b3 10.77.2.13 fd00:77:2::13
#
# Echo servers on every backend: TCP 80 (HTTP: "backend=bN peer=ADDR:PORT"),
# TCP 8080 (one answer per line), UDP 5353; IPv4 and IPv6. Addresses are
# the same in every lab: they live only inside its namespaces. With
# KPR_LAB_POD=1 a pod sits behind the node (masquerade), with the echo
# servers of TCP 8080 and UDP 5353, and the backends serve as the outside. The peers of
# every veth the node sends into run a bare XDP program (native
# XDP_REDIRECT/XDP_TX into a veth needs one), and the client's and
# backends' veths have tx checksum offload off (docs/design.md, "Facts of the kernel").
# `exec` enters the network namespace only (nsenter --net), never
# `ip netns exec`, so the host's bpffs and its pins stay visible.
#
# KPR_LAB_TOPO=dsr brings up the bridged lab for DSR instead: client, LB
# node and backend node on one L2 segment, so that the backend's node
# reaches the client without the LB node; a pod behind each node.
#
#   switch (bridge br0) ----------------------------------------.
#     |-- client eth0 10.78.0.2 fd00:78::2                      |
#     |-- node   eth0 10.78.0.1 fd00:78::1 (LB node, pin root   |
#     |          $PIN) | eth1 10.78.6.1 -- b2 10.78.6.11        |
#     `-- bnode  eth0 10.78.0.3 fd00:78::3 (backend node, pin root $PIN-bnode)
#                | eth1 10.78.5.1 fd00:78:5::1 -- b1 10.78.5.11 fd00:78:5::11
#
# The client routes 10.78.100.0/24 and fd00:78:100::/64 (VIPs) to the LB
# node, the LB node the pods' 10.78.5.0/24 to the backend node.
set -eu
P=${KPR_LAB_PREFIX:-kpl}
top=$(cd "$(dirname "$0")/../.." && pwd)
: "${KPR_BIN:=$top/build}"
PIN=${KPR_LAB_PIN_ROOT:-/sys/fs/bpf/kpr-lab-$P}
RUN=/run/kpr-lab-$P
BACKENDS="b1 b2 b3"
POD=${KPR_LAB_POD:+pod}
PASS_OBJ=$KPR_BIN/tests/bpf/xdp_pass.bpf.o
TOPO=${KPR_LAB_TOPO:-routed}
[ "$TOPO" = dsr ] && BACKENDS="b1 b2"

[ ${#P} -le 9 ] || { echo "lab.sh: KPR_LAB_PREFIX '$P' is too long (9 at most)" >&2; exit 2; }

ns() { echo "$P$1"; }
nx() { local n=$1; shift; nsenter --net="/run/netns/$(ns "$n")" "$@"; }

# A veth between namespaces A and B, named $3 in A and $4 in B. Created with
# prefixed names (unique on the host), renamed once inside.
veth() {
	local a=$1 b=$2 na=$3 nb=$4 t=$P$RANDOM
	ip link add "${t}a" type veth peer name "${t}b"
	ip link set "${t}a" netns "$(ns "$a")"
	ip link set "${t}b" netns "$(ns "$b")"
	ip -n "$(ns "$a")" link set "${t}a" name "$na"
	ip -n "$(ns "$b")" link set "${t}b" name "$nb"
}

# Polls CMD until it succeeds, at most $1 tenths of a second.
wait_for() {
	local n=$1; shift
	while ! "$@" >/dev/null 2>&1; do
		n=$((n - 1))
		[ $n -gt 0 ] || return 1
		sleep 0.1
	done
}

start() {	# NS NAME CMD...: a server in NS, its pid kept for `down`
	local n=$1 name=$2; shift 2
	# exec: the pid is the server's (nsenter execs it); no inherited fd
	# beyond 0-2 may stay open, or a caller reading our output (bats)
	# would wait for the servers to exit
	(exec nsenter --net="/run/netns/$(ns "$n")" "$@" </dev/null >/dev/null 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-) &
	echo $! >"$RUN/$n-$name.pid"
}

# The echo servers of every backend, and a wait until all listen.
servers() {
	local b e="$top/tests/lab/echo.sh"
	for b in $BACKENDS; do
		start "$b" http4 socat TCP4-LISTEN:80,fork,reuseaddr EXEC:"$e http $b"
		start "$b" http6 socat TCP6-LISTEN:80,fork,reuseaddr,ipv6only=1 EXEC:"$e http $b"
		start "$b" line4 socat TCP4-LISTEN:8080,fork,reuseaddr EXEC:"$e line $b"
		start "$b" line6 socat TCP6-LISTEN:8080,fork,reuseaddr,ipv6only=1 EXEC:"$e line $b"
		start "$b" udp4 socat UDP4-RECVFROM:5353,fork,reuseaddr EXEC:"$e udp $b"
		start "$b" udp6 socat UDP6-RECVFROM:5353,fork,reuseaddr,ipv6only=1 EXEC:"$e udp $b"
	done
	for b in $BACKENDS; do
		# all six: TCP 80 and 8080, UDP 5353, each IPv4 and IPv6
		wait_for 50 sh -c "nsenter --net=/run/netns/$(ns $b) ss -Hltn | grep -cE ':(80|8080) ' | grep -qx 4 && nsenter --net=/run/netns/$(ns $b) ss -Hlun | grep -c ':5353 ' | grep -qx 2" ||
			{ echo "lab.sh: echo servers of $b did not start" >&2; exit 1; }
	done
}

# An address of each family on DEV in namespace N: addrs N DEV A4/LEN A6/LEN
addrs() {
	ip -n "$(ns $1)" addr add "$3" dev "$2"
	ip -n "$(ns $1)" addr add "$4" dev "$2" nodad
	ip -n "$(ns $1)" link set "$2" up
}

up_dsr() {
	mkdir -p "$RUN"
	for n in client node bnode switch $BACKENDS; do
		ip netns add "$(ns $n)"
		ip -n "$(ns $n)" link set lo up
	done
	ip -n "$(ns switch)" link add br0 type bridge
	ip -n "$(ns switch)" link set br0 up
	for n in client node bnode; do
		veth "$n" switch eth0 "p$n"
		ip -n "$(ns switch)" link set "p$n" master br0 up
	done
	veth bnode b1 eth1 eth0
	veth node b2 eth1 eth0
	addrs client eth0 10.78.0.2/24 fd00:78::2/64
	addrs node eth0 10.78.0.1/24 fd00:78::1/64
	addrs bnode eth0 10.78.0.3/24 fd00:78::3/64
	addrs bnode eth1 10.78.5.1/24 fd00:78:5::1/64
	addrs b1 eth0 10.78.5.11/24 fd00:78:5::11/64
	addrs node eth1 10.78.6.1/24 fd00:78:6::1/64
	addrs b2 eth0 10.78.6.11/24 fd00:78:6::11/64
	ip -n "$(ns client)" route add 10.78.100.0/24 via 10.78.0.1
	ip -n "$(ns client)" -6 route add fd00:78:100::/64 via fd00:78::1
	ip -n "$(ns node)" route add 10.78.5.0/24 via 10.78.0.3
	ip -n "$(ns node)" -6 route add fd00:78:5::/64 via fd00:78::3
	ip -n "$(ns b1)" route add default via 10.78.5.1
	ip -n "$(ns b1)" -6 route add default via fd00:78:5::1
	ip -n "$(ns b2)" route add default via 10.78.6.1
	ip -n "$(ns b2)" -6 route add default via fd00:78:6::1
	nx node sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	nx bnode sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	# native XDP_REDIRECT into a veth needs an XDP program on the peer:
	# the LB node sends into its eth0 (the switch's port) and eth1 (b2)
	ip -n "$(ns switch)" link set dev pnode xdpdrv obj "$PASS_OBJ" sec xdp
	ip -n "$(ns b2)" link set dev eth0 xdpdrv obj "$PASS_OBJ" sec xdp
	for n in client $BACKENDS; do
		nx "$n" ethtool -K eth0 tx off >/dev/null
	done
	servers
	# neighbours resolved and the wiring checked
	for a in 10.78.0.2 10.78.0.3 10.78.6.11 fd00:78::2 fd00:78::3 fd00:78:6::11; do
		wait_for 50 nx node ping -c1 -W1 "$a" || { echo "lab.sh: node cannot reach $a" >&2; exit 1; }
	done
	for a in 10.78.0.2 10.78.0.1 10.78.5.11 fd00:78::2 fd00:78::1 fd00:78:5::11; do
		wait_for 50 nx bnode ping -c1 -W1 "$a" || { echo "lab.sh: bnode cannot reach $a" >&2; exit 1; }
	done
	wait_for 50 nx client ping -c1 -W1 10.78.0.1
	wait_for 50 nx client ping -c1 -W1 10.78.0.3
	wait_for 50 nx client ping -6 -c1 -W1 fd00:78::1
	wait_for 50 nx client ping -6 -c1 -W1 fd00:78::3
	echo "lab $P up (dsr): namespaces $(ns client) $(ns node) $(ns bnode) $(ns switch) $(ns b1) $(ns b2); pin roots $PIN $PIN-bnode"
}

# The pod behind the node, on a veth the datapath is not attached to.
up_pod() {
	local e="$top/tests/lab/echo.sh"
	veth node pod pod0 eth0
	ip -n "$(ns node)" addr add 10.77.3.1/24 dev pod0
	ip -n "$(ns node)" addr add fd00:77:3::1/64 dev pod0 nodad
	ip -n "$(ns node)" link set pod0 up
	ip -n "$(ns pod)" addr add 10.77.3.2/24 dev eth0
	ip -n "$(ns pod)" addr add fd00:77:3::2/64 dev eth0 nodad
	ip -n "$(ns pod)" link set eth0 up
	ip -n "$(ns pod)" route add default via 10.77.3.1
	ip -n "$(ns pod)" -6 route add default via fd00:77:3::1
	ip -n "$(ns pod)" link set dev eth0 xdpdrv obj "$PASS_OBJ" sec xdp
	nx pod ethtool -K eth0 tx off >/dev/null
	start pod line4 socat TCP4-LISTEN:8080,fork,reuseaddr EXEC:"$e line pod"
	start pod line6 socat TCP6-LISTEN:8080,fork,reuseaddr,ipv6only=1 EXEC:"$e line pod"
	start pod udp4 socat UDP4-RECVFROM:5353,fork,reuseaddr EXEC:"$e udp pod"
	wait_for 50 sh -c "nsenter --net=/run/netns/$(ns pod) ss -Hltn | grep -c ':8080 ' | grep -qx 2" ||
		{ echo "lab.sh: echo servers of the pod did not start" >&2; exit 1; }
	wait_for 50 nx node ping -c1 -W1 10.77.3.2
	wait_for 50 nx node ping -6 -c1 -W1 fd00:77:3::2
}

up() {
	[ -e "/run/netns/$(ns node)" ] && { echo "lab.sh: lab $P is already up (lab.sh down first)" >&2; exit 1; }
	[ -f "$PASS_OBJ" ] || { echo "lab.sh: $PASS_OBJ missing: run make" >&2; exit 1; }
	[ "$TOPO" = dsr ] && { up_dsr; return; }
	mkdir -p "$RUN"
	for n in client node switch $BACKENDS $POD; do
		ip netns add "$(ns $n)"
		ip -n "$(ns $n)" link set lo up
	done
	veth client node eth0 eth0
	veth node switch eth1 "n0"
	ip -n "$(ns switch)" link add br0 type bridge
	ip -n "$(ns switch)" link set br0 up
	ip -n "$(ns switch)" link set n0 master br0 up
	i=11
	for b in $BACKENDS; do
		veth "$b" switch eth0 "p$b"
		ip -n "$(ns switch)" link set "p$b" master br0 up
		ip -n "$(ns $b)" addr add 10.77.2.$i/24 dev eth0
		ip -n "$(ns $b)" addr add fd00:77:2::$i/64 dev eth0 nodad
		ip -n "$(ns $b)" link set eth0 up
		ip -n "$(ns $b)" route add default via 10.77.2.1
		ip -n "$(ns $b)" -6 route add default via fd00:77:2::1
		i=$((i + 1))
	done
	ip -n "$(ns client)" addr add 10.77.1.2/24 dev eth0
	ip -n "$(ns client)" addr add fd00:77:1::2/64 dev eth0 nodad
	ip -n "$(ns client)" link set eth0 up
	ip -n "$(ns client)" route add default via 10.77.1.1
	ip -n "$(ns client)" -6 route add default via fd00:77:1::1
	ip -n "$(ns node)" addr add 10.77.1.1/24 dev eth0
	ip -n "$(ns node)" addr add fd00:77:1::1/64 dev eth0 nodad
	ip -n "$(ns node)" addr add 10.77.2.1/24 dev eth1
	ip -n "$(ns node)" addr add fd00:77:2::1/64 dev eth1 nodad
	ip -n "$(ns node)" link set eth0 up
	ip -n "$(ns node)" link set eth1 up
	nx node sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

	# native XDP_REDIRECT/XDP_TX into a veth needs an XDP program on the peer
	ip -n "$(ns client)" link set dev eth0 xdpdrv obj "$PASS_OBJ" sec xdp
	ip -n "$(ns switch)" link set dev n0 xdpdrv obj "$PASS_OBJ" sec xdp
	# sockets' CHECKSUM_PARTIAL does not survive XDP_REDIRECT: full sums
	nx client ethtool -K eth0 tx off >/dev/null
	for b in $BACKENDS; do
		nx "$b" ethtool -K eth0 tx off >/dev/null
	done

	servers
	[ -z "$POD" ] || up_pod
	# neighbours resolved before the first translated packet (XDP_PASS after
	# SNAT would be a martian) and the wiring checked
	i=11
	for b in $BACKENDS; do
		wait_for 50 nx node ping -c1 -W1 10.77.2.$i
		wait_for 50 nx node ping -6 -c1 -W1 fd00:77:2::$i
		i=$((i + 1))
	done
	wait_for 50 nx node ping -c1 -W1 10.77.1.2
	wait_for 50 nx node ping -6 -c1 -W1 fd00:77:1::2
	echo "lab $P up: namespaces $(ns client) $(ns node) $(ns switch) $(ns b1) $(ns b2) $(ns b3); node pin root $PIN"
}

# Every process whose network namespace is one of the lab's: the servers,
# the children they forked per connection (which a connection held open
# keeps alive), and whatever a test started there.
lab_pids() {
	local n
	for n in client node bnode switch b1 b2 b3 pod; do
		[ -e "/run/netns/$(ns $n)" ] && ip netns pids "$(ns $n)"
	done
	return 0
}

down() {
	local f pids end
	if [ -d "$RUN" ]; then
		for f in "$RUN"/*.pid; do
			[ -f "$f" ] || continue
			kill "$(cat "$f")" 2>/dev/null || true
			rm -f "$f"
		done
		rmdir "$RUN" 2>/dev/null || true
	fi
	# a process left behind would keep its namespace alive after the
	# name is gone, and hold whatever it held (ports, locks) for good
	pids=$(lab_pids)
	[ -z "$pids" ] || kill $pids 2>/dev/null || true
	end=$((SECONDS + 5))
	while pids=$(lab_pids) && [ -n "$pids" ] && [ $SECONDS -lt $end ]; do
		sleep 0.1
	done
	[ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
	for n in client node bnode switch b1 b2 b3 pod; do
		[ -e "/run/netns/$(ns $n)" ] && ip netns del "$(ns $n)"
	done
	rm -rf "$PIN" "$PIN-bnode"
	return 0
}

case "${1:-}" in
up) up ;;
down) down ;;
exec) shift; n=$1; shift; nx "$n" "$@" ;;
env) echo "KPR_LAB_PREFIX=$P KPR_PIN_ROOT=$PIN" ;;
*) echo "usage: [KPR_LAB_TOPO=dsr] lab.sh up|down|exec NS CMD...|env   (NS: client node switch b1 b2 b3, pod with KPR_LAB_POD=1; dsr: client node bnode switch b1 b2)" >&2; exit 2 ;;
esac
