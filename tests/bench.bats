#!/usr/bin/env bats
# The benchmark is not a test, but it must keep running: a datapath change
# that breaks its wrappers (the 512-byte stack, a path that no longer
# forwards) shows here. Tiny repeats, figures ignored.

load helpers

@test "tests/bench/datapath.sh runs and every measured path takes its intended turn" {
	needs_root
	run env REPEAT=100 RUNS=1 SERVICES=200 "$BATS_TEST_DIRNAME/bench/datapath.sh"
	assert_success
	assert_output --partial "empty XDP program"
	# three rounds: random, Maglev, many services; each has one unwrapped
	# path that passes and six that forward; and masquerade's: two
	# packets masqueraded at tc egress, one left alone, the reply forwarded
	[ "$(grep -c 'not for a service.*\[PASS\]' <<<"$output")" -eq 3 ]
	# 19, and the DSR round's SNAT SYN and established, DSR opt and ipip SYN and established
	[ "$(grep -c '\[REDIRECT\]' <<<"$output")" -eq 25 ]
	[ "$(grep -cE '^DSR +DSR (opt|ipip): .*\[REDIRECT\]' <<<"$output")" -eq 4 ]
	[ "$(grep -c '^DSR  *backend: .*\[PASS\]' <<<"$output")" -eq 3 ]
	[ "$(grep -c '^masquerade .*\[TC_ACT_OK\]' <<<"$output")" -eq 3 ]
	assert_output --regexp 'masquerade: reply, back to the pod.*\[REDIRECT\]'
	assert_output --partial "1 service, Maglev"
	assert_output --partial "200 services"
}
