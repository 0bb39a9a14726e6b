#!/usr/bin/env bats
# masq-ctl and masquerade on the lab (tests/lab/lab.sh with a pod behind the
# node): the backends stand for servers outside the cluster, and their echo
# servers answer with the address:port they saw the pod at.

load helpers
load lab/lab

POD4=10.77.3.2
POD6=fd00:77:3::2
NODE4=10.77.2.1		# the node's address on eth1, towards the backends
NODE6=fd00:77:2::1
# as socat reports IPv6 peers: every group in full
NODE6_SEEN=fd00:0077:0002:0000:0000:0000:0000:0001
POD6_SEEN=fd00:0077:0003:0000:0000:0000:0000:0002

setup_file() {
	export KPR_LAB_POD=1
	lab_setup_file
}

teardown_file() {
	lab_teardown_file
}

setup() {
	lab_reset
	mctl -q --ipv4 on --ipv6 on --dev all --pod-cidr 10.77.3.0/24 --pod-cidr fd00:77:3::/64 \
		--non-masq-cidr 10.77.3.0/24 --masq-ip 0.0.0.0 --masq-ip ::
}

teardown() {
	if [ -n "${KPR_LAB_PREFIX:-}" ] && [ -z "${KPR_LAB_SKIP:-}" ]; then
		lab b1 ip route del unreachable 10.77.3.0/24 2>/dev/null
		lab b1 ip -6 route del unreachable fd00:77:3::/64 2>/dev/null
	fi
	exec 6>&- 7>&-
	return 0
}

# masq-ctl in the node's namespace, whose devices it names
mctl() { masq-ctl -N "$NODE" "$@"; }

# One exchange from the pod to an echo server: its answer.
pod_tcp() {	# ADDR [4|6]
	local a=$1
	[ "${2:-4}" = 4 ] || a="[$1]"
	lab pod socat -T 3 - "TCP${2:-4}:$a:8080,connect-timeout=3" <<<"hello"
}
pod_udp() {	# ADDR [4|6]
	local a=$1
	[ "${2:-4}" = 4 ] || a="[$1]"
	echo "ping" | lab pod socat -t 2 - "UDP${2:-4}:$a:5353"
}

# The address the server saw the pod at, from "backend=bN peer=A:P ...".
peer_addr() {
	sed -n 's/.*peer=\[\{0,1\}\([0-9a-f.:]*[0-9a-f]\)\]\{0,1\}:[0-9]* .*/\1/p'
}

@test "masquerade on: the outside sees the node's address, IPv4 and IPv6, TCP 20 of 20" {
	local i out n=0
	for i in $(seq 20); do
		out=$(pod_tcp 10.77.2.11) || fail "connection $i failed: $out"
		[ "$(peer_addr <<<"$out")" = "$NODE4" ] && n=$((n + 1))
	done
	[ "$n" -eq 20 ] || fail "$n of 20 came from $NODE4; last: $out"
	n=0
	for i in $(seq 20); do
		out=$(pod_tcp fd00:77:2::11 6) || fail "IPv6 connection $i failed: $out"
		[ "$(peer_addr <<<"$out")" = "$NODE6_SEEN" ] && n=$((n + 1))
	done
	[ "$n" -eq 20 ] || fail "$n of 20 came from $NODE6; last: $out"
	run mctl -j
	assert_success
	[ "$(jq '.counters.ipv4.flows' <<<"$output")" -ge 20 ] || fail "$output"
	[ "$(jq '.counters.ipv6.replies' <<<"$output")" -ge 20 ] || fail "$output"
}

@test "masq-ctl status prints the switches, devices, CIDRs and counters; lb-mode the switches" {
	run pod_tcp 10.77.2.11
	assert_success
	run mctl status
	assert_success
	assert_line --regexp '^IPv4 masquerade: +on$'
	assert_line --regexp '^Devices: +every attached device$'
	assert_line --regexp '^Pod CIDRs: +10\.77\.3\.0/24, fd00:77:3::/64$'
	assert_line --regexp '^IPv4 +flows [1-9][0-9]*, packets out [1-9]'
	assert_line --regexp '^NAT ports in use: +masquerade [1-9][0-9]*, node-port SNAT 0 \(range 32768-65535\)$'
	run lb-mode -N "$NODE"
	assert_success
	assert_line --regexp '^Masquerade IPv6 \(masq-ctl\): +on$'
}

