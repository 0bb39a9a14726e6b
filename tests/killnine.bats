#!/usr/bin/env bats
# kill -9 of a writer at any point: the datapath never sees half a service,
# --replace never leaves fewer services than the old set less what the file
# removes, a rerun heals everything (svc-list --verify passes) and svc-del
# --all then leaves every service map empty. 10,000 services x 10 backends,
# random and Maglev, killed at spread points of a load, a --replace and a
# svc-del --all. A kill lands on a counted bpf() call (tests/preload/kill_at.c),
# the same one on every run; no assertion depends on where it lands.

load helpers

MAPS="services backends backend_idx svc_backends revnat svc_addrs maglev stats"

setup_file() {
	# A: 10,000 ClusterIPs with 10 backends of their own. B: A less every
	# tenth service, every seventh with one backend replaced, 500 new ones.
	awk -v out="$BATS_FILE_TMPDIR" 'BEGIN {
		for (i = 0; i < 10500; i++) {
			fe = sprintf("10.%d.%d.%d:80/tcp", 96 + int(i / 62500), int(i / 250) % 250, i % 250 + 1)
			a = fe; b = fe
			for (j = 0; j < 10; j++) {
				n = i * 10 + j
				be = sprintf(" 172.%d.%d.%d:8080", 16 + int(n / 62500), int(n / 250) % 250, n % 250 + 1)
				a = a be
				b = b ((j == 9 && i % 7 == 0) ? sprintf(" 192.168.%d.%d:8080", int(i / 250) % 250, i % 250 + 1) : be)
			}
			if (i < 10000)
				print a >(out "/a.txt")
			if (i % 10 != 9)
				print b >(out "/b.txt")
		}
	}'
}

setup() {
	kpr_root_setup
	[ -x "$KPR_BIN/tests/helper_map_dump" ] || fail "no $KPR_BIN/tests/helper_map_dump (make unit builds it)"
	KILL_AT_SO=$KPR_BIN/tests/kill_at.so
	[ -f "$KILL_AT_SO" ] || fail "no $KILL_AT_SO (make unit builds it)"
	# a sanitized tool (make check SANITIZE=1) takes the preload before its
	# ASan runtime only when told that this is meant
	KILL_ASAN=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
}

teardown() {
	kpr_root_teardown
}

# The services as svc-add lines without their ids, sorted.
saved() {
	svc-list -o save | sed '/^#/d; s/ --id [0-9]*//' | sort
}

frontends() {	# FILE of saved lines
	awk '{ print $3 }' "$1" | sort
}

every_map_empty() {
	local m
	for m in $MAPS; do
		"$KPR_BIN/tests/helper_map_dump" "$KPR_PIN_ROOT/$m" >"$BATS_TEST_TMPDIR/dump" ||
			fail "cannot read $m"
		[ ! -s "$BATS_TEST_TMPDIR/dump" ] ||
			fail "$m holds $(wc -l <"$BATS_TEST_TMPDIR/dump") entries after svc-del --all: $(head -3 "$BATS_TEST_TMPDIR/dump")"
	done
}

# Right after a kill: what is visible is whole, and what is wrong is only
# what a writer stopped between two writes may leave (parts that nothing
# uses, counts above their use, a table swapped in before its flip).
check_after_kill() {	# KEPT: frontends that must still be there
	local kept=$1
	saved >"$BATS_TEST_TMPDIR/now" || fail "svc-list -o save failed after the kill: a half service?"
	comm -23 "$BATS_TEST_TMPDIR/now" "$BATS_FILE_TMPDIR/allowed.$ALG" >"$BATS_TEST_TMPDIR/half"
	[ ! -s "$BATS_TEST_TMPDIR/half" ] ||
		fail "services neither as before nor as after: $(head -3 "$BATS_TEST_TMPDIR/half")"
	if [ -n "$kept" ]; then
		frontends "$BATS_TEST_TMPDIR/now" | comm -23 "$kept" - >"$BATS_TEST_TMPDIR/lost"
		[ ! -s "$BATS_TEST_TMPDIR/lost" ] ||
			fail "$(wc -l <"$BATS_TEST_TMPDIR/lost") services that the file keeps are gone: $(head -3 "$BATS_TEST_TMPDIR/lost")"
	fi
	run --separate-stderr svc-list --verify -o json
	[ "$status" -le 1 ] || fail "svc-list --verify: exit $status: $output $stderr"
	jq -e '[.faults[] | select(
		(.kind | IN("slot_orphan", "backend_orphan", "index_orphan", "revnat_orphan",
			    "maglev_orphan", "maglev_wrong")) or
		((.kind | IN("refcnt", "svc_addrs")) and .found > .expected) | not)] | length == 0' \
		<<<"$output" >/dev/null || fail "a kill left damage no writer order explains: $output"
}

