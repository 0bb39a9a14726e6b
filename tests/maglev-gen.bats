#!/usr/bin/env bats
# maglev-gen: Cilium's tables from the command line, --compare figures checked
# against our own count, --new-seed, and --service against the live tables
# that svc-add writes into a private pin root.

load helpers
bats_require_minimum_version 1.5.0

REF_RLE="2(5),3(1),2(3),1(1),2(2),0(1),2(1),3(1),2(1),3(1),2(1),1(1),2(7),1(1),2(14),3(1),2(1),\
1(2),2(12),3(1),2(3),1(1),2(4),3(1),2(8),3(1),2(2),1(1),2(16),1(2),2(3),3(1),2(11),1(2),2(4),3(1),2(3),\
1(1),2(4),3(1),2(1),0(1),1(1),2(8),1(1),2(7),1(1),2(4),3(1),2(1),3(1),2(9),1(2),2(5),1(1),2(7),3(1),2(1),\
3(1),1(1),2(8),1(1),2(4),0(1),2(1),1(1),2(5),3(1),2(3),1(1),2(4),3(1),2(3),1(1),2(12),0(1),3(1),2(3),3(1),\
2(4),3(1),2(2),1(1),2(7)"

setup() {
	unset KPR_PIN_ROOT
	BE4=(10.0.0.1:80 10.0.0.2:80 10.0.0.3:80 10.0.0.4:80)
}

teardown() { kpr_root_teardown; }