@test "masquerade off: the outside sees the pod's address; on again, the node's" {
	mctl -q --ipv4 off --ipv6 off
	run pod_tcp 10.77.2.11
	assert_success
	[ "$(peer_addr <<<"$output")" = "$POD4" ] || fail "$output"
	run pod_tcp fd00:77:2::11 6
	assert_success
	[ "$(peer_addr <<<"$output")" = "$POD6_SEEN" ] || fail "$output"
	mctl -q --ipv4 on
	run pod_tcp 10.77.2.11
	assert_success
	[ "$(peer_addr <<<"$output")" = "$NODE4" ] || fail "$output"
}

@test "UDP is masqueraded and answered, both families" {
	run pod_udp 10.77.2.11
	assert_success
	[ "$(peer_addr <<<"$output")" = "$NODE4" ] || fail "$output"
	run pod_udp fd00:77:2::11 6
	assert_success
	[ "$(peer_addr <<<"$output")" = "$NODE6_SEEN" ] || fail "$output"
}

@test "IPv4 off leaves IPv6 on" {
	run mctl --ipv4 off
	assert_success
	assert_output --partial "(changed)"
	run pod_tcp 10.77.2.11
	assert_success
	[ "$(peer_addr <<<"$output")" = "$POD4" ] || fail "$output"
	run pod_tcp fd00:77:2::11 6
	assert_success
	[ "$(peer_addr <<<"$output")" = "$NODE6_SEEN" ] || fail "$output"
	run mctl --ipv4 off
	assert_success
	assert_output --partial "(unchanged)"
}

@test "ping and an ICMP error reach the pod through the node's address" {
	# b1 cannot answer the pod's own address: only a masqueraded packet
	# gets a reply
	lab b1 ip route add unreachable 10.77.3.0/24
	run lab pod ping -c 3 -i 0.2 -W 2 10.77.2.11
	assert_success
	lab b1 ip -6 route add unreachable fd00:77:3::/64
	run lab pod ping -6 -c 3 -i 0.2 -W 2 fd00:77:2::11
	assert_success
	# port unreachable from b1, to the node, back to the pod's socket
	run lab pod socat -T 3 - UDP4:10.77.2.11:5999 <<<"nobody"
	assert_failure
	assert_output --partial "Connection refused"
}

@test "a connection into the pod keeps working: its replies are not masqueraded" {
	run lab client socat -T 3 - TCP4:$POD4:8080,connect-timeout=3 <<<"in"
	assert_success
	assert_output --partial "backend=pod peer=10.77.1.2:"
	run cudp "$POD4" 5353
	assert_success
	assert_output --partial "backend=pod peer=10.77.1.2:"
	run lab client socat -T 3 - "TCP6:[$POD6]:8080,connect-timeout=3" <<<"in"
	assert_success
	assert_output --partial "backend=pod"
}

@test "a non-masquerade CIDR keeps the pod's address, to it only" {
	mctl -q --non-masq-cidr 10.77.2.12/32 --non-masq-cidr 10.77.3.0/24
	run pod_tcp 10.77.2.12
	assert_success
	[ "$(peer_addr <<<"$output")" = "$POD4" ] || fail "$output"
	run pod_tcp 10.77.2.11
	assert_success
	[ "$(peer_addr <<<"$output")" = "$NODE4" ] || fail "$output"
}

