#!/usr/bin/env bats
# Socket LB on the netns lab: lb-mode --socket-lb attaches the cgroup hooks
# of bpf/kpr_sock.bpf.c to a child cgroup each test creates and fills with
# its own processes only (never the cgroup2 root: every process of the
# machine sits there), so that connect() of the node's own processes reaches
# services without a packet being translated.

load helpers
load lab/lab

VIP=10.77.100.1		# ClusterIP
LBIP=10.77.100.2	# LoadBalancer
EXTIP=10.77.100.3	# ExternalIP, not one of the node's
VIP6=fd00:77:100::1

setup_file() { lab_setup_file; }
teardown_file() { lab_teardown_file; }

setup() {
	lab_reset native
	lb-mode -q --sock-hostns-only off
	cgroup_child kpr-sock
}

teardown() {
	local p
	for p in ${PIDS:-}; do kill "$p" 2>/dev/null; done
	lb-mode -q --socket-lb off 2>/dev/null
	if [ -n "${POD:-}" ]; then
		xdp-attach -q -N "$NODE" --detach pod0 2>/dev/null
		ip netns del "$POD" 2>/dev/null
	fi
	if [ -n "${CG:-}" ] && [ -d "$CG" ]; then
		# the test's processes have exited; wait for the cgroup to empty
		end=$((SECONDS + 10))
		until rmdir "$CG" 2>/dev/null; do
			[ $SECONDS -lt $end ] || break
			sleep 0.1
		done
	fi
}

be4() {	# PORT[/udp]: the three IPv4 backends
	local p=${1%/*} s=; [ "$1" != "$p" ] && s=/${1#*/}
	echo "10.77.2.11:$p$s 10.77.2.12:$p$s 10.77.2.13:$p$s"
}

sock_on() { lb-mode -q -N "$NODE" --socket-lb on --cgroup "$CG" "$@"; }

# in_cg NS CMD...: CMD in lab namespace NS, from a process of the child cgroup
in_cg() {
	local ns=$KPR_LAB_PREFIX$1; shift
	sh -c 'ns=$1; shift; echo $$ >"$0/cgroup.procs" && exec nsenter --net="/run/netns/$ns" "$@"' \
		"$CG" "$ns" "$@"
}


# A pod behind the node: namespace ${KPR_LAB_PREFIX}pod, eth0 10.77.3.2,
# its host-side veth pod0 10.77.3.1 on the node. Its veth has a bare XDP
# program and no tx checksum offload, as the lab's client (lab.sh).
pod_add() {
	local t=kps$$
	POD=${KPR_LAB_PREFIX}pod
	ip netns add "$POD"
	ip link add "${t}a" type veth peer name "${t}b"
	ip link set "${t}a" netns "$NODE"
	ip link set "${t}b" netns "$POD"
	ip -n "$NODE" link set "${t}a" name pod0
	ip -n "$POD" link set "${t}b" name eth0
	ip -n "$NODE" addr add 10.77.3.1/24 dev pod0
	ip -n "$NODE" link set pod0 up
	ip -n "$POD" addr add 10.77.3.2/24 dev eth0
	ip -n "$POD" link set eth0 up
	ip -n "$POD" link set lo up
	ip -n "$POD" route add default via 10.77.3.1
	ip -n "$POD" link set dev eth0 xdpdrv obj "$KPR_BIN/tests/bpf/xdp_pass.bpf.o" sec xdp
	nsenter --net="/run/netns/$POD" ethtool -K eth0 tx off >/dev/null
	end=$((SECONDS + 10))
	until nsenter --net="/run/netns/$POD" ping -c1 -W1 10.77.3.1 >/dev/null 2>&1; do
		[ $SECONDS -lt $end ] || fail "the pod does not reach the node"
	done
}

# the packet path's counters, as svc-list --stats shows them, and ct's entries
counters() {
	svc-list --stats -j | jq -c '[.services[] | .stats, (.backends[] | .stats)]'
	bpftool map dump pinned "$KPR_PIN_ROOT/ct" | grep -c key || true
}

