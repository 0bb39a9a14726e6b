#!/usr/bin/env bats
# lb-mode against a private pin root.

load helpers

setup() {
	kpr_root_setup
}

teardown() {
	[ -n "${CG:-}" ] && rmdir "$CG" 2>/dev/null
	kpr_root_teardown
}

@test "--help names every option" {
	run lb-mode --help
	assert_success
	for o in --mode --dsr-dispatch --external-clusterip --icmp-echo --algorithm --nat-ports --netns --dry-run; do
		assert_output --partial -- "$o"
	done
}

@test "without state: exit 4" {
	run lb-mode
	assert_failure 4
}

@test "prints the configuration: the KubeProxyReplacement line, then every switch" {
	svc-add -q 10.0.0.1:80 10.1.0.1:80
	run lb-mode
	assert_success
	assert_line --regexp '^KubeProxyReplacement: +Disabled'
	assert_line --regexp '^Mode: +snat'
	assert_line --regexp '^External ClusterIP: +off'
	assert_line --regexp '^ICMP echo: +on'
	assert_line --regexp '^Maglev seed: +JLfvgnHc2kaSUFaI'
	run lb-mode -j
	assert_success
	assert_json
	[ "$(jq -r .icmp_echo <<<"$output")" = true ]
	[ "$(jq -r .map_sizes.services <<<"$output")" -gt 0 ]
}

@test "--external-clusterip and --icmp-echo set, report changed, and are idempotent" {
	run lb-mode --external-clusterip on --icmp-echo off -j
	assert_success
	[ "$(jq -r .changed <<<"$output")" = true ]
	run lb-mode -j
	[ "$(jq -r .external_clusterip <<<"$output")" = true ]
	[ "$(jq -r .icmp_echo <<<"$output")" = false ]
	run lb-mode --external-clusterip on -j
	[ "$(jq -r .changed <<<"$output")" = false ]
	run lb-mode --icmp-echo on
	assert_success
	assert_output --partial changed
}

@test "--dry-run changes nothing" {
	svc-add -q --algorithm maglev 10.0.0.1:80 10.1.0.1:80
	maps_snapshot "$BATS_TEST_TMPDIR/before"
	run lb-mode -n --external-clusterip on --icmp-echo off --nat-ports 40000-40100 \
		--algorithm maglev --maglev-table-size 251 --maglev-seed "$(maglev-gen --new-seed)"
	assert_success
	assert_output --partial "dry run"
	maps_snapshot "$BATS_TEST_TMPDIR/after"
	diff -u "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/after"
}

@test "--mode sets the node's forwarding mode, idempotent; a bad one is exit 2 with the maps unchanged" {
	svc-add -q 10.0.0.1:80 10.1.0.1:80
	for m in dsr hybrid snat; do
		run lb-mode --mode $m -j
		assert_success
		[ "$(jq -r .changed <<<"$output")" = true ] || fail "$m: $output"
		run lb-mode -j
		[ "$(jq -r .mode <<<"$output")" = $m ] || fail "$m: $output"
		run lb-mode --mode $m -j
		[ "$(jq -r .changed <<<"$output")" = false ] || fail "$m twice: $output"
	done
	maps_snapshot "$BATS_TEST_TMPDIR/before"
	for bad in ipip DSR "" default; do
		run lb-mode --mode "$bad"
		assert_failure 2
		assert_output --partial "snat, dsr, hybrid"
	done
	run lb-mode -n --mode dsr
	assert_success
	maps_snapshot "$BATS_TEST_TMPDIR/after"
	cmp "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/after"
}

