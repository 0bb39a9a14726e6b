#!/usr/bin/env bats
# The node datapath on the netns lab, with real traffic: the client reaches
# services on the node, whose XDP program balances them over three backends
# (tests/lab/lab.sh draws the lab).

load helpers
load lab/lab

VIP=10.77.100.1
VIP6=fd00:77:100::1
B4="10.77.2.11 10.77.2.12 10.77.2.13"

setup_file() { lab_setup_file; }
teardown_file() { lab_teardown_file; }
setup() { lab_reset native; }

be4() {	# PORT[/udp]: the three IPv4 backends
	local p=${1%/*} s=; [ "$1" != "$p" ] && s=/${1#*/}
	echo "10.77.2.11:$p$s 10.77.2.12:$p$s 10.77.2.13:$p$s"
}
be6() {
	local p=${1%/*} s=; [ "$1" != "$p" ] && s=/${1#*/}
	echo "[fd00:77:2::11]:$p$s [fd00:77:2::12]:$p$s [fd00:77:2::13]:$p$s"
}

@test "curl through a LoadBalancer IP: the backend sees the node (SNAT)" {
	svc-add -q -t loadbalancer $VIP:80 $(be4 80)
	run ccurl http://$VIP/
	assert_success
	assert_output --regexp '^backend=b[123] peer=10\.77\.2\.1:[0-9]+$'
}

@test "curl through an ExternalIP, and over IPv6 to both" {
	svc-add -q -t externalip 10.77.100.2:80 $(be4 80)
	svc-add -q -t loadbalancer [$VIP6]:80 $(be6 80)
	svc-add -q -t externalip [fd00:77:100::2]:80 $(be6 80)
	run ccurl http://10.77.100.2/
	assert_success
	assert_output --partial "peer=10.77.2.1:"
	run ccurl "http://[$VIP6]/"
	assert_success
	assert_output --regexp 'backend=b[123] peer=\[fd00:0077:0002:0000:0000:0000:0000:0001\]:'
	run ccurl "http://[fd00:77:100::2]/"
	assert_success
}

@test "a NodePort answers on every node address" {
	svc-add -q -t nodeport '*:30080' $(be4 80)
	for a in 10.77.1.1 10.77.2.1; do
		run ccurl http://$a:30080/
		assert_success
		assert_output --partial "peer=10.77.2.1:"
	done
}

@test "a NodePort of each family on one port, from one file: both answer, each from its own backends" {
	svc-add -q -f - <<-EOF
		-t nodeport *:30080 10.77.2.11:80
		-t nodeport [*]:30080 [fd00:77:2::12]:80
	EOF
	run ccurl http://10.77.1.1:30080/
	assert_success
	assert_output --partial "backend=b1 peer=10.77.2.1:"
	run ccurl "http://[fd00:77:1::1]:30080/"
	assert_success
	assert_output --partial "backend=b2 "
}

@test "a NodePort with IPv6 backends answers on every IPv6 node address, and on one given address" {
	svc-add -q -t nodeport '*:30080' $(be6 80)
	for a in fd00:77:1::1 fd00:77:2::1; do
		run ccurl "http://[$a]:30080/"
		assert_success
		assert_output --partial "peer=[fd00:0077:0002:0000:0000:0000:0000:0001]"
	done
	svc-add -q -t nodeport "[fd00:77:1::1]:30081" $(be6 80)
	run ccurl "http://[fd00:77:1::1]:30081/"
	assert_success
	assert_output --partial "backend=b"
}

@test "ClusterIP, IPv4 and IPv6: refused from outside by default, reachable with --external-clusterip on" {
	svc-add -q -t clusterip 10.77.200.1:80 $(be4 80)
	svc-add -q -t clusterip [fd00:77:200::1]:80 $(be6 80)
	run ccurl -m 1 http://10.77.200.1/
	assert_failure
	run ccurl -m 1 "http://[fd00:77:200::1]/"
	assert_failure
	lb-mode -q --external-clusterip on
	run ccurl http://10.77.200.1/
	assert_success
	assert_output --partial "peer=10.77.2.1:"
	run ccurl "http://[fd00:77:200::1]/"
	assert_success
	assert_output --partial "peer=[fd00:0077:0002:0000:0000:0000:0000:0001]"
	lb-mode -q --external-clusterip off
	run ccurl -m 1 http://10.77.200.1/
	assert_failure
}

