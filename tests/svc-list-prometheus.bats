#!/usr/bin/env bats
# svc-list -o prometheus on the netns lab, with real traffic: node_exporter's
# textfile format, checked by a strict reader (tests/prom_check.py), and
# counters that add up.

load helpers
load lab/lab

VIP=10.77.100.1

setup_file() { lab_setup_file; }
teardown_file() { lab_teardown_file; }
setup() { lab_reset native; }
teardown() {
	[ -z "${HELD:-}" ] || kill $HELD 2>/dev/null || true
	KPR_PIN_ROOT=${KPR_PIN_ROOT%-fixture}
	rm -rf "$KPR_PIN_ROOT-fixture"
	lb-mode -q --nat-ports 32768-65535 2>/dev/null || true
}

prom() {	# writes the exposition to $BATS_TEST_TMPDIR/prom and checks it
	svc-list -o prometheus >"$BATS_TEST_TMPDIR/prom" || fail "svc-list -o prometheus failed"
	"$BATS_TEST_DIRNAME/prom_check.py" "$BATS_TEST_TMPDIR/prom" || fail "not valid: $(cat "$BATS_TEST_TMPDIR/prom")"
}
# the value of one series: val 'NAME{labels}' (labels exactly as printed)
val() { awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print "absent" }' "$BATS_TEST_TMPDIR/prom"; }
# the sum of every series of NAME whose labels hold MATCH
sum() { grep "^$1{" "$BATS_TEST_TMPDIR/prom" | grep -F -- "$2" | awk '{ s += $2 } END { print s + 0 }'; }

