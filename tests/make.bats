#!/usr/bin/env bats
# The Makefile installs nothing by surprise: make and make install name the
# missing packages and stop; make deps, make check, make demo and make bench install
# them. dpkg-query and apt-get are stubs on PATH here, so nothing is
# installed and no build starts.

load helpers

setup() {
	top=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	stub=$BATS_TEST_TMPDIR/stub
	mkdir -p "$stub"
	# Every package is installed but libmnl-dev (unknown to dpkg) and bats
	# (known, not installed): the two ways dpkg-query reports one missing.
	cat >"$stub/dpkg-query" <<'STUB'
#!/bin/sh
shift 2
for p; do
	case $p in
	libmnl-dev) echo "dpkg-query: no packages found matching $p" >&2 ;;
	bats) echo "$p not-installed" ;;
	*) echo "$p installed" ;;
	esac
done
STUB
	printf '#!/bin/sh\necho "$@" >>"%s/apt.log"\n' "$stub" >"$stub/apt-get"
	chmod +x "$stub/dpkg-query" "$stub/apt-get"
}

@test "make -n and make -n install run no apt-get" {
	run make -n -C "$top" all
	assert_success
	refute_output --partial apt-get
	run make -n -C "$top" install DESTDIR="$BATS_TEST_TMPDIR/root"
	assert_success
	refute_output --partial apt-get
}

@test "make with a build package missing names it, exits non-zero, installs nothing" {
	local goal
	for goal in all install; do
		run env PATH="$stub:$PATH" make --no-print-directory -C "$top" "$goal" DESTDIR="$BATS_TEST_TMPDIR/root"
		assert_failure
		assert_output --partial "missing Debian packages: libmnl-dev"
		assert_output --partial "make deps"
		[ ! -e "$stub/apt.log" ] || fail "make $goal ran apt-get: $(cat "$stub/apt.log")"
		[ ! -e "$BATS_TEST_TMPDIR/root" ] || fail "make $goal installed files"
	done
}

@test "make check, make demo and make bench install what is missing, test packages included" {
	local goal
	for goal in check demo bench; do
		rm -f "$stub/apt.log"
		# deps-check alone, as the goal would run it: no build, no tests
		run env PATH="$stub:$PATH" make --no-print-directory -C "$top" deps-check MAKECMDGOALS="$goal"
		assert_success
		assert_output --partial "installing missing packages: libmnl-dev bats"
		run cat "$stub/apt.log"
		assert_line "update -qq"
		assert_line --partial "install -y -qq --no-install-recommends libmnl-dev bats"
	done
}

@test "make deps installs every package of the lists" {
	run env PATH="$stub:$PATH" make --no-print-directory -C "$top" deps
	assert_success
	run cat "$stub/apt.log"
	assert_line "update -qq"
	assert_line --regexp "^install .* libbpf-dev .* bats .* socat"
}
