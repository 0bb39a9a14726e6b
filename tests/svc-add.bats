#!/usr/bin/env bats
# svc-add against real BPF maps in a private pin root.

load helpers

setup() { kpr_root_setup; }
teardown() { kpr_root_teardown; }


@test "adds a service; the maps hold it (bpftool)" {
	run svc-add 10.96.0.10:53/udp 10.0.1.5:53 10.0.1.6:53,weight=2
	assert_success
	assert_output --partial "added 10.96.0.10:53/udp id 1"
	run dump services
	assert_success
	[ "$(jq 'length' <<<"$output")" -eq 1 ]
	[ "$(jq '.[0].value.total' <<<"$output")" -eq 2 ]
	[ "$(jq '.[0].value.active' <<<"$output")" -eq 2 ]
	[ "$(jq '.[0].key.fe.proto' <<<"$output")" -eq 17 ]
	run dump backends
	[ "$(jq 'length' <<<"$output")" -eq 2 ]
	[ "$(jq -c '[.[].value.weight] | sort' <<<"$output")" = "[1,2]" ]
	run dump svc_backends
	[ "$(jq 'length' <<<"$output")" -eq 2 ]
	run dump revnat
	[ "$(jq '.[0].key' <<<"$output")" -eq 1 ]
	# root-only pins and lock
	[ "$(stat -c %a "$KPR_PIN_ROOT")" = 700 ]
	[ "$(stat -c %a "$KPR_PIN_ROOT/services")" = 600 ]
}

@test "the same command twice is unchanged and leaves the maps byte-identical" {
	svc-add -t nodeport '*:30080' 10.0.1.5:8080 '10.0.1.6:8080,state=terminating'
	maps_snapshot "$BATS_TEST_TMPDIR/a"
	run --separate-stderr svc-add -j -t nodeport '*:30080' 10.0.1.5:8080 '10.0.1.6:8080,state=terminating'
	assert_success
	assert_json
	[ "$(jq .changed <<<"$output")" = false ]
	[ "$(jq -r '.services[0].action' <<<"$output")" = unchanged ]
	maps_snapshot "$BATS_TEST_TMPDIR/b"
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
}

@test "every type, TCP and UDP, IPv4 and IPv6, weights and states" {
	svc-add -t clusterip 10.96.0.1:443 10.0.0.1:6443
	svc-add -t nodeport '*:30053/udp' 10.0.0.2:53
	svc-add -t nodeport 192.168.1.10:30081 10.0.0.3:80
	svc-add -t loadbalancer --affinity 600 '[2001:db8::10]:443' '[fd00::5]:8443,weight=3' '[fd00::6]:8443,state=quarantined'
	svc-add -t externalip --algorithm maglev 203.0.113.7:80 10.0.0.4:80,state=maintenance
	run svc-list -o json
	assert_success
	[ "$(jq '.services | length' <<<"$output")" -eq 5 ]
	[ "$(jq -r '[.services[].type] | join(",")' <<<"$output")" = clusterip,nodeport,nodeport,loadbalancer,externalip ]
	[ "$(jq -r '.services[1].frontend' <<<"$output")" = '*:30053/udp' ]
	[ "$(jq -r '.services[3].backends[0].weight' <<<"$output")" = 3 ]
	[ "$(jq -r '.services[3].backends[1].state' <<<"$output")" = quarantined ]
	[ "$(jq -r '.services[3].affinity' <<<"$output")" = 600 ]
	[ "$(jq -r '.services[3].active' <<<"$output")" = 1 ]
	[ "$(jq -r '.services[4].algorithm + "/" + .services[4].mode' <<<"$output")" = maglev/default ]
}

@test "an update flips to the other slot generation and frees the old one" {
	svc-add 10.96.0.1:80 10.0.0.1:80 10.0.0.2:80
	gen0=$(dump services | jq '.[0].value.flags')
	run svc-add 10.96.0.1:80 10.0.0.2:80 10.0.0.3:80 10.0.0.4:80
	assert_output --partial updated
	gen1=$(dump services | jq '.[0].value.flags')
	[ "$gen0" != "$gen1" ]
	# only the new generation's three slots are left
	[ "$(dump svc_backends | jq length)" -eq 3 ]
	# 10.0.0.1 had no other user: freed; 10.0.0.2 kept its id
	run svc-list -o json
	[ "$(jq -r '[.services[0].backends[].backend] | join(" ")' <<<"$output")" = "10.0.0.2:80/tcp 10.0.0.3:80/tcp 10.0.0.4:80/tcp" ]
	[ "$(jq '.services[0].backends[0].id' <<<"$output")" -eq 2 ]
	[ "$(dump backends | jq length)" -eq 3 ]
}