# Runs CMD under the kill_at preload: with AT, SIGKILL as CMD makes its
# AT-th bpf() call (before the kernel sees it); with AT 0, a whole run that
# writes its number of bpf() calls to $BATS_TEST_TMPDIR/calls.
run_killed_at() {	# AT CMD...
	local at=$1 rc=0
	shift
	if [ "$at" -eq 0 ]; then
		LD_PRELOAD=$KILL_AT_SO KPR_KILL_COUNT=$BATS_TEST_TMPDIR/calls ASAN_OPTIONS=$KILL_ASAN "$@" >/dev/null ||
			fail "clean run of $*: exit $?"
		return 0
	fi
	LD_PRELOAD=$KILL_AT_SO KPR_KILL_AT=$at ASAN_OPTIONS=$KILL_ASAN "$@" >/dev/null 2>&1 || rc=$?
	[ "$rc" -eq 137 ] || fail "$* was not killed at bpf() call $at (exit $rc): it made fewer calls than its clean run"
}

# One kill point: the clean run made CALLS bpf() calls; kill R of ROUNDS
# lands at (R + 0.5) / ROUNDS of them, and the rounds of one command are
# spread over it by the round's position among that command's rounds.
kill_point() {	# CALLS R ROUNDS
	echo $(($1 * (2 * $2 + 1) / (2 * $3)))
}

kill_rounds() {	# ALGORITHM ROUNDS
	ALG=$1
	local rounds=$2 r at n a=$BATS_FILE_TMPDIR/a.txt b=$BATS_FILE_TMPDIR/b.txt
	local ca cb cd
	lb-mode -q --algorithm "$ALG" --maglev-table-size 251

	# clean runs: the expected services, and each command's bpf() calls
	run_killed_at 0 svc-add -q -f "$a"; ca=$(cat "$BATS_TEST_TMPDIR/calls")
	saved >"$BATS_TEST_TMPDIR/a.saved"
	run_killed_at 0 svc-add -q -f "$b" --replace; cb=$(cat "$BATS_TEST_TMPDIR/calls")
	saved >"$BATS_TEST_TMPDIR/b.saved"
	sort -u "$BATS_TEST_TMPDIR/a.saved" "$BATS_TEST_TMPDIR/b.saved" >"$BATS_FILE_TMPDIR/allowed.$ALG"
	frontends "$BATS_TEST_TMPDIR/a.saved" | comm -12 - <(frontends "$BATS_TEST_TMPDIR/b.saved") \
		>"$BATS_TEST_TMPDIR/kept"
	run_killed_at 0 svc-del -q --all; cd=$(cat "$BATS_TEST_TMPDIR/calls")
	every_map_empty

	# rounds 0, 3, 6, ... kill a load; 1, 4, 7, ... a --replace; 2, 5, 8,
	# ... a svc-del --all; each command's rounds spread over its calls
	n=$(((rounds + 2) / 3))
	for r in $(seq 0 $((rounds - 1))); do
		case $((r % 3)) in
		0)	# a load into an empty node
			at=$(kill_point "$ca" $((r / 3)) "$n")
			run_killed_at "$at" svc-add -q -f "$a"
			check_after_kill ""
			svc-add -q -f "$a"
			saved | diff -q - "$BATS_TEST_TMPDIR/a.saved" >/dev/null ||
				fail "round $r: the rerun does not give a clean load's services"
			;;
		1)	# --replace over a loaded node
			svc-add -q -f "$a"
			at=$(kill_point "$cb" $((r / 3)) "$n")
			run_killed_at "$at" svc-add -q -f "$b" --replace
			check_after_kill "$BATS_TEST_TMPDIR/kept"
			svc-add -q -f "$b" --replace
			saved | diff -q - "$BATS_TEST_TMPDIR/b.saved" >/dev/null ||
				fail "round $r: the rerun does not give a clean --replace's services"
			;;
		2)	# svc-del --all, rerun below
			svc-add -q -f "$a"
			at=$(kill_point "$cd" $((r / 3)) "$n")
			run_killed_at "$at" svc-del -q --all
			check_after_kill ""
			;;
		esac
		if [ $((r % 3)) -ne 2 ]; then
			run svc-list --verify
			[ "$status" -eq 0 ] || fail "round $r ($ALG, killed at bpf() call $at): --verify after the rerun: $output"
		fi
		svc-del -q --all
		every_map_empty
		run svc-list --verify
		[ "$status" -eq 0 ] || fail "round $r ($ALG, killed at bpf() call $at): --verify after svc-del --all: $output"
	done
	echo "# $ALG: $rounds kills (bpf() calls of the clean runs: load $ca, replace $cb, delete $cd)" >&3
}

@test "kill -9 at 14 points of svc-add -f (10,000 services), --replace and svc-del --all, random: nothing half, a rerun heals, --all empties" {
	kill_rounds random 14
}

