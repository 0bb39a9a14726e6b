#!/usr/bin/env bats
# DSR and hybrid forwarding on the bridged lab (KPR_LAB_TOPO=dsr in
# tests/lab/lab.sh): client, LB node and backend node on one segment, the
# pod b1 behind the backend node, b2 behind the LB node. Each node has its
# own pin root and the same services, as a fleet does; the LB node is
# attached on eth0, the backend node on eth0.

load helpers
load lab/lab

VIP=10.78.100.1
VIP6=fd00:78:100::1
B1=10.78.5.11
B16=fd00:78:5::11
CLIENT6='\[fd00:0078:0000:0000:0000:0000:0000:0002\]'
CLIENT=10.78.0.2
LBNODE=10.78.0.1

setup_file() { lab_setup_file dsr; }
teardown_file() { lab_teardown_file; }

bn() { KPR_PIN_ROOT=$BNODE_PIN "$@"; }

# The same service on both nodes.
svc_both() { svc-add -q "$@" && bn svc-add -q "$@"; }

setup() {
	needs_root
	local r
	svc-del -q --all 2>/dev/null || true
	lb-mode -q --mode snat --dsr-dispatch opt 2>/dev/null || true
	xdp-attach -q -N "$NODE" --mode native eth0
	# the backend node starts from fresh pins: no dsr entry of an earlier test
	bn xdp-attach -q -N "$BNODE" --detach eth0 2>/dev/null || true
	rm -rf "$BNODE_PIN"
	bn xdp-attach -q -N "$BNODE" --mode native eth0
	# a path MTU learnt by an earlier test
	lab client ip route flush cache
	lab client ip -6 route flush cache
}

teardown() {
	[ -n "${CAP:-}" ] && kill "$CAP" 2>/dev/null
	[ -n "${HROOT:-}" ] && rm -rf "$HROOT"
	lab switch nft delete table bridge kdsr 2>/dev/null
	lab switch nft delete table bridge kdsrb 2>/dev/null
	lab client ip route del 172.16.10.0/24 2>/dev/null
	[ -n "${CONN_PID:-}" ] && conn_close
	return 0
}

# Replies (from $VIP:80) the switch forwards from the LB node to the client,
# counted by an nft bridge counter from now on: count_start, then
# count_frames. Only those: the node's own IPv6 neighbour and multicast
# listener frames reach the client port too, whatever the mode.
count_start() {
	lab switch nft -f - <<-EOF
		table bridge kdsr {
			chain forward {
				type filter hook forward priority 0;
				iifname "pnode" oifname "pclient" ip saddr $VIP tcp sport 80 counter
			}
		}
	EOF
}
count_frames() {
	lab switch nft -j list table bridge kdsr |
		jq '[.nftables[].rule? | select(.) | .expr[] | .counter? | select(.) | .packets] | add'
}

# $1 curls of the VIP, each answered by b1 seeing the client's own address
# and the very port the client used.
curl_sees_client() {
	local i
	for i in $(seq "$1"); do
		run ccurl -w ' local=%{local_port}' http://$VIP/
		assert_success
		[[ "$output" =~ ^backend=b1\ peer=$CLIENT:([0-9]+)$'\n'?\ local=([0-9]+)$ ]] ||
			fail "request $i: $output"
		[ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] || fail "port seen ${BASH_REMATCH[1]}, used ${BASH_REMATCH[2]}"
	done
}

@test "SNAT: the pod sees the LB node; DSR: the client's own address and port, 20 of 20" {
	svc_both -t loadbalancer $VIP:80 $B1:80
	run ccurl http://$VIP/
	assert_success
	assert_output --regexp "^backend=b1 peer=$LBNODE:[0-9]+\$"

	lb-mode -q --mode dsr
	curl_sees_client 20
}

@test "DSR: the reply does not pass the LB node; SNAT: it does" {
	svc_both -t loadbalancer $VIP:80 $B1:80
	lb-mode -q --mode dsr
	count_start
	for i in 1 2 3 4 5; do
		ccurl http://$VIP/ | grep -q "peer=$CLIENT:" || fail "DSR request $i"
	done
	[ "$(count_frames)" -eq 0 ] || fail "$(count_frames) frames from the LB node to the client in DSR"
	lb-mode -q --mode snat
	ccurl http://$VIP/ | grep -q "peer=$LBNODE:" || fail "SNAT request"
	[ "$(count_frames)" -gt 0 ] || fail "no frame from the LB node to the client in SNAT"
}

