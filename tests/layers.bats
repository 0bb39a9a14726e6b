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
