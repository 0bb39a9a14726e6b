#!/usr/bin/env bats
# xdp-attach on a veth pair in a private network namespace, and on nodes in
# namespaces of their own that share one pin root, each with a client that
# pings a service address (answered by the datapath only when it is attached).

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
	local n
	[ -n "${NS:-}" ] && ip netns del "$NS" 2>/dev/null
	for n in ${NODES:-}; do
		ip netns del "$n" 2>/dev/null
		ip netns del "${n}c" 2>/dev/null
	done
	[ -n "${LPID:-}" ] && kill "$LPID" 2>/dev/null
	if [ -n "${CG:-}" ]; then
		"$KPR_BIN/tests/helper_cgroup_link" detach "$CG" connect4 2>/dev/null
		rmdir "$CG" 2>/dev/null
	fi
	kpr_root_teardown
}

ino() {	# the inode that names namespace $1 under links/
	stat -L -c %i "/run/netns/$1"
}

pin() {	# the pin of hook $2 (xdp, tc-egress) of device $3 in namespace $1
	echo "$KPR_PIN_ROOT/links/$(ino "$1")/$2-$3"
}

# A node namespace N with device kx0 (10.89.0.1) wired to a client namespace
# Nc (10.89.0.2, default route via the node). Every node has the same device
# name and addresses: only the namespace tells them apart.
node_add() {
	local n=$1 t=kx$$$RANDOM
	NODES="${NODES:-} $n"
	ip netns add "$n"
	ip netns add "${n}c"
	ip link add "${t}a" type veth peer name "${t}b"
	ip link set "${t}a" netns "$n"
	ip link set "${t}b" netns "${n}c"
	ip -n "$n" link set "${t}a" name kx0
	ip -n "${n}c" link set "${t}b" name kx0
	ip -n "$n" addr add 10.89.0.1/24 dev kx0
	ip -n "${n}c" addr add 10.89.0.2/24 dev kx0
	ip -n "$n" link set kx0 up
	ip -n "${n}c" link set kx0 up
	ip -n "${n}c" route add default via 10.89.0.1
}

VIP=10.89.9.9

# The datapath of node $1 answers a ping of the service address from its
# client; nothing else in the node would (it owns no such address and does
# not forward). Polls: the first echo may wait for the neighbour.
answers() {
	local end=$((SECONDS + 10))
	until nsenter --net="/run/netns/${1}c" ping -c 1 -W 1 "$VIP" >/dev/null 2>&1; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.2
	done
}

silent() {
	! nsenter --net="/run/netns/${1}c" ping -c 2 -W 1 "$VIP" >/dev/null 2>&1
}