@test "DSR: UDP, every datagram, the pod sees the client" {
	svc_both -t loadbalancer $VIP:5353/udp $B1:5353/udp
	lb-mode -q --mode dsr
	for i in 1 2 3; do
		run cudp $VIP 5353
		assert_success
		assert_output --regexp "^backend=b1 peer=$CLIENT:[0-9]+ ping\$"
	done
	# a datagram of 2 bytes: 52 on the wire with the option
	run lab client socat -t 2 - UDP4:$VIP:5353 <<<"x"
	assert_success
	assert_output --regexp "^backend=b1 peer=$CLIENT:[0-9]+ x\$"
	# the backend node recorded the flows, keyed client -> pod
	run bn bpftool -j map dump pinned "$BNODE_PIN/dsr"
	assert_success
	[ "$(jq length <<<"$output")" -ge 3 ] || fail "dsr entries: $output"
}

@test "hybrid: TCP by DSR, UDP by SNAT" {
	svc_both -t loadbalancer $VIP:80 $B1:80
	svc_both -t loadbalancer $VIP:5353/udp $B1:5353/udp
	lb-mode -q --mode hybrid
	run ccurl http://$VIP/
	assert_success
	assert_output --partial "peer=$CLIENT:"
	run cudp $VIP 5353
	assert_success
	assert_output --partial "peer=$LBNODE:"
	run lb-mode -N "$NODE"
	assert_success
	assert_output --partial "(native XDP, Hybrid, IP option)]"
	run lb-mode -N "$NODE" -j
	assert_success
	[ "$(jq -r .mode <<<"$output")" = hybrid ] || fail "$output"
}

@test "svc-add --mode: a service's mode over the node's, both ways" {
	svc_both -t loadbalancer --mode dsr $VIP:80 $B1:80
	svc_both -t loadbalancer --mode snat 10.78.100.2:80 $B1:80
	run ccurl http://$VIP/
	assert_output --partial "peer=$CLIENT:"
	run ccurl http://10.78.100.2/
	assert_output --partial "peer=$LBNODE:"
	lb-mode -q --mode dsr
	run ccurl http://10.78.100.2/
	assert_output --partial "peer=$LBNODE:"
	run svc-list -o save
	assert_output --partial "--mode dsr $VIP:80/tcp"
	assert_output --partial "--mode snat 10.78.100.2:80/tcp"
}

# The peer the echo server saw for the last line WORD of the connection.
conn_peer() { grep " $1\$" "$BATS_TEST_TMPDIR/out" | grep -o 'peer=[0-9.]*'; }

# A connection opened in mode $1, whose pod sees peer $2, keeps working and
# keeps its peer after lb-mode --mode $3; a new flow then shows peer $4.
switch_keeps() {
	lb-mode -q --mode "$1"
	conn_open
	conn_say "a$1" >/dev/null || fail "no answer in $1"
	[ "$(conn_peer "a$1")" = "peer=$2" ] || fail "in $1: $(cat "$BATS_TEST_TMPDIR/out")"
	lb-mode -q --mode "$3"
	conn_say "b$1" >/dev/null || fail "the $1 connection broke at the switch to $3"
	[ "$(conn_peer "b$1")" = "peer=$2" ] || fail "after $3: $(cat "$BATS_TEST_TMPDIR/out")"
	run lab client socat -T 2 - TCP4:$VIP:8080 <<<"new"
	assert_output --partial "peer=$4:"
	conn_close
	CONN_PID=
	rm -f "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
}

@test "a connection opened in SNAT keeps SNAT after lb-mode --mode dsr, and one opened in DSR keeps DSR after switching back" {
	svc_both -t loadbalancer $VIP:8080 $B1:8080
	switch_keeps snat $LBNODE dsr $CLIENT
	switch_keeps dsr $CLIENT snat $LBNODE
}