@test "UDP through socat, IPv4 and IPv6; the reply comes from the service address" {
	svc-add -q -t loadbalancer $VIP:5353/udp $(be4 5353/udp)
	svc-add -q -t loadbalancer [$VIP6]:5353/udp $(be6 5353/udp)
	run cudp $VIP 5353 4
	assert_success
	assert_output --regexp '^backend=b[123] peer=10\.77\.2\.1:[0-9]+ ping$'
	run cudp "[$VIP6]" 5353 6
	assert_success
	assert_output --partial "peer=[fd00:0077:0002:0000:0000:0000:0000:0001]"
}

@test "a 3,000-byte UDP datagram to a service, fragmented both ways, is answered whole, IPv4 and IPv6" {
	svc-add -q -t loadbalancer $VIP:5353/udp $(be4 5353/udp)
	svc-add -q -t loadbalancer [$VIP6]:5353/udp $(be6 5353/udp)
	local big
	big=$(head -c 3000 /dev/zero | tr '\0' x)
	for fam in 4 6; do
		local a=$VIP out
		[ $fam = 6 ] && a="[$VIP6]"
		out=$(echo "$big" | lab client socat -t 2 -b 8192 - "UDP$fam:$a:5353") ||
			fail "no answer over IPv$fam"
		[[ "$out" =~ ^backend=b[123]\ peer=[^\ ]+\ x{3000}$ ]] ||
			fail "IPv$fam: not the whole datagram back: ${out:0:200} (${#out} bytes)"
	done
	# the later fragments were the datapath's: the stack of the node saw none
	run lab node nstat -az IpReasmReqds Ip6ReasmReqds
	assert_output --regexp 'IpReasmReqds +0 '
	assert_output --regexp 'Ip6ReasmReqds +0 '
}

@test "300 requests over three backends: each gets at least 60" {
	svc-add -q -t loadbalancer $VIP:80 $(be4 80)
	run ccurl "http://$VIP/[1-300]"
	assert_success
	counts=$(spread <<<"$output")
	echo "$counts"
	[ "$(awk '{s += $1} END {print s}' <<<"$counts")" -eq 300 ]
	[ "$(wc -l <<<"$counts")" -eq 3 ]
	while read -r n b; do [ "$n" -ge 60 ] || fail "$b got only $n of 300"; done <<<"$counts"
}

@test "random follows the weights: 4, 1 and 1 take about 4/6, 1/6 and 1/6 of 300 requests" {
	svc-add -q -t loadbalancer $VIP:80 10.77.2.11:80,weight=4 10.77.2.12:80 10.77.2.13:80
	run svc-list -j
	jq -e '.services[0].weighted' <<<"$output"
	jq -e '[.services[0].backends[].share] | (.[0] > 0.66 and .[0] < 0.67 and .[1] > 0.16 and .[1] < 0.17)' <<<"$output"
	run ccurl "http://$VIP/[1-300]"
	assert_success
	counts=$(spread <<<"$output")
	echo "$counts"
	[ "$(awk '{s += $1} END {print s}' <<<"$counts")" -eq 300 ]
	# 200 expected, 8 its standard deviation; unweighted gives 100
	[ "$(awk '$2 == "backend=b1" {print $1}' <<<"$counts")" -ge 160 ]
	while read -r n b; do [ "$n" -ge 20 ] || fail "$b got only $n of 300"; done <<<"$counts"
	# equal weights again: an even draw, no table
	svc-add -q -t loadbalancer $VIP:80 $(be4 80)
	run svc-list -j
	jq -e '(.services[0].weighted | not) and ([.services[0].backends[].share] | all(. > 0.33 and . < 0.34))' <<<"$output"
	run bpftool map dump pinned "$KPR_PIN_ROOT/maglev"
	refute_output --partial key
}

@test "svc-list --stats counts packets, bytes and flows per service and backend" {
	svc-add -q -t loadbalancer $VIP:80 $(be4 80)
	ccurl "http://$VIP/[1-9]" >/dev/null
	run svc-list --stats -j
	assert_success
	[ "$(jq '.services[0].stats.flows' <<<"$output")" -eq 9 ]
	[ "$(jq '.services[0].stats.packets' <<<"$output")" -gt 9 ]
	[ "$(jq '[.services[0].backends[].stats.flows] | add' <<<"$output")" -eq 9 ]
}

