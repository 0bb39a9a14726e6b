#!/usr/bin/env bats
# Every tool has a man page and a bash completion, and both offer exactly
# the options its --help shows.

load helpers

tools() {
	local t
	for t in "$BATS_TEST_DIRNAME"/../cmd/*.c; do basename "$t" .c; done
}

@test "man page OPTIONS and bash completion offer exactly --help's options, for every tool" {
	local t
	for t in $(tools); do
		[ -f "$BATS_TEST_DIRNAME/../man/$t.8" ] || fail "no man/$t.8"
		[ -e "$BATS_TEST_DIRNAME/../completions/$t" ] || fail "no completions/$t"
		assert_docs_match_help "$t"
	done
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

@test "the completion completes option values" {
	[ "$(complete_words svc-add -t "" | xargs)" = "clusterip nodeport loadbalancer externalip" ]
	[ "$(complete_words svc-list -o "" | xargs)" = "table json save prometheus" ]
	[ "$(complete_words svc-add --algorithm m | xargs)" = "maglev" ]
	[ "$(complete_words maglev-gen --size "" | xargs)" = "251 509 1021 2039 4093 8191 16381 32749 65521 131071" ]
	[ "$(complete_words maglev-gen -o "" | xargs)" = "counts table json" ]
	[ "$(complete_words maglev-gen --new | xargs)" = "--new-seed" ]
	[ "$(complete_words xdp-attach -m "" | xargs)" = "native generic best-effort" ]
	[ "$(complete_words lb-mode --icmp-echo "" | xargs)" = "on off" ]
	[ "$(complete_words lb-mode --mode "" | xargs)" = "snat dsr hybrid" ]
	[ "$(complete_words lb-mode --dsr-dispatch "" | xargs)" = "opt ipip" ]
	[ "$(complete_words svc-add --mode "" | xargs)" = "snat dsr" ]
	[ "$(complete_words lb-mode --socket-lb "" | xargs)" = "on off" ]
	[ "$(complete_words kp-cleanup --only ipvs,n | xargs)" = "ipvs,nft" ]
}

@test "the completion offers no value a tool refuses" {
	[ -z "$(complete_words svc-add --mode h)" ]
	# the code, without its comments and the line naming the tools
	run bash -c "grep -vE '^[[:space:]]*#|^complete ' '$BATS_TEST_DIRNAME/../completions/kpr' |
		grep -wE 'dsr|hybrid|snat|[0-9]{3}|clusterip|nodeport|random|maglev|native|generic|on|off'"
	[ "$status" -eq 1 ] || fail "completions/kpr writes values down instead of reading --help: $output"
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

# The repository stands alone: a user who clones it has no other document,
# so no file may send them to one outside it. The patterns are written with
# brackets so that this file does not match itself.
@test "no tracked file refers to a document outside the repository" {
	local top=$BATS_TEST_DIRNAME/..
	git -C "$top" rev-parse --git-dir >/dev/null 2>&1 || skip "not a git checkout"
	run git -C "$top" grep -nIE '[.][.]/shared|shared[/]|DESIGN[.]md|maglev[-]compat'
	[ "$status" -eq 1 ] || fail "files refer outside the repository (git grep exit $status): $output"
}
