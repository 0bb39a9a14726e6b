#!/usr/bin/env bats
# Every option a tool's --help shows is in its man page and offered by its
# bash completion; every tool has both.

load helpers

tools() {
	local t
	for t in "$BATS_TEST_DIRNAME"/../cmd/*.c; do basename "$t" .c; done
}

help_opts() { "$KPR_BIN/$1" --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u; }

@test "every --help option is in the man page" {
	local t o bad=0
	for t in $(tools); do
		[ -f "$BATS_TEST_DIRNAME/../man/$t.8" ] || { echo "no man/$t.8"; bad=1; continue; }
		for o in $(help_opts "$t"); do
			# roff escapes dashes: \-\-pin\-root
			grep -q -- "$(sed 's/-/\\\\-/g' <<<"$o")" "$BATS_TEST_DIRNAME/../man/$t.8" ||
				{ echo "$t: $o missing from man/$t.8"; bad=1; }
		done
	done
	[ "$bad" -eq 0 ]
}

@test "every --help option is offered by the bash completion" {
	local t o bad=0
	for t in $(tools); do
		[ -e "$BATS_TEST_DIRNAME/../completions/$t" ] || { echo "no completions/$t"; bad=1; continue; }
		local got
		got=$(bash -c '
			PATH=$1:$PATH
			source "$2"
			COMP_WORDS=("$3" "--"); COMP_CWORD=1
			fn=$(complete -p "$3" | sed -n "s/.*-F \([^ ]*\) .*/\1/p")
			"$fn" "$3" "--" "$3"
			printf "%s\n" "${COMPREPLY[@]}"' _ "$KPR_BIN" "$BATS_TEST_DIRNAME/../completions/$t" "$t")
		for o in $(help_opts "$t"); do
			grep -qx -- "$o" <<<"$got" || { echo "$t: completion lacks $o"; bad=1; }
		done
		# and nothing that --help does not show
		for o in $got; do
			help_opts "$t" | grep -qx -- "$o" || { echo "$t: completion offers unknown $o"; bad=1; }
		done
	done
	[ "$bad" -eq 0 ]
}

@test "the completion completes option values" {
	local got
	got=$(bash -c '
		PATH=$1:$PATH
		source "$2"
		COMP_WORDS=(svc-add -t ""); COMP_CWORD=2
		_kpr svc-add "" -t
		echo "${COMPREPLY[*]}"' _ "$KPR_BIN" "$BATS_TEST_DIRNAME/../completions/svc-add")
	[ "$got" = "clusterip nodeport loadbalancer externalip" ]
	got=$(bash -c '
		PATH=$1:$PATH
		source "$2"
		COMP_WORDS=(svc-list -o ""); COMP_CWORD=2
		_kpr svc-list "" -o
		echo "${COMPREPLY[*]}"' _ "$KPR_BIN" "$BATS_TEST_DIRNAME/../completions/svc-list")
	[ "$got" = "table json save" ]
}

@test "man pages render without warnings" {
	local m
	for m in "$BATS_TEST_DIRNAME"/../man/*.[78]; do
		run bash -c "LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l '$m' 2>&1 >/dev/null"
		[ -z "$output" ] || { echo "$m: $output"; false; }
	done
}
