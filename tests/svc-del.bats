#!/usr/bin/env bats
# svc-del against real BPF maps in a private pin root.

load helpers

setup() {
	kpr_root_setup
	svc-add -q --id 1 10.96.0.1:80 10.0.0.1:80 10.0.0.2:80
	svc-add -q --id 2 10.96.0.2:53/udp 10.0.0.1:53
	svc-add -q --id 3 -t loadbalancer '[2001:db8::1]:443' '[fd00::1]:8443'
}
teardown() { kpr_root_teardown; }

@test "by frontend: the service, its slots and its unused backends go" {
	run svc-del 10.96.0.1:80/tcp
	assert_success
	assert_output --partial "deleted 10.96.0.1:80/tcp id 1"
	[ "$(svc-list -o json | jq -c '[.services[].id]')" = "[2,3]" ]
	[ "$(dump svc_backends | jq -c '[.[].key.svc_id] | unique')" = "[2,3]" ]
	[ "$(dump revnat | jq -c '[.[].key] | sort')" = "[2,3]" ]
	[ "$(dump backends | jq length)" -eq 2 ]
}

@test "by --id, several at once" {
	run svc-del -j --id 1 3
	assert_success
	[ "$(jq .changed <<<"$output")" = true ]
	[ "$(jq .deleted <<<"$output")" -eq 2 ]
	[ "$(svc-list -o json | jq -c '[.services[].id]')" = "[2]" ]
}

@test "--all empties every service map" {
	run svc-del --all
	assert_success
	assert_output --partial "3 deleted"
	for m in services revnat svc_backends backends backend_idx; do
		[ "$(dump $m | jq length)" -eq 0 ] || { echo "$m not empty"; false; }
	done
}

@test "deleting what is absent is success, unchanged, and changes nothing" {
	maps_snapshot "$BATS_TEST_TMPDIR/a"
	run svc-del -j 10.96.9.9:80 --wait 1
	assert_success
	[ "$(jq .changed <<<"$output")" = false ]
	run svc-del -j --id 77
	assert_success
	[ "$(jq .changed <<<"$output")" = false ]
	maps_snapshot "$BATS_TEST_TMPDIR/b"
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
}

@test "dry run deletes nothing" {
	maps_snapshot "$BATS_TEST_TMPDIR/a"
	run svc-del -n --all
	assert_success
	assert_output --partial "dry run"
	maps_snapshot "$BATS_TEST_TMPDIR/b"
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
}

@test "bad input: exit 2, nothing deleted, even when other arguments were fine" {
	maps_snapshot "$BATS_TEST_TMPDIR/a"
	run svc-del 10.96.0.1:80 300.0.0.1:80
	assert_failure 2
	assert_output --partial "not an IPv4 address"
	run svc-del --id 1 x
	assert_failure 2
	run svc-del
	assert_failure 2
	assert_output --partial "nothing to delete"
	run svc-del --all 10.96.0.1:80
	assert_failure 2
	run --separate-stderr svc-del -j --bogus
	assert_failure 2
	assert_json
	maps_snapshot "$BATS_TEST_TMPDIR/b"
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
}