@test "an ip-masq-agent file and its defaults do what ip-masq-agent does" {
	printf 'nonMasqueradeCIDRs:\n  - 10.77.2.12/32\nmasqLinkLocal: true\nresyncInterval: 60s\n' \
		>"$BATS_TEST_TMPDIR/agent.yaml"
	run mctl -j --ip-masq-agent "$BATS_TEST_TMPDIR/agent.yaml"
	assert_success
	# the file's list and IPv6 link-local, not IPv4's (masqLinkLocal)
	[ "$(jq -c '.non_masq_cidrs | sort' <<<"$output")" = '["10.77.2.12/32","fe80::/10"]' ] || fail "$output"
	run pod_tcp 10.77.2.12
	[ "$(peer_addr <<<"$output")" = "$POD4" ] || fail "$output"
	run pod_tcp 10.77.2.11
	[ "$(peer_addr <<<"$output")" = "$NODE4" ] || fail "$output"

	# the defaults hold 10.0.0.0/8 but no IPv6 range beyond link-local
	run mctl -j --ip-masq-agent defaults
	assert_success
	[ "$(jq '.non_masq_cidrs | length' <<<"$output")" -eq 13 ] || fail "$output"
	run pod_tcp 10.77.2.11
	[ "$(peer_addr <<<"$output")" = "$POD4" ] || fail "$output"
	run pod_tcp fd00:77:2::11 6
	[ "$(peer_addr <<<"$output")" = "$NODE6_SEEN" ] || fail "$output"
}

@test "masq-ctl --dev: only the devices named masquerade" {
	mctl -q --dev eth0
	run pod_tcp 10.77.2.11
	assert_success
	[ "$(peer_addr <<<"$output")" = "$POD4" ] || fail "eth1 masqueraded: $output"
	mctl -q --dev eth1
	run pod_tcp 10.77.2.11
	assert_success
	[ "$(peer_addr <<<"$output")" = "$NODE4" ] || fail "$output"
	run mctl -j status
	assert_success
	[ "$(jq -c .devices <<<"$output")" = '["eth1"]' ] || fail "$output"
}

@test "bad input exits 2 and leaves the maps byte for byte as they were" {
	local before after a
	printf 'nonMasqueradeCIDRs:\n  - 10.77.2.1/24\n' >"$BATS_TEST_TMPDIR/unaligned.yaml"
	printf 'nonMasqueradeCIDRs: [10.0.0.0/8\n' >"$BATS_TEST_TMPDIR/broken.yaml"
	printf '{"nonMasqueradeCIDRs": "10.0.0.0/8"}\n' >"$BATS_TEST_TMPDIR/notlist.json"
	before=$BATS_TEST_TMPDIR/before
	after=$BATS_TEST_TMPDIR/after
	maps_snapshot "$before"
	for a in "--pod-cidr 10.0.0.0/33" "--pod-cidr 10.77.3.1/24" "--non-masq-cidr nonsense" \
		"--ipv4 maybe" "--dev eth9" "--dev eth0 --dev nosuchdev" "--masq-ip 10.77.9.9" \
		"--ip-masq-agent $BATS_TEST_TMPDIR/unaligned.yaml" \
		"--ip-masq-agent $BATS_TEST_TMPDIR/broken.yaml" \
		"--ip-masq-agent $BATS_TEST_TMPDIR/notlist.json" \
		"--ip-masq-agent $BATS_TEST_TMPDIR/missing.yaml" \
		"--ip-masq-agent defaults --non-masq-cidr 10.0.0.0/8" "--ipv4 off status"; do
		# shellcheck disable=SC2086
		run -2 mctl --ipv6 off $a
		[ -n "$output" ] || fail "masq-ctl $a: no message"
		# shellcheck disable=SC2086
		run -2 --separate-stderr mctl -j --ipv6 off $a
		assert_json
		jq -e .error <<<"$output" >/dev/null || fail "masq-ctl -j $a: $output"
	done
	maps_snapshot "$after"
	cmp -s "$before" "$after" || fail "the maps changed: $(diff "$before" "$after" | head -20)"
	run pod_tcp fd00:77:2::11 6
	[ "$(peer_addr <<<"$output")" = "$NODE6_SEEN" ] || fail "IPv6 turned off: $output"
}

