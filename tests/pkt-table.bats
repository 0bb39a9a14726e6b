#!/usr/bin/env bats
# Malformed packets (issue 14): BPF_PROG_TEST_RUN over every class of
# tests/pkt-table.txt, through the node's XDP program on real maps, in a
# namespace whose FIB reaches the backends, so that the well-formed controls
# are forwarded and tracked and every broken one is seen passing untouched
# and leaving no state.

load helpers

setup() {
	kpr_root_setup
	NS=kpt$$
	ip netns add "$NS"
	ip -n "$NS" link add v0 type veth peer name v1
	ip -n "$NS" link set v0 up
	ip -n "$NS" link set v1 up
	ip -n "$NS" addr add 10.55.0.1/24 dev v0
	ip -n "$NS" addr add 10.55.1.1/24 dev v1
	ip -n "$NS" -6 addr add fd00:55::1/64 dev v0 nodad
	ip -n "$NS" -6 addr add fd00:55:1::1/64 dev v1 nodad
	# the FIB helper answers "forwarding disabled" otherwise
	nsenter --net="/run/netns/$NS" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	ip -n "$NS" neigh add 10.55.1.5 lladdr 02:00:00:00:55:05 dev v1 nud permanent
	ip -n "$NS" neigh add fd00:55:1::5 lladdr 02:00:00:00:55:05 dev v1 nud permanent
	svc-add -q -f - <<-EOF2
		-t loadbalancer 10.96.55.1:80 10.55.1.5:80
		-t loadbalancer 10.96.55.1:53/udp 10.55.1.5:53/udp
		-t loadbalancer [fd00:96:55::1]:80 [fd00:55:1::5]:80
		-t loadbalancer [fd00:96:55::1]:53/udp [fd00:55:1::5]:53/udp
		-t clusterip 10.96.55.2:80 10.55.1.5:80
		-t clusterip [fd00:96:55::2]:80 [fd00:55:1::5]:80
	EOF2
	xdp-attach -q -N "$NS" --mode generic v0 v1
}

teardown() {
	xdp-attach -q -N "$NS" --detach 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
	kpr_root_teardown
}

@test "malformed packets, class by class from tests/pkt-table.txt: passed untouched, no state; the controls forwarded and tracked" {
	[ -x "$KPR_BIN/tests/helper_pkt_table" ] || fail "no helper_pkt_table: make unit builds it"
	local ifindex rows
	ifindex=$(ip -n "$NS" -j link show v0 | jq '.[0].ifindex')
	run nsenter --net="/run/netns/$NS" "$KPR_BIN/tests/helper_pkt_table" "$KPR_PIN_ROOT" "$ifindex" \
		"$BATS_TEST_DIRNAME/pkt-table.txt"
	rows=$(grep -cv '^#\|^$' "$BATS_TEST_DIRNAME/pkt-table.txt")
	[ "$(grep -c '^ok' <<<"$output")" -eq "$rows" ] || fail "$output"
	assert_success
}