@test "--dsr-dispatch sets how DSR flows travel, shown in the KubeProxyReplacement line and JSON; a bad one is exit 2 with the maps unchanged" {
	svc-add -q 10.0.0.1:80 10.1.0.1:80
	run lb-mode -j
	[ "$(jq -r .dsr_dispatch <<<"$output")" = opt ] || fail "default: $output"
	lb-mode -q --mode dsr
	for d in ipip opt; do
		run lb-mode --dsr-dispatch $d -j
		assert_success
		[ "$(jq -r .changed <<<"$output")" = true ] || fail "$d: $output"
		run lb-mode -j
		[ "$(jq -r .dsr_dispatch <<<"$output")" = $d ] || fail "$d: $output"
		run lb-mode --dsr-dispatch $d -j
		[ "$(jq -r .changed <<<"$output")" = false ] || fail "$d twice: $output"
	done
	lb-mode -q --dsr-dispatch ipip
	run lb-mode
	assert_output --regexp "DSR dispatch: +ipip"
	maps_snapshot "$BATS_TEST_TMPDIR/before"
	for bad in IPIP opts "" geneve; do
		run lb-mode --dsr-dispatch "$bad"
		assert_failure 2
		assert_output --partial "opt, ipip"
	done
	run lb-mode -n --dsr-dispatch opt
	assert_success
	maps_snapshot "$BATS_TEST_TMPDIR/after"
	cmp "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/after"
}

@test "a bad on/off value is exit 2" {
	run lb-mode --icmp-echo maybe
	assert_failure 2
	assert_output --partial "use on or off"
}

@test "the man page and the bash completion offer exactly the options of --help" {
	assert_docs_match_help lb-mode
}

@test "--nat-ports sets the SNAT port range; a bad range is exit 2" {
	run lb-mode --nat-ports 40000-40100 -j
	assert_success
	[ "$(jq -r .changed <<<"$output")" = true ]
	run lb-mode
	assert_line --regexp '^NAT ports: +40000-40100'
	for bad in 40100-40000 80-90 40000 a-b 40000-70000; do
		run lb-mode --nat-ports $bad
		assert_failure 2
	done
}

@test "--algorithm, --maglev-table-size, --maglev-seed: every table follows, each swapped whole" {
	svc-add -q 10.0.0.1:80 10.1.0.1:80 10.1.0.2:80 10.1.0.3:80
	svc-add -q --algorithm maglev 10.0.0.2:80 10.1.0.1:80 10.1.0.4:80
	svc-add -q --algorithm random 10.0.0.3:80 10.1.0.1:80
	# only the service that asks for Maglev has a table so far
	[ "$(dump maglev | jq length)" -eq 1 ]
	run lb-mode -j --algorithm maglev
	assert_success
	[ "$(jq .changed <<<"$output")" = true ]
	[ "$(dump maglev | jq length)" -eq 2 ]
	maglev-gen --service 10.0.0.1:80
	maglev-gen --service 10.0.0.2:80
	run maglev-gen --service 10.0.0.3:80
	assert_failure
	seed=$(maglev-gen --new-seed)
	run lb-mode --maglev-table-size 1021 --maglev-seed "$seed"
	assert_success
	assert_output --partial "Maglev table size:          1021"
	run lb-mode -j
	[ "$(jq -r .maglev_seed <<<"$output")" = "$seed" ]
	[ "$(jq -r .algorithm <<<"$output")" = maglev ]
	run maglev-gen -j --service 10.0.0.1:80
	assert_success
	[ "$(jq .size <<<"$output")" -eq 1021 ]
	[ "$(jq -r .seed <<<"$output")" = "$seed" ]
	maglev-gen --service 10.0.0.2:80
	# the same again changes nothing
	maps_snapshot "$BATS_TEST_TMPDIR/a"
	run lb-mode -j --maglev-table-size 1021 --maglev-seed "$seed" --algorithm maglev
	[ "$(jq .changed <<<"$output")" = false ]
	maps_snapshot "$BATS_TEST_TMPDIR/b"
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	# back to random: the default services drop their tables, the Maglev one keeps it
	lb-mode -q --algorithm random
	[ "$(dump maglev | jq length)" -eq 1 ]
	maglev-gen --service 10.0.0.2:80
}

