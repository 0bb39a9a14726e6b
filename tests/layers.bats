#!/usr/bin/env bats
# libkpr's layers (HACKING.md): a library file includes only its own layer
# and the layers below it, and no two library files depend on each other in
# a cycle, by include or by symbol.

load helpers

top() { cd "$BATS_TEST_DIRNAME/.." && pwd; }

# The layer order, from the bottom, as HACKING.md states it.
layers() {
	sed -n 's/^Layers, from the bottom: //p' "$(top)/HACKING.md"
}

@test "HACKING.md names every folder of common/ as a layer, and only those" {
	local want have
	want=$(layers | tr ' ' '\n' | sort)
	[ -n "$want" ] || fail "HACKING.md has no 'Layers, from the bottom:' line"
	have=$(cd "$(top)/common" && ls -d */ | tr -d / | sort)
	[ "$want" = "$have" ] || fail "HACKING.md: $(echo $want); common/: $(echo $have)"
}

@test "no library file includes a header of a layer above its own" {
	local order bad= f l inc il rank
	declare -A rank
	order=($(layers))
	for i in "${!order[@]}"; do rank[${order[$i]}]=$i; done
	cd "$(top)/common"
	for f in */*.[ch]; do
		l=${f%%/*}
		while read -r inc; do
			il=${inc%%/*}
			[ -n "${rank[$il]:-}" ] || continue
			[ "${rank[$il]}" -le "${rank[$l]}" ] || bad+="$f includes $inc"$'\n'
		done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
		# A header outside the layers (besides bpf/ and generated ones) would
		# hide a climb: every quoted include names its layer.
		while read -r inc; do
			case $inc in
			*/*|*.skel.h) ;;
			*) bad+="$f includes \"$inc\" without its layer folder"$'\n' ;;
			esac
		done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
	done
	[ -z "$bad" ] || fail "$bad"
}

# Edges "a.o b.o" where a.o uses a symbol that b.o defines.
symbol_edges() {
	local o
	cd "$KPR_BIN/common"
	for o in */*.o; do
		nm --defined-only "$o" | awk -v o="$o" '$2 ~ /^[TDBR]$/ { print $3, o }'
	done | sort -k1,1 > "$BATS_TEST_TMPDIR/defs"
	for o in */*.o; do
		nm -u "$o" | awk -v o="$o" '{ print $2, o }'
	done | sort -k1,1 > "$BATS_TEST_TMPDIR/uses"
	join "$BATS_TEST_TMPDIR/uses" "$BATS_TEST_TMPDIR/defs" | awk '$2 != $3 { print $2, $3 }' | sort -u
}

@test "no cycle between library objects (nm), and no symbol use that climbs a layer" {
	local edges order bad= a b
	declare -A rank
	ls "$KPR_BIN"/common/*/*.o >/dev/null || fail "no objects under $KPR_BIN/common: run make"
	edges=$(symbol_edges)
	[ -n "$edges" ] || fail "no symbol edges found: nm gave nothing"
	run tsort <<<"$edges"
	[ "$status" -eq 0 ] || fail "a cycle: $output"
	order=($(layers))
	for i in "${!order[@]}"; do rank[${order[$i]}]=$i; done
	while read -r a b; do
		[ "${rank[${b%%/*}]}" -le "${rank[${a%%/*}]}" ] || bad+="$a uses $b"$'\n'
	done <<<"$edges"
	[ -z "$bad" ] || fail "$bad"
}

@test "the cycle check finds a cycle when there is one" {
	run tsort <<<$'a.o b.o\nb.o c.o\nc.o a.o'
	[ "$status" -ne 0 ]
}

# The datapath's blocks (HACKING.md, "The context shim"): in bpf/lib, only
# ctx.h and the dispatchers (xdp.h) know the program type; every other
# block names neither XDP's nor tc's verdicts, contexts or context-bound
# helpers, and none includes a dispatcher. Prints the offending lines.
shim_violations() {
	local dir=$1 f
	for f in "$dir"/*.h; do
		case ${f##*/} in ctx.h|xdp.h) continue ;; esac
		grep -HnE '\bXDP_[A-Z]|\bTC_ACT_|struct (xdp_md|__sk_buff)|\bbpf_(xdp|skb)_[a-z_]+\(' "$f"
		grep -HnE '^#include "(xdp|tc)\.h"' "$f"
	done
	grep -HnE '^#include "' "$dir/ctx.h"
	return 0
}

@test "bpf/lib blocks other than ctx.h and the dispatchers never name XDP or tc" {
	local bad
	[ -f "$(top)/bpf/lib/ctx.h" ] || fail "no bpf/lib/ctx.h"
	bad=$(shim_violations "$(top)/bpf/lib")
	[ -z "$bad" ] || fail "$bad"
}

@test "the shim check finds a block that returns an XDP verdict" {
	local d=$BATS_TEST_TMPDIR/lib
	mkdir -p "$d"
	cp "$(top)"/bpf/lib/*.h "$d/"
	printf 'static int f(struct xdp_md *ctx) { return XDP_PASS; }\n' >>"$d/lb.h"
	printf '#include "parse.h"\n' >>"$d/ctx.h"
	run shim_violations "$d"
	assert_output --partial "lb.h"
	assert_output --partial "ctx.h"
}