@test "a process of the cgroup on the node reaches a ClusterIP, a LoadBalancer and a NodePort; it sees the VIP, no packet is translated" {
	svc-add -q $VIP:8080 $(be4 8080)
	svc-add -q -t loadbalancer $LBIP:8080 $(be4 8080)
	svc-add -q -t nodeport '*:30080' $(be4 8080)
	# without socket LB the node's own process cannot reach the ClusterIP
	run in_cg node "$KPR_BIN/tests/helper_sock" tcp $VIP 8080
	assert_failure
	run sock_on
	assert_success
	before=$(counters)
	for fe in $VIP:8080 $LBIP:8080 10.77.1.1:30080 10.77.2.1:30080 127.0.0.1:30080; do
		run in_cg node "$KPR_BIN/tests/helper_sock" tcp "${fe%:*}" "${fe#*:}"
		assert_success
		# getpeername shows the frontend; the backend saw the node itself,
		# with no SNAT port: the connection went to it directly
		assert_output --regexp "^peer=$fe backend=b[123] peer=10\.77\.2\.1:[0-9]+ ping$"
	done
	[ "$(counters)" = "$before" ] || fail "the packet path translated: $before -> $(counters)"
}

@test "curl on the node shows the VIP as remote_ip" {
	svc-add -q $VIP:80 $(be4 80)
	sock_on
	run in_cg node curl -sS -m 3 -o /dev/null -w '%{remote_ip}:%{remote_port}' http://$VIP/
	assert_success
	assert_output "$VIP:80"
}

@test "UDP replies come from the VIP, to connected and unconnected sockets" {
	svc-add -q $VIP:5353/udp $(be4 5353/udp)
	sock_on
	run in_cg node "$KPR_BIN/tests/helper_sock" udp $VIP 5353
	assert_success
	assert_output --regexp "^from=$VIP:5353 peer=$VIP:5353 backend=b[123] "
	run in_cg node "$KPR_BIN/tests/helper_sock" udpu $VIP 5353
	assert_success
	assert_output --regexp "^from=$VIP:5353 backend=b[123] "
}

@test "an unconnected UDP socket keeps its backend; other sockets spread" {
	svc-add -q $VIP:5353/udp $(be4 5353/udp)
	sock_on
	run in_cg node "$KPR_BIN/tests/helper_sock" udpu $VIP 5353 10
	assert_success
	[ "$(grep -c "^from=$VIP:5353 backend=b" <<<"$output")" -eq 10 ] || fail "$output"
	[ "$(grep -o 'backend=b[123]' <<<"$output" | sort -u | wc -l)" -eq 1 ] || fail "moved: $output"
	seen=""
	for i in $(seq 1 40); do
		b=$(in_cg node "$KPR_BIN/tests/helper_sock" udpu $VIP 5353 | grep -o 'backend=b[123]')
		case " $seen " in *" $b "*) ;; *) seen="$seen $b" ;; esac
		[ "$(wc -w <<<"$seen")" -eq 3 ] && break
	done
	[ "$(wc -w <<<"$seen")" -eq 3 ] || fail "sockets did not spread:$seen"
}

@test "IPv6: a ClusterIP through connect6, getpeername6 and recvmsg6" {
	svc-add -q "[$VIP6]:8080" "[fd00:77:2::11]:8080"
	svc-add -q "[$VIP6]:5353/udp" "[fd00:77:2::12]:5353/udp"
	sock_on
	run in_cg node "$KPR_BIN/tests/helper_sock" tcp $VIP6 8080
	assert_success
	assert_output --regexp "^peer=\[$VIP6\]:8080 backend=b1 "
	run in_cg node "$KPR_BIN/tests/helper_sock" udpu $VIP6 5353
	assert_success
	assert_output --regexp "^from=\[$VIP6\]:5353 backend=b2 "
}

@test "an IPv6 socket to an IPv4-mapped VIP (::ffff:a.b.c.d) is balanced as IPv4 and shown mapped; bind guards it too" {
	svc-add -q $VIP:8080 $(be4 8080)
	svc-add -q $VIP:5353/udp $(be4 5353/udp)
	svc-add -q -t nodeport '*:30080' $(be4 8080)
	sock_on
	before=$(counters)
	run in_cg node "$KPR_BIN/tests/helper_sock" tcp "::ffff:$VIP" 8080
	assert_success
	assert_output --regexp "^peer=\[::ffff:$VIP\]:8080 backend=b[123] peer=10\.77\.2\.1:[0-9]+ ping$"
	run in_cg node "$KPR_BIN/tests/helper_sock" udpu "::ffff:$VIP" 5353
	assert_success
	assert_output --regexp "^from=\[::ffff:$VIP\]:5353 backend=b[123] "
	run in_cg node "$KPR_BIN/tests/helper_sock" udp "::ffff:$VIP" 5353
	assert_success
	assert_output --regexp "^from=\[::ffff:$VIP\]:5353 peer=\[::ffff:$VIP\]:5353 backend=b[123] "
	[ "$(counters)" = "$before" ] || fail "the packet path translated: $before -> $(counters)"
	run in_cg node "$KPR_BIN/tests/helper_sock" bind tcp "::ffff:10.77.2.1" 30080
	assert_failure
	assert_output --partial "Address already in use"
}

