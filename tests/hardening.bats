#!/usr/bin/env bats
# Inputs that must never change the node (issue 14, items 1, 2 and 4): read
# errors, NUL bytes, closed standard streams, one backend given two states.
# Each case checks the exit code, the message, and that every pinned map is
# byte-for-byte what it was.

load helpers

setup() {
	kpr_root_setup
	svc-add 10.96.1.1:80 10.0.0.1:80 10.0.0.2:80
	svc-add -t nodeport '*:30080' 10.0.1.5:8080
	maps_snapshot "$BATS_TEST_TMPDIR/before"
}
teardown() { kpr_root_teardown; }

unchanged() {
	maps_snapshot "$BATS_TEST_TMPDIR/after"
	cmp "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/after"
}

@test "a read error is exit 1 and changes nothing, --replace included: a directory, EIO, a closed stdin" {
	run svc-add -f "$BATS_TEST_TMPDIR" --replace
	assert_failure 1
	assert_output --partial "cannot read $BATS_TEST_TMPDIR: Is a directory; nothing was changed"
	unchanged
	run svc-add -f /proc/self/mem --replace
	assert_failure 1
	assert_output --partial "cannot read /proc/self/mem: Input/output error"
	unchanged
	# bats' run would wait on the closed fd; the shell closes it for the tool only
	run bash -c 'svc-add -f - --replace <&-'
	assert_failure 1
	assert_output --partial "cannot read <stdin>: Bad file descriptor"
	unchanged
	run bash -c 'svc-add --format kubernetes -f - --replace <&-'
	assert_failure 1
	assert_output --partial "cannot read <stdin>"
	unchanged
	run svc-add --format kubernetes -f "$BATS_TEST_TMPDIR" --replace
	assert_failure 1
	unchanged
	# JSON mode: the same failure, one document
	run --separate-stderr svc-add -j -f "$BATS_TEST_TMPDIR" --replace
	assert_failure 1
	assert_json
	[ "$(jq -r .exit_code <<<"$output")" = 1 ]
	jq -e '.error | test("Is a directory")' <<<"$output"
	unchanged
}

@test "a NUL byte anywhere is exit 2 naming FILE:LINE; a file of zeros does not wipe the node" {
	printf '10.96.1.2:80 10.0.0.1:80\0 10.0.0.2:80\n' >"$BATS_TEST_TMPDIR/nul"
	run svc-add -f "$BATS_TEST_TMPDIR/nul"
	assert_failure 2
	assert_output --partial "$BATS_TEST_TMPDIR/nul:1: a NUL byte"
	unchanged
	printf '# ok\n10.96.1.3:80 10.0.0.1:80\n10.96.1.4:80 10.0.0.1:80\0\n' >"$BATS_TEST_TMPDIR/nul3"
	run svc-add -f - <"$BATS_TEST_TMPDIR/nul3"
	assert_failure 2
	assert_output --partial "<stdin>:3: a NUL byte"
	unchanged
	head -c 4096 /dev/zero >"$BATS_TEST_TMPDIR/zeros"
	run svc-add -f "$BATS_TEST_TMPDIR/zeros" --replace --allow-empty
	assert_failure 2
	assert_output --partial "zeros:1: a NUL byte: this is not a text file"
	unchanged
	run svc-add --format kubernetes -f "$BATS_TEST_TMPDIR/zeros" --replace
	assert_failure 2
	assert_output --partial "a NUL byte"
	unchanged
	run svc-list
	assert_output --partial 10.96.1.1:80
}

@test "output that cannot be written is exit 1: svc-list -o save to a full disk or a closed stdout" {
	run bash -c 'svc-list -o save >/dev/full'
	assert_failure 1
	assert_output --partial "cannot write the output: No space left on device"
	run bash -c 'svc-list -o save >&-'
	assert_failure 1
	assert_output --partial "cannot write the output: Bad file descriptor"
	run bash -c 'svc-list -o json >/dev/full'
	assert_failure 1
	# the save itself round-trips when it can be written
	svc-list -o save >"$BATS_TEST_TMPDIR/save"
	svc-add -f "$BATS_TEST_TMPDIR/save" --replace
	unchanged
}