link_id_of() {	# the link id of hook $2 of kx0 in namespace $1, from --status
	xdp-attach --status -j | jq -r --argjson ns "$(ino "$1")" --arg h "$2" \
		'.attachments[] | select(.netns == $ns and .hook == $h and .dev == "kx0") | .link_id'
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
	[ -e "$(pin "$NS" xdp eth0)" ]
	[ -e "$(pin "$NS" xdp eth1)" ]
	[ -e "$(pin "$NS" tc-egress eth0)" ]
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
	[ ! -e "$(pin "$NS" xdp eth0)" ]
	[ ! -e "$(pin "$NS" tc-egress eth0)" ]
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

@test "--internal marks the devices internal, as --status shows; an attach without it unmarks them; misuse is exit 2" {
	run xdp-attach -N "$NS" --mode generic --internal eth0 -j
	assert_success
	jq -e '.changed and .devices[0].internal' <<<"$output"
	run xdp-attach -N "$NS" --mode generic --internal eth0 -j
	jq -e '.changed == false' <<<"$output"
	run xdp-attach -N "$NS" --status
	assert_line "internal devices: eth0"
	run xdp-attach -N "$NS" --status -j
	jq -e '.devices[0].internal' <<<"$output"
	maps_snapshot "$BATS_TEST_TMPDIR/before"
	for args in "--internal" "--internal --detach eth0" "--internal --status" "--internal --node-ip 192.0.2.7"; do
		run xdp-attach -N "$NS" $args
		assert_failure 2
	done
	maps_snapshot "$BATS_TEST_TMPDIR/after"
	cmp "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/after"
	run xdp-attach -N "$NS" --mode generic eth0 -j
	jq -e '.changed and (.devices[0].internal | not)' <<<"$output"
}

@test "--dry-run attaches nothing" {
	run xdp-attach -N "$NS" -n eth0
	assert_success
	assert_output --partial "dry run"
	[ -z "$(xdp_of eth0)" ]
	[ ! -e "$(pin "$NS" xdp eth0)" ]
}

@test "--status without state is exit 4, and its JSON is still one document" {
	run xdp-attach -N "$NS" --status
	assert_failure 4
	run --separate-stderr xdp-attach -N "$NS" --status -j
	assert_failure 4
	assert_json
	[ "$(jq -r .exit_code <<<"$output")" = 4 ]
}

@test "the man page and the bash completion offer exactly the options of --help" {
	assert_docs_match_help xdp-attach
}

@test "attaching again after an upgrade switches the link to the new program in place" {
	xdp-attach -q -N "$NS" --mode generic eth0
	link_id=$(xdp-attach -N "$NS" --status -j | jq -r '.devices[0].link_id')
	# as another kpr version would have left it: the link runs another program
	"$KPR_BIN/tests/helper_link_update" "$(pin "$NS" xdp eth0)" "$KPR_BIN/tests/bpf/xdp_pass.bpf.o"
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

@test "two namespaces sharing a pin root: each attach and detach touches only its own" {
	A=kxa$$a$BATS_TEST_NUMBER B=kxa$$b$BATS_TEST_NUMBER
	node_add "$A"
	node_add "$B"
	svc-add -q -t loadbalancer "$VIP:80" 10.89.0.2:80
	silent "$A"
	xdp-attach -q -N "$A" --mode generic kx0
	xdp-attach -q -N "$B" --mode generic kx0
	[ -e "$(pin "$A" xdp kx0)" ]
	[ -e "$(pin "$B" xdp kx0)" ]
	[ "$(pin "$A" xdp kx0)" != "$(pin "$B" xdp kx0)" ]
	answers "$A" || fail "node A does not answer with the datapath attached"
	answers "$B" || fail "node B does not answer with the datapath attached"
	b_xdp=$(link_id_of "$B" xdp) b_tc=$(link_id_of "$B" tc-egress)
	[ -n "$b_xdp" ] && [ -n "$b_tc" ]
	# attaching A again changes nothing of B's
	run xdp-attach -N "$A" --mode generic kx0
	assert_success
	assert_output --partial "unchanged kx0"
	run xdp-attach -N "$A" --detach
	assert_success
	assert_output --partial "detached kx0"
	refute_output --partial "not attached"
	[ -z "$(ip -n "$A" link show dev kx0 | grep prog/xdp)" ]
	[ ! -e "$(pin "$A" xdp kx0)" ]
	[ -e "$(pin "$B" xdp kx0)" ]
	[ "$(link_id_of "$B" xdp)" = "$b_xdp" ]
	[ "$(link_id_of "$B" tc-egress)" = "$b_tc" ]
	ip -n "$B" link show dev kx0 | grep -q 'prog/xdp id'
	silent "$A" || fail "node A still answers after its detach"
	answers "$B" || fail "node B stopped answering when node A detached"
	# and the other way round, by name
	xdp-attach -q -N "$A" --mode generic kx0
	run xdp-attach -N "$B" --detach kx0
	assert_success
	answers "$A" || fail "node A stopped answering when node B detached"
	silent "$B"
	run xdp-attach -N "$B" --detach kx0 -j
	[ "$(jq -r .changed <<<"$output")" = false ]
}

@test "an attach and detach in the tool's own namespace (the host's) touch no other namespace" {
	A=kxa$$a$BATS_TEST_NUMBER H=kxa$$h$BATS_TEST_NUMBER
	node_add "$A"
	node_add "$H"
	svc-add -q -t loadbalancer "$VIP:80" 10.89.0.2:80
	xdp-attach -q -N "$A" --mode generic kx0
	a_xdp=$(link_id_of "$A" xdp)
	# H plays the host: no -N, the tool runs in it
	nsenter --net="/run/netns/$H" xdp-attach -q --mode generic kx0
	answers "$H"
	[ "$(link_id_of "$A" xdp)" = "$a_xdp" ]
	run nsenter --net="/run/netns/$H" xdp-attach --status -j
	assert_success
	assert_json
	# devices: the tool's own namespace; attachments: every one
	[ "$(jq -r '.devices | length' <<<"$output")" = 1 ]
	jq -e --arg a "$A" --arg h "$H" '[.attachments[] | select(.hook == "xdp") | .netns_name] | sort == ([$a, $h] | sort)' <<<"$output"
	run nsenter --net="/run/netns/$H" xdp-attach --status
	assert_output --partial "($A):"
	assert_output --partial "($H):"
	run nsenter --net="/run/netns/$H" xdp-attach --detach
	assert_success
	silent "$H"
	[ "$(link_id_of "$A" xdp)" = "$a_xdp" ]
	answers "$A" || fail "node A stopped answering when the host detached"
}

@test "a refused attach keeps the working one: --mode native lo after generic" {
	ip -n "$NS" link set lo up
	xdp-attach -q -N "$NS" --mode generic lo
	id=$(ip -n "$NS" link show dev lo | grep -o 'prog/xdp id [0-9]*')
	[ -n "$id" ]
	run xdp-attach -N "$NS" --mode native lo
	assert_failure 1
	assert_output --partial "cannot attach native XDP to lo"
	assert_output --partial "keeps its generic XDP program"
	ip -n "$NS" link show dev lo | grep -q xdpgeneric
	[ "$(ip -n "$NS" link show dev lo | grep -o 'prog/xdp id [0-9]*')" = "$id" ]
	ip -n "$NS" link show dev lo | grep -q 'name kpr_xdp_ingress'
	run xdp-attach -N "$NS" --status -j
	jq -e '.devices[] | select(.dev == "lo") | .mode == "generic"' <<<"$output"
	[ "prog/xdp id $(jq -r '.devices[] | select(.dev == "lo") | .prog_id' <<<"$output")" = "$id" ]
	# the link is pinned, so it outlives this tool too, and passes traffic
	[ -e "$(pin "$NS" xdp lo)" ]
	nsenter --net="/run/netns/$NS" ping -c 1 -W 1 127.0.0.1
	run --separate-stderr xdp-attach -N "$NS" --mode native lo -j
	assert_failure 1
	assert_json
	jq -e '.error | test("native")' <<<"$output"
}

@test "tc egress: a tcx link pinned beside the XDP link, gone with --detach" {
	run xdp-attach -N "$NS" --mode generic eth0 -j
	assert_success
	run xdp-attach -N "$NS" --status -j
	tc_link=$(jq -r '.attachments[] | select(.hook == "tc-egress" and .dev == "eth0") | .link_id' <<<"$output")
	tc_prog=$(jq -r '.attachments[] | select(.hook == "tc-egress" and .dev == "eth0") | .prog_id' <<<"$output")
	[ "$(jq -r '.attachments[] | select(.hook == "tc-egress") | .mode' <<<"$output")" = tcx ]
	bpftool prog show id "$tc_prog" | grep -q kpr_tc_egress
	bpftool link show id "$tc_link" >/dev/null
	xdp-attach -q -N "$NS" --detach eth0
	! bpftool link show id "$tc_link" >/dev/null 2>&1
}

@test "tc egress without tcx: a clsact filter, recorded by its pinned program" {
	KPR_TEST_NO_TCX=1 xdp-attach -q -N "$NS" --mode generic eth0
	tc -n "$NS" filter show dev eth0 egress | grep -q kpr_tc_egress
	[ -e "$KPR_PIN_ROOT/links/$(ino "$NS")/tcf-egress-eth0" ]
	run xdp-attach -N "$NS" --status -j
	[ "$(jq -r '.attachments[] | select(.hook == "tc-egress") | .mode' <<<"$output")" = clsact ]
	# attaching again finds it: nothing changes
	run env KPR_TEST_NO_TCX=1 xdp-attach -N "$NS" --mode generic eth0 -j
	[ "$(jq -r .changed <<<"$output")" = false ]
	# a filter removed behind kpr's back is seen as gone, and put back
	tc -n "$NS" filter del dev eth0 egress
	run xdp-attach -N "$NS" --status -j
	[ "$(jq -r '.attachments[] | select(.hook == "tc-egress") | .mode' <<<"$output")" = gone ]
	run env KPR_TEST_NO_TCX=1 xdp-attach -N "$NS" --mode generic eth0 -j
	[ "$(jq -r .changed <<<"$output")" = true ]
	tc -n "$NS" filter show dev eth0 egress | grep -q kpr_tc_egress
	xdp-attach -q -N "$NS" --detach eth0
	! tc -n "$NS" filter show dev eth0 egress | grep -q kpr_tc_egress
	[ ! -e "$KPR_PIN_ROOT/links/$(ino "$NS")/tcf-egress-eth0" ]
}

@test "an old-layout pin (links/xdp-DEV) is claimed by its own namespace only" {
	A=kxa$$a$BATS_TEST_NUMBER
	node_add "$A"
	xdp-attach -q -N "$NS" --mode generic eth0
	xdp-attach -q -N "$A" --mode generic kx0
	link=$(link_id_of "$A" xdp)
	# as a kpr of the older layout left them
	mv "$(pin "$NS" xdp eth0)" "$KPR_PIN_ROOT/links/xdp-eth0"
	mv "$(pin "$A" xdp kx0)" "$KPR_PIN_ROOT/links/xdp-kx0"
	run xdp-attach -N "$NS" --status -j
	jq -e '.devices | map(.dev) == ["eth0"]' <<<"$output"
	jq -e --argjson ns "$(ino "$NS")" '.attachments[] | select(.dev == "eth0" and .hook == "xdp") | .old_pin and .netns == $ns' <<<"$output"
	jq -e '.attachments[] | select(.dev == "kx0" and .hook == "xdp") | .old_pin and .netns == 0' <<<"$output"
	# a detach of every device of NS leaves A's old pin alone
	run xdp-attach -N "$NS" --detach
	assert_success
	[ ! -e "$KPR_PIN_ROOT/links/xdp-eth0" ]
	[ -e "$KPR_PIN_ROOT/links/xdp-kx0" ]
	# A's attach moves its pin to the new name, link and program kept
	run xdp-attach -N "$A" --mode generic kx0 -j
	assert_success
	[ "$(jq -r .changed <<<"$output")" = false ]
	[ ! -e "$KPR_PIN_ROOT/links/xdp-kx0" ]
	[ -e "$(pin "$A" xdp kx0)" ]
	[ "$(link_id_of "$A" xdp)" = "$link" ]
}

@test "cgroup links: pinned by cgroup and type, listed, and only the child cgroup is hooked" {
	local cg2
	cg2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
	[ -n "$cg2" ] || fail "no cgroup2 mount: cgroup links cannot be tested"
	obj=$KPR_BIN/tests/bpf/connect4_refuse.bpf.o
	CG=$cg2/kpr-test-$$-$BATS_TEST_NUMBER
	mkdir "$CG"
	xdp-attach -q -N "$NS" --node-ip 192.0.2.7	# the state, for --status
	run "$KPR_BIN/tests/helper_cgroup_link" attach "$cg2" connect4 "$obj"
	assert_failure
	assert_output --partial "refusing the cgroup2 root"
	ip -n "$NS" link set lo up
	nsenter --net="/run/netns/$NS" socat TCP4-LISTEN:9999,fork,reuseaddr,bind=127.0.0.1 /dev/null </dev/null >/dev/null 2>&1 3>&- &
	LPID=$!
	end=$((SECONDS + 10))
	until nsenter --net="/run/netns/$NS" ss -Hltn | grep -q ':9999 '; do
		[ $SECONDS -lt $end ] || fail "the listener did not start"
		sleep 0.2
	done
	run "$KPR_BIN/tests/helper_cgroup_link" attach "$CG" connect4 "$obj"
	assert_success
	assert_output --partial "attached $CG connect4"
	[ -e "$KPR_PIN_ROOT/links/cgroup-$(stat -c %i "$CG")-connect4" ]
	run xdp-attach --status -j
	assert_success
	jq -e --arg cg "$CG" '.attachments[] | select(.hook == "cgroup") | .cgroup == $cg and .type == "connect4"' <<<"$output"
	# a process of the child cgroup is refused port 9999; others are not
	in_cg="echo \$\$ >$CG/cgroup.procs && exec socat -T 2 /dev/null TCP4:127.0.0.1:9999"
	run nsenter --net="/run/netns/$NS" sh -c "$in_cg"
	assert_failure
	assert_output --partial "Operation not permitted"
	nsenter --net="/run/netns/$NS" socat -T 2 /dev/null TCP4:127.0.0.1:9999
	run "$KPR_BIN/tests/helper_cgroup_link" detach "$CG" connect4
	assert_success
	[ ! -e "$KPR_PIN_ROOT/links/cgroup-$(stat -c %i "$CG")-connect4" ]
	nsenter --net="/run/netns/$NS" sh -c "$in_cg"
}

@test "--detach without a device also removes the pins of devices gone in any namespace, and only those" {
	A=kxa$$a$BATS_TEST_NUMBER B=kxa$$b$BATS_TEST_NUMBER
	node_add "$A"
	node_add "$B"
	xdp-attach -q -N "$A" --mode generic kx0
	xdp-attach -q -N "$B" --mode generic kx0
	a=$(ino "$A")
	b_xdp=$(link_id_of "$B" xdp)
	ip netns del "$A"
	ip netns del "${A}c"
	# the namespace is torn down in the background: its devices go, and
	# the links say so
	end=$((SECONDS + 30))
	until xdp-attach --status -j | jq -e --argjson a "$a" '[.attachments[] | select(.netns == $a and .mode == "gone")] | length == 2' >/dev/null; do
		[ $SECONDS -lt $end ] || fail "A's links never went: $(xdp-attach --status)"
		sleep 0.2
	done
	run xdp-attach -N "$NS" --detach -n
	assert_success
	assert_output --partial "removed 2 pins"
	[ -d "$KPR_PIN_ROOT/links/$a" ]
	run xdp-attach -N "$NS" --detach
	assert_success
	assert_output --partial "removed 2 pins"
	[ ! -e "$KPR_PIN_ROOT/links/$a" ]
	[ "$(link_id_of "$B" xdp)" = "$b_xdp" ]
	ip -n "$B" link show dev kx0 | grep -q 'prog/xdp id'
}
