#!/usr/bin/env bash
# The README's test command (make check): the C unit tests and every bats
# suite, all speaking TAP, tallied into one closing line "N passed, N failed,
# N skipped". Exits non-zero on any failure. Arguments narrow it to some
# suites: tests/run.sh tests/svc-add.bats
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
: "${KPR_BIN:=$top/build}"
export KPR_BIN PATH="$KPR_BIN:$PATH"

# A sanitizer's finding exits with a code no tool uses, so that a test that
# expects a plain failure still sees it; leaks count too.
if [ "${KPR_SANITIZE:-}" = 1 ]; then
	export ASAN_OPTIONS=${ASAN_OPTIONS:-exitcode=86:detect_leaks=1}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:exitcode=87}
fi

pass=0 fail=0 skip=0
failed=()

tally() {	# reads TAP on stdin, echoes it, counts it
	local name=$1 line
	while IFS= read -r line; do
		printf '%s\n' "$line"
		case "$line" in
		"not ok "*) fail=$((fail + 1)); failed+=("$name: ${line#not ok }") ;;
		"ok "*"# skip"*|"ok "*"# SKIP"*) skip=$((skip + 1)) ;;
		"ok "*) pass=$((pass + 1)) ;;
		esac
	done
}

if [ $# -gt 0 ]; then
	suites=("$@")
else
	suites=()
	for t in "$KPR_BIN"/tests/test_*; do [ -x "$t" ] && suites+=("$t"); done
	for t in "$top"/tests/*.bats; do
		[ -e "$t" ] || continue
		# the fuzzers carry ASan and UBSan in both builds: once is enough
		[ "${KPR_SANITIZE:-}" = 1 ] && [ "${t##*/}" = fuzz.bats ] && continue
		suites+=("$t")
	done
fi

for s in "${suites[@]}"; do
	name=$(basename "$s")
	echo "# --- $name"
	before=$fail
	case "$s" in
	*.bats) out=$(bats --tap "$s" 2>&1); rc=$? ;;
	*) out=$("$s" 2>&1); rc=$? ;;
	esac
	tally "$name" <<<"$out"
	if [ $rc -ne 0 ] && [ $fail -eq $before ]; then
		echo "not ok - $name exited $rc without a failing test"
		fail=$((fail + 1)); failed+=("$name: exited $rc")
	fi
done

if [ ${#failed[@]} -gt 0 ]; then
	echo "# failed:"
	printf '#   %s\n' "${failed[@]}"
fi
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