@test "one backend with two states or weights in one input is refused naming both lines" {
	printf '10.96.5.1:80 10.0.9.1:80,weight=3 10.0.9.2:80\n\n10.96.5.2:80 10.0.9.1:80 10.0.9.3:80\n' >"$BATS_TEST_TMPDIR/w"
	run svc-add -f "$BATS_TEST_TMPDIR/w"
	assert_failure 2
	assert_output --partial "w:3: backend 10.0.9.1:80/tcp is state=active,weight=1 here and state=active,weight=3 on line 1"
	unchanged
	printf '10.96.5.1:80 10.0.9.1:80,state=terminating\n10.96.5.2:80 10.0.9.1:80\n' >"$BATS_TEST_TMPDIR/s"
	run svc-add -f "$BATS_TEST_TMPDIR/s" --replace
	assert_failure 2
	assert_output --partial "s:2: backend 10.0.9.1:80/tcp is state=active,weight=1 here and state=terminating,weight=1 on line 1"
	unchanged
	# the same address under another protocol is another backend; agreeing lines are fine
	printf '10.96.5.1:80 10.0.9.1:80,weight=3\n10.96.5.2:80/udp 10.0.9.1:80\n10.96.5.3:80 10.0.9.1:80,weight=3\n' >"$BATS_TEST_TMPDIR/ok"
	run svc-add -f "$BATS_TEST_TMPDIR/ok"
	assert_success
	# and it settles: the second run changes nothing
	maps_snapshot "$BATS_TEST_TMPDIR/before"
	run svc-add -f "$BATS_TEST_TMPDIR/ok"
	assert_success
	assert_output --partial "0 added, 0 updated, 0 deleted, 3 unchanged"
	unchanged
}

zero_config() {
	local n
	n=$(bpftool -j map show pinned "$KPR_PIN_ROOT/config" | jq .bytes_value)
	# shellcheck disable=SC2046
	bpftool map update pinned "$KPR_PIN_ROOT/config" key hex 00 00 00 00 \
		value hex $(printf '00 %.0s' $(seq "$n"))
}

@test "a zeroed config while services exist is exit 4 for every tool, and none writes it" {
	svc-add --algorithm maglev 10.96.1.9:80 10.0.0.1:80
	zero_config
	maps_snapshot "$BATS_TEST_TMPDIR/before"
	for t in "svc-list" "svc-list -o save" "lb-mode" "svc-add 10.96.1.8:80 10.0.0.1:80" \
		 "svc-del --all" "lb-mode --icmp-echo off"; do
		run $t
		assert_failure 4
		assert_output --partial "is zeroed (magic 0) while services or attachments exist"
		assert_output --partial "rm -r $KPR_PIN_ROOT"
		unchanged
	done
	run --separate-stderr svc-list -j
	assert_failure 4
	assert_json
	[ "$(jq .exit_code <<<"$output")" = 4 ]
}

@test "a config never stamped on an empty node: readers see the defaults and write nothing, the first writer stamps it" {
	svc-del --all
	zero_config
	maps_snapshot "$BATS_TEST_TMPDIR/before"
	run svc-list
	assert_success
	run lb-mode -j
	assert_success
	[ "$(jq -r .algorithm <<<"$output")" = random ]
	unchanged
	run svc-add 10.96.1.2:80 10.0.0.1:80
	assert_success
	bpftool -j map dump pinned "$KPR_PIN_ROOT/config" | jq -e '.[0].formatted.value.magic > 0'
}

@test "every run asked for JSON prints one document with error and errors: parse errors, invalid UTF-8, -V" {
	local a t
	for a in "-qj" "-jq" "-vj" "--js" "--outp=json" "-o json" "-ojson"; do
		for t in svc-add svc-list svc-del lb-mode xdp-attach masq-ctl maglev-gen kp-cleanup; do
			# shellcheck disable=SC2086
			run --separate-stderr $t $a --no-such-option
			assert_failure 2
			assert_json
			[ "$(jq -s length <<<"$output")" = 1 ]
			[ "$(jq -r .exit_code <<<"$output")" = 2 ]
			jq -e '(.error | test("unknown option")) and (.errors | length == 1)' <<<"$output"
		done
	done
	# a batch with four bad lines lists four, invalid UTF-8 and all
	printf '10.96.1.1:80 bad\n10.96.1.2 x\n\377\376:80 10.0.0.1:80\n10.96.1.3:80 10.0.0.1:80,weight=0\n' \
		>"$BATS_TEST_TMPDIR/bad4"
	run --separate-stderr svc-add -j -f "$BATS_TEST_TMPDIR/bad4"
	assert_failure 2
	assert_json
	jq -e '(.errors | length == 4) and (.error == .errors[0]) and (.errors[2] | test("bad4:3:"))' <<<"$output"
	unchanged
	# -V in JSON is a document, not text followed by {}
	run --separate-stderr svc-list -V -o json
	assert_success
	assert_json
	[ "$(jq -s length <<<"$output")" = 1 ]
	[ "$(jq -r .tool <<<"$output")" = svc-list ]
	jq -e '.version | length > 0' <<<"$output"
}