@test "a file without nonMasqueradeCIDRs keeps ip-masq-agent's defaults, with a warning" {
	printf 'masqLinkLocalIPv6: true\n' >"$BATS_TEST_TMPDIR/ll.yaml"
	run --separate-stderr mctl -j --ip-masq-agent "$BATS_TEST_TMPDIR/ll.yaml"
	assert_success
	[[ "$stderr" == *"names no nonMasqueradeCIDRs"* ]] || fail "no warning: $stderr"
	[ "$(jq '.non_masq_cidrs | length' <<<"$output")" -eq 12 ] || fail "$output"
	jq -e '.non_masq_cidrs | index("169.254.0.0/16")' <<<"$output" >/dev/null || fail "$output"
	# an empty list is no range at all: everything is masqueraded
	printf '{"nonMasqueradeCIDRs": [], "masqLinkLocal": true, "masqLinkLocalIPv6": true}\n' \
		>"$BATS_TEST_TMPDIR/none.json"
	run mctl -j --ip-masq-agent "$BATS_TEST_TMPDIR/none.json"
	assert_success
	[ "$(jq '.non_masq_cidrs | length' <<<"$output")" -eq 0 ] || fail "$output"
	run pod_tcp 10.77.2.12
	[ "$(peer_addr <<<"$output")" = "$NODE4" ] || fail "$output"
}

@test "masq-ctl -n changes nothing; the same command twice is unchanged" {
	local before after
	before=$BATS_TEST_TMPDIR/before
	after=$BATS_TEST_TMPDIR/after
	maps_snapshot "$before"
	run mctl -j -n --ipv4 off --pod-cidr 10.99.0.0/16
	assert_success
	[ "$(jq .changed <<<"$output")" = true ] || fail "$output"
	[ "$(jq .ipv4 <<<"$output")" = false ] || fail "$output"
	maps_snapshot "$after"
	cmp -s "$before" "$after" || fail "a dry run changed the maps"
	run mctl -j --ipv4 on --pod-cidr 10.77.3.0/24 --pod-cidr fd00:77:3::/64
	assert_success
	[ "$(jq .changed <<<"$output")" = false ] || fail "$output"
}

@test "masquerade and node-port SNAT draw from one pool of nat ports, and share it without a collision" {
	local a b end
	lb-mode -q --nat-ports 40000-40001
	svc-add -q -t nodeport '*:30080' 10.77.2.11:8080
	# a held masqueraded flow and a held SNATed one, to the same backend
	# and port from the same node address: two ports, the whole range
	mkfifo "$BATS_TEST_TMPDIR/p" "$BATS_TEST_TMPDIR/c"
	lab pod socat -T 20 - TCP4:10.77.2.11:8080 <"$BATS_TEST_TMPDIR/p" >"$BATS_TEST_TMPDIR/pod.out" 3>&- &
	lab client socat -T 20 - TCP4:10.77.1.1:30080 <"$BATS_TEST_TMPDIR/c" >"$BATS_TEST_TMPDIR/client.out" 3>&- &
	exec 6>"$BATS_TEST_TMPDIR/p" 7>"$BATS_TEST_TMPDIR/c"
	echo one >&6
	echo two >&7
	end=$((SECONDS + 10))
	until grep -q one "$BATS_TEST_TMPDIR/pod.out" && grep -q two "$BATS_TEST_TMPDIR/client.out"; do
		[ $SECONDS -lt $end ] || fail "pod: $(cat "$BATS_TEST_TMPDIR/pod.out") client: $(cat "$BATS_TEST_TMPDIR/client.out")"
		sleep 0.1
	done
	a=$(sed -n 's/.*peer=10.77.2.1:\([0-9]*\) .*/\1/p' "$BATS_TEST_TMPDIR/pod.out")
	b=$(sed -n 's/.*peer=10.77.2.1:\([0-9]*\) .*/\1/p' "$BATS_TEST_TMPDIR/client.out")
	[ -n "$a" ] && [ -n "$b" ] || fail "pod seen at '$a', client at '$b'"
	[ "$a" != "$b" ] || fail "both flows on port $a"
	[[ " 40000 40001 " == *" $a "* && " 40000 40001 " == *" $b "* ]] || fail "ports $a and $b, outside 40000-40001"
	run mctl -j
	[ "$(jq .nat_ports.masquerade <<<"$output")" -ge 1 ] || fail "$output"
	[ "$(jq .nat_ports.snat <<<"$output")" -ge 1 ] || fail "$output"
	# the range is full: a third flow finds no port, and is counted
	run lab pod socat -T 2 - TCP4:10.77.2.11:8080,connect-timeout=2 <<<"three"
	assert_failure
	run mctl -j
	[ "$(jq .counters.ipv4.drops.no_port <<<"$output")" -ge 1 ] || fail "$output"
	exec 6>&- 7>&-
	wait
}
