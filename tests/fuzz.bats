#!/usr/bin/env bats
# Every parser under libFuzzer (tests/fuzz), with ASan and UBSan, for a few
# seconds each from its committed corpus and fixtures, with a fixed seed so
# that a run repeats: a crash, a leak or a broken round trip fails the test
# and the log names the input. make fuzz runs them longer.

load helpers

# fuzz NAME: the harness for KPR_FUZZ_SECS (15) through tests/fuzz/run.sh,
# which must have read every seed of the committed corpus.
fuzz() {
	local top=$BATS_TEST_DIRNAME/.. out=$BATS_TEST_TMPDIR/fuzz seeds
	[ -x "$KPR_BIN/fuzz/fuzz_$1" ] || fail "$KPR_BIN/fuzz/fuzz_$1 missing: run make check"
	run env KPR_FUZZ_OUT="$out" FUZZ_SEED=1 "$top/tests/fuzz/run.sh" "${KPR_FUZZ_SECS:-15}" "$1"
	grep -v '^#' "$out/$1.log" | tail -40
	assert_success
	seeds=$(find "$top/tests/fuzz/corpus/$1" -type f | wc -l)
	[ "$seeds" -gt 0 ]
	grep -Eq "INFO: +$seeds files found in .*/tests/fuzz/corpus/$1\$" "$out/$1.log"
}

@test "fuzz: frontends and backends, canonical form parses back the same" { fuzz addr; }
@test "fuzz: a batch line" { fuzz svc_line; }
@test "fuzz: a batch file, NUL bytes and all" { fuzz batch; }
@test "fuzz: iptables-save text, kp-cleanup's plan and delta" { fuzz iptables; }
@test "fuzz: ipvsadm-save text round-trips" { fuzz ipvs; }
@test "fuzz: base64 seeds, strict and round-tripping" { fuzz base64; }
@test "fuzz: CIDRs, canonical form parses back the same" { fuzz cidr; }
@test "fuzz: Kubernetes Services and EndpointSlices JSON" { fuzz k8s; }
@test "fuzz: ip-masq-agent configuration, YAML and JSON" { fuzz masq_agent; }