@test "per service and per backend of a service: the backends' series add up to the service's, shared backends included" {
	svc-add -q -t loadbalancer $VIP:80 10.77.2.11:80 10.77.2.12:80 10.77.2.13:80
	svc-add -q -t externalip 10.77.100.2:80 10.77.2.11:80
	svc-add -q -t loadbalancer $VIP:8080 10.77.2.12:8080
	ccurl "http://$VIP/[1-9]" >/dev/null
	ccurl "http://10.77.100.2/[1-3]" >/dev/null
	prom
	# ids go on from a rotating hint: they are read back
	local id e; id=$(svc-list -j | jq '.services[] | select(.frontend == "10.77.100.1:80/tcp") | .id')
	e=$(svc-list -j | jq '.services[] | select(.frontend == "10.77.100.2:80/tcp") | .id')
	local a="id=\"$id\",frontend=\"10.77.100.1:80/tcp\",type=\"loadbalancer\""
	local x="id=\"$e\",frontend=\"10.77.100.2:80/tcp\",type=\"externalip\""
	[ "$(val "kpr_service_flows_total{$a}")" -eq 9 ]
	[ "$(sum kpr_service_backend_flows_total "$a")" -eq 9 ]
	local p; p=$(val "kpr_service_packets_total{$a}")
	[ "$p" -gt 18 ]
	[ "$(sum kpr_service_backend_packets_total "$a")" -eq "$p" ]
	[ "$(sum kpr_service_backend_bytes_total "$a")" -eq "$(val "kpr_service_bytes_total{$a}")" ]
	[ "$(grep -c "^kpr_service_backend_flows_total{$a" "$BATS_TEST_TMPDIR/prom")" -eq 3 ]
	[ "$(val "kpr_service_backends{$a,state=\"active\"}")" -eq 3 ]
	# the shared backend counts in each service as that service's alone
	[ "$(val "kpr_service_flows_total{$x}")" -eq 3 ]
	[ "$(val "kpr_service_backend_flows_total{$x,backend=\"10.77.2.11:80/tcp\"}")" -eq 3 ]
	[ "$(sum kpr_service_backend_packets_total "$x")" -eq "$(val "kpr_service_packets_total{$x}")" ]
	local b1; b1=$(val "kpr_service_backend_flows_total{$a,backend=\"10.77.2.11:80/tcp\"}")
	# the same figures as svc-list --stats, per service and per its backend
	[ "$(svc-list --stats -j $VIP:80 | jq '.services[0].stats.packets')" -eq "$p" ]
	[ "$(svc-list --stats -j $VIP:80 | jq '[.services[0].backends[].stats.flows] | add')" -eq 9 ]
	# kpr_backend_*: every backend once, summed over the services naming it
	[ "$(val 'kpr_backend_services{backend="10.77.2.11:80/tcp"}')" -eq 2 ]
	[ "$(val 'kpr_backend_services{backend="10.77.2.12:8080/tcp"}')" -eq 1 ]
	[ "$(val 'kpr_backend_flows_total{backend="10.77.2.11:80/tcp"}')" -eq $((b1 + 3)) ]
	[ "$(grep -c '^kpr_backend_flows_total{' "$BATS_TEST_TMPDIR/prom")" -eq 4 ]
	[ "$(sum kpr_backend_flows_total 'backend="10.77.2.1')" -eq 12 ]
	# a service that goes takes its backends' series with it
	svc-del -q 10.77.100.2:80
	prom
	[ "$(val 'kpr_backend_flows_total{backend="10.77.2.11:80/tcp"}')" -eq "$b1" ]
}

@test "table fill, devices and modes, build info" {
	svc-add -q -t loadbalancer $VIP:80 10.77.2.11:80
	ccurl "http://$VIP/[1-3]" >/dev/null
	prom
	[ "$(val 'kpr_table_entries{table="services"}')" -eq 1 ]
	[ "$(val 'kpr_table_entries{table="ct"}')" -ge 3 ]
	# SNAT: each flow holds a nat port slot
	[ "$(val 'kpr_table_entries{table="nat"}')" -ge 3 ]
	local t
	for t in services backends ct nat affinity sock_revnat; do
		[ "$(val "kpr_table_size{table=\"$t\"}")" -eq "$(bpftool -j map show pinned "$KPR_PIN_ROOT/$t" | jq .max_entries)" ]
	done
	[ "$(val 'kpr_table_entries{table="affinity"}')" -eq 0 ]
	grep -qx "kpr_attached{hook=\"xdp\",netns=\"$NODE\",device=\"eth0\",mode=\"native\"} 1" "$BATS_TEST_TMPDIR/prom"
	grep -qx "kpr_attached{hook=\"xdp\",netns=\"$NODE\",device=\"eth1\",mode=\"native\"} 1" "$BATS_TEST_TMPDIR/prom"
	grep -q "^kpr_attached{hook=\"tc-egress\",netns=\"$NODE\",device=\"eth0\"" "$BATS_TEST_TMPDIR/prom"
	xdp-attach -q -N "$NODE" --mode generic eth1
	prom
	grep -qx "kpr_attached{hook=\"xdp\",netns=\"$NODE\",device=\"eth1\",mode=\"generic\"} 1" "$BATS_TEST_TMPDIR/prom"
	local v; v=$(svc-list -V | awk "{ print \$3 }")
	grep -qx "kpr_build_info{version=\"$v\",layout=\"[0-9]*\"} 1" "$BATS_TEST_TMPDIR/prom"
}

@test "nat port exhaustion: the node's and the service's failures" {
	lb-mode -q --nat-ports 40000-40000
	svc-add -q -t loadbalancer $VIP:8080 10.77.2.11:8080
	prom
	[ "$(val kpr_nat_alloc_failures_total)" -eq 0 ]
	[ "$(val 'kpr_nat_ports{bound="min"}')" -eq 40000 ]
	# one open flow holds the one port; the holder keeps none of the
	# test's descriptors (bats' pipes, the lab lock), so that a holder left
	# behind could never block anything
	(
		for fd in $(ls /proc/$BASHPID/fd); do [ "$fd" -le 2 ] || eval "exec $fd>&-"; done
		exec nsenter --net="/run/netns/${KPR_LAB_PREFIX}client" socat -u \
			TCP4:$VIP:8080,linger=0,shut-none OPEN:/dev/null
	) </dev/null >/dev/null 2>&1 &
	HELD=$!
	end=$((SECONDS + 10))
	until [ "$(lab client ss -Htn state established "dst $VIP:8080" | wc -l)" -eq 1 ]; do
		[ $SECONDS -lt $end ] || fail "the held flow did not open"
		sleep 0.1
	done
	run lab client socat -T 1 - TCP4:$VIP:8080,connect-timeout=1 <<<"two"
	assert_failure
	prom
	[ "$(val kpr_nat_alloc_failures_total)" -ge 1 ]
	# ids go on from a rotating hint: the frontend names the service
	local a='frontend="10.77.100.1:8080/tcp",type="loadbalancer"'
	[ "$(sum kpr_service_nat_alloc_failures_total "$a")" -ge 1 ]
	[ "$(sum kpr_service_drops_total "$a")" -ge 1 ]
	[ "$(val 'kpr_table_entries{table="nat"}')" -ge 1 ]
}

@test "the fixture cluster: one series per service, escaped labels, the same output twice" {
	# on a root of its own, so that the ids are the fixture's
	export KPR_PIN_ROOT=$KPR_PIN_ROOT-fixture
	svc-add -q --format kubernetes -f "$BATS_TEST_DIRNAME/fixtures/k8s/cluster.json" --replace 2>/dev/null
	prom
	[ "$(grep -c '^kpr_service_packets_total{' "$BATS_TEST_TMPDIR/prom")" -eq 22 ]
	[ "$(grep -c '^kpr_service_backends{' "$BATS_TEST_TMPDIR/prom")" -eq 88 ]
	grep -qx 'kpr_service_packets_total{id="11",frontend="\*:31443/tcp",type="nodeport"} 0' "$BATS_TEST_TMPDIR/prom"
	grep -qF 'kpr_service_backends{id="15",frontend="[fd00:10:96::20]:80/tcp",type="clusterip",state="active"} 2' "$BATS_TEST_TMPDIR/prom"
	grep -qF 'kpr_service_backends{id="14",frontend="10.96.10.20:80/tcp",type="clusterip",state="terminating"} 1' "$BATS_TEST_TMPDIR/prom"
	# 10.244.1.20:8443 serves five frontends of two Services
	[ "$(val 'kpr_backend_services{backend="10.244.1.20:8443/tcp"}')" -eq 5 ]
	cp "$BATS_TEST_TMPDIR/prom" "$BATS_TEST_TMPDIR/first"
	prom
	diff "$BATS_TEST_TMPDIR/first" "$BATS_TEST_TMPDIR/prom"
	# a failure prints nothing on stdout: a textfile never gets half
	run --separate-stderr svc-list --pin-root /sys/fs/bpf/kpr-none-$$ -o prometheus
	assert_failure 4
	[ -z "$output" ]
}

@test "the strict reader refuses what node_exporter would" {
	local t=$BATS_TEST_TMPDIR c=$BATS_TEST_DIRNAME/prom_check.py
	printf '# TYPE a_total counter\na_total 1\nb 1\na_total{x="1"} 2\n' >"$t/split"
	printf '# TYPE a counter\na 1\n' >"$t/name"
	printf 'a{x="\\q"} 1\n' >"$t/esc"
	printf 'a 1\na 2\n' >"$t/dup"
	printf 'a one\n' >"$t/val"
	printf 'a{x="1"} 1' >"$t/eol"
	for f in split name esc dup val eol; do
		run "$c" "$t/$f"
		[ "$status" -eq 1 ] || fail "$f was accepted"
	done
	printf '# HELP a_total x\n# TYPE a_total counter\na_total{x="a\\"b"} 1e3\n' >"$t/ok"
	run "$c" "$t/ok"
	assert_success
}