@test "addresses no flow can use are refused, exit 2, nothing changed; a table too small for its backends too" {
	local fe be
	for fe in 0.0.0.0:80 255.255.255.255:80 224.0.0.1:80 239.1.2.3:80; do
		run svc-add "$fe" 10.0.0.1:80
		assert_failure 2
		assert_output --regexp "frontend '$fe' is (the unspecified|the broadcast|a multicast) address"
	done
	for fe in '[::]:80' '[ff02::1]:80' '[::ffff:10.0.0.1]:80'; do
		run svc-add "$fe" '[fd00::1]:80'
		assert_failure 2
		assert_output --regexp "(unspecified|multicast|IPv4-mapped) address"
	done
	for be in 0.0.0.0:80 224.0.0.5:80 255.255.255.255:80; do
		run svc-add 10.96.1.7:80 10.0.0.1:80 "$be"
		assert_failure 2
		assert_output --partial "backend '$be' is"
	done
	printf '10.96.1.7:80 10.0.0.1:80\n10.96.1.8:80 [::]:80\n' >"$BATS_TEST_TMPDIR/f"
	run svc-add -f "$BATS_TEST_TMPDIR/f"
	assert_failure 2
	unchanged
	# Maglev: more backends than slots is refused, fewer than 100 slots each warned
	lb-mode -q --maglev-table-size 251
	maps_snapshot "$BATS_TEST_TMPDIR/before"
	run svc-add --algorithm maglev 10.96.1.9:80 $(for i in $(seq 1 252); do echo "10.1.$((i / 200)).$((i % 200 + 1)):80"; done)
	assert_failure 2
	assert_output --partial "252 active backends do not fit its Maglev table of 251 slots"
	run svc-add 10.96.1.9:80 10.0.0.1:80,weight=2 $(for i in $(seq 1 251); do echo "10.1.$((i / 200)).$((i % 200 + 1)):80"; done)
	assert_failure 2
	assert_output --partial "do not fit its weighted table of 251 slots"
	unchanged
	run svc-add --algorithm maglev 10.96.1.9:80 10.0.0.1:80 10.0.0.2:80 10.0.0.3:80
	assert_success
	assert_output --partial "3 active backends in a Maglev table of 251 slots, fewer than 100 each"
	# an inactive backend's weight makes no service weighted
	run svc-add 10.96.1.10:80 10.0.0.9:80,state=terminating,weight=5 $(for i in $(seq 1 252); do echo "10.1.$((i / 200)).$((i % 200 + 1)):80"; done)
	assert_success
	# a shared backend's new weight reaches a service too large for a
	# weighted table: it keeps its even draw, warned, and the batch goes on
	run svc-add 10.96.1.11:80 10.1.0.2:80,weight=2 10.0.0.1:80
	assert_success
	assert_output --partial "10.96.1.10:80/tcp: 252 active backends do not fit a weighted table of 251 slots: its weights are ignored"
	run svc-list -j 10.96.1.10:80
	jq -e '.services[0].weighted | not' <<<"$output"
	run svc-list --verify
	assert_success
}

@test "Kubernetes' spellings of types are taken; svc-del of the wrong protocol names the service that differs" {
	run svc-add -t NodePort '*:30081' 10.0.1.5:8080
	assert_success
	run svc-add -t LoadBalancer 10.0.9.9:80 10.0.1.5:80
	assert_success
	run svc-list -j
	[ "$(jq -c '[.services[].type] | sort' <<<"$output")" = '["clusterip","loadbalancer","nodeport","nodeport"]' ]
	svc-add 10.96.0.10:53/udp 10.0.0.1:53
	maps_snapshot "$BATS_TEST_TMPDIR/before"
	run svc-del -v 10.96.0.10:53
	assert_success
	assert_output --partial "no service 10.96.0.10:53/tcp, so nothing was deleted; 10.96.0.10:53/udp differs in protocol: name it with /udp"
	assert_output --partial "unchanged 10.96.0.10:53/tcp (no such service)"
	refute_output --partial "new id"
	unchanged
}