@test "kill -9 at 14 points of svc-add -f (10,000 services), --replace and svc-del --all, Maglev: nothing half, a rerun heals, --all empties" {
	kill_rounds maglev 14
}

@test "svc-list --verify names each inconsistency, text and JSON, and a batch repairs them" {
	svc-add -q 10.96.0.1:80 10.0.0.1:80 10.0.0.2:80
	svc-add -q 10.96.0.2:80 10.0.0.2:80 10.0.0.3:80
	run svc-list --verify
	assert_success
	assert_output "consistent"
	maps_snapshot "$BATS_TEST_TMPDIR/before"

	# what a writer killed between two writes leaves: a count raised
	# before a flip that never came, and a slot of a generation it never used
	id=$(svc-list -o json | jq '.services[0].backends[] | select(.backend == "10.0.0.2:80/tcp") | .id')
	# 10.0.0.2:80/tcp: the address (16 bytes), the port in network order, proto, family
	bpftool map update pinned "$KPR_PIN_ROOT/backend_idx" \
		key hex 0a 00 00 02 00 00 00 00 00 00 00 00 00 00 00 00 00 50 06 04 \
		value hex $(printf '%02x 00 00 00' "$id") 07 00 00 00
	bpftool map update pinned "$KPR_PIN_ROOT/svc_backends" key hex 01 00 00 00 09 00 00 00 value hex 01 00 00 00

	run svc-list --verify
	assert_failure 1
	assert_output --partial "refcnt: backend 10.0.0.2:80/tcp (id $id): backend_idx counts 7 services, 2 use it (repairable)"
	assert_output --partial "slot_orphan: slot 9 (generation 0) of service 1"
	run --separate-stderr svc-list --verify -o json
	assert_failure 1
	assert_json
	[ "$(jq '.consistent' <<<"$output")" = false ]
	[ "$(jq '.faults | length' <<<"$output")" -eq 2 ]
	[ "$(jq '.faults[] | select(.kind == "refcnt") | [.expected, .found, .backend]' -c <<<"$output")" = "[2,7,$id]" ]
	jq -e '.error | test("2 inconsistencies")' <<<"$output" >/dev/null

	# bad usage changes nothing either
	run svc-list --verify 10.96.0.1:80
	assert_failure 2

	# a batch repairs first: the maps are as before the damage
	printf '%s\n' "10.96.0.1:80 10.0.0.1:80 10.0.0.2:80" "10.96.0.2:80 10.0.0.2:80 10.0.0.3:80" >"$BATS_TEST_TMPDIR/f"
	svc-add -q -f "$BATS_TEST_TMPDIR/f" --replace
	run svc-list --verify
	assert_success
	maps_snapshot "$BATS_TEST_TMPDIR/after"
	# all but config, whose allocation hints may move
	no_config() { awk '/^== / { skip = $2 == "config" } !skip' "$1"; }
	diff <(no_config "$BATS_TEST_TMPDIR/before") <(no_config "$BATS_TEST_TMPDIR/after")

	# what no kill leaves, named as not repairable: a slot of a service's
	# current generation gone (and with it, what its backend's count should
	# be is not known); beside it a revnat entry of no service
	bpftool map delete pinned "$KPR_PIN_ROOT/svc_backends" key hex 02 00 00 00 00 00 00 00
	bpftool map update pinned "$KPR_PIN_ROOT/revnat" key hex 4d 00 00 00 \
		value hex 0a 60 00 4d 00 00 00 00 00 00 00 00 00 00 00 00 00 50 06 04 00 00 00 00
	run svc-list --verify
	assert_failure 1
	assert_line "slot_missing: service 2 (10.96.0.2:80/tcp): slot 0 of its 2 is missing"
	assert_line "refcnt: backend 10.0.0.2:80/tcp (id $id): backend_idx counts 2 services, 1 use it"
	assert_line "revnat_orphan: revnat of service id 77 (10.96.0.77:80/tcp): no such service (repairable)"
	run --separate-stderr svc-list --verify -j
	assert_failure 1
	[ "$(jq -c '[.faults[] | [.kind, .repairable]]' <<<"$output")" = '[["slot_missing",false],["refcnt",false],["revnat_orphan",true]]' ]
	# svc-del --all leaves nothing of either
	svc-del -q --all
	run svc-list --verify
	assert_success
}

@test "--replace adds and updates before it deletes" {
	svc-add -q 10.96.0.9:80 10.0.0.9:80
	printf '%s\n' "10.96.0.1:80 10.0.0.1:80" >"$BATS_TEST_TMPDIR/f"
	run -0 svc-add -f "$BATS_TEST_TMPDIR/f" --replace
	[ "${lines[0]}" = "added 10.96.0.1:80/tcp id 2" ] || fail "not added first: $output"
	[ "${lines[1]}" = "deleted 10.96.0.9:80/tcp id 1" ] || fail "not deleted after: $output"
}
