#!/usr/bin/env bats
# The pin root is trusted with the node's datapath: one that another user
# made first, or a parent below the bpffs mount that others may write, is
# refused by every tool before it touches anything (issue 14, item 7), and
# a wrong --pin-root creates nothing.

load helpers

setup() {
	kpr_root_setup
	TMPROOT=/sys/fs/bpf/kpr-pr-$$-$BATS_TEST_NUMBER
	NOTBPF=$BATS_TEST_TMPDIR/notbpf
}

teardown() {
	rm -rf "$TMPROOT"
	kpr_root_teardown
}

# owner:group mode of PATH
perms() { stat -c '%U:%G %a' "$1"; }

@test "a pin root that another user made first is refused by writers and readers; nothing is created in it" {
	mkdir -m 0755 "$KPR_PIN_ROOT"
	chown nobody "$KPR_PIN_ROOT"
	local tool
	for tool in "svc-add 10.96.0.1:80 10.0.0.1:80" "svc-del --all" "lb-mode --mode snat" \
		"masq-ctl --ipv4 on" "xdp-attach --status" "svc-list"; do
		run $tool
		[ "$status" -eq 1 ] || fail "$tool: exit $status: $output"
		assert_output --partial "$KPR_PIN_ROOT belongs to uid $(id -u nobody) with mode 0755"
		assert_output --partial "must be root's and writable by no one else"
	done
	[ "$(perms "$KPR_PIN_ROOT")" = "nobody:root 755" ]
	[ -z "$(ls -A "$KPR_PIN_ROOT")" ]
	# JSON too: one document naming the error
	run --separate-stderr svc-list -o json
	[ "$status" -eq 1 ]
	jq -e '.error | test("belongs to uid")' <<<"$output"
}

@test "a parent below the bpffs mount that others may write is refused; nothing is created below it" {
	mkdir -m 1777 "$TMPROOT"
	KPR_PIN_ROOT=$TMPROOT/node1
	run svc-add 10.96.0.1:80 10.0.0.1:80
	assert_failure 1
	assert_output --partial "$TMPROOT belongs to uid 0 with mode 1777"
	[ ! -e "$TMPROOT/node1" ]
	# a parent of root's own, not writable by others, is fine
	chmod 0755 "$TMPROOT"
	run svc-add 10.96.0.1:80 10.0.0.1:80
	assert_success
	[ "$(perms "$TMPROOT/node1")" = "root:root 700" ]
}

@test "a root the tools create gets 0700 at every level; the bpffs mount's own mode is not judged" {
	KPR_PIN_ROOT=$TMPROOT/a/b
	run svc-add 10.96.0.1:80 10.0.0.1:80
	assert_success
	[ "$(perms "$TMPROOT")" = "root:root 700" ]
	[ "$(perms "$TMPROOT/a")" = "root:root 700" ]
	[ "$(perms "$TMPROOT/a/b")" = "root:root 700" ]
	run svc-list -o save
	assert_success
	assert_output --partial "10.96.0.1:80"
}

@test "--pin-root off bpffs is refused before anything is created" {
	run svc-add --pin-root "$NOTBPF/x/y" 10.96.0.1:80 10.0.0.1:80
	assert_failure 2
	assert_output --partial "pin root $NOTBPF/x/y is not on a bpffs"
	[ ! -e "$NOTBPF" ]
	run xdp-attach --pin-root "$NOTBPF" --status
	[ "$status" -ne 0 ]
	[ ! -e "$NOTBPF" ]
}

@test "a pin root that is a map pin: exit 2 with a message, the pin untouched" {
	svc-add 10.96.0.1:80 10.0.0.1:80
	local pin=$KPR_PIN_ROOT/services before
	before=$(perms "$pin")
	maps_snapshot "$BATS_TEST_TMPDIR/a"
	run svc-add --pin-root "$pin" 10.96.0.2:80 10.0.0.1:80
	assert_failure 2
	assert_output --partial "pin root $pin is not a directory"
	run svc-list --pin-root "$pin"
	assert_failure 2
	assert_output --partial "pin root $pin is not a directory"
	[ "$(perms "$pin")" = "$before" ]
	maps_snapshot "$BATS_TEST_TMPDIR/b"
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
}

@test "a user who is not root is told permission denied and that the tools need root" {
	svc-add 10.96.0.1:80 10.0.0.1:80
	run setpriv --reuid=nobody --regid=nogroup --clear-groups "$KPR_BIN/svc-list" --pin-root "$KPR_PIN_ROOT"
	assert_failure 1
	assert_output --partial "permission denied: the kpr tools need root"
	refute_output --partial "no kpr state"
}
