# Shared by every bats suite: load with `load helpers`.
#
# - needs_root: tests need root and BPF. Without them they skip, except under
#   CI (CI=true), where lacking them is a failure.
# - kpr_root_setup / kpr_root_teardown: a private pin root per test under
#   /sys/fs/bpf, exported as KPR_PIN_ROOT, removed afterwards even on failure.
# - maps_snapshot FILE: every pinned map's contents, to check "changed nothing"
#   byte for byte (needs build/tests/helper_map_dump: make unit or make check).

bats_require_minimum_version 1.5.0	# run --separate-stderr

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

: "${KPR_BIN:=$(cd "$BATS_TEST_DIRNAME/.." && pwd)/build}"
export PATH="$KPR_BIN:$PATH"

needs_root() {
	local why=
	[ "$(id -u)" -eq 0 ] || why="needs root"
	if [ -z "$why" ] && ! bpftool map list >/dev/null 2>&1; then
		why="needs BPF (bpftool map list failed)"
	fi
	[ -z "$why" ] && return 0
	if [ "${CI:-}" = true ]; then
		fail "$why, and CI runs as root with BPF: this is a failure"
	fi
	skip "$why"
}

kpr_root_setup() {
	needs_root
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
	KPR_PIN_ROOT=/sys/fs/bpf/kpr-test-$$-${BATS_TEST_NUMBER:-0}-$RANDOM
	export KPR_PIN_ROOT
	rm -rf "$KPR_PIN_ROOT"
}

kpr_root_teardown() {
	[ -n "${KPR_PIN_ROOT:-}" ] && rm -rf "$KPR_PIN_ROOT"
	return 0
}

# One text per map, in name order: every entry of every pinned map, in hex
# (tests/unit/helper_map_dump.c). A helper that is missing or fails fails the
# test: two empty snapshots would always compare equal.
maps_snapshot() {
	local out=$1 m dump=$KPR_BIN/tests/helper_map_dump
	[ -x "$dump" ] || { echo "maps_snapshot: no $dump (make unit builds it)" >&2; return 1; }
	: >"$out"
	[ -d "$KPR_PIN_ROOT" ] || return 0
	for m in $(ls "$KPR_PIN_ROOT" | sort); do
		[ -f "$KPR_PIN_ROOT/$m" ] || continue
		echo "== $m" >>"$out"
		"$dump" "$KPR_PIN_ROOT/$m" >>"$out" || return 1
	done
}

# A pinned map's entries as bpftool decodes them from BTF: [{key, value}].
dump() { bpftool -j map dump pinned "$KPR_PIN_ROOT/$1" | jq '[.[].formatted]'; }

# Fails unless "$output" is one valid JSON document.
assert_json() {
	jq -e . >/dev/null <<<"$output" || fail "not valid JSON: $output"
}

# The long options of TOOL --help, one per line, sorted.
help_opts() {
	"$1" --help | sed -n 's/^  \(-[A-Za-z]\)\{0,1\},\{0,1\} *\(--[a-z0-9-]*\).*/\2/p' | sort -u
}

# "--OPTION a b c" for each option whose --help line is followed by a
# "one of: a, b, c" line.
help_values() {
	"$1" --help | awk '
		/^  (-[A-Za-z], |    )--/ { opt = $1 ~ /,$/ ? $2 : $1; next }
		opt != "" && /^ +one of: / { sub(/^ +one of: /, ""); gsub(/,/, ""); print opt, $0 }
		{ opt = "" }' | sort
}

# The same from a man page: the "One of:" line of an OPTIONS item, its values
# in bold.
man_values() {
	sed -n '/^\.SH OPTIONS/,/^\.SH /p' "$1" | sed 's/\\-/-/g' | awk '
		prev == ".TP" || prev == ".TQ" {
			opt = ""
			for (i = 1; i <= NF; i++)
				if ($i ~ /^"?--[a-z]/) { opt = $i; gsub(/[",]/, "", opt) }
		}
		/^One of: / && opt != "" {
			line = $0; vals = ""
			while (match(line, /\\fB[^\\]*\\fR/)) {
				vals = vals " " substr(line, RSTART + 3, RLENGTH - 6)
				line = substr(line, RSTART + RLENGTH)
			}
			print opt vals
		}
		{ prev = $0 }' | sort
}

# Fails unless man/TOOL.8 and completions/TOOL offer exactly the long options
# of TOOL --help. The man page's options are its item headers (the line after
# each .TP or .TQ of OPTIONS), so an option named in prose does not count;
# an option with values (--help's "one of:" line) has an item whose "One of:"
# line names exactly those values.
# The completion reads --help itself: this checks that it loads, is
# registered under TOOL's name and parses that output.
assert_docs_match_help() {
	local tool=$1 top fn
	top=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	help_opts "$tool" >"$BATS_TEST_TMPDIR/help"
	sed -n '/^\.SH OPTIONS/,/^\.SH /p' "$top/man/$tool.8" |
		awk 'prev == ".TP" || prev == ".TQ" { print } { prev = $0 }' |
		sed 's/\\-/-/g' | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u >"$BATS_TEST_TMPDIR/man"
	diff -u "$BATS_TEST_TMPDIR/help" "$BATS_TEST_TMPDIR/man" || fail "man/$tool.8 and --help differ"
	help_values "$tool" >"$BATS_TEST_TMPDIR/help-values"
	man_values "$top/man/$tool.8" >"$BATS_TEST_TMPDIR/man-values"
	diff -u "$BATS_TEST_TMPDIR/help-values" "$BATS_TEST_TMPDIR/man-values" ||
		fail "man/$tool.8 and --help name other values"
	(
		source "$top/completions/$tool"
		COMP_WORDS=("$tool" --) COMP_CWORD=1
		_kpr "$tool" -- "$tool"
		printf '%s\n' "${COMPREPLY[@]}" | grep -- '^--' | sort -u
	) >"$BATS_TEST_TMPDIR/comp"
	diff -u "$BATS_TEST_TMPDIR/help" "$BATS_TEST_TMPDIR/comp" || fail "completions/$tool and --help differ"
}

# A child cgroup for a test's cgroup hooks, never the cgroup2 root (every
# process of the machine sits there): creates it and sets CG to its path;
# the caller's teardown removes it (rmdir "$CG").
cgroup_child() {	# NAME
	local cg2
	cg2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
	[ -n "$cg2" ] || fail "no cgroup2 mount: cgroup hooks cannot be tested"
	CG=$cg2/$1-$$-$BATS_TEST_NUMBER
	mkdir "$CG"
}
