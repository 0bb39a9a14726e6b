#!/usr/bin/env bash
# make fuzz: every harness of tests/fuzz (or those named) for SECS seconds
# from its committed corpus and the test fixtures of its format. New inputs
# go to $KPR_FUZZ_OUT/found/NAME, crashes to $KPR_FUZZ_OUT/crashes/NAME, the
# log to $KPR_FUZZ_OUT/NAME.log ($KPR_BIN/fuzz by default); the corpus in
# the tree is never written. Prints per harness: runs, coverage, features,
# corpus size, crashes; exits 1 if any harness crashed. FUZZ_SEED fixes
# libFuzzer's random seed (0: a new one each run).
#   tests/fuzz/run.sh SECS [NAME...]
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
: "${KPR_BIN:=$top/build}"
: "${KPR_FUZZ_OUT:=$KPR_BIN/fuzz}"
secs=${1:?usage: run.sh SECS [NAME...]}
shift
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for f in "$top"/tests/fuzz/fuzz_*.c; do
		n=$(basename "$f" .c)
		names+=("${n#fuzz_}")
	done
fi

# The fixtures that are inputs of a harness's format, as extra seeds.
seeds() {
	case "$1" in
	k8s) echo "$top/tests/fixtures/k8s" ;;
	iptables) echo "$top/tests/fixtures/kube-proxy $top/tests/fixtures/kp-cleanup" ;;
	esac
}

# Inputs as long as the largest fixture of the format; 4 KiB for lines.
max_len() {
	case "$1" in
	k8s) echo 65536 ;;
	iptables) echo 16384 ;;
	*) echo 4096 ;;
	esac
}

bad=0
printf '%-12s %10s %8s %8s %7s %s\n' harness runs cov ft corpus crashes
for n in "${names[@]}"; do
	bin=$KPR_BIN/fuzz/fuzz_$n
	[ -x "$bin" ] || { echo "$bin missing: run make fuzz" >&2; exit 2; }
	found=$KPR_FUZZ_OUT/found/$n crashes=$KPR_FUZZ_OUT/crashes/$n
	mkdir -p "$found" "$crashes"
	log=$KPR_FUZZ_OUT/$n.log
	# shellcheck disable=SC2046
	"$bin" -max_total_time="$secs" -max_len="$(max_len "$n")" -seed="${FUZZ_SEED:-0}" \
		-timeout=10 -rss_limit_mb=2048 -close_fd_mask=2 \
		-print_final_stats=1 -artifact_prefix="$crashes/" \
		"$found" "$top/tests/fuzz/corpus/$n" $(seeds "$n") >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	last=$(grep -E '^#[0-9]+' "$log" | tail -1)
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
	corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
	nc=$(find "$crashes" -type f | wc -l)
	printf '%-12s %10s %8s %8s %7s %s\n' "$n" "${runs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$nc"
	if [ "$rc" -ne 0 ] || [ "$nc" -gt 0 ]; then
		bad=1
		echo "fuzz_$n: exit $rc; see $log and $crashes" >&2
	fi
done
exit $bad
