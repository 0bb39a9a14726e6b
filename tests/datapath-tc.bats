#!/usr/bin/env bats
# The datapath's blocks in a tc program (bpf/lib/ctx.h): the tc egress entry
# point is loaded and attached to a veth between two namespaces of our own,
# and real packets go through it; the checksum interface's tc path
# (bpf_l3_csum_replace, bpf_l4_csum_replace) rewrites TCP and UDP packets
# whose sums must come out right.

load helpers

setup() {
	needs_root
	A=ktca$$
	B=ktcb$$
	ip netns add "$A"
	ip netns add "$B"
	ip -n "$A" link add a0 type veth peer name b0 netns "$B"
	ip -n "$A" addr add 10.201.0.1/24 dev a0
	ip -n "$B" addr add 10.201.0.2/24 dev b0
	ip -n "$A" addr add fd00:201::1/64 dev a0 nodad
	ip -n "$B" addr add fd00:201::2/64 dev b0 nodad
	ip -n "$A" link set a0 up
	ip -n "$B" link set b0 up
}

teardown() {
	[ -n "${SRV:-}" ] && kill "$SRV" 2>/dev/null
	[ -n "${KPR_PIN_ROOT:-}" ] && kpr_root_teardown
	[ -n "${A:-}" ] && ip netns del "$A" 2>/dev/null
	[ -n "${B:-}" ] && ip netns del "$B" 2>/dev/null
	[ -n "${C:-}" ] && ip netns del "$C" 2>/dev/null
	kpr_root_teardown
	return 0
}

inA() { nsenter --net="/run/netns/$A" "$@"; }
inB() { nsenter --net="/run/netns/$B" "$@"; }
inC() { nsenter --net="/run/netns/$C" "$@"; }

# The sum over CPUs of counter $1 of the program attached at a0 egress.
tc_seen() {
	bpftool -j map dump id "$MAP" | jq "[.[] | select(.formatted.key == $1) |
		.formatted.values[].value] | add"
}

@test "kpr_tc_egress is attached at tc egress, parses every packet it sees, passes all" {
	local prog id before
	# through xdp-attach, on a private pin root: the object shares the
	# pinned maps, which tc's own loader would pin under /sys/fs/bpf; as a
	# clsact filter, which tc shows
	kpr_root_setup
	KPR_TEST_NO_TCX=1 xdp-attach -q -N "$A" --mode generic a0
	prog=$(tc -n "$A" -j filter show dev a0 egress | jq -r '.[] | select(.options.prog) | .options.prog.id')
	[ -n "$prog" ] || fail "no bpf filter at a0 egress: $(tc -n "$A" filter show dev a0 egress)"
	run bpftool -j prog show id "$prog"
	assert_success
	[ "$(jq -r .name <<<"$output")" = kpr_tc_egress ] || fail "attached: $output"
	MAP=
	for id in $(jq -r '.map_ids[]' <<<"$output"); do
		[ "$(bpftool -j map show id "$id" | jq -r .name)" = tc_seen ] && MAP=$id
	done
	[ -n "$MAP" ] || fail "no tc_seen map among $(jq -c .map_ids <<<"$output")"
	# what the kernel sent since the attach (router solicitations) aside
	before=$(tc_seen 0)

	# ICMP both families, then a TCP exchange: everything must still pass
	inA ping -c 3 -i 0.2 -W 2 10.201.0.2
	inA ping -6 -c 3 -i 0.2 -W 2 fd00:201::2
	# nsenter execs socat: $! is the server itself, for teardown to kill
	nsenter --net="/run/netns/$B" socat TCP-LISTEN:7201,reuseaddr EXEC:cat 3>&- &
	SRV=$!
	local end=$((SECONDS + 10))
	until inB ss -Hltn 'sport = :7201' | grep -q LISTEN; do
		[ $SECONDS -lt $end ] || fail "the TCP server did not listen"
		sleep 0.1
	done
	run inA socat -T 5 - TCP:10.201.0.2:7201 <<<"through tc"
	assert_success
	assert_output "through tc"

	# 6 echo requests and at least SYN, data, FIN from the client: parsed.
	# ARP and neighbour discovery went out too: ARP is not ours to parse.
	[ "$(tc_seen 0)" -ge $((before + 9)) ] || fail "parsed: $(tc_seen 0) ($before before), other: $(tc_seen 1)"
	[ "$(tc_seen 1)" -ge 1 ] || fail "no ARP seen as other: $(tc_seen 1)"
}

@test "the tc checksum path rewrites TCP and UDP, IPv4 and IPv6, with correct sums" {
	[ -x "$KPR_BIN/tests/helper_tc_csum" ] || fail "no helper_tc_csum: make unit builds it"
	run "$KPR_BIN/tests/helper_tc_csum"
	assert_success
	refute_output --partial "not ok"
	# every case ran: 4 rewrites with a sum, IPv4 UDP without one
	[ "$(grep -c '^ok' <<<"$output")" -eq 5 ] || fail "$output"
}

# A local socket's datagram reaches tc egress with its sum left for the
# device (CHECKSUM_PARTIAL: the field holds the pseudo-header's sum), which
# BPF_PROG_TEST_RUN never makes. B forwards it out of a veth without tx
# offload, which finishes the sum in software, so C verifies what tc wrote:
# a wrong pseudo-header change is a datagram C drops.
@test "tc rewrites a datagram whose sum is left to the device, and the receiver verifies it" {
	local end got=
	[ -x "$KPR_BIN/tests/helper_tc_csum" ] || fail "no helper_tc_csum: make unit builds it"
	C=ktcc$$
	ip netns add "$C"
	ip -n "$B" link add b1 type veth peer name c0 netns "$C"
	ip -n "$B" addr add 10.202.0.1/24 dev b1
	ip -n "$C" addr add 10.202.0.2/24 dev c0
	ip -n "$B" link set b1 up
	ip -n "$C" link set c0 up
	inB sysctl -qw net.ipv4.ip_forward=1
	inB ethtool -K b1 tx off >/dev/null
	ip -n "$A" route add 10.202.0.0/24 via 10.201.0.2
	ip -n "$C" route add default via 10.202.0.1
	# to a made-up 10.202.0.99:7301 from port 7300; tc makes it
	# 10.201.0.1:7400 -> C's 10.202.0.2:7201, both addresses in the
	# pseudo-header changed or not, both ports changed
	"$KPR_BIN/tests/helper_tc_csum" attach "$A" a0 10.201.0.1:7400 10.202.0.2:7201
	nsenter --net="/run/netns/$C" socat -u UDP-RECV:7201 OPEN:"$BATS_TEST_TMPDIR/got",creat 3>&- &
	SRV=$!
	end=$((SECONDS + 10))
	until inC ss -Hlun 'sport = :7201' | grep -q 7201; do
		[ $SECONDS -lt $end ] || fail "the UDP receiver did not bind"
		sleep 0.1
	done
	# resent until it arrives: the first one may wait for ARP
	end=$((SECONDS + 10))
	until grep -q "partial sum" "$BATS_TEST_TMPDIR/got" 2>/dev/null; do
		[ $SECONDS -lt $end ] || fail "nothing arrived at C; its UDP counters: $(inC nstat -az Udp\* | tr '\n' ' ')"
		inA socat -u - UDP-SENDTO:10.202.0.99:7301,sourceport=7300,reuseaddr <<<"partial sum"
		sleep 0.2
	done
	# and it was a partial sum indeed: the sender's device offloads it
	inA ethtool -k a0 | grep -q '^tx-checksumming: on' || fail "a0 computes its own sums"
}