@test "bad Maglev switches: exit 2, nothing changed" {
	svc-add -q --algorithm maglev 10.0.0.2:80 10.1.0.1:80
	maps_snapshot "$BATS_TEST_TMPDIR/before"
	local args
	for args in "--maglev-table-size 1000" "--maglev-table-size 0" "--maglev-table-size x" \
		    "--maglev-seed abc" "--maglev-seed JLfvgnHc2kaSUFaIAA==" "--algorithm roundrobin" \
		    "--maglev-table-size 251 --maglev-seed bad!"; do
		run lb-mode $args
		assert_failure 2
	done
	run lb-mode --maglev-table-size 1000
	assert_output --partial "use one of 251, 509"
	maps_snapshot "$BATS_TEST_TMPDIR/after"
	cmp "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/after"
}

@test "--sock-hostns-only sets, shows and is idempotent; socket LB is off by default" {
	svc-add -q 10.0.0.1:80 10.1.0.1:80
	run lb-mode -j
	assert_success
	jq -e '.socket_lb == false and .sock_hostns_only == false and .socket_lb_cgroups == []' <<<"$output"
	run lb-mode --sock-hostns-only on -j
	assert_success
	jq -e '.changed and .sock_hostns_only' <<<"$output"
	run lb-mode --sock-hostns-only on -j
	jq -e '.changed == false' <<<"$output"
	run lb-mode
	assert_line --regexp '^Socket LB: +off'
	assert_line --regexp '^Socket LB host netns only: +on'
}

@test "--socket-lb: --cgroup alone, a cgroup that is not one, and --dry-run change nothing" {
	svc-add -q 10.0.0.1:80 10.1.0.1:80
	cgroup_child kpr-lbm
	maps_snapshot "$BATS_TEST_TMPDIR/before"
	run lb-mode --cgroup "$CG"
	assert_failure 2
	assert_output --partial "--cgroup goes with --socket-lb on"
	run lb-mode --socket-lb off --cgroup "$CG"
	assert_failure 2
	run lb-mode --socket-lb on --cgroup "$BATS_TEST_TMPDIR"
	assert_failure 2
	assert_output --partial "not a cgroup2 directory"
	run lb-mode -n --socket-lb on --cgroup "$CG" -j
	assert_success
	jq -e '.changed and .dry_run' <<<"$output"
	maps_snapshot "$BATS_TEST_TMPDIR/after"
	cmp "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/after"
	[ ! -e "$KPR_PIN_ROOT/links" ] || [ -z "$(ls "$KPR_PIN_ROOT/links")" ]
}

@test "a table size too small for a service's active backends is refused, exit 2, nothing changed" {
	svc-add -q --algorithm maglev 10.0.0.2:80 $(for i in $(seq 1 300); do echo "10.1.$((i / 200)).$((i % 200 + 1)):80"; done) 2>/dev/null
	maps_snapshot "$BATS_TEST_TMPDIR/before"
	run lb-mode --maglev-table-size 251
	assert_failure 2
	assert_output --partial "service 10.0.0.2:80/tcp has 300 active backends, more than a table of 251 slots holds"
	# a dry run says the same, and so does a socket LB switch beside it
	run lb-mode -n --maglev-table-size 251
	assert_failure 2
	run lb-mode --socket-lb on --cgroup /nonexistent-kpr-test --maglev-table-size 251
	assert_failure 2
	assert_output --partial "more than a table of 251 slots holds"
	maps_snapshot "$BATS_TEST_TMPDIR/after"
	cmp "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/after"
	# a weighted random service needs the room too, once Maglev is off
	svc-del -q --all
	lb-mode -q --maglev-table-size 509
	svc-add -q 10.0.0.3:80 10.1.9.1:80,weight=2 $(for i in $(seq 1 300); do echo "10.1.$((i / 200)).$((i % 200 + 1)):80"; done)
	run lb-mode --maglev-table-size 251
	assert_failure 2
	assert_output --partial "service 10.0.0.3:80/tcp has 301 active backends"
	run lb-mode --maglev-table-size 1021
	assert_success
	run svc-list --verify
	assert_success
}
