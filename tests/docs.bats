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
			# roff may escape any dash: \-\-pin\-root or \-\-pin-root
			grep -qE -- "$(sed 's/-/\\\\?-/g' <<<"$o")" "$BATS_TEST_DIRNAME/../man/$t.8" ||
				{ echo "$t: $o missing from man/$t.8"; bad=1; }
		done
	done
	[ "$bad" -eq 0 ]
}

# What the completion offers for a command line: complete_words TOOL WORD...
# (the last word is the one being completed).
complete_words() {
	local tool=$1
	shift
	bash -c '
		PATH=$1:$PATH
		source "$2/completions/$3"
		shift 3
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		fn=$(complete -p "$1" | sed -n "s/.*-F \([^ ]*\) .*/\1/p")
		"$fn" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
		printf "%s\n" "${COMPREPLY[@]}"' _ "$KPR_BIN" "$BATS_TEST_DIRNAME/.." "$tool" "$tool" "$@"
}

@test "every --help option is offered by the bash completion" {
	local t o got bad=0
	for t in $(tools); do
		[ -e "$BATS_TEST_DIRNAME/../completions/$t" ] || { echo "no completions/$t"; bad=1; continue; }
		got=$(complete_words "$t" --)
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
	[ "$(complete_words svc-add -t "" | xargs)" = "clusterip nodeport loadbalancer externalip" ]
	[ "$(complete_words svc-list -o "" | xargs)" = "table json save" ]
	[ "$(complete_words svc-add --algorithm m | xargs)" = "maglev" ]
	[ "$(complete_words maglev-gen --size "" | xargs)" = "251 509 1021 2039 4093 8191 16381 32749 65521 131071" ]
	[ "$(complete_words maglev-gen -o "" | xargs)" = "counts table json" ]
	[ "$(complete_words maglev-gen --new | xargs)" = "--new-seed" ]
}

@test "man pages render without warnings" {
	local m
	for m in "$BATS_TEST_DIRNAME"/../man/*.[78]; do
		run bash -c "LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l '$m' 2>&1 >/dev/null"
		[ -z "$output" ] || { echo "$m: $output"; false; }
	done
}

@test "make install honours DESTDIR and PREFIX: binaries, man pages, completions" {
	local d=$BATS_TEST_TMPDIR/root
	run make -s -C "$BATS_TEST_DIRNAME/.." install DESTDIR="$d" PREFIX=/usr
	assert_success
	local t
	for t in $(tools); do
		[ -x "$d/usr/sbin/$t" ] || { echo "no $t"; false; }
		[ -f "$d/usr/share/man/man8/$t.8" ] || { echo "no $t.8"; false; }
		[ -e "$d/usr/share/bash-completion/completions/$t" ] || { echo "no completion $t"; false; }
	done
	[ -f "$d/usr/share/man/man7/kpr.7" ]
}