@test "ping of a service address is answered; with --icmp-echo off it is not" {
	svc-add -q -t loadbalancer $VIP:80 $(be4 80)
	svc-add -q -t loadbalancer [$VIP6]:80 $(be6 80)
	run lab client ping -c 1 -W 1 $VIP
	assert_success
	run lab client ping -6 -c 1 -W 1 $VIP6
	assert_success
	lb-mode -q --icmp-echo off
	run lab client ping -c 1 -W 1 $VIP
	assert_failure
	run lab client ping -6 -c 1 -W 1 $VIP6
	assert_failure
	run lab client ping -c 1 -W 1 10.77.100.99
	assert_failure
}

@test "a ClusterIP answers pings only where its TCP is served: not from outside, unless external ClusterIP is on" {
	svc-add -q -t clusterip 10.77.100.5:80 $(be4 80)
	svc-add -q -t clusterip [fd00:77:100::5]:80 $(be6 80)
	run lab client ping -c 1 -W 1 10.77.100.5
	assert_failure
	run lab client ping -6 -c 1 -W 1 fd00:77:100::5
	assert_failure
	lb-mode -q --external-clusterip on
	run lab client ping -c 1 -W 1 10.77.100.5
	assert_success
	run lab client ping -6 -c 1 -W 1 fd00:77:100::5
	assert_success
	# an address that a LoadBalancer shares with a ClusterIP answers from anywhere
	lb-mode -q --external-clusterip off
	svc-add -q -t loadbalancer 10.77.100.5:443 $(be4 80)
	run lab client ping -c 1 -W 1 10.77.100.5
	assert_success
	svc-del -q 10.77.100.5:443
	run lab client ping -c 1 -W 1 10.77.100.5
	assert_failure
	# the ClusterIP becomes a LoadBalancer on its own frontend, and back
	svc-add -q -t loadbalancer 10.77.100.5:80 $(be4 80)
	run lab client ping -c 1 -W 1 10.77.100.5
	assert_success
	run svc-list --verify
	assert_success
	svc-add -q -t clusterip 10.77.100.5:80 $(be4 80)
	run lab client ping -c 1 -W 1 10.77.100.5
	assert_failure
	run svc-list --verify
	assert_success
}

@test "traffic through the node that is not for a service is unaffected" {
	svc-add -q -t loadbalancer $VIP:80 $(be4 80)
	run ccurl http://10.77.2.12/
	assert_success
	assert_output "backend=b2 peer=10.77.1.2:${output##*:}"
	run ccurl "http://[fd00:77:2::13]/"
	assert_success
	assert_output --partial "peer=[fd00:0077:0001:0000:0000:0000:0000:0002]"
	run cudp 10.77.2.11 5353
	assert_output --partial "peer=10.77.1.2:"
	run lab client ping -c 1 -W 1 10.77.2.11
	assert_success
	run lab client ping -c 1 -W 1 10.77.1.1
	assert_success
}