@test "backends are shared between services and reference-counted" {
	svc-add 10.96.0.1:80 10.0.0.1:80 10.0.0.2:80
	svc-add 10.96.0.2:80 10.0.0.2:80 10.0.0.3:80
	[ "$(dump backends | jq length)" -eq 3 ]
	[ "$(dump backend_idx | jq -c '[.[].value.refcnt] | sort')" = "[1,1,2]" ]
	svc-del 10.96.0.1:80
	[ "$(dump backends | jq length)" -eq 2 ]
	[ "$(dump backend_idx | jq -c '[.[].value.refcnt] | sort')" = "[1,1]" ]
	svc-del 10.96.0.2:80
	[ "$(dump backends | jq length)" -eq 0 ]
	[ "$(dump backend_idx | jq length)" -eq 0 ]
}

@test "active backends come first in the slots; terminating ones after" {
	svc-add 10.96.0.1:80 10.0.0.1:80,state=terminating 10.0.0.2:80 10.0.0.3:80,state=maintenance 10.0.0.4:80
	run svc-list -o json
	[ "$(jq -r '[.services[0].backends[].backend] | join(" ")' <<<"$output")" = "10.0.0.2:80/tcp 10.0.0.4:80/tcp 10.0.0.1:80/tcp 10.0.0.3:80/tcp" ]
	[ "$(jq '.services[0].active' <<<"$output")" -eq 2 ]
}

@test "--id: chosen ids, kept ids, and an id taken by another frontend is refused" {
	svc-add --id 42 10.96.0.1:80 10.0.0.1:80
	svc-add 10.96.0.1:80 10.0.0.2:80
	run svc-list -o json
	[ "$(jq '.services[0].id' <<<"$output")" -eq 42 ]
	maps_snapshot "$BATS_TEST_TMPDIR/a"
	run svc-add --id 42 10.96.0.2:80 10.0.0.1:80
	assert_failure 2
	assert_output --partial "id 42 is taken by 10.96.0.1:80/tcp"
	maps_snapshot "$BATS_TEST_TMPDIR/b"
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	# moving a frontend to a new id: one service entry, under the new id
	run svc-add --id 7 10.96.0.1:80 10.0.0.2:80
	assert_success
	[ "$(svc-list -o json | jq -c '[.services[].id]')" = "[7]" ]
	[ "$(dump revnat | jq -c '[.[].key]')" = "[7]" ]
	[ "$(dump svc_backends | jq -c '[.[].key.svc_id]')" = "[7]" ]
}

@test "-n/--dry-run changes nothing, and creates nothing on a fresh node" {
	run svc-add -n 10.96.0.1:80 10.0.0.1:80
	assert_success
	assert_output --partial "dry run"
	[ ! -e "$KPR_PIN_ROOT" ]
	svc-add 10.96.0.1:80 10.0.0.1:80
	maps_snapshot "$BATS_TEST_TMPDIR/a"
	run svc-add -n -j 10.96.0.1:80 10.0.0.9:80
	assert_success
	[ "$(jq .changed <<<"$output")" = true ]
	[ "$(jq -r '.services[0].action' <<<"$output")" = updated ]
	printf '%s\n' '10.96.0.5:80 10.0.0.1:80' >"$BATS_TEST_TMPDIR/f"
	run svc-add -n -f "$BATS_TEST_TMPDIR/f" --replace
	assert_output --partial "1 added, 0 updated, 1 deleted"
	maps_snapshot "$BATS_TEST_TMPDIR/b"
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
}

