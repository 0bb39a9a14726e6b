#!/usr/bin/env bats
# contrib/systemd/: the units as systemd reads them once installed, and the
# two scripts they run, against real maps in a private pin root.

load helpers

setup() {
	kpr_root_setup
	FIX=$BATS_TEST_DIRNAME/fixtures/k8s
	TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	export PATH="$TOP/contrib/systemd:$PATH"
	# kubectl of a cluster whose state is the fixture: the script must ask
	# exactly this; FAIL=1 makes it die halfway through its output
	mkdir -p "$BATS_TEST_TMPDIR/bin"
	cat >"$BATS_TEST_TMPDIR/bin/kubectl" <<-EOF
	#!/bin/sh
	[ "\$*" = "get services,endpointslices -A -o json" ] || { echo "kubectl: unexpected \$*" >&2; exit 3; }
	if [ -n "\${FAIL:-}" ]; then head -c 3000 "$FIX/cluster.json"; echo "error: the server went away" >&2; exit 1; fi
	cat "\${CLUSTER:-$FIX/cluster.json}"
	EOF
	chmod +x "$BATS_TEST_TMPDIR/bin/kubectl"
	export KUBECTL=$BATS_TEST_TMPDIR/bin/kubectl
}
teardown() { kpr_root_teardown; }

@test "the units, installed, are what systemd-analyze verify accepts" {
	make -s -C "$TOP" install PREFIX="$BATS_TEST_TMPDIR/pfx" >/dev/null
	local u=$BATS_TEST_TMPDIR/pfx/lib/systemd/system
	[ "$(ls "$u")" = "$(printf '%s\n' kpr-k8s-sync.service kpr-k8s-sync.timer kpr-prometheus.service kpr-prometheus.timer)" ]
	grep -qx "ExecStart=$BATS_TEST_TMPDIR/pfx/sbin/kpr-k8s-sync" "$u/kpr-k8s-sync.service"
	[ -x "$BATS_TEST_TMPDIR/pfx/sbin/kpr-prometheus" ]
	run --separate-stderr systemd-analyze verify --man=no "$u"/kpr-*
	assert_success
	[ -z "$stderr" ] || fail "systemd-analyze: $stderr"
}

@test "kpr-k8s-sync loads the cluster, then reports nothing changed" {
	run --separate-stderr kpr-k8s-sync
	assert_success
	[ -z "$output" ]
	diff -u "$FIX/cluster.save" <(svc-list -o save)
	SVC_ADD_ARGS=-j run --separate-stderr kpr-k8s-sync
	assert_success
	[ "$(jq .changed <<<"$output")" = false ]
}

@test "kpr-k8s-sync: a kubectl that fails halfway, or prints no service, changes nothing" {
	kpr-k8s-sync 2>/dev/null
	maps_snapshot "$BATS_TEST_TMPDIR/a"
	FAIL=1 run kpr-k8s-sync
	assert_failure 1
	assert_output --partial "kpr-k8s-sync: kubectl failed (exit 1); the node keeps its services"
	assert_output --partial "nothing was changed"
	printf '{"apiVersion": "v1", "kind": "List", "items": []}\n' >"$BATS_TEST_TMPDIR/empty.json"
	CLUSTER=$BATS_TEST_TMPDIR/empty.json run kpr-k8s-sync
	assert_failure 2
	assert_output --partial "holds no service"
	maps_snapshot "$BATS_TEST_TMPDIR/b"
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
}

@test "kpr-prometheus writes kpr.prom whole, by rename; on an error the old file stays" {
	local d=$BATS_TEST_TMPDIR/textfile
	mkdir "$d"
	kpr-k8s-sync 2>/dev/null
	TEXTFILE_DIR=$d run kpr-prometheus
	assert_success
	"$BATS_TEST_DIRNAME/prom_check.py" "$d/kpr.prom"
	[ "$(grep -c '^kpr_service_packets_total{' "$d/kpr.prom")" -eq 22 ]
	[ "$(stat -c %a "$d/kpr.prom")" = 644 ]
	local ino; ino=$(stat -c %i "$d/kpr.prom")
	svc-del -q --id 22
	TEXTFILE_DIR=$d kpr-prometheus
	[ "$(grep -c '^kpr_service_packets_total{' "$d/kpr.prom")" -eq 21 ]
	# a new file put in place, not the old one written over
	[ "$(stat -c %i "$d/kpr.prom")" != "$ino" ]
	cp "$d/kpr.prom" "$BATS_TEST_TMPDIR/kept"
	KPR_PIN_ROOT=/sys/fs/bpf/kpr-none-$$ TEXTFILE_DIR=$d run kpr-prometheus
	assert_failure
	cmp "$d/kpr.prom" "$BATS_TEST_TMPDIR/kept"
	[ "$(ls -A "$d")" = kpr.prom ]
}