# The first packet matching the filter $1 captured on the backend node's
# eth0 (after its XDP program), or on device $3 of namespace $2: capture
# FILTER [NS DEV], then captured_hex.
capture() {
	local end
	: >"$BATS_TEST_TMPDIR/cap"
	nsenter --net="/run/netns/${2:-$BNODE}" tcpdump -l -n -x -c 1 -i "${3:-eth0}" "$1" \
		>"$BATS_TEST_TMPDIR/cap" 2>"$BATS_TEST_TMPDIR/cap.err" 3>&- &
	CAP=$!
	end=$((SECONDS + 10))
	until grep -q listening "$BATS_TEST_TMPDIR/cap.err"; do
		[ $SECONDS -lt $end ] || fail "tcpdump did not start: $(cat "$BATS_TEST_TMPDIR/cap.err")"
		sleep 0.1
	done
}
captured_hex() {
	local end=$((SECONDS + 10))
	until grep -q '0x0010' "$BATS_TEST_TMPDIR/cap"; do
		[ $SECONDS -lt $end ] || fail "nothing captured: $(cat "$BATS_TEST_TMPDIR/cap" "$BATS_TEST_TMPDIR/cap.err")"
		sleep 0.1
	done
	grep '^[[:space:]]*0x' "$BATS_TEST_TMPDIR/cap" | sed 's/^[[:space:]]*0x[0-9a-f]*:[[:space:]]*//' | tr -d ' \n'
}

@test "wire format: the option is Cilium's, byte for byte (172.16.10.1:80 is 9a 08 50 00 01 0a 10 ac)" {
	lab client ip route add 172.16.10.0/24 via $LBNODE
	svc_both -t loadbalancer --mode dsr 172.16.10.1:80 $B1:80
	capture "dst host $B1 and tcp dst port 80 and tcp[tcpflags] & tcp-syn != 0"
	run ccurl http://172.16.10.1/
	assert_success
	assert_output --partial "peer=$CLIENT:"
	hex=$(captured_hex)
	# IPv4, IHL 7; the option right after the 20-byte header
	[ "${hex:0:2}" = 47 ] || fail "IP header: $hex"
	[ "${hex:40:16}" = 9a085000010a10ac ] || fail "option: ${hex:40:16} in $hex"
	# the source is the client's, the destination the pod
	[ "${hex:24:16}" = 0a4e00020a4e050b ] || fail "addresses: ${hex:24:16}"
}

@test "the backend node ignores an option naming a frontend that is not one of its services" {
	svc-add -q -t loadbalancer --mode dsr $VIP:80 $B1:80	# on the LB node only
	run ccurl -m 2 http://$VIP/
	assert_failure
	run bn bpftool -j map dump pinned "$BNODE_PIN/dsr"
	assert_success
	[ "$(jq length <<<"$output")" -eq 0 ] || fail "recorded: $output"
}

@test "a backend on the LB node itself, in DSR: no option, the LB node sends the replies from the frontend" {
	svc_both -t loadbalancer --mode dsr $VIP:80 10.78.6.11:80
	for i in 1 2 3; do
		run ccurl http://$VIP/
		assert_success
		assert_output --regexp "^backend=b2 peer=$CLIENT:[0-9]+\$"
	done
	run bpftool -j map dump pinned "$KPR_PIN_ROOT/dsr"
	[ "$(jq length <<<"$output")" -ge 3 ] || fail "the LB node recorded: $output"
}

@test "MTU: a datagram the option would push past the MTU gets fragmentation needed, the client learns MTU-8 and refuses the next" {
	svc_both -t loadbalancer --mode dsr $VIP:5353/udp $B1:5353/udp
	# 1472 bytes of payload: a 1500-byte packet, as large as eth0's MTU
	run lab client socat -b 2000 -u OPEN:/dev/zero,readbytes=1472 UDP4:$VIP:5353,ip-mtu-discover=2
	local end=$((SECONDS + 10))
	until lab client ip route get $VIP | grep -q 'mtu 1492'; do
		[ $SECONDS -lt $end ] || fail "route: $(lab client ip route get $VIP)"
		sleep 0.2
	done
	run lab client socat -b 2000 -u OPEN:/dev/zero,readbytes=1472 UDP4:$VIP:5353,ip-mtu-discover=2
	assert_failure
	assert_output --partial "Message too long"
	# one that fits still goes through, by DSR
	run cudp $VIP 5353
	assert_success
	assert_output --partial "peer=$CLIENT:"
}