@test "a long-lived connection keeps its backend while others come and go and while it terminates" {
	svc-add -q -t loadbalancer $VIP:8080 $(be4 8080)
	conn_open
	be=$(conn_say one)
	[ -n "$be" ]
	# the client talks to the service address, never to a backend
	lab client ss -Htn state established | grep -q " $VIP:8080 *\$\| $VIP:8080 "
	run lab client ss -Htn state established
	refute_output --partial "10.77.2.1"	# no backend (10.77.2.11-13), nor the node
	n=${be#backend=b}
	mine=10.77.2.1$n:8080
	others=$(be4 8080 | tr ' ' '\n' | grep -vx "$mine")
	# the others go, then come back; the connection stays with its backend
	svc-add -q -t loadbalancer $VIP:8080 $mine
	[ "$(conn_say two)" = "$be" ]
	svc-add -q -t loadbalancer $VIP:8080 $mine $others
	[ "$(conn_say three)" = "$be" ]
	# its own backend terminates: the open connection goes on ...
	svc-add -q -t loadbalancer $VIP:8080 "$mine,state=terminating" $others
	[ "$(conn_say four)" = "$be" ]
	# ... and new connections avoid it
	for i in 1 2 3 4 5 6 7 8 9 10; do
		out=$(echo new$i | lab client socat -t 2 - TCP4:$VIP:8080)
		[[ "$out" != "$be "* ]] || fail "a new connection went to the terminating $be"
	done
	[ "$(conn_say five)" = "$be" ]
	conn_close
}

@test "affinity sends one client to one backend" {
	svc-add -q -t loadbalancer --affinity 60 $VIP:80 $(be4 80)
	run ccurl "http://$VIP/[1-20]"
	assert_success
	[ "$(spread <<<"$output" | wc -l)" -eq 1 ]
}

@test "generic XDP forwards too, with the node's egress tx checksum offload off" {
	xdp-attach -q -N "$NODE" --mode generic eth0 eth1
	run xdp-attach -N "$NODE" --status -j
	[ "$(jq -r '.devices[0].mode' <<<"$output")" = generic ]
	lab node ethtool -K eth1 tx off >/dev/null
	lab node ethtool -K eth0 tx off >/dev/null
	svc-add -q -t loadbalancer $VIP:80 $(be4 80)
	svc-add -q -t loadbalancer $VIP:5353/udp $(be4 5353/udp)
	run ccurl "http://$VIP/[1-6]"
	assert_success
	[ "$(grep -c 'peer=10.77.2.1:' <<<"$output")" -eq 6 ]
	run cudp $VIP 5353
	assert_success
}

@test "the datapath forwards with no kpr process running; detach removes everything" {
	svc-add -q -t loadbalancer $VIP:80 $(be4 80)
	! pgrep -x xdp-attach || false
	run ccurl http://$VIP/
	assert_success
	xdp-attach -q -N "$NODE" --detach
	[ -z "$(ls "$KPR_PIN_ROOT/links")" ]
	! lab node ip link show | grep -q 'prog/xdp' || false
	run ccurl -m 1 http://$VIP/
	assert_failure
}

@test "no usable backend: TCP is reset, UDP gets port unreachable, IPv4 and IPv6; counted as drops" {
	svc-add -q -t loadbalancer $VIP:80 "10.77.2.11:80,state=maintenance" "10.77.2.12:80,state=quarantined"
	svc-add -q -t loadbalancer [$VIP6]:80
	svc-add -q -t loadbalancer $VIP:5353/udp
	svc-add -q -t loadbalancer [$VIP6]:5353/udp
	run ccurl -m 2 http://$VIP/
	assert_failure 7	# connection refused, not a timeout (28)
	run ccurl -m 2 "http://[$VIP6]/"
	assert_failure 7
	run cudp $VIP 5353
	assert_failure
	assert_output --partial "Connection refused"
	run cudp "[$VIP6]" 5353 6
	assert_failure
	assert_output --partial "Connection refused"
	run svc-list --stats -j
	[ "$(jq '[.services[].stats.drops] | add' <<<"$output")" -ge 4 ]
}

@test "a full NAT port range drops new flows, counted, while the open one goes on" {
	lb-mode -q --nat-ports 40000-40000
	svc-add -q -t loadbalancer $VIP:8080 10.77.2.11:8080
	conn_open
	[ "$(conn_say one)" = backend=b1 ]
	run lab client socat -T 1 - TCP4:$VIP:8080,connect-timeout=1 <<<"two"
	assert_failure
	[ "$(conn_say three)" = backend=b1 ]
	conn_close
	run svc-list --stats -j
	[ "$(jq '.services[0].stats.drops' <<<"$output")" -ge 1 ]
	lb-mode -q --nat-ports 32768-65535
}

@test "a TCP flow the client closes first gives its nat port back" {
	lb-mode -q --nat-ports 40000-40000
	svc-add -q -t loadbalancer $VIP:8080 10.77.2.11:8080
	# socat shuts its side down when stdin ends: the client's FIN comes
	# first, so the client holds TIME_WAIT and the backend none; the flow
	# expires 10 s after its last packet, an open one would hold the only
	# port for the TCP timeout (hours).
	run lab client socat -t 1 - TCP4:$VIP:8080 <<<"one"
	assert_success
	assert_output --partial "backend=b1"
	wait_new_flow 30 "the port of the closed flow"
	lb-mode -q --nat-ports 32768-65535
}

@test "a TCP flow the backend closes first: its port outlasts the backend's TIME_WAIT for other tuples, the same client tuple takes it at once" {
	lb-mode -q --nat-ports 40000-40000
	svc-add -q -t loadbalancer $VIP:80 10.77.2.11:80
	# the HTTP echo server closes first: b1 holds 10.77.2.1:40000 ->
	# 10.77.2.11:80 in TIME_WAIT for 60 s. Not curl, which may close
	# first (below), and the flow would then be a client-closed one.
	run chttp_from 41000
	assert_success
	assert_output --partial "peer=10.77.2.1:40000"
	# another client port would meet that TIME_WAIT: refused past the 10 s
	# a client-closed flow waits (12 s watched, 63 s held)
	end=$((SECONDS + 12))
	while [ $SECONDS -lt $end ]; do
		run ccurl -m 1 --local-port 41001 http://$VIP/
		assert_failure
	done
	# the client's own port 40000 twice: the node keeps it (identity), so
	# the backend sees the client's own tuple, and the reuse is the client
	# stack's to judge; the second one right after the first
	run ccurl --local-port 40000 http://$VIP/
	assert_failure	# the slot still holds 41000's flow
	lb-mode -q --nat-ports 40000-40001
	# curl closes as soon as Content-Length is read, which can be before
	# the backend's FIN arrives: the client would then hold the tuple in
	# TIME_WAIT itself and refuse its own bind. socat reads to the
	# backend's FIN (shut-none: the client sends none first), so the
	# client only passes LAST_ACK, which the poll below waits out.
	run chttp_from 40001
	assert_success
	assert_output --partial "peer=10.77.2.1:40001"
	wait_port_free 40001
	run chttp_from 40001
	assert_success
	assert_output --partial "peer=10.77.2.1:40001"
	[ "$(nat_fail)" -ge 1 ]
	lb-mode -q --nat-ports 32768-65535
}

@test "a TCP flow the client resets gives its nat port back too, with no FIN from the backend" {
	lb-mode -q --nat-ports 40000-40000
	svc-add -q -t loadbalancer $VIP:8080 10.77.2.11:8080
	# no FIN when stdin ends (shut-none), then SO_LINGER 0: close() sends a
	# RST, to which the backend sends nothing
	run lab client socat -t 1 - TCP4:$VIP:8080,shut-none,linger=0 <<<"one"
	assert_success
	assert_output --partial "backend=b1"
	wait_new_flow 30 "the port of the reset flow"
	lb-mode -q --nat-ports 32768-65535
}

@test "a backend's ICMP port unreachable reaches the client, about the client's own packet, IPv4 and IPv6" {
	# nothing listens on 5999: the backend's kernel answers port unreachable
	# to the node's SNAT address, quoting the packet as the node sent it
	svc-add -q -t loadbalancer $VIP:5354/udp 10.77.2.11:5999/udp
	svc-add -q -t loadbalancer [$VIP6]:5354/udp [fd00:77:2::11]:5999/udp
	run cudp $VIP 5354
	assert_failure
	assert_output --partial "Connection refused"
	run cudp "[$VIP6]" 5354 6
	assert_failure
	assert_output --partial "Connection refused"
}

@test "a node port's replies are translated only from the peer its nat slot names" {
	svc-add -q -t loadbalancer $VIP:5353/udp 10.77.2.11:5353/udp
	run cudp $VIP 5353
	assert_success
	port=$(grep -o 'peer=10\.77\.2\.1:[0-9]*' <<<"$output" | cut -d: -f2)
	[ -n "$port" ]
	packets() { svc-list --stats -j | jq '.services[0].stats.packets'; }
	before=$(packets)
	# the flow's node address and port, from another backend and from the
	# right backend's other port, each from a source port whose packets
	# land on the flow's slot: not its replies, so they reach the node's
	# stack, which has no socket there and answers port unreachable
	slot="$KPR_BIN/tests/helper_nat_slot udp 10.77.2.11 5353 10.77.2.1 $port"
	p2=$($slot 10.77.2.12)
	p1=$($slot 10.77.2.11)
	run lab b2 socat -t 2 - UDP4:10.77.2.1:$port,sourceport=$p2 <<<"spoof"
	assert_failure
	assert_output --partial "Connection refused"
	run lab b1 socat -t 2 - UDP4:10.77.2.1:$port,sourceport=$p1 <<<"spoof"
	assert_failure
	assert_output --partial "Connection refused"
	# from the peer the slot names, it is translated and counted
	lab b1 socat -u - UDP4:10.77.2.1:$port,sourceport=5353,reuseaddr <<<"reply"
	n=0
	until [ "$(packets)" -eq $((before + 1)) ]; do
		n=$((n + 1)); [ $n -lt 50 ] || fail "the reply was not translated: $(packets) packets, $before before"
		sleep 0.1
	done
}

@test "unresolved neighbours: the first packets go through the kernel, which resolves them" {
	svc-add -q -t loadbalancer $VIP:80 $(be4 80)
	svc-add -q -t loadbalancer [$VIP6]:80 $(be6 80)
	lab node ip neigh flush all
	lab node ip -6 neigh flush all
	for i in 1 2 3 4 5 6; do
		run ccurl http://$VIP/
		assert_success
		run ccurl "http://[$VIP6]/"
		assert_success
	done
}