@test "-f: a batch file with comments; --replace keeps exactly the file's services" {
	svc-add 10.96.9.9:80 10.0.9.9:80
	cat >"$BATS_TEST_TMPDIR/svc.txt" <<-EOF
	# DNS
	10.96.0.10:53/udp 10.0.1.5:53 10.0.1.6:53

	-t nodeport --id 30 *:30080 10.0.1.5:8080   # a comment after a service
	svc-add -t loadbalancer [2001:db8::10]:443 [fd00::5]:8443,weight=2
	EOF
	run svc-add -f "$BATS_TEST_TMPDIR/svc.txt" --replace
	assert_success
	assert_output --partial "3 added, 0 updated, 1 deleted, 0 unchanged"
	run svc-list -o json
	[ "$(jq -r '[.services[].frontend] | sort | join(" ")' <<<"$output")" = '*:30080/tcp 10.96.0.10:53/udp [2001:db8::10]:443/tcp' ]
	run svc-add -j -f - --replace <"$BATS_TEST_TMPDIR/svc.txt"
	[ "$(jq .changed <<<"$output")" = false ]
	[ "$(jq .unchanged <<<"$output")" -eq 3 ]
}

@test "*:PORT and [*]:PORT in one file: a NodePort of each family, saved as given, deleted one by one" {
	svc-add -f - <<-EOF
		-t nodeport *:30080 10.0.1.5:8080
		-t nodeport *:30080 [fd00::5]:8080
		-t nodeport [*]:30081/udp
	EOF
	run svc-list -o save
	assert_success
	assert_line --partial "*:30080/tcp 10.0.1.5:8080/tcp"
	assert_line --partial "[*]:30080/tcp [fd00::5]:8080/tcp"
	assert_line --partial "[*]:30081/udp"
	# the save loads back unchanged
	svc-list -o save >"$BATS_TEST_TMPDIR/s"
	run svc-add -f "$BATS_TEST_TMPDIR/s" --replace
	assert_success
	assert_output --partial "0 added, 0 updated, 0 deleted, 3 unchanged"
	run svc-add -t nodeport '[*]:30082' 10.0.1.5:8080
	assert_failure 2
	assert_output --partial "serves IPv6 node addresses"
	# an address whose first word reads 6 is an address, not a family
	svc-add -q 6.0.0.0:80 10.0.1.5:8080
	svc-del -q 6.0.0.0:80
	# *:PORT names the IPv4 one, then the IPv6 one once it is alone
	svc-del '*:30080'
	run svc-list -o save
	refute_output --partial "*:30080/tcp"
	assert_output --partial "[*]:30080/tcp"
	svc-del '*:30080'
	run svc-list -o save
	refute_output --partial ":30080/"
	svc-del '[*]:30081/udp'
	[ -z "$(svc-list -o save | grep -v '^#')" ]
	run svc-list --verify
	assert_success
}