@test "DSR: a 3,000-byte datagram in fragments: the first carries the option, the later ones follow it; the pod's reply leaves the backend node from the frontend, every fragment" {
	svc_both -t loadbalancer --mode dsr $VIP:5353/udp $B1:5353/udp
	local big out end=$((SECONDS + 10))
	big=$(head -c 3000 /dev/zero | tr '\0' x)
	# the first fragment fills the MTU: no room for the option, and the
	# client learns MTU-8 from the answer, though a fragment has no DF
	echo "$big" | lab client socat -t 1 -b 8192 - UDP4:$VIP:5353 >/dev/null 2>&1 || true
	until lab client ip route get $VIP | grep -q 'mtu 1492'; do
		[ $SECONDS -lt $end ] || fail "route: $(lab client ip route get $VIP)"
		sleep 0.2
	done
	out=$(echo "$big" | lab client socat -t 2 -b 8192 - UDP4:$VIP:5353) || fail "no answer"
	[[ "$out" =~ ^backend=b1\ peer=$CLIENT:[0-9]+\ x{3000}$ ]] ||
		fail "not the whole datagram back, from the frontend: ${out:0:200} (${#out} bytes)"
}

# DISPATCH FAMILY MTU: a 3,000-byte datagram, once to learn the MTU the
# option or outer header leaves, then answered whole from the frontend.
big_datagram() {
	local big out vip=$VIP n=4 end=$((SECONDS + 10))
	[ "$2" = 6 ] && vip="[$VIP6]" n=6
	lb-mode -q --dsr-dispatch "$1"
	big=$(head -c 3000 /dev/zero | tr '\0' x)
	echo "$big" | lab client socat -t 1 -b 8192 - "UDP$n:$vip:5353" >/dev/null 2>&1 || true
	until lab client ip -"$n" route get "${vip//[\[\]]/}" | grep -q "mtu $3"; do
		[ $SECONDS -lt $end ] || fail "$1, IPv$2: $(lab client ip -"$n" route get "${vip//[\[\]]/}")"
		sleep 0.2
	done
	out=$(echo "$big" | lab client socat -t 2 -b 8192 - "UDP$n:$vip:5353") || fail "$1, IPv$2: no answer"
	[[ "$out" =~ ^backend=b1\ peer=[^\ ]+\ x{3000}$ ]] ||
		fail "$1, IPv$2: not the whole datagram back: ${out:0:200} (${#out} bytes)"
}

@test "DSR in fragments, IPv6 and IPIP dispatch both families: the first fragment carries the header, the answers are whole" {
	svc_both -t loadbalancer --mode dsr [$VIP6]:5353/udp [$B16]:5353/udp
	svc_both -t loadbalancer --mode dsr $VIP:5353/udp $B1:5353/udp
	big_datagram opt 6 1476
	lab client ip route flush cache
	lab client ip -6 route flush cache
	big_datagram ipip 4 1480
	big_datagram ipip 6 1460
}

@test "IPv6: TCP and UDP by DSR, the pod sees the client; the Destination Options header is Cilium's" {
	svc_both -t loadbalancer "[$VIP6]:80" "[$B16]:80"
	svc_both -t loadbalancer "[$VIP6]:5353/udp" "[$B16]:5353/udp"
	lb-mode -q --mode dsr
	# the first packet the LB node sends the pod is the SYN
	capture "ip6 and dst host $B16"
	for i in 1 2 3; do
		run ccurl "http://[$VIP6]/"
		assert_success
		assert_output --regexp "^backend=b1 peer=$CLIENT6:[0-9]+\$"
	done
	hex=$(captured_hex)
	# next header 60 (Destination Options), then: TCP, 24 bytes, option
	# 0x1b of 20 bytes, the frontend, port 80 in network order, 2 zeros
	[ "${hex:12:2}" = 3c ] || fail "next header: $hex"
	ext=06021b14; ext+=fd000078010000000000000000000001; ext+=00500000
	[ "${hex:80:48}" = "$ext" ] || fail "extension header: ${hex:80:48}, not $ext"
	run cudp "[$VIP6]" 5353 6
	assert_success
	assert_output --regexp "^backend=b1 peer=$CLIENT6:[0-9]+ ping\$"
	run lb-mode -N "$NODE"
	assert_output --partial "(native XDP, DSR, IP option)]"
}

@test "MTU, IPv6: a datagram the header would push past the MTU gets packet too big, the client learns MTU-24 and refuses the next" {
	svc_both -t loadbalancer --mode dsr "[$VIP6]:5353/udp" "[$B16]:5353/udp"
	# 1452 bytes of payload: a 1500-byte packet; IPV6_MTU_DISCOVER (23) DO (2)
	run lab client socat -b 2000 -u OPEN:/dev/zero,readbytes=1452 "UDP6:[$VIP6]:5353,setsockopt-int=41:23:2"
	local end=$((SECONDS + 10))
	until lab client ip -6 route get $VIP6 | grep -q 'mtu 1476'; do
		[ $SECONDS -lt $end ] || fail "route: $(lab client ip -6 route get $VIP6)"
		sleep 0.2
	done
	run lab client socat -b 2000 -u OPEN:/dev/zero,readbytes=1452 "UDP6:[$VIP6]:5353,setsockopt-int=41:23:2"
	assert_failure
	assert_output --partial "Message too long"
	run cudp "[$VIP6]" 5353 6
	assert_success
	assert_output --regexp "peer=$CLIENT6:"
}

# Packets built byte by byte through the XDP program (BPF_PROG_TEST_RUN), on
# a pin root of their own: tests/unit/helper_dsr.c says what each must do.
@test "the backend side, packet by packet: Cilium's option and kpr's IPIP recorded; truncated, misplaced, forged ones ignored; a flood takes no other flow over" {
	[ -x "$KPR_BIN/tests/helper_dsr" ] || fail "no helper_dsr: make unit builds it"
	HROOT=/sys/fs/bpf/kpr-dsrh-$$
	KPR_PIN_ROOT=$HROOT svc-add -q -f - <<-EOF
		-t loadbalancer 172.16.10.1:80 10.0.1.5:80
		-t loadbalancer 172.16.10.1:53/udp 10.0.1.5:53/udp
		-t loadbalancer 172.16.10.3:80 10.0.1.5:80
		-t loadbalancer [fd00:10::1]:80 [fd00:1::5]:80
	EOF
	run "$KPR_BIN/tests/helper_dsr" "$HROOT"
	assert_success
	refute_output --partial "not ok"
	[ "$(grep -c '^ok' <<<"$output")" -eq 29 ] || fail "$output"
}

@test "a flood of SYNs with options from one client, four times what dsr holds: every packet passes, the map stays within its size, no entry names another tuple's frontend" {
	[ -x "$KPR_BIN/tests/helper_dsr" ] || fail "no helper_dsr: make unit builds it"
	HROOT=/sys/fs/bpf/kpr-dsrh-$$
	KPR_PIN_ROOT=$HROOT svc-add -q -f - <<-EOF
		-t loadbalancer 172.16.10.1:80 10.0.1.5:80
		-t loadbalancer 172.16.10.3:80 10.0.1.5:80
	EOF
	# a dsr map of 256 entries in place of the default one, of the same
	# layout: the datapath takes the pinned map's size
	run bpftool -j map show pinned "$HROOT/dsr"
	assert_success
	kb=$(jq .bytes_key <<<"$output") vb=$(jq .bytes_value <<<"$output")
	rm "$HROOT/dsr"
	bpftool map create "$HROOT/dsr" type lru_hash key "$kb" value "$vb" entries 256 name dsr
	run "$KPR_BIN/tests/helper_dsr" "$HROOT" flood
	assert_success
	refute_output --partial "not ok"
	[ "$(grep -c '^ok' <<<"$output")" -eq 3 ] || fail "$output"
}

# Frames the switch forwards from the LB node to the backend node, counted
# by kind from now on: count_bn_start, then count_bn KIND with KIND 0 IPv4
# in IPv4, 1 IPv6 in IPv6, 2 plain IPv4 TCP or UDP, 3 plain IPv6 TCP or UDP.
count_bn_start() {
	lab switch nft -f - <<-EOF
		table bridge kdsrb {
			chain forward {
				type filter hook forward priority 0;
				iifname "pnode" oifname "pbnode" ip protocol 4 counter
				iifname "pnode" oifname "pbnode" ip6 nexthdr 41 counter
				iifname "pnode" oifname "pbnode" ip protocol { tcp, udp } counter
				iifname "pnode" oifname "pbnode" ip6 nexthdr { tcp, udp } counter
			}
		}
	EOF
}
count_bn() {
	lab switch nft -j list table bridge kdsrb |
		jq "[.nftables[].rule? | select(.) | [.expr[] | .counter? | select(.) | .packets][0]] | .[$1]"
}

@test "IPIP dispatch: the seed's curl, the pod sees the client's address and port, 20 of 20; every packet in kpr's outer header" {
	svc_both -t loadbalancer $VIP:80 $B1:80
	lb-mode -q --mode dsr --dsr-dispatch ipip
	count_bn_start
	# on the switch's port to the backend node: the backend node's XDP
	# takes the outer header off before its own tcpdump would see it
	capture "ip proto 4" "${KPR_LAB_PREFIX}switch" pbnode
	curl_sees_client 20
	hex=$(captured_hex)
	# outer: no options, ID 0x0050 (the frontend's port), DF, TTL 64 less
	# the LB node's hop, IPIP, from the frontend to the backend node
	[ "${hex:0:2}" = 45 ] || fail "outer header: $hex"
	[ "${hex:8:10}" = 005040003f ] || fail "ID, DF, TTL: ${hex:8:10} in $hex"
	[ "${hex:18:2}" = 04 ] || fail "protocol: $hex"
	[ "${hex:24:16}" = 0a4e64010a4e0003 ] || fail "outer addresses: ${hex:24:16}"
	# inner: no option, the client to the pod
	[ "${hex:40:2}" = 45 ] || fail "inner header: ${hex:40:40}"
	[ "${hex:64:16}" = 0a4e00020a4e050b ] || fail "inner addresses: ${hex:64:16}"
	# every packet of the flows went tunnelled, none plain
	[ "$(count_bn 2)" -eq 0 ] || fail "$(count_bn 2) plain TCP frames to the backend node"
	[ "$(count_bn 0)" -ge 60 ] || fail "$(count_bn 0) IPIP frames for 20 requests"
	run lb-mode -N "$NODE"
	assert_output --partial "(native XDP, DSR, IPIP)]"
	run lb-mode -N "$NODE" -j
	[ "$(jq -r .dsr_dispatch <<<"$output")" = ipip ] || fail "$output"
}

@test "IPIP dispatch: UDP, every datagram tunnelled, the pod sees the client; the backend node records the flows" {
	svc_both -t loadbalancer $VIP:5353/udp $B1:5353/udp
	lb-mode -q --mode dsr --dsr-dispatch ipip
	count_bn_start
	for i in 1 2 3; do
		run cudp $VIP 5353
		assert_success
		assert_output --regexp "^backend=b1 peer=$CLIENT:[0-9]+ ping\$"
	done
	[ "$(count_bn 2)" -eq 0 ] || fail "$(count_bn 2) plain UDP frames to the backend node"
	[ "$(count_bn 0)" -eq 3 ] || fail "$(count_bn 0) IPIP frames for 3 datagrams"
	run bn bpftool -j map dump pinned "$BNODE_PIN/dsr"
	assert_success
	[ "$(jq length <<<"$output")" -ge 3 ] || fail "dsr entries: $output"
}

@test "IPIP dispatch, IPv6: TCP and UDP in IPv6 in IPv6, the pod sees the client; the outer header is kpr's" {
	svc_both -t loadbalancer "[$VIP6]:80" "[$B16]:80"
	svc_both -t loadbalancer "[$VIP6]:5353/udp" "[$B16]:5353/udp"
	lb-mode -q --mode dsr --dsr-dispatch ipip
	count_bn_start
	capture "ip6 proto 41" "${KPR_LAB_PREFIX}switch" pbnode
	for i in 1 2 3; do
		run ccurl "http://[$VIP6]/"
		assert_success
		assert_output --regexp "^backend=b1 peer=$CLIENT6:[0-9]+\$"
	done
	hex=$(captured_hex)
	# version 6, traffic class 0, flow label 0x00050 (the frontend's port);
	# next header 41, hop limit 64 less one; the frontend to the backend node
	[ "${hex:0:8}" = 60000050 ] || fail "first word: $hex"
	[ "${hex:12:4}" = 293f ] || fail "next header, hop limit: ${hex:12:4}"
	[ "${hex:16:64}" = fd000078010000000000000000000001fd000078000000000000000000000003 ] ||
		fail "outer addresses: ${hex:16:64}"
	# inner: TCP, no extension header, the pod
	[ "${hex:92:2}" = 06 ] || fail "inner next header: ${hex:80:80}"
	[ "${hex:128:32}" = fd000078000500000000000000000011 ] || fail "inner destination: ${hex:128:32}"
	run cudp "[$VIP6]" 5353 6
	assert_success
	assert_output --regexp "^backend=b1 peer=$CLIENT6:[0-9]+ ping\$"
	[ "$(count_bn 3)" -eq 0 ] || fail "$(count_bn 3) plain IPv6 frames to the backend node"
	[ "$(count_bn 1)" -ge 10 ] || fail "$(count_bn 1) IPv6-in-IPv6 frames"
}

@test "IPIP dispatch, MTU: the outer header counts, the client learns MTU-20 (IPv6: MTU-40) and refuses the next datagram" {
	svc_both -t loadbalancer --mode dsr $VIP:5353/udp $B1:5353/udp
	svc_both -t loadbalancer --mode dsr "[$VIP6]:5353/udp" "[$B16]:5353/udp"
	lb-mode -q --dsr-dispatch ipip
	# 1472 bytes of payload: a 1500-byte packet, as large as eth0's MTU
	run lab client socat -b 2000 -u OPEN:/dev/zero,readbytes=1472 UDP4:$VIP:5353,ip-mtu-discover=2
	local end=$((SECONDS + 10))
	until lab client ip route get $VIP | grep -q 'mtu 1480'; do
		[ $SECONDS -lt $end ] || fail "route: $(lab client ip route get $VIP)"
		sleep 0.2
	done
	run lab client socat -b 2000 -u OPEN:/dev/zero,readbytes=1472 UDP4:$VIP:5353,ip-mtu-discover=2
	assert_failure
	assert_output --partial "Message too long"
	# 1452 bytes: a 1500-byte IPv6 packet
	run lab client socat -b 2000 -u OPEN:/dev/zero,readbytes=1452 "UDP6:[$VIP6]:5353,setsockopt-int=41:23:2"
	end=$((SECONDS + 10))
	until lab client ip -6 route get $VIP6 | grep -q 'mtu 1460'; do
		[ $SECONDS -lt $end ] || fail "route: $(lab client ip -6 route get $VIP6)"
		sleep 0.2
	done
	run lab client socat -b 2000 -u OPEN:/dev/zero,readbytes=1452 "UDP6:[$VIP6]:5353,setsockopt-int=41:23:2"
	assert_failure
	assert_output --partial "Message too long"
	# one that fits still goes through, tunnelled
	run cudp $VIP 5353
	assert_success
	assert_output --partial "peer=$CLIENT:"
	run cudp "[$VIP6]" 5353 6
	assert_success
	assert_output --regexp "peer=$CLIENT6:"
}

@test "a DSR connection keeps the dispatch it began with after lb-mode --dsr-dispatch, both ways" {
	svc_both -t loadbalancer $VIP:8080 $B1:8080
	lb-mode -q --mode dsr
	conn_open
	conn_say aopt >/dev/null || fail "no answer by the option"
	lb-mode -q --dsr-dispatch ipip
	count_bn_start
	conn_say bopt >/dev/null || fail "the connection broke at the switch to ipip"
	[ "$(conn_peer bopt)" = "peer=$CLIENT" ] || fail "after ipip: $(cat "$BATS_TEST_TMPDIR/out")"
	[ "$(count_bn 0)" -eq 0 ] || fail "$(count_bn 0) frames of the option's flow tunnelled"
	[ "$(count_bn 2)" -gt 0 ] || fail "no plain frame of the option's flow"
	conn_close
	CONN_PID=
	rm -f "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
	lab switch nft delete table bridge kdsrb

	conn_open
	conn_say aipip >/dev/null || fail "no answer by ipip"
	lb-mode -q --dsr-dispatch opt
	count_bn_start
	conn_say bipip >/dev/null || fail "the connection broke at the switch to opt"
	[ "$(conn_peer bipip)" = "peer=$CLIENT" ] || fail "after opt: $(cat "$BATS_TEST_TMPDIR/out")"
	[ "$(count_bn 2)" -eq 0 ] || fail "$(count_bn 2) frames of the ipip flow sent plain"
	[ "$(count_bn 0)" -gt 0 ] || fail "no tunnelled frame of the ipip flow"
}