@test "a process outside the cgroup is untouched" {
	svc-add -q $VIP:8080 $(be4 8080)
	sock_on
	run lab node "$KPR_BIN/tests/helper_sock" tcp $VIP 8080
	assert_failure
}

@test "a process of the cgroup in another namespace: translated with --sock-hostns-only off, left to the packet path with it on" {
	svc-add -q -t loadbalancer $LBIP:8080 $(be4 8080)
	sock_on
	# translated at connect(): the backend sees the client itself, routed
	run in_cg client "$KPR_BIN/tests/helper_sock" tcp $LBIP 8080
	assert_success
	assert_output --regexp "^peer=$LBIP:8080 backend=b[123] peer=10\.77\.1\.2:"
	run lb-mode -N "$NODE" --sock-hostns-only on -j
	assert_success
	jq -e '.changed and .sock_hostns_only' <<<"$output"
	# the packet path's SNAT: the backend sees the node
	run in_cg client "$KPR_BIN/tests/helper_sock" tcp $LBIP 8080
	assert_success
	assert_output --regexp "^peer=$LBIP:8080 backend=b[123] peer=10\.77\.2\.1:"
	# and the node's own processes are still translated
	run in_cg node "$KPR_BIN/tests/helper_sock" tcp $LBIP 8080
	assert_success
}

@test "a pod with --sock-hostns-only on: untouched at connect(), its ClusterIP served on its host-side veth attached --internal" {
	pod_add
	svc-add -q $VIP:8080 $(be4 8080)
	sock_on
	lb-mode -q -N "$NODE" --sock-hostns-only on
	# an ordinary device: a ClusterIP is not served there (external ClusterIP off)
	xdp-attach -q -N "$NODE" --mode native pod0
	run in_cg pod "$KPR_BIN/tests/helper_sock" tcp $VIP 8080
	assert_failure
	run xdp-attach -N "$NODE" --mode native --internal pod0 -j
	assert_success
	jq -e '.changed and .devices[0].internal' <<<"$output"
	run xdp-attach -N "$NODE" --status -j
	jq -e '[.devices[] | select(.dev == "pod0")][0].internal' <<<"$output"
	# the packet path's SNAT: the backend sees the node
	run in_cg pod "$KPR_BIN/tests/helper_sock" tcp $VIP 8080
	assert_success
	assert_output --regexp "^peer=$VIP:8080 backend=b[123] peer=10\.77\.2\.1:"
	# host-ns-only off: translated at connect(), the backend sees the pod
	lb-mode -q -N "$NODE" --sock-hostns-only off
	run in_cg pod "$KPR_BIN/tests/helper_sock" tcp $VIP 8080
	assert_success
	assert_output --regexp "^peer=$VIP:8080 backend=b[123] peer=10\.77\.3\.2:"
	# attached again without --internal, it is an ordinary device again
	run xdp-attach -N "$NODE" --mode native pod0 -j
	jq -e '.changed and (.devices[0].internal | not)' <<<"$output"
}

@test "bind() of a NodePort's port or a LoadBalancer frontend on the node gets EADDRINUSE" {
	svc-add -q -t nodeport '*:30080' $(be4 8080)
	svc-add -q -t nodeport '*:30053/udp' $(be4 5353/udp)
	lab node ip addr add $LBIP/32 dev lo
	svc-add -q -t loadbalancer $LBIP:8080 $(be4 8080)
	sock_on
	for a in "tcp 0.0.0.0 30080" "tcp 10.77.1.1 30080" "udp 0.0.0.0 30053" "tcp $LBIP 8080"; do
		run in_cg node "$KPR_BIN/tests/helper_sock" bind $a
		assert_failure
		assert_output "bind: Address already in use"
	done
	# other ports, and the same ports in another namespace, bind
	run in_cg node "$KPR_BIN/tests/helper_sock" bind tcp 0.0.0.0 30081
	assert_success
	run in_cg client "$KPR_BIN/tests/helper_sock" bind tcp 0.0.0.0 30080
	assert_success
}

