#!/usr/bin/env bats
# The nat port allocator on the netns lab (tests/lab/lab.sh), under short
# connections at full speed from one client (tests/unit/helper_storm.c): no
# SYN may be dropped while ports are free, a full range drops new flows,
# counted, and recovers once flows close.

load helpers
load lab/lab

VIP=10.77.100.1
STORM=$KPR_BIN/tests/helper_storm
# ten backends: b1-b3's own addresses and seven more on the same three
# namespaces, each running one storm server on port 9000 (0.0.0.0)
EXTRA="b1:10.77.2.21 b2:10.77.2.22 b3:10.77.2.23 b1:10.77.2.24 b2:10.77.2.25 b3:10.77.2.26 b1:10.77.2.27"
BE10="10.77.2.11 10.77.2.12 10.77.2.13 10.77.2.21 10.77.2.22 10.77.2.23 10.77.2.24 10.77.2.25 10.77.2.26 10.77.2.27"


setup_file() {
	lab_setup_file
	[ -z "${KPR_LAB_SKIP:-}" ] || return 0
	local e b
	for e in $EXTRA; do
		lab "${e%%:*}" ip addr add "${e#*:}/24" dev eth0
	done
	: >"$BATS_FILE_TMPDIR/pids"
	for b in b1 b2 b3; do
		nsenter --net="/run/netns/$KPR_LAB_PREFIX$b" "$STORM" server 9000 </dev/null >/dev/null 2>&1 3>&- &
		echo $! >>"$BATS_FILE_TMPDIR/pids"
	done
	# the node's neighbours resolved first: an unresolved one sends the
	# first packet through the kernel, which may drop it
	for b in $BE10; do
		end=$((SECONDS + 10))
		until lab node ping -c1 -W1 "$b" >/dev/null 2>&1 &&
			lab node bash -c "exec 3<>/dev/tcp/$b/9000" 2>/dev/null; do
			[ $SECONDS -lt $end ] || { echo "backend $b does not answer on 9000" >&2; return 1; }
			sleep 0.2
		done
	done
}

teardown_file() {
	local p
	if [ -f "$BATS_FILE_TMPDIR/pids" ]; then
		while read -r p; do
			kill "$p" 2>/dev/null || true
		done <"$BATS_FILE_TMPDIR/pids"
	fi
	lab_teardown_file
}

setup() { lab_reset native; }

teardown() {
	local p
	for p in ${HELD:-}; do
		kill "$p" 2>/dev/null || true
	done
	lb-mode -q --nat-ports 32768-65535 2>/dev/null || true
}

# The client's retransmitted TCP segments so far (/proc/net/snmp of its
# namespace: nsenter --net makes /proc/net the client's).
retrans() {
	lab client awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "RetransSegs") c = i; h = 1 } else print $c }' /proc/net/snmp
}

# COUNT short connections to $VIP:9000 from the client in under 20 s, all
# answered, no segment retransmitted, no allocation failure.
storm_clean() {
	local r0 r1
	r0=$(retrans)
	run lab client "$STORM" client $VIP 9000 "$1" 2
	r1=$(retrans)
	echo "$output; client retransmits $((r1 - r0))"
	assert_success
	assert_output --regexp "^ok $1 fail 0 seconds "
	secs=$(awk '{ print $6 }' <<<"$output")
	awk -v s="$secs" 'BEGIN { exit !(s < 20) }' || fail "took $secs s"
	[ $((r1 - r0)) -eq 0 ] || fail "$((r1 - r0)) segments retransmitted"
	[ "$(nat_fail)" -eq 0 ]
}

@test "20,000 short connections to one backend from one client: all answered in under 20 s, no SYN retransmitted" {
	svc-add -q -t loadbalancer $VIP:9000 10.77.2.11:9000
	storm_clean 20000
}

@test "20,000 short connections over ten backends from one client: all answered in under 20 s, no SYN retransmitted" {
	svc-add -q -t loadbalancer $VIP:9000 $(printf '%s:9000 ' $BE10)
	storm_clean 20000
	run svc-list --stats -j
	# every backend took a share
	[ "$(jq '[.services[0].backends[] | select(.stats.flows > 0)] | length' <<<"$output")" -eq 10 ]
}

# Opens COUNT flows to ADDR:8080 from the client that stay open until the
# test's teardown kills them (linger=0: each then closes with an RST), and
# waits for all of them: hold ADDR COUNT.
hold() {
	local i end
	for ((i = 0; i < $2; i++)); do
		nsenter --net="/run/netns/${KPR_LAB_PREFIX}client" socat -u TCP4:$1:8080,linger=0,shut-none \
			OPEN:/dev/null </dev/null >/dev/null 2>&1 3>&- &
		HELD="${HELD:+$HELD }$!"
	done
	end=$((SECONDS + 10))
	until [ "$(lab client ss -Htn state established "dst $1:8080" | wc -l)" -ge "$2" ]; do
		[ $SECONDS -lt $end ] || fail "$2 held flows to $1 did not open: $(lab client ss -Htn "dst $1:8080")"
		sleep 0.1
	done
}

@test "a full nat port range drops new flows, counted per service and node, and recovers once a flow closes" {
	lb-mode -q --nat-ports 40000-40003
	svc-add -q -t loadbalancer $VIP:8080 10.77.2.11:8080
	HELD=
	hold $VIP 4
	[ "$(nat_fail)" -eq 0 ]
	run lab client socat -T 1 - TCP4:$VIP:8080,connect-timeout=1 <<<"five"
	assert_failure
	[ "$(nat_fail)" -ge 1 ]
	run lb-mode
	assert_line --regexp '^NAT allocation failures: +[1-9][0-9]*$'
	[ "$(lb-mode -j | jq '.nat_alloc_failures')" -ge 1 ]
	# one flow reset: its port is free within a second or two
	kill ${HELD%% *}
	wait_new_flow 15 "the port of the reset flow"
}

@test "two backends whose replies hash to one home bucket each use the whole nat port range at once" {
	local slot="$KPR_BIN/tests/helper_nat_slot tcp"
	# 10.77.2.11 and 10.77.2.21 (both b1) share the home slot of port 40010
	# (and so of the range): before, they shared its four ports. A range of
	# its own: the test above leaves 40000-40003 held for a while.
	[ "$($slot 10.77.2.11 8080 10.77.2.1 40010)" = "$($slot 10.77.2.21 8080 10.77.2.1 40010)" ] ||
		fail "the two backends no longer share a home bucket: pick another pair"
	lb-mode -q --nat-ports 40010-40013
	svc-add -q -t loadbalancer $VIP:8080 10.77.2.11:8080
	svc-add -q -t loadbalancer 10.77.100.2:8080 10.77.2.21:8080
	HELD=
	hold $VIP 4
	hold 10.77.100.2 4
	run svc-list --stats -j
	[ "$(jq '[.services[].stats.nat_alloc_failures] | add' <<<"$output")" -eq 0 ]
	# each backend's four flows: ports 40010-40013 twice over, told apart by
	# the backend
	run lab b1 ss -Htn state established "( sport = :8080 )"
	[ "$(grep -cE '10\.77\.2\.11:8080 +10\.77\.2\.1:4001[0-3]' <<<"$output")" -eq 4 ]
	[ "$(grep -cE '10\.77\.2\.21:8080 +10\.77\.2\.1:4001[0-3]' <<<"$output")" -eq 4 ]
	# and the range is full for each: a fifth flow to either is refused
	run lab client socat -T 1 - TCP4:10.77.100.2:8080,connect-timeout=1 <<<"five"
	assert_failure
}
