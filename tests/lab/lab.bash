# Helpers for bats suites on the netns lab (load lab/lab): one lab per
# suite, brought up in setup_file and down in teardown_file, even on failure.

LAB="$BATS_TEST_DIRNAME/lab/lab.sh"

# lab_setup_file [dsr]: the routed lab, or the bridged one of KPR_LAB_TOPO=dsr
# (lab.sh), whose backend node's pin root is $BNODE_PIN.
lab_setup_file() {
	needs_root_file
	[ -z "${KPR_LAB_SKIP:-}" ] || return 0	# each test skips, or fails under CI
	export KPR_LAB_PREFIX=kt$$
	export KPR_PIN_ROOT=/sys/fs/bpf/kpr-lab-$KPR_LAB_PREFIX
	export NODE=${KPR_LAB_PREFIX}node
	export KPR_LAB_TOPO=${1:-routed}
	export BNODE=${KPR_LAB_PREFIX}bnode BNODE_PIN=$KPR_PIN_ROOT-bnode
	"$LAB" down >/dev/null 2>&1 || true
	"$LAB" up >&3 || { "$LAB" down; return 1; }
}

lab_teardown_file() {
	[ -n "${KPR_LAB_PREFIX:-}" ] && "$LAB" down
	return 0
}

# setup_file cannot skip, so it reports instead; the tests then skip (or,
# under CI, fail) through needs_root.
needs_root_file() {
	if [ "$(id -u)" -ne 0 ] || ! bpftool map list >/dev/null 2>&1; then
		export KPR_LAB_SKIP=1
		return 0
	fi
}

lab() { "$LAB" exec "$@"; }

# Between tests: no services, default switches, the node's tx offload on (a
# test that turned it off may have failed before turning it back), the
# datapath attached native.
lab_reset() {
	needs_root
	lab node ethtool -K eth0 tx on >/dev/null
	lab node ethtool -K eth1 tx on >/dev/null
	svc-del -q --all 2>/dev/null || true
	lb-mode -q --external-clusterip off --icmp-echo on --nat-ports 32768-65535 \
		--algorithm random --maglev-table-size 16381 --maglev-seed JLfvgnHc2kaSUFaI 2>/dev/null || true
	xdp-attach -q -N "$NODE" --mode "${1:-native}" eth0 eth1
}

# curl from the client: the echo server's answer ("backend=bN peer=A:P").
ccurl() { lab client curl -sS -m 3 "$@"; }

# One HTTP/1.0 request to $VIP:80 from the client's PORT, read to the
# server's FIN: the backend closes first, always.
chttp_from() {	# PORT
	printf 'GET / HTTP/1.0\r\n\r\n' |
		lab client socat -t 3 -T 3 - "TCP4:$VIP:80,sourceport=$1,shut-none"
}

# Polls until no client socket holds local PORT (a passive closer's
# LAST_ACK lasts one round trip).
wait_port_free() {	# PORT
	local end=$((SECONDS + 5))
	while [ -n "$(lab client ss -Htan "sport = :$1")" ]; do
		[ $SECONDS -lt $end ] ||
			fail "client port $1 still held: $(lab client ss -Htan "sport = :$1")"
		sleep 0.05
	done
}

# One UDP exchange from the client through a connected socket, which only
# accepts the reply if it comes from the address it was sent to.
cudp() {	# ADDR PORT [4|6]
	echo "ping" | lab client socat -t 2 - "UDP${3:-4}:$1:$2"
}

# Polls new TCP flows from the client to $VIP:8080 until backend b1 answers
# one: wait_new_flow SECONDS WHAT, WHAT naming in the failure what should
# have come back. Bounded by time, not tries: a try that fails fast must not
# use up the bound before a held port is free.
wait_new_flow() {
	local end=$((SECONDS + $1)) out
	until out=$(lab client socat -T 1 - TCP4:$VIP:8080,connect-timeout=1 <<<"again" 2>&1) &&
		[[ "$out" == *"backend=b1"* ]]; do
		[ $SECONDS -lt $end ] || fail "$2 was not given back in $1 s: $out"
		sleep 0.2
	done
}

# The nat allocation failures of the first service (svc-list --stats).
nat_fail() {
	local out
	out=$(svc-list --stats -j) || fail "svc-list --stats failed: $out"
	jq '.services[0].stats.nat_alloc_failures' <<<"$out"
}

# The backend name of each answer, counted: "N bN" lines.
spread() { grep -o 'backend=b[0-9]' | sort | uniq -c; }

# A long-lived connection from the client to $VIP:8080 whose echo server
# answers every line: conn_open, conn_say WORD (prints the answer), conn_close.
conn_open() {
	mkfifo "$BATS_TEST_TMPDIR/in"
	lab client socat -t 5 - TCP4:$VIP:8080 <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
	CONN_PID=$!
	exec 5>"$BATS_TEST_TMPDIR/in"
}
conn_say() {
	local n=0
	echo "$1" >&5
	while ! grep -q " $1\$" "$BATS_TEST_TMPDIR/out"; do
		n=$((n + 1)); [ $n -lt 50 ] || { cat "$BATS_TEST_TMPDIR/out"; return 1; }
		sleep 0.1
	done
	grep " $1\$" "$BATS_TEST_TMPDIR/out" | grep -o 'backend=b[0-9]'
}
conn_close() {
	exec 5>&-
	wait "$CONN_PID" 2>/dev/null || true
}