@test "an ExternalIP that is not the node's is not translated; one that is, is" {
	svc-add -q -t externalip $EXTIP:8080 $(be4 8080)
	svc-add -q -t externalip 10.77.1.1:8080 $(be4 8080)
	sock_on
	run in_cg node "$KPR_BIN/tests/helper_sock" tcp $EXTIP 8080
	assert_failure
	run in_cg node "$KPR_BIN/tests/helper_sock" tcp 10.77.1.1 8080
	assert_success
	assert_output --regexp "^peer=10\.77\.1\.1:8080 backend=b[123] "
}

@test "no usable backend: connect() fails with ECONNREFUSED" {
	svc-add -q $VIP:8080 10.77.2.11:8080,state=maintenance
	sock_on
	run in_cg node "$KPR_BIN/tests/helper_sock" tcp $VIP 8080
	assert_failure
	assert_output "connect: Connection refused"
	run in_cg node "$KPR_BIN/tests/helper_sock" udpu $VIP 8080
	assert_failure
}

@test "affinity holds a backend for the node; a backend removed takes no new connect" {
	svc-add -q --affinity 60 $VIP:8080 $(be4 8080)
	sock_on
	first=$(in_cg node "$KPR_BIN/tests/helper_sock" tcp $VIP 8080 | grep -o 'backend=b[123]')
	[ -n "$first" ] || fail "no answer"
	for i in $(seq 1 10); do
		run in_cg node "$KPR_BIN/tests/helper_sock" tcp $VIP 8080
		assert_success
		assert_output --partial "$first "
	done
	svc-add -q $VIP:8080 10.77.2.11:8080 10.77.2.12:8080
	for i in $(seq 1 20); do
		run in_cg node "$KPR_BIN/tests/helper_sock" tcp $VIP 8080
		assert_success
		refute_output --partial "backend=b3 "
	done
}

@test "sock_release leaves no sock_revnat entry behind after 1000 UDP sockets" {
	svc-add -q $VIP:5353/udp $(be4 5353/udp)
	sock_on
	run in_cg node "$KPR_BIN/tests/helper_sock" udpmany 1000 $VIP 5353
	assert_success
	assert_output "sent 1000"
	run bpftool -j map dump pinned "$KPR_PIN_ROOT/sock_revnat"
	assert_success
	[ "$(jq length <<<"$output")" -eq 0 ] || fail "left behind: $(jq length <<<"$output")"
}

@test "--socket-lb off detaches every hook; lb-mode shows the cgroup while on" {
	svc-add -q $VIP:8080 $(be4 8080)
	run lb-mode -N "$NODE" --socket-lb on --cgroup "$CG" -j
	assert_success
	jq -e '.changed and .socket_lb' <<<"$output"
	run lb-mode -N "$NODE" --socket-lb on --cgroup "$CG" -j
	assert_success
	jq -e '.changed == false' <<<"$output"
	run lb-mode -j
	assert_success
	jq -e --arg cg "$CG" '.socket_lb and .socket_lb_cgroups == [{"path": $cg, "hooks": 11}] and .hostns_cookie > 0' <<<"$output"
	run lb-mode
	assert_output --regexp "Socket LB cgroup: +$CG \(11 of 11 hooks\)"
	[ "$(bpftool cgroup show "$CG" | grep -c kpr_sock)" -eq 11 ]
	run lb-mode --socket-lb off -j
	assert_success
	jq -e '.changed and .socket_lb == false' <<<"$output"
	[ -z "$(bpftool cgroup show "$CG")" ] || fail "left attached: $(bpftool cgroup show "$CG")"
	run lb-mode -j
	jq -e '.socket_lb == false and .socket_lb_cgroups == []' <<<"$output"
	run in_cg node "$KPR_BIN/tests/helper_sock" tcp $VIP 8080
	assert_failure
}

@test "--socket-lb: bad input changes nothing" {
	maps_snapshot "$BATS_TEST_TMPDIR/before"
	run lb-mode --socket-lb on --cgroup /tmp
	assert_failure 2
	assert_output --partial "not a cgroup2 directory"
	run lb-mode --cgroup "$CG"
	assert_failure 2
	assert_output --partial "--cgroup goes with --socket-lb on"
	run lb-mode --socket-lb maybe
	assert_failure 2
	maps_snapshot "$BATS_TEST_TMPDIR/after"
	diff "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/after"
	[ -z "$(bpftool cgroup show "$CG")" ]
}
