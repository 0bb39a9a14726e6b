#!/usr/bin/env bats
# Maglev on the netns lab, with real traffic. Two nodes: two labs, each with
# its own node namespace, pin root and datapath, and the same addressing (a
# lab's addresses live only in its namespaces), so the same client address
# and port reach either node. With the same seed, service and backends they
# must pick the same backend for every flow.

load helpers
load lab/lab

VIP=10.77.100.1
be4() { echo "10.77.2.11:$1 10.77.2.12:$1 10.77.2.13:$1"; }

# The second node's lab: its own prefix, pin root and namespaces.
onB() {
	KPR_LAB_PREFIX=$LAB_B KPR_PIN_ROOT=/sys/fs/bpf/kpr-lab-$LAB_B "$@"
}

setup_file() {
	lab_setup_file
	export LAB_B=kb$$
	onB "$LAB" down >/dev/null 2>&1 || true
	[ -n "${KPR_LAB_SKIP:-}" ] || onB "$LAB" up >&3 || { onB "$LAB" down; return 1; }
}

teardown_file() {
	[ -n "${LAB_B:-}" ] && onB "$LAB" down
	lab_teardown_file
}

setup() {
	lab_reset native
	onB svc-del -q --all 2>/dev/null || true
	onB lb-mode -q --maglev-seed JLfvgnHc2kaSUFaI --maglev-table-size 16381 2>/dev/null || true
	onB xdp-attach -q -N "${LAB_B}node" eth0 eth1
}

# The backend that answers a request from the client's source port $2
# through the node of lab $1 (A or B).
pick() {
	local out
	if [ "$1" = A ]; then
		out=$(lab client curl -sS -m 3 --local-port "$2" "http://$VIP/")
	else
		out=$(onB "$LAB" exec client curl -sS -m 3 --local-port "$2" "http://$VIP/")
	fi
	grep -o 'backend=b[0-9]' <<<"$out"
}

@test "two nodes, same seed, service and backends: the same client address:port reaches the same backend through either, for 200 source ports" {
	svc-add -q -t loadbalancer --algorithm maglev $VIP:80 $(be4 80)
	onB svc-add -q -t loadbalancer --algorithm maglev $VIP:80 $(be4 80)
	local p a b bad=0
	for p in $(seq 21000 21199); do
		a=$(pick A "$p")
		b=$(pick B "$p")
		if [ -z "$a" ] || [ "$a" != "$b" ]; then
			echo "source port $p: node A chose '$a', node B '$b'"
			bad=$((bad + 1))
		fi
		echo "$a" >>"$BATS_TEST_TMPDIR/picks"
	done
	[ "$bad" -eq 0 ]
	# a spread over all three, not one backend for everything
	[ "$(sort -u "$BATS_TEST_TMPDIR/picks" | wc -l)" -eq 3 ]
}

@test "two nodes with different seeds disagree on some flows (the test above can fail)" {
	svc-add -q -t loadbalancer --algorithm maglev $VIP:80 $(be4 80)
	onB svc-add -q -t loadbalancer --algorithm maglev $VIP:80 $(be4 80)
	onB lb-mode -q --maglev-seed "$(maglev-gen --new-seed)"
	local p differ=0
	for p in $(seq 22000 22039); do
		[ "$(pick A "$p")" = "$(pick B "$p")" ] || differ=$((differ + 1))
	done
	# two unrelated tables agree on about a third of the flows
	[ "$differ" -ge 10 ]
}

@test "Maglev with affinity: every source port of a client reaches one backend" {
	svc-add -q -t loadbalancer --algorithm maglev --affinity 60 $VIP:80 $(be4 80)
	local first p
	first=$(pick A 23100)
	[ -n "$first" ]
	for p in $(seq 23101 23120); do
		[ "$(pick A "$p")" = "$first" ] || fail "port $p left the client's backend $first"
	done
}

@test "Maglev: an established connection keeps its backend while the table changes under it" {
	svc-add -q -t loadbalancer --algorithm maglev $VIP:8080 $(be4 8080)
	conn_open
	be=$(conn_say one)
	[ -n "$be" ]
	n=${be#backend=b}
	mine=10.77.2.1$n:8080
	other=$(be4 8080 | tr ' ' '\n' | grep -vx "$mine" | head -1)
	# a backend leaves: a new table
	svc-add -q -t loadbalancer --algorithm maglev $VIP:8080 $mine $other
	[ "$(conn_say two)" = "$be" ]
	# a new seed and size: every table rewritten
	lb-mode -q --maglev-seed "$(maglev-gen --new-seed)" --maglev-table-size 251
	[ "$(conn_say three)" = "$be" ]
	# its own backend leaves the table (terminating): the connection goes on
	svc-add -q -t loadbalancer --algorithm maglev $VIP:8080 "$mine,state=terminating" $other
	[ "$(conn_say four)" = "$be" ]
	conn_close
}

@test "switching algorithm, table size and seed while traffic flows: no request fails" {
	svc-add -q -t loadbalancer $VIP:80 $(be4 80)
	svc-add -q -t loadbalancer --algorithm maglev $VIP:8080 $(be4 8080)
	local done=$BATS_TEST_TMPDIR/done fails=$BATS_TEST_TMPDIR/fails
	: >"$fails"
	(
		for i in $(seq 150); do
			lab client curl -sS -m 3 "http://$VIP/" >/dev/null 2>&1 || echo "request $i to :80" >>"$fails"
			echo "x$i" | lab client socat -t 2 - TCP4:$VIP:8080 | grep -q "x$i" ||
				echo "request $i to :8080" >>"$fails"
		done
		touch "$done"
	) 3>&- &
	local traffic=$! switches=0 s
	# switch until the traffic is over (bounded: 400 switches)
	while [ ! -e "$done" ] && [ $switches -lt 400 ]; do
		case $((switches % 4)) in
		0) lb-mode -q --algorithm maglev ;;
		1) lb-mode -q --maglev-table-size 251 --maglev-seed "$(maglev-gen --new-seed)" ;;
		2) lb-mode -q --algorithm random ;;
		3) lb-mode -q --maglev-table-size 65521 ;;
		esac
		switches=$((switches + 1))
	done
	wait "$traffic"
	echo "# $switches switches during the traffic" >&3
	[ "$switches" -ge 8 ]
	[ ! -s "$fails" ] || { cat "$fails"; false; }
}