@test "malformed input: exit 2, a message naming the problem, maps byte-identical" {
	svc-add --id 5 10.96.0.1:80 10.0.0.1:80
	svc-add -t nodeport '*:30080' 10.0.0.1:80
	maps_snapshot "$BATS_TEST_TMPDIR/before"
	local t=$BATS_TEST_TMPDIR
	printf '%s\n' '10.96.1.1:80 10.0.0.1:80' '10.96.1.2:80 10.0.0.2:80x' '10.96.1.3:80 10.0.0.3:80' >"$t/bad1"
	printf '%s\n' '10.96.1.1:80 10.0.0.1:80' '# fine' '10.96.1.1:80 10.0.0.2:80' >"$t/bad2"
	printf '%s\n' '--id 9 10.96.1.1:80' '--id 9 10.96.1.2:80' >"$t/bad3"
	printf '%s\n' '--id 5 10.96.1.1:80 10.0.0.1:80' >"$t/bad4"
	local cases=(
		"bad port|10.0.0.1:80x 10.1.1.1:80"
		"bad port|10.0.0.1:0 10.1.1.1:80"
		"bad port|10.0.0.1:65536 10.1.1.1:80"
		"not an IPv4 address|300.1.1.1:80 10.1.1.1:80"
		"missing ']'|[::1:80 10.1.1.1:80"
		"expected ':PORT' after ']'|[::1]80 [::2]:80"
		"not an IPv6 address|[2001:db8::zz]:80"
		"IPv6 addresses go in brackets|::1:80"
		"missing ':PORT'|10.0.0.1 10.1.1.1:80"
		"unknown protocol 'sctp'|10.0.0.1:80/sctp 10.1.1.1:80"
		"bad port|10.0.0.1:80 10.1.1.1:-1"
		"bad weight '0'|10.0.0.1:80 10.1.1.1:80,weight=0"
		"bad weight 'abc'|10.0.0.1:80 10.1.1.1:80,weight=abc"
		"bad weight '70000'|10.0.0.1:80 10.1.1.1:80,weight=70000"
		"unknown state 'dead'|10.0.0.1:80 10.1.1.1:80,state=dead"
		"unknown option 'color=red'|10.0.0.1:80 10.1.1.1:80,color=red"
		"is given twice|10.0.0.1:80 10.1.1.1:80 10.1.1.1:80"
		"is IPv6 but frontend|10.0.0.1:80 [fd00::1]:80"
		"is udp but frontend|10.0.0.1:80/tcp 10.1.1.1:80/udp"
		"only for NodePort|*:80 10.1.1.1:80"
		"the quotes are not part of it|-t nodeport '*:30080' 10.1.1.1:80"
		"weight and state belong to backends|10.0.0.1:80,weight=2 10.1.1.1:80"
		"unknown option '--bogus'|--bogus 10.0.0.1:80"
		"unknown option '-Z'|-Z 10.0.0.1:80"
		"unknown service type 'sideways'|-t sideways 10.0.0.1:80"
		"bad --id '0'|--id 0 10.0.0.1:80"
		"bad --id 'abc'|--id abc 10.0.0.1:80"
		"bad --affinity '-1'|--affinity -1 10.0.0.1:80"
		"unknown algorithm 'roundrobin'|--algorithm roundrobin 10.0.0.1:80"
		"unknown mode 'hybrid'|--mode hybrid 10.0.0.1:80"
		"unknown mode 'fast'|--mode fast 10.0.0.1:80"
		"give no FRONTEND|--mode dsr -f $t/bad4"
		"bad --wait|-w abc 10.0.0.1:80"
		"unknown output format 'yaml'|-o yaml 10.0.0.1:80"
		"missing FRONTEND|"
		"--replace goes with -f|--replace 10.0.0.1:80"
		"id 5 is taken by 10.96.0.1:80/tcp|--id 5 10.96.0.2:80 10.0.0.1:80"
		"bad1:2: backend '10.0.0.2:80x': bad port|-f $t/bad1"
		"frontend 10.96.1.1:80/tcp is already on line 1|-f $t/bad2"
		"line 2: id 9 is already used on line 1|-f $t/bad3"
		"line 1: id 5 is taken by 10.96.0.1:80/tcp|-f $t/bad4"
		"cannot open|-f $t/missing"
		"give no FRONTEND|-f $t/bad4 10.0.0.1:80"
	)
	local c msg args bad=0 n=0
	for c in "${cases[@]}"; do
		msg=${c%%|*}
		args=${c#*|}
		n=$((n + 1))
		# shellcheck disable=SC2086
		run svc-add $args
		if [ "$status" -ne 2 ] || [[ "$output" != *"$msg"* ]]; then
			echo "case '$args': exit $status, output: $output (wanted exit 2 and '$msg')"
			bad=$((bad + 1))
		fi
		# JSON stays valid on errors
		# shellcheck disable=SC2086
		run --separate-stderr svc-add -o json $args
		if ! jq -e '.error and .exit_code == 2' >/dev/null 2>&1 <<<"$output"; then
			echo "case '$args' in JSON: $output"
			bad=$((bad + 1))
		fi
	done
	maps_snapshot "$BATS_TEST_TMPDIR/after"
	cmp "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/after"
	[ "$n" -ge 25 ]
	[ "$bad" -eq 0 ]
}

@test "eight svc-add processes at once: all eight present, nothing mixed" {
	local i pids=()
	for i in 1 2 3 4 5 6 7 8; do
		svc-add -q -w 30 "10.96.0.$i:80" "10.0.$i.1:80" "10.0.$i.2:80" "10.0.0.100:80" &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i"; done
	run svc-list -o json
	[ "$(jq '.services | length' <<<"$output")" -eq 8 ]
	for i in 1 2 3 4 5 6 7 8; do
		[ "$(jq -r --arg f "10.96.0.$i:80/tcp" '.services[] | select(.frontend == $f) | [.backends[].backend] | join(" ")' <<<"$output")" = "10.0.$i.1:80/tcp 10.0.$i.2:80/tcp 10.0.0.100:80/tcp" ]
	done
	[ "$(jq -c '[.services[].id] | sort' <<<"$output")" = "[1,2,3,4,5,6,7,8]" ]
	# the shared backend has one reference per service
	[ "$(dump backend_idx | jq '[.[].value.refcnt] | max')" -eq 8 ]
	[ "$(dump backends | jq length)" -eq 17 ]
}

@test "a held lock: exit 3 after -w SECS, nothing changed" {
	svc-add 10.96.0.1:80 10.0.0.1:80
	maps_snapshot "$BATS_TEST_TMPDIR/a"
	local ready=$BATS_TEST_TMPDIR/locked release=$BATS_TEST_TMPDIR/release
	# holds the lock until told to let go (bounded: 30 s at most)
	flock "$KPR_PIN_ROOT" sh -c "touch '$ready'; i=0; while [ ! -e '$release' ] && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i+1)); done" &
	local holder=$!
	for _ in $(seq 200); do [ -e "$ready" ] && break; sleep 0.05; done
	[ -e "$ready" ]
	run svc-add -w 1 10.96.0.2:80 10.0.0.1:80
	touch "$release"
	wait "$holder"
	assert_failure 3
	assert_output --partial "holds the lock"
	maps_snapshot "$BATS_TEST_TMPDIR/b"
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	# and once released, the same command goes through
	run svc-add -w 1 10.96.0.2:80 10.0.0.1:80
	assert_success
}

@test "pins of another layout: exit 4 with a clear message, nothing changed" {
	svc-add 10.96.0.1:80 10.0.0.1:80
	# the config value starts with magic and layout (u32 each): make it layout 99
	local bytes
	bytes=$(bpftool -j map lookup pinned "$KPR_PIN_ROOT/config" key 0 0 0 0 | jq -r '.value | .[8:] | map(tostring) | join(" ")')
	# shellcheck disable=SC2086
	bpftool map update pinned "$KPR_PIN_ROOT/config" key 0 0 0 0 value 0x31 0x72 0x70 0x6b 99 0 0 0 $bytes
	maps_snapshot "$BATS_TEST_TMPDIR/a"
	run svc-add 10.96.0.2:80 10.0.0.1:80
	assert_failure 4
	assert_output --partial "layout 99"
	# and says how to clear it with this kpr too
	assert_output --partial "rm -r $KPR_PIN_ROOT (its pinned links go with it"
	run svc-list
	assert_failure 4
	maps_snapshot "$BATS_TEST_TMPDIR/b"
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
}

@test "a pinned map of another shape: exit 4" {
	mkdir -p "$KPR_PIN_ROOT"
	bpftool map create "$KPR_PIN_ROOT/services" type hash key 8 value 8 entries 16 name services
	run svc-add 10.96.0.1:80 10.0.0.1:80
	assert_failure 4
	assert_output --partial "another layout"
}

@test "--help, --version, and KPR_PIN_ROOT versus --pin-root" {
	run svc-add --help
	assert_success
	assert_output --partial "Usage: svc-add"
	run svc-add -V
	assert_success
	assert_output --regexp '^svc-add \(kpr\) '
	local other=$KPR_PIN_ROOT-other
	svc-add --pin-root "$other" 10.96.0.1:80 10.0.0.1:80
	[ -e "$other/services" ]
	[ ! -e "$KPR_PIN_ROOT/services" ]
	rm -rf "$other"
}

@test "a backend's new state or weight reaches every service that shares it" {
	svc-add -q --algorithm maglev 10.96.0.1:80 10.0.0.1:80 10.0.0.2:80 10.0.0.3:80
	svc-add -q --algorithm maglev 10.96.0.2:80 10.0.0.1:80 10.0.0.4:80
	svc-add -q 10.96.0.3:80 10.0.0.1:80 10.0.0.5:80
	# through service 1, 10.0.0.1 turns terminating and heavier
	run svc-add 10.96.0.1:80 --algorithm maglev '10.0.0.1:80,state=terminating,weight=5' 10.0.0.2:80 10.0.0.3:80
	assert_success
	assert_output --partial "updated 10.96.0.2:80/tcp id 2"
	assert_output --partial "updated 10.96.0.3:80/tcp id 3"
	run svc-list -o json
	# the others no longer offer it to new flows: it moved behind their active slots
	[ "$(jq -c '[.services[] | .active]' <<<"$output")" = "[2,1,1]" ]
	[ "$(jq -r '.services[1].backends[0].backend' <<<"$output")" = 10.0.0.4:80/tcp ]
	[ "$(jq -r '.services[2].backends[1].state' <<<"$output")" = terminating ]
	# and the Maglev tables of both Maglev services are what they should be
	maglev-gen --service 10.96.0.1:80
	maglev-gen --service 10.96.0.2:80
	# the same command again changes nothing anywhere
	maps_snapshot "$BATS_TEST_TMPDIR/a"
	run svc-add -j 10.96.0.1:80 --algorithm maglev '10.0.0.1:80,state=terminating,weight=5' 10.0.0.2:80 10.0.0.3:80
	[ "$(jq .changed <<<"$output")" = false ]
	maps_snapshot "$BATS_TEST_TMPDIR/b"
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	# back to active with another weight, through the random service: the
	# Maglev services' partitions and tables follow
	run svc-add 10.96.0.3:80 '10.0.0.1:80,weight=9' 10.0.0.5:80
	assert_success
	assert_output --partial "updated 10.96.0.1:80/tcp id 1"
	assert_output --partial "updated 10.96.0.2:80/tcp id 2"
	[ "$(svc-list -o json | jq -c '[.services[] | .active]')" = "[3,2,2]" ]
	maglev-gen --service 10.96.0.1:80
	maglev-gen --service 10.96.0.2:80
}

@test "--replace with an input that holds no service is refused unless --allow-empty, in both formats" {
	svc-add 10.96.0.1:80 10.0.0.1:80
	maps_snapshot "$BATS_TEST_TMPDIR/a"
	local t=$BATS_TEST_TMPDIR
	printf '# nothing but comments\n\n' >"$t/empty.txt"
	printf '{"apiVersion": "v1", "kind": "List", "items": []}\n' >"$t/empty.json"
	# only a headless Service: nothing kpr would load either
	printf '%s\n' '{"kind": "List", "items": [{"kind": "Service", "metadata": {"name": "h", "namespace": "x"},' \
		'"spec": {"clusterIP": "None", "ports": [{"port": 80}]}}]}' >"$t/headless.json"
	run svc-add -f "$t/empty.txt" --replace
	assert_failure 2
	assert_output --partial "$t/empty.txt holds no service: --replace would delete every service; add --allow-empty"
	run svc-add -f - --replace </dev/null
	assert_failure 2
	assert_output --partial "the input holds no service"
	run svc-add --format kubernetes -f "$t/empty.json" --replace
	assert_failure 2
	assert_output --partial "holds no service"
	run svc-add --format kubernetes -f - --replace <"$t/headless.json"
	assert_failure 2
	assert_output --partial "holds no service"
	run --separate-stderr svc-add -j -f "$t/empty.txt" --replace
	jq -e '.exit_code == 2 and (.error | test("--allow-empty"))' <<<"$output"
	run svc-add -f "$t/empty.txt" --allow-empty
	assert_failure 2
	assert_output --partial "--allow-empty goes with --replace"
	run svc-add --allow-empty 10.96.0.2:80
	assert_failure 2
	maps_snapshot "$BATS_TEST_TMPDIR/b"
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	# without --replace an empty input adds nothing and deletes nothing
	run svc-add -f "$t/empty.txt"
	assert_success
	assert_output --partial "0 added, 0 updated, 0 deleted, 0 unchanged"
	# said on purpose, it empties the node
	run svc-add -f "$t/empty.txt" --replace --allow-empty
	assert_success
	assert_output --partial "0 added, 0 updated, 1 deleted"
	[ "$(svc-list -o json | jq '.services | length')" -eq 0 ]
	svc-add 10.96.0.1:80 10.0.0.1:80
	run svc-add --format kubernetes -f "$t/empty.json" --replace --allow-empty
	assert_success
	assert_output --partial "1 deleted"
	[ "$(dump services | jq length)" -eq 0 ]
}
