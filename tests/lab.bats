#!/usr/bin/env bats
# The lab itself: lab.sh down leaves nothing of its namespaces behind.

load helpers
load lab/lab

setup_file() { lab_setup_file; }
teardown_file() { lab_teardown_file; }

# PID runs (and is not a zombie waiting for its parent)
alive() { [ -r "/proc/$1/stat" ] && [ "$(sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f1)" != Z ]; }

@test "lab.sh down ends every process of the lab's namespaces, a connection's server child held open too" {
	needs_root
	local in=$BATS_TEST_TMPDIR/in pids n end
	mkfifo "$in"
	# a connection held open: socat on the client, a forked child on b1
	lab client socat -t 30 - TCP4:10.77.2.11:8080 <"$in" >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
	exec 5>"$in"
	echo hello >&5
	end=$((SECONDS + 10))
	until grep -q hello "$BATS_TEST_TMPDIR/out"; do
		[ $SECONDS -lt $end ] || fail "no answer from b1: $(cat "$BATS_TEST_TMPDIR/out")"
		sleep 0.1
	done
	pids=$(for n in client b1 b2 b3 node switch; do ip netns pids "${KPR_LAB_PREFIX}$n"; done)
	# the client's socat, and on b1 the listeners and the connection's child
	[ "$(ip netns pids "${KPR_LAB_PREFIX}client" | wc -l)" -ge 1 ]
	[ "$(ip netns pids "${KPR_LAB_PREFIX}b1" | wc -l)" -gt 6 ]
	run "$LAB" down
	exec 5>&-
	assert_success
	for n in $pids; do
		# a zombie has ended; the client's socat is this shell's child
		alive "$n" || continue
		fail "pid $n ($(tr '\0' ' ' </proc/$n/cmdline)) outlived lab.sh down"
	done
	for n in client node switch b1 b2 b3; do
		[ ! -e "/run/netns/${KPR_LAB_PREFIX}$n" ]
	done
}