@test "-j prints the document on one line, -p indented; -q in JSON mode still prints it" {
	run --separate-stderr svc-list -j
	assert_success
	[ "${#lines[@]}" -eq 1 ]
	assert_json
	run --separate-stderr svc-list -p
	assert_success
	[ "${#lines[@]}" -gt 1 ]
	[ "${lines[1]:0:2}" = "  " ]
	run --separate-stderr svc-add -qj 10.96.1.1:80 10.0.0.1:80 10.0.0.2:80
	assert_success
	[ "$(jq .changed <<<"$output")" = false ]
	run svc-add -q 10.96.1.1:80 10.0.0.1:80 10.0.0.2:80
	assert_success
	assert_output ""
}

@test "a change to a shared backend's state or weight names the other services it affects, text and JSON" {
	svc-add -q 10.96.5.1:80 10.0.9.1:80 10.0.9.2:80
	svc-add -q 10.96.5.2:80 10.0.9.1:80 10.0.9.3:80
	svc-add -q 10.96.5.3:80 10.0.9.4:80
	run svc-add 10.96.5.1:80 10.0.9.1:80,state=terminating 10.0.9.2:80
	assert_success
	assert_line "updated 10.96.5.1:80/tcp id 3"
	assert_line "updated 10.96.5.2:80/tcp id 4: it shares backend 10.0.9.1:80/tcp, whose state or weight changed"
	refute_output --partial 10.96.5.3
	run --separate-stderr svc-add -j 10.96.5.1:80 10.0.9.1:80,weight=2 10.0.9.2:80
	assert_success
	[ "$(jq -c '[.services[] | [.frontend, .shares_changed_backend]]' <<<"$output")" = \
	  '[["10.96.5.1:80/tcp",null],["10.96.5.2:80/tcp","10.0.9.1:80/tcp"]]' ]
	# the other service follows in the datapath's terms too
	run svc-list -j 10.96.5.2:80
	[ "$(jq -c '[.services[0].backends[] | [.backend, .state, .weight]] | sort' <<<"$output")" = \
	  '[["10.0.9.1:80/tcp","active",2],["10.0.9.3:80/tcp","active",1]]' ]
}

@test "-n and -v show each change as svc-add lines before and after, text and JSON" {
	svc-add -q 10.96.5.1:80 10.0.9.1:80 10.0.9.2:80
	svc-add -q 10.96.5.2:80 10.0.9.1:80
	maps_snapshot "$BATS_TEST_TMPDIR/before"
	printf '10.96.5.1:80 10.0.9.1:80\n10.96.5.9:80 10.0.9.1:80\n' >"$BATS_TEST_TMPDIR/f"
	run --separate-stderr svc-add -n -f "$BATS_TEST_TMPDIR/f" --replace
	assert_success
	assert_line "  - -t clusterip --id 3 10.96.5.1:80/tcp 10.0.9.1:80/tcp 10.0.9.2:80/tcp"
	assert_line "  + -t clusterip --id 3 10.96.5.1:80/tcp 10.0.9.1:80/tcp"
	assert_line "  + -t clusterip 10.96.5.9:80/tcp 10.0.9.1:80/tcp"
	assert_line "  - -t clusterip --id 4 10.96.5.2:80/tcp 10.0.9.1:80/tcp"
	unchanged
	run --separate-stderr svc-add -nj -f "$BATS_TEST_TMPDIR/f" --replace
	assert_success
	[ "$(jq -c '[.services[] | select(.frontend | startswith("10.96.5.")) | [.action, .before != null, .after != null]]' <<<"$output")" = \
	  '[["updated",true,true],["added",false,true],["deleted",true,false]]' ]
	unchanged
	# -v for real: the same lines, and the after line is what svc-list saves now
	run --separate-stderr svc-add -v 10.96.5.1:80 10.0.9.1:80 10.0.9.3:80
	assert_success
	assert_line "  + -t clusterip --id 3 10.96.5.1:80/tcp 10.0.9.1:80/tcp 10.0.9.3:80/tcp"
	[ "$(svc-list -o save 10.96.5.1:80 | grep -v '^#')" = "-t clusterip --id 3 10.96.5.1:80/tcp 10.0.9.1:80/tcp 10.0.9.3:80/tcp" ]
	# without -n or -v: no diff
	run svc-add 10.96.5.1:80 10.0.9.1:80
	refute_output --partial "  - "
}
