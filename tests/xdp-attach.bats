#!/usr/bin/env bats
# xdp-attach on a veth pair in a private network namespace (no traffic: the
# lab suite, datapath.bats, sends that).

load helpers

setup() {
	kpr_root_setup
	NS=kxa$$n$BATS_TEST_NUMBER
	ip netns add "$NS"
	ip -n "$NS" link add eth0 type veth peer name eth1
	ip -n "$NS" addr add 10.88.0.1/24 dev eth0
	ip -n "$NS" addr add fd00:88::1/64 dev eth0 nodad
	ip -n "$NS" link set eth0 up
	ip -n "$NS" link set eth1 up
}

teardown() {
	[ -n "${NS:-}" ] && ip netns del "$NS" 2>/dev/null
	kpr_root_teardown
}

xdp_of() {	# the XDP program line of ip link, empty when none
	ip -n "$NS" link show dev "$1" | grep -o 'prog/xdp id [0-9]*' || true
}

@test "--help names every option" {
	run xdp-attach --help
	assert_success
	for o in --mode --detach --status --node-ip --netns --dry-run --pin-root --json; do
		assert_output --partial -- "$o"
	done
}

@test "a missing device is exit 2 with a clear message, and changes nothing" {
	run xdp-attach -N "$NS" eth0 nosuch0
	assert_failure 2
	assert_output --partial "no such device: nosuch0"
	[ -z "$(xdp_of eth0)" ]
}

@test "a bad mode is exit 2" {
	run xdp-attach -N "$NS" --mode turbo eth0
	assert_failure 2
	assert_output --partial "bad --mode"
}

@test "native attach pins a link per device, fills node addresses; twice is a no-op" {
	run xdp-attach -N "$NS" --mode native eth0 eth1
	assert_success
	assert_line --partial "attached eth0 native"
	[ -e "$KPR_PIN_ROOT/links/xdp-eth0" ]
	[ -e "$KPR_PIN_ROOT/links/xdp-eth1" ]
	[ -n "$(xdp_of eth0)" ]
	run xdp-attach -N "$NS" --mode native eth0 eth1 -j
	assert_success
	assert_json
	[ "$(jq -r .changed <<<"$output")" = false ]
	[ "$(jq -r '.devices[0].action' <<<"$output")" = unchanged ]
	run xdp-attach -N "$NS" --status -j
	assert_success
	[ "$(jq -r '.devices | length' <<<"$output")" = 2 ]
	[ "$(jq -r '.devices[0].mode' <<<"$output")" = native ]
	jq -e '.node_addrs | map(.addr) | index("10.88.0.1") != null' <<<"$output"
	jq -e '.node_addrs | map(.addr) | index("fd00:88::1") != null' <<<"$output"
}

@test "generic attach, then native replaces it" {
	run xdp-attach -N "$NS" --mode generic eth0
	assert_success
	assert_output --partial "eth0 generic"
	ip -n "$NS" link show dev eth0 | grep -q xdpgeneric
	run xdp-attach -N "$NS" --mode native eth0
	assert_success
	assert_output --partial "attached eth0 native"
	run xdp-attach -N "$NS" --status
	assert_output --partial "eth0 native"
}

@test "best-effort is the default and says which mode it got" {
	run xdp-attach -N "$NS" eth0
	assert_success
	assert_output --regexp "attached eth0 (native|generic)"
}

@test "the link outlives the tool: the program stays attached after exit" {
	xdp-attach -N "$NS" -q eth0
	id=$(xdp-attach -N "$NS" --status -j | jq -r '.devices[0].prog_id')
	[ "$(xdp_of eth0)" = "prog/xdp id $id" ]
}

@test "--detach removes the links, the programs and the device's addresses" {
	xdp-attach -N "$NS" -q eth0 eth1
	run xdp-attach -N "$NS" --detach eth0
	assert_success
	assert_output --partial "detached eth0"
	[ ! -e "$KPR_PIN_ROOT/links/xdp-eth0" ]
	[ -z "$(xdp_of eth0)" ]
	[ -n "$(xdp_of eth1)" ]
	run xdp-attach -N "$NS" --status -j
	jq -e '.node_addrs | map(.addr) | index("10.88.0.1") == null' <<<"$output"
	run xdp-attach -N "$NS" --detach
	assert_success
	[ -z "$(xdp_of eth1)" ]
	[ -z "$(ls "$KPR_PIN_ROOT/links")" ]
	run xdp-attach -N "$NS" --detach eth0 -j
	assert_success
	[ "$(jq -r .changed <<<"$output")" = false ]
}

@test "--node-ip adds a node address; a bad one is exit 2" {
	run xdp-attach -N "$NS" --node-ip 192.0.2.7 --node-ip 2001:db8::7
	assert_success
	run xdp-attach -N "$NS" --status
	assert_output --partial 192.0.2.7
	assert_output --partial 2001:db8::7
	run xdp-attach -N "$NS" --node-ip 192.0.2.300
	assert_failure 2
}

@test "--dry-run attaches nothing" {
	run xdp-attach -N "$NS" -n eth0
	assert_success
	assert_output --partial "dry run"
	[ -z "$(xdp_of eth0)" ]
	[ ! -e "$KPR_PIN_ROOT/links/xdp-eth0" ]
}

@test "--status without state is exit 4" {
	run xdp-attach -N "$NS" --status
	assert_failure 4
}

@test "the man page and the bash completion offer exactly the options of --help" {
	assert_docs_match_help xdp-attach
}

@test "attaching again after an upgrade switches the link to the new program in place" {
	xdp-attach -q -N "$NS" --mode generic eth0
	link_id=$(xdp-attach -N "$NS" --status -j | jq -r '.devices[0].link_id')
	# as another kpr version would have left it: the link runs another program
	"$KPR_BIN/tests/helper_link_update" "$KPR_PIN_ROOT/links/xdp-eth0" "$KPR_BIN/tests/bpf/xdp_pass.bpf.o"
	ip -n "$NS" link show dev eth0 | grep -q 'name xdp_pass'
	run xdp-attach -N "$NS" --mode generic eth0 -j
	assert_success
	[ "$(jq -r '.devices[0].action' <<<"$output")" = updated ]
	[ "$(jq -r .changed <<<"$output")" = true ]
	[ "$(jq -r '.devices[0].link_id' <<<"$output")" = "$link_id" ]
	ip -n "$NS" link show dev eth0 | grep -q 'name kpr_xdp_ingress'
	run xdp-attach -N "$NS" --mode generic eth0
	assert_output --partial unchanged
}
