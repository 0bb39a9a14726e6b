#!/usr/bin/env bats
# svc-list: Cilium's table, JSON, and -o save that svc-add restores exactly.

load helpers

setup() { kpr_root_setup; }
teardown() {
	[ -n "${OTHER:-}" ] && rm -rf "$OTHER"
	kpr_root_teardown
}

load_mix() {
	svc-add -q 10.96.0.1:443 10.0.0.1:6443
	svc-add -q 10.96.0.10:53/udp 10.0.1.5:53 10.0.1.6:53,state=terminating
	svc-add -q -t nodeport '*:30080' 10.0.1.5:8080 10.0.1.7:8080,weight=3
	svc-add -q -t loadbalancer --affinity 600 --algorithm maglev '[2001:db8::10]:443' '[fd00::5]:8443' '[fd00::6]:8443,state=maintenance,weight=2'
	svc-add -q -t externalip --id 77 203.0.113.7:80 10.0.0.9:80
}

@test "the table is Cilium's: ID, Frontend, Service Type, one backend per line" {
	load_mix
	run svc-list
	assert_success
	assert_line --index 0 --regexp '^ID +Frontend +Service Type +Backend$'
	assert_line --index 1 --regexp '^1 +10\.96\.0\.1:443/TCP +ClusterIP +1 => 10\.0\.0\.1:6443/TCP \(active\)$'
	assert_line --index 2 --regexp '^2 +10\.96\.0\.10:53/UDP +ClusterIP +1 => 10\.0\.1\.5:53/UDP \(active\)$'
	assert_line --index 3 --regexp '^ +2 => 10\.0\.1\.6:53/UDP \(terminating\)$'
	assert_output --partial "NodePort"
	assert_output --partial "LoadBalancer"
	assert_output --partial "ExternalIPs"
	assert_output --partial "2 => 10.0.1.7:8080/TCP (active, weight 3)"
	assert_output --partial "[2001:db8::10]:443/TCP"
}

@test "a FRONTEND filter shows one service; an absent one exits 1" {
	load_mix
	run svc-list -o json 10.96.0.10:53/udp
	assert_success
	[ "$(jq '.services | length' <<<"$output")" -eq 1 ]
	[ "$(jq '.services[0].id' <<<"$output")" -eq 2 ]
	run svc-list 10.96.9.9:80
	assert_failure 1
	assert_output --partial "no service"
}

@test "save, then restore into another pin root: the same services and maps" {
	load_mix
	svc-list -o save >"$BATS_TEST_TMPDIR/saved"
	OTHER=$KPR_PIN_ROOT-restore
	run svc-add --pin-root "$OTHER" -f "$BATS_TEST_TMPDIR/saved" --replace
	assert_success
	assert_output --partial "5 added"
	diff <(svc-list -o save) <(svc-list --pin-root "$OTHER" -o save)
	diff <(svc-list -o json) <(svc-list --pin-root "$OTHER" -o json)
	local m
	# every entry the same (each hash map has its own seed, so sort them)
	for m in services revnat backends backend_idx svc_backends config; do
		diff <(dump "$m" | jq -S 'sort') <(KPR_PIN_ROOT=$OTHER dump "$m" | jq -S 'sort')
	done
	# through a pipe, onto a root that already holds other services
	svc-add -q --pin-root "$OTHER" 10.99.0.1:80 10.0.0.1:80
	svc-list -o save | svc-add --pin-root "$OTHER" -q -f - --replace
	diff <(svc-list -o save) <(svc-list --pin-root "$OTHER" -o save)
}

@test "a save of one service says how to restore it without --replace, which would delete the others" {
	load_mix
	run svc-list -o save
	assert_success
	assert_line --index 0 "# kpr services: svc-add -f FILE --replace restores them"
	local fe=10.96.0.10:53/udp
	run svc-list -o save "$fe"
	assert_success
	assert_line --index 0 "# kpr service $fe: svc-add -f FILE restores it (not --replace: that deletes every other service)"
	refute_output --partial "--replace restores"
	# following it restores the one service and leaves the others
	svc-list -o save "$fe" >"$BATS_TEST_TMPDIR/one"
	svc-del "$fe"
	run svc-add -f "$BATS_TEST_TMPDIR/one"
	assert_success
	assert_output --partial "1 added, 0 updated, 0 deleted"
	[ "$(svc-list -o json | jq '.services | length')" -eq 5 ]
}

@test "JSON: one document, checked with jq" {
	load_mix
	run --separate-stderr svc-list -j
	assert_success
	assert_json
	jq -e '.services | length == 5' <<<"$output"
	jq -e '.services[] | select(.id == 77) | .type == "externalip" and .mode == "default"' <<<"$output"
	jq -e '.services[3].backends[1] | .state == "maintenance" and .weight == 2 and .port == 8443 and .address == "fd00::6"' <<<"$output"
	jq -e '.services[3].algorithm == "maglev" and .services[3].affinity == 600' <<<"$output"
}

@test "--stats adds counters per service and per backend" {
	load_mix
	run svc-list -o json --stats
	assert_success
	jq -e '.services[0].stats.packets == 0 and .services[0].backends[0].stats.flows == 0' <<<"$output"
	run svc-list --stats
	assert_output --partial "packets 0 bytes 0 flows 0 drops 0"
}

@test "no state under the pin root: exit 4 with a hint; bad usage: exit 2" {
	run svc-list
	assert_failure 4
	assert_output --partial "no kpr state under"
	[ ! -e "$KPR_PIN_ROOT" ]
	run --separate-stderr svc-list -o json
	assert_failure 4
	assert_json
	run svc-list -o yaml
	assert_failure 2
	run svc-list 10.0.0.1:80 10.0.0.2:80
	assert_failure 2
}

@test "-o json: weights under random are a table dealt by weight, shares exact to 1/M; equal weights have none" {
	lb-mode -q --maglev-table-size 251
	svc-add 10.96.7.1:80 10.0.7.1:80,weight=4 10.0.7.2:80 10.0.7.3:80,state=terminating
	run svc-list -j
	assert_success
	jq -e '.services[0].weighted' <<<"$output"
	# 251 * 4/5 = 200.8 and 50.2: the larger remainder takes the last slot
	[ "$(jq -c '[.services[0].backends[].share * 251 | round]' <<<"$output")" = "[201,50,0]" ]
	run svc-list --verify
	assert_success
	# the shared backend's weight moves with it: the other service follows
	svc-add 10.96.7.2:80 10.0.7.1:80,weight=4 10.0.7.4:80,weight=4
	run svc-list -j 10.96.7.2:80
	jq -e '(.services[0].weighted | not)' <<<"$output"
	[ "$(jq -c '[.services[0].backends[].share]' <<<"$output")" = "[0.5,0.5]" ]
	# 10.0.7.1 back to weight 1: the first service is even, the second weighted
	svc-add 10.96.7.1:80 10.0.7.1:80 10.0.7.2:80
	run svc-list -j
	[ "$(jq -c '[.services[].weighted]' <<<"$output")" = "[false,true]" ]
	[ "$(jq -c '[.services[1].backends[].share * 251 | round]' <<<"$output")" = "[50,201]" ]
	run bpftool -j map dump pinned "$KPR_PIN_ROOT/maglev"
	[ "$(jq length <<<"$output")" = 1 ]
	run svc-list --verify
	assert_success
	svc-del 10.96.7.2:80
	run bpftool -j map dump pinned "$KPR_PIN_ROOT/maglev"
	[ "$(jq length <<<"$output")" = 0 ]
}
