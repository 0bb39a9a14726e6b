#!/usr/bin/env bats
# kill -9 of a writer at any point: what it leaves, svc-list --verify names,
# and the next batch repairs; --replace adds and updates before it deletes.

load helpers

setup() {
	kpr_root_setup
}

teardown() {
	kpr_root_teardown
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
