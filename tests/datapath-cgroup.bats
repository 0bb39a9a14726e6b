#!/usr/bin/env bats
# The blocks of bpf/lib/lb.h at a cgroup hook: a test-only connect4 program
# (tests/bpf/connect4_lb.bpf.c) asks the pinned services for a backend with
# no packet at all, as socket LB will. It is attached only to a child cgroup
# the test creates and fills with its own process, never the cgroup2 root.

load helpers

setup() {
	kpr_root_setup
	NS=kdc$$n$BATS_TEST_NUMBER
	ip netns add "$NS"
	ip -n "$NS" link set lo up
	# the backends live on lo of the namespace; the frontend is nowhere
	ip -n "$NS" addr add 10.91.0.5/32 dev lo
	ip -n "$NS" addr add 10.91.0.6/32 dev lo
	cgroup_child kpr-test
}

teardown() {
	local p
	for p in ${PIDS:-}; do kill "$p" 2>/dev/null; done
	if [ -n "${CG:-}" ]; then
		"$KPR_BIN/tests/helper_cgroup_link" detach "$CG" connect4 2>/dev/null
		rmdir "$CG" 2>/dev/null
	fi
	# whatever still runs in the namespace goes with it (a listener's
	# socat outlives a killed subshell)
	[ -n "${NS:-}" ] && ip netns pids "$NS" 2>/dev/null | xargs -r kill 2>/dev/null
	[ -n "${NS:-}" ] && ip netns del "$NS" 2>/dev/null
	kpr_root_teardown
}

nx() { nsenter --net="/run/netns/$NS" "$@"; }

listen() {	# ADDR:PORT, answering with its address (socat splits its own line at colons)
	# nsenter itself in the background, not the nx function's subshell:
	# $! is then the listener (nsenter execs socat), which teardown kills
	nsenter --net="/run/netns/$NS" socat "TCP4-LISTEN:${1#*:},bind=${1%:*},fork,reuseaddr" \
		SYSTEM:"echo ${1%:*}" </dev/null >/dev/null 2>&1 3>&- &
	PIDS="${PIDS:-} $!"
}

in_cg() {	# connect from a process of the child cgroup: prints the answer
	nx sh -c "echo \$\$ >$CG/cgroup.procs && exec socat -T 2 - TCP4:$1 </dev/null"
}

@test "lb.h picks a backend for a connect() of the child cgroup, with no packet; others go untouched" {
	listen 10.91.0.5:8080
	listen 10.91.0.6:8080
	end=$((SECONDS + 10))
	until [ "$(nx ss -Hltn | grep -c ':8080 ')" -eq 2 ]; do
		[ $SECONDS -lt $end ] || fail "the listeners did not start"
		sleep 0.2
	done
	svc-add -q 10.96.0.10:80 10.91.0.5:8080
	svc-add -q 10.96.0.11:80 10.91.0.5:8080 10.91.0.6:8080
	# before the hook, the frontend is unreachable from the cgroup too
	run in_cg 10.96.0.10:80
	assert_failure
	run "$KPR_BIN/tests/helper_cgroup_link" attach "$CG" connect4 "$KPR_BIN/tests/bpf/connect4_lb.bpf.o"
	assert_success
	run in_cg 10.96.0.10:80
	assert_success
	assert_output "10.91.0.5"
	# both backends of the second service are chosen, over enough tries
	seen=""
	for i in $(seq 1 40); do
		run in_cg 10.96.0.11:80
		assert_success
		case " $seen " in *" $output "*) ;; *) seen="$seen $output" ;; esac
		[ "$(wc -w <<<"$seen")" -eq 2 ] && break
	done
	[ "$(wc -w <<<"$seen")" -eq 2 ] || fail "one backend only:$seen"
	# an address that is no frontend passes as it is
	run in_cg 10.91.0.6:8080
	assert_success
	assert_output "10.91.0.6"
	# a process outside the child cgroup is not translated
	run nx socat -T 2 - TCP4:10.96.0.10:80 </dev/null
	assert_failure
}