# "2(5),3(1)" -> one index per line
rle_expand() {
	local tok idx n i
	for tok in ${1//,/ }; do
		idx=${tok%%(*}
		n=${tok#*(}
		n=${n%)}
		for ((i = 0; i < n; i++)); do echo "$idx"; done
	done
}

# The id of the inner map holding service $1's table.
inner_id() {
	local s=$1 hex
	hex=$(bpftool -j map lookup pinned "$KPR_PIN_ROOT/maglev" key \
		$((s & 255)) $((s >> 8 & 255)) $((s >> 16 & 255)) $((s >> 24 & 255)) |
		jq -r '.value | reverse | map(.[2:]) | join("")') || return 1
	echo $((16#$hex))
}

# Writes bytes into the config value at an offset (struct kpr_config).
cfg_patch() {
	local off=$1 v
	shift
	local -a b
	b=($(bpftool -j map lookup pinned "$KPR_PIN_ROOT/config" key 0 0 0 0 | jq -r '.value[]'))
	for v in "$@"; do
		b[$off]=$v
		off=$((off + 1))
	done
	bpftool map update pinned "$KPR_PIN_ROOT/config" key 0 0 0 0 value "${b[@]}"
}
cfg_size() { cfg_patch 16 $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) 0; }
cfg_algorithm_maglev() { cfg_patch 9 2; }

@test "--help shows every option; -V the version" {
	run maglev-gen --help
	assert_success
	for o in --size --seed --compare --new-seed --service --output --json --pin-root --quiet; do
		assert_output --partial -- "$o"
	done
	assert_output --partial "counts,table,json (default counts)"
	run maglev-gen -V
	assert_success
	assert_output --regexp '^maglev-gen \(kpr\) '
}

@test "the reference vector of docs/maglev.md, through the command line" {
	run --separate-stderr maglev-gen -o json --size 251 0.0.0.1:1,weight=2 0.0.0.3:3,weight=13 0.0.0.4:4,weight=111 0.0.0.5:5,weight=10
	assert_success
	assert_json
	diff <(rle_expand "$REF_RLE") <(jq '.table[]' <<<"$output")
	[ "$(jq -r .seed <<<"$output")" = JLfvgnHc2kaSUFaI ]
	[ "$(jq .size <<<"$output")" -eq 251 ]
	[ "$(jq -c .backends <<<"$output")" = '["0.0.0.1:1,weight=2","0.0.0.3:3,weight=13","0.0.0.4:4,weight=111","0.0.0.5:5,weight=10"]' ]
}

@test "-o counts at M=1021: 16, 98, 832 and 75 slots" {
	run maglev-gen --size 1021 0.0.0.1:1,weight=2 0.0.0.2:2,weight=13 0.0.0.3:3,weight=111 0.0.0.4:4,weight=10
	assert_success
	[ "${#lines[@]}" -eq 4 ]
	assert_line --index 0 --regexp '^0\.0\.0\.1:1,weight=2 +16 slots +1\.57%$'
	assert_line --index 1 --regexp '^0\.0\.0\.2:2,weight=13 +98 slots +9\.60%$'
	assert_line --index 2 --regexp '^0\.0\.0\.3:3,weight=111 +832 slots +81\.49%$'
	assert_line --index 3 --regexp '^0\.0\.0\.4:4,weight=10 +75 slots +7\.35%$'
}

@test "-o table: M lines naming owners as given, agreeing with counts and json" {
	run maglev-gen -o table "${BE4[@]}" 10.0.0.5:80/tcp,weight=1
	assert_success
	[ "${#lines[@]}" -eq 16381 ]
	# every line is one of the backends as given
	[ "$(printf '%s\n' "${lines[@]}" | sort -u | tr '\n' ' ')" = "10.0.0.1:80 10.0.0.2:80 10.0.0.3:80 10.0.0.4:80 10.0.0.5:80/tcp,weight=1 " ]
	local table=$output
	run maglev-gen "${BE4[@]}" 10.0.0.5:80/tcp,weight=1
	diff <(sort <<<"$table" | uniq -c | awk '{print $2, $1}') <(awk '{print $1, $2}' <<<"$output")
	# unweighted: floor(M/N) or ceil(M/N) each
	awk '$2 != 3276 && $2 != 3277 { bad = 1 } END { exit bad }' <<<"$output"
	run maglev-gen -j "${BE4[@]}" 10.0.0.5:80/tcp,weight=1
	diff <(jq -r '.backends as $b | .table[] | $b[.]' <<<"$output") <(printf '%s\n' "$table")
}

@test "the same input gives the same table; another seed another one" {
	local a b c
	a=$(maglev-gen -o table "${BE4[@]}")
	b=$(maglev-gen -o table --seed JLfvgnHc2kaSUFaI "${BE4[@]}")
	c=$(maglev-gen -o table --seed AAAAAAAAAAAAAAAA "${BE4[@]}")
	[ "$a" = "$b" ]
	[ "$a" != "$c" ]
	# the order backends are given in changes nothing
	b=$(maglev-gen -o table 10.0.0.4:80 10.0.0.3:80 10.0.0.2:80 10.0.0.1:80)
	[ "$a" = "$b" ]
}

@test "non-active backends get no slots; unused weights are warned about" {
	run maglev-gen --size 251 10.0.0.1:80 10.0.0.2:80,state=terminating 10.0.0.3:80,state=maintenance
	assert_success
	assert_line --index 0 --regexp '^10\.0\.0\.1:80 +251 slots +100\.00%$'
	assert_line --index 1 --partial "0 slots"
	assert_line --index 1 --partial "(terminating: not in the table)"
	run maglev-gen --size 251 10.0.0.1:80 10.0.0.2:80 10.0.0.3:80,weight=3
	assert_success
	assert_output --partial "weights of BACKEND ignored"
}

@test "bad sizes exit 2 and name the primes" {
	local s
	for s in 0 1 250 16383 65536 262139 abc -1 16381x ""; do
		run maglev-gen --size "$s" "${BE4[@]}"
		assert_failure 2
		assert_output --partial "bad --size"
		assert_output --partial "251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071"
	done
	run --separate-stderr maglev-gen -j --size 100 "${BE4[@]}"
	assert_failure 2
	assert_json
	[ "$(jq -r .exit_code <<<"$output")" -eq 2 ]
	[[ "$(jq -r .error <<<"$output")" == "bad --size '100'"* ]]
}

@test "bad seeds exit 2: not base64 of exactly 12 bytes" {
	local s
	for s in abc JLfvgnHc2kaSUFa JLfvgnHc2kaSUFaI= JLfvgnHc2kaSUFaIAAAA JLfvgnHc2kaSUFa- \
		 JLfvgnHc2kaSUFa_ 'JLfvgnHc2kaSUFa ' AAAAAAAAAAAAAAA= ""; do
		run maglev-gen --seed "$s" "${BE4[@]}"
		assert_failure 2
		assert_output --partial "bad --seed"
		assert_output --partial "12 bytes"
	done
	run --separate-stderr maglev-gen -o json --seed abc "${BE4[@]}"
	assert_failure 2
	assert_json
}

@test "no backends, no active backend, bad or repeated backends: exit 2" {
	run maglev-gen
	assert_failure 2
	assert_output --partial "no BACKEND given"
	run --separate-stderr maglev-gen -j --size 251
	assert_failure 2
	assert_json
	run maglev-gen 10.0.0.1:80,state=terminating
	assert_failure 2
	assert_output --partial "active"
	run maglev-gen 10.0.0.1
	assert_failure 2
	assert_output --partial "missing ':PORT'"
	run maglev-gen 10.0.0.1:80 10.0.0.1:80/tcp
	assert_failure 2
	assert_output --partial "given twice"
	run maglev-gen 10.0.0.1:80,weight=0
	assert_failure 2
	run maglev-gen --compare '' 10.0.0.1:80
	assert_failure 2
	run maglev-gen -o table --compare 10.0.0.1:80 10.0.0.1:80
	assert_failure 2
	run maglev-gen -o yaml 10.0.0.1:80
	assert_failure 2
}

@test "--new-seed: 16 characters of base64 for 12 random bytes, usable as --seed" {
	run maglev-gen --new-seed
	assert_success
	[[ "$output" =~ ^[A-Za-z0-9+/]{16}$ ]]
	[ "$(base64 -d <<<"$output" | wc -c)" -eq 12 ]
	local first=$output
	run maglev-gen --new-seed
	[ "$output" != "$first" ]
	run maglev-gen --seed "$first" --size 251 "${BE4[@]}"
	assert_success
	run maglev-gen -j --new-seed
	assert_success
	[[ "$(jq -r .seed <<<"$output")" =~ ^[A-Za-z0-9+/]{16}$ ]]
	run maglev-gen --new-seed 10.0.0.1:80
	assert_failure 2
}

@test "--compare: removing 1 of 10 backends, figures equal our own count" {
	local old=() i
	for i in $(seq 1 10); do old+=("10.1.0.$i:8080"); done
	local new=("${old[@]:0:4}" "${old[@]:5}")	# 10.1.0.5 leaves
	local list
	list=$(IFS=,; echo "${old[*]}")

	maglev-gen -j "${old[@]}" >"$BATS_TEST_TMPDIR/old.json"
	maglev-gen -j "${new[@]}" >"$BATS_TEST_TMPDIR/new.json"
	local changed surv moved
	changed=$(jq -n --slurpfile o "$BATS_TEST_TMPDIR/old.json" --slurpfile n "$BATS_TEST_TMPDIR/new.json" \
		'$o[0] as $O | $n[0] as $N | [range(0; $O.size) | select($O.backends[$O.table[.]] != $N.backends[$N.table[.]])] | length')
	surv=$(jq -n --slurpfile o "$BATS_TEST_TMPDIR/old.json" --slurpfile n "$BATS_TEST_TMPDIR/new.json" \
		'$o[0] as $O | $n[0] as $N | [range(0; $O.size) | select($O.backends[$O.table[.]] as $b | any($N.backends[]; . == $b))] | length')
	moved=$(jq -n --slurpfile o "$BATS_TEST_TMPDIR/old.json" --slurpfile n "$BATS_TEST_TMPDIR/new.json" \
		'$o[0] as $O | $n[0] as $N | [range(0; $O.size) | select($O.backends[$O.table[.]] as $b | any($N.backends[]; . == $b) and $N.backends[$N.table[.]] != $b)] | length')
	echo "# our count: changed $changed, surviving $surv, moved $moved" >&3
	[ "$changed" -gt 1500 ]		# at least the removed backend's ~1638 slots

	run --separate-stderr maglev-gen -j --compare "$list" "${new[@]}"
	assert_success
	assert_json
	[ "$(jq .changed_slots <<<"$output")" -eq "$changed" ]
	[ "$(jq .surviving_slots <<<"$output")" -eq "$surv" ]
	[ "$(jq .surviving_moved <<<"$output")" -eq "$moved" ]
	[ "$(jq .removed_slots <<<"$output")" -eq $((16381 - surv)) ]
	[ "$(jq '.old_backends, .new_backends' <<<"$output" | tr '\n' ' ')" = "10 9 " ]

	run maglev-gen --compare "$list" "${new[@]}"
	assert_success
	local pct
	pct=$(awk -v c="$changed" 'BEGIN { printf "%.2f", 100 * c / 16381 }')
	assert_output --partial "slots that change owner: $changed of 16381 ($pct%)"
	pct=$(awk -v m="$moved" -v s="$surv" 'BEGIN { printf "%.2f", 100 * m / s }')
	assert_output --partial "slots of surviving backends: $surv, of which move: $moved ($pct%)"
	echo "# $output" >&3
}

@test "--compare keeps ,weight= and ,state= with the backend before them" {
	run maglev-gen -j --size 251 --compare 10.0.0.1:80,weight=4,state=active,10.0.0.2:80 10.0.0.1:80 10.0.0.2:80
	assert_success
	[ "$(jq .old_backends <<<"$output")" -eq 2 ]
	[ "$(jq .changed_slots <<<"$output")" -gt 0 ]
	run maglev-gen -j --size 251 --compare 10.0.0.1:80,10.0.0.2:80 10.0.0.1:80 10.0.0.2:80
	[ "$(jq .changed_slots <<<"$output")" -eq 0 ]
}

@test "--service: svc-add --algorithm maglev writes the table maglev-gen predicts" {
	kpr_root_setup
	svc-add -q --algorithm maglev 10.96.0.1:80 10.0.0.1:80 10.0.0.2:80 10.0.0.3:80,weight=5 \
		10.0.0.4:80 10.0.0.9:80,state=terminating
	run maglev-gen --service 10.96.0.1:80
	assert_success
	assert_line --index 0 "service 10.96.0.1:80 (id 1): size 16381, seed JLfvgnHc2kaSUFaI"
	assert_output --partial "the live table is the expected one"
	assert_output --regexp "10\.0\.0\.9:80/tcp,state=terminating +0 slots"
	diff <(maglev-gen --service 10.96.0.1:80 -o table) \
		<(maglev-gen -o table 10.0.0.1:80/tcp 10.0.0.2:80/tcp 10.0.0.3:80/tcp,weight=5 10.0.0.4:80/tcp 10.0.0.9:80/tcp,state=terminating)
	run --separate-stderr maglev-gen -j --service 10.96.0.1:80
	assert_success
	assert_json
	[ "$(jq -c '[.service, .size, .match, .mismatched_slots, (.table | length)]' <<<"$output")" = '[1,16381,true,0,16381]' ]
	# the inner map: a u32 array of M entries, BPF_F_INNER_MAP | BPF_F_MMAPABLE
	run bpftool -j map show id "$(inner_id 1)"
	assert_success
	[ "$(jq -c '[.type, .bytes_key, .bytes_value, .max_entries, .flags]' <<<"$output")" = '["array",4,4,16381,5120]' ]
}

@test "--service: one corrupted inner-map entry exits 1 and names the slot" {
	kpr_root_setup
	svc-add -q --algorithm maglev 10.96.0.1:80 10.0.0.1:80 10.0.0.2:80 10.0.0.3:80
	run maglev-gen -q --service 10.96.0.1:80
	assert_success
	bpftool map update id "$(inner_id 1)" key 7 0 0 0 value 0x39 0x30 0 0	# backend id 12345
	run maglev-gen --service 10.96.0.1:80
	assert_failure 1
	assert_output --partial "differs from the expected one in 1 of 16381 slots (first: slot 7 holds backend id 12345"
	run --separate-stderr maglev-gen -j --service 10.96.0.1:80
	assert_failure 1
	assert_json
	[ "$(jq -c '[.match, .mismatched_slots, .exit_code, .table[7]]' <<<"$output")" = '[false,1,1,-1]' ]
	run maglev-gen -o table --service 10.96.0.1:80
	assert_failure 1
	assert_line --index 7 "unknown backend id 12345"
	# a service update writes a fresh table
	svc-add -q --algorithm maglev 10.96.0.1:80 10.0.0.1:80 10.0.0.2:80
	run maglev-gen -q --service 10.96.0.1:80
	assert_success
}

@test "--service: no state exits 4, no service or no Maglev exits 1, extra arguments 2" {
	run maglev-gen --service 10.96.0.1:80 --pin-root /sys/fs/bpf/kpr-test-absent-$$
	assert_failure 4
	run --separate-stderr maglev-gen -j --service 10.96.0.1:80 --pin-root /sys/fs/bpf/kpr-test-absent-$$
	assert_failure 4
	assert_json
	kpr_root_setup
	svc-add -q 10.96.0.2:80 10.0.0.1:80
	run maglev-gen --service 10.96.0.1:80
	assert_failure 1
	assert_output --partial "no service 10.96.0.1:80"
	run maglev-gen --service 10.96.0.2:80
	assert_failure 1
	assert_output --partial "random algorithm"
	run bpftool map lookup pinned "$KPR_PIN_ROOT/maglev" key 1 0 0 0
	assert_failure
	run maglev-gen --service 10.96.0.2:80 --size 251
	assert_failure 2
	run maglev-gen --service 10.96.0.2:80 10.0.0.1:80
	assert_failure 2
}

@test "a service switching algorithm gains and loses its table; dry runs change nothing" {
	kpr_root_setup
	svc-add -q 10.96.0.1:80 10.0.0.1:80 10.0.0.2:80
	maps_snapshot "$BATS_TEST_TMPDIR/before"
	run svc-add -n --algorithm maglev 10.96.0.1:80 10.0.0.1:80 10.0.0.2:80
	assert_success
	maps_snapshot "$BATS_TEST_TMPDIR/after"
	diff "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/after"
	svc-add -q --algorithm maglev 10.96.0.1:80 10.0.0.1:80 10.0.0.2:80
	inner_id 1
	run maglev-gen -q --service 10.96.0.1:80
	assert_success
	svc-add -q --algorithm random 10.96.0.1:80 10.0.0.1:80 10.0.0.2:80
	run bpftool map lookup pinned "$KPR_PIN_ROOT/maglev" key 1 0 0 0
	assert_failure
	svc-add -q --algorithm maglev 10.96.0.1:80 10.0.0.1:80 10.0.0.2:80
	inner_id 1
	# all backends leaving: no table, and --service says so
	svc-add -q --algorithm maglev 10.96.0.1:80 10.0.0.1:80,state=terminating
	run bpftool map lookup pinned "$KPR_PIN_ROOT/maglev" key 1 0 0 0
	assert_failure
	run maglev-gen --service 10.96.0.1:80
	assert_success
	assert_output --partial "no active backend"
	svc-del -q 10.96.0.1:80
	run bpftool map lookup pinned "$KPR_PIN_ROOT/maglev" key 1 0 0 0
	assert_failure
}

@test "the node's algorithm applies to services that name none" {
	kpr_root_setup
	svc-add -q 10.96.0.1:80 10.0.0.1:80
	cfg_algorithm_maglev
	svc-add -q 10.96.0.2:80 10.0.0.1:80 10.0.0.2:80
	run maglev-gen -q --service 10.96.0.2:80
	assert_success
	svc-add -q --algorithm random 10.96.0.3:80 10.0.0.1:80
	run bpftool map lookup pinned "$KPR_PIN_ROOT/maglev" key 3 0 0 0
	assert_failure
}

@test "inner maps of every size share the outer map (BPF_F_INNER_MAP on this kernel)" {
	kpr_root_setup
	svc-add -q --algorithm maglev 10.96.0.1:80 10.0.0.1:80 10.0.0.2:80
	local m id=1
	for m in 251 131071 1021 65521; do
		cfg_size "$m"
		# the table no longer has the config's size
		run maglev-gen --service 10.96.0.1:80
		assert_failure 1
		assert_output --partial "slots, the config says $m"
		id=$((id + 1))
		svc-add -q --algorithm maglev 10.96.0.$id:80 10.0.0.1:80 10.0.0.2:80 10.0.0.3:80
		svc-add -q --algorithm maglev 10.96.0.1:80 10.0.0.1:80 10.0.0.2:80 10.0.1.$id:80
		run bpftool -j map show id "$(inner_id 1)"
		[ "$(jq .max_entries <<<"$output")" -eq "$m" ]
		run maglev-gen -j --service 10.96.0.1:80
		assert_success
		[ "$(jq '.size, (.table | length)' <<<"$output" | tr '\n' ' ')" = "$m $m " ]
		run maglev-gen -q --service 10.96.0.$id:80
		assert_success
	done
}

@test "IPv6 services: canonical hash strings, same table as maglev-gen" {
	kpr_root_setup
	svc-add -q --algorithm maglev '[2001:db8::10]:443' '[fd00:0:0:0::5]:8443' '[FD00::6]:8443,weight=3' '[fd00::7]:8443'
	run maglev-gen --service '[2001:db8::10]:443'
	assert_success
	diff <(maglev-gen -o table --service '[2001:db8::10]:443') \
		<(maglev-gen -o table '[fd00::5]:8443/tcp' '[fd00::6]:8443/tcp,weight=3' '[fd00::7]:8443/tcp')
}

@test "lb-mode's spellings --maglev-table-size and --maglev-seed give the same table as --size and --seed" {
	run maglev-gen -o table --size 251 --seed AAAAAAAAAAAAAAAA 10.0.0.1:80 10.0.0.2:80,weight=3
	assert_success
	local want=$output
	run maglev-gen -o table --maglev-table-size 251 --maglev-seed AAAAAAAAAAAAAAAA 10.0.0.1:80 10.0.0.2:80,weight=3
	assert_success
	[ "$output" = "$want" ]
	run maglev-gen --maglev-table-size 250 10.0.0.1:80
	assert_failure 2
}
