#!/usr/bin/env bats
# svc-add --format kubernetes: kubectl's JSON into real maps in a private pin
# root, mapped as kube-proxy maps it (fixtures in tests/fixtures/k8s/).

load helpers

setup() {
	kpr_root_setup
	FIX=$BATS_TEST_DIRNAME/fixtures/k8s
}
teardown() { kpr_root_teardown; }

k8s() { svc-add --format kubernetes "$@"; }

@test "the fixture cluster maps as kube-proxy maps it (svc-list -o save, exactly)" {
	run --separate-stderr k8s -f "$FIX/cluster.json" --replace
	assert_success
	assert_output --partial "22 added, 0 updated, 0 deleted, 0 unchanged"
	diff -u "$FIX/cluster.save" <(svc-list -o save)
	# ClusterIP, NodePort, LoadBalancer and ExternalIP types as svc-list names them
	run svc-list -o json
	[ "$(jq -r '[.services[].type] | unique | join(",")' <<<"$output")" = clusterip,externalip,loadbalancer,nodeport ]
	# the slice's port, not the Service's: 10.96.30.40:9000 goes to :9001
	[ "$(jq -r '.services[] | select(.frontend == "10.96.30.40:9000/tcp") | .backends[0].backend' <<<"$output")" = 10.244.3.4:9001/tcp ]
}

@test "what kpr cannot express: one warning per Service, naming it" {
	run --separate-stderr k8s -f "$FIX/cluster.json"
	assert_success
	local w
	w=$(grep -c 'warning:' <<<"$stderr")
	[ "$w" -eq 3 ] || fail "warnings: $stderr"
	grep -q 'warning: Service shop/ext: .*internalTrafficPolicy Local' <<<"$stderr"
	grep 'warning: Service shop/local-lb:' <<<"$stderr" | grep 'externalTrafficPolicy Local' |
		grep 'loadBalancerSourceRanges' | grep 'healthCheckNodePort 32000' |
		grep 'topology (service.kubernetes.io/topology-mode' | grep -q 'lb.example.com'
	grep -q 'warning: Service telco/diameter: .*3868/SCTP' <<<"$stderr"
	# a Service kpr expresses whole draws none
	! grep -q 'shop/api\|kube-dns\|shop/lb:\|shop/web:' <<<"$stderr"
	# JSON: the same warnings, and the counts
	run --separate-stderr svc-add -j -n --format kubernetes -f "$FIX/cluster.json"
	assert_success
	assert_json
	[ "$(jq '.warnings | length' <<<"$output")" -eq 3 ]
	[ "$(jq -r '.warnings[0].object' <<<"$output")" = "Service shop/ext" ]
	[ "$(jq -c '.kubernetes' <<<"$output")" = '{"services":11,"endpointslices":13,"headless":1,"external_name":1,"other":0,"warnings":3}' ]
}

@test "headless and ExternalName Services are skipped, and counted with -v" {
	run --separate-stderr k8s -v -f "$FIX/cluster.json"
	assert_success
	assert_line "kubernetes: 11 Services, 13 EndpointSlices; skipped 1 headless, 1 ExternalName, 0 other objects"
	grep -q 'shop/db-headless.*headless' <<<"$stderr"
	grep -q 'shop/external-db.*ExternalName' <<<"$stderr"
	# the headless Service's endpoint is nowhere
	! svc-list -o save | grep -q 10.244.3.8
	run --separate-stderr k8s -f "$FIX/cluster.json"
	refute_output --partial "skipped"
}

@test "the same input twice is unchanged, maps byte-identical; so is it reordered" {
	k8s -q -f "$FIX/cluster.json" --replace 2>/dev/null
	maps_snapshot "$BATS_TEST_TMPDIR/a"
	run --separate-stderr svc-add -j --format kubernetes -f "$FIX/cluster.json" --replace
	assert_success
	[ "$(jq .changed <<<"$output")" = false ]
	[ "$(jq .unchanged <<<"$output")" -eq 22 ]
	maps_snapshot "$BATS_TEST_TMPDIR/b"
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	# items, slices' endpoints and ports in reverse order: the same services
	jq '.items |= reverse | .items[] |= (if .kind == "EndpointSlice" then (.endpoints |= reverse | .ports |= reverse) else . end)' \
		"$FIX/cluster.json" >"$BATS_TEST_TMPDIR/rev.json"
	run --separate-stderr svc-add -j --format kubernetes -f - --replace <"$BATS_TEST_TMPDIR/rev.json"
	assert_success
	[ "$(jq .changed <<<"$output")" = false ]
	maps_snapshot "$BATS_TEST_TMPDIR/c"
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/c"
}

@test "a pod going away: ready, then terminating, then gone; a Service deleted goes with --replace" {
	k8s -q -f "$FIX/cluster.json" --replace 2>/dev/null
	[ "$(dump backends | jq length)" -eq 21 ]
	local t=$BATS_TEST_TMPDIR
	jq '(.items[] | select(.metadata.name == "kube-dns-x7k2p") | .endpoints[1].conditions) = {"ready": false, "serving": true, "terminating": true}' \
		"$FIX/cluster.json" >"$t/term.json"
	run --separate-stderr k8s -f "$t/term.json" --replace
	assert_success
	assert_output --partial "0 added, 3 updated, 0 deleted, 19 unchanged"
	[ "$(svc-list -o save | grep -c '10.244.2.7:[0-9]*/[a-z]*,state=terminating')" -eq 3 ]
	jq '(.items[] | select(.metadata.name == "kube-dns-x7k2p") | .endpoints) |= .[:1]
	    | del(.items[] | select(.kind == "Service" and .metadata.name == "api"))' "$FIX/cluster.json" >"$t/gone.json"
	run --separate-stderr k8s -f "$t/gone.json" --replace
	assert_success
	assert_output --partial "0 added, 3 updated, 1 deleted, 18 unchanged"
	! svc-list -o save | grep -q '10.244.2.7\|10.96.30.40'
	# the freed backends (10.244.2.7 on three ports, api's one) are gone
	[ "$(dump backends | jq length)" -eq 17 ]
}

@test "two Services on one external IP, a pod two slices disagree on: warned, resolved" {
	run --separate-stderr k8s -f "$FIX/conflict.json"
	assert_success
	grep -q 'warning: Service two/b: frontend 198.51.100.1:80/tcp is Service one/a.s already' <<<"$stderr"
	grep -q 'warning: Service two/b: endpoint 10.244.0.1:8080/tcp is terminating here and ready in Service one/a' <<<"$stderr"
	run svc-list -o save
	assert_output - <<-'EOF'
	# kpr services: svc-add -f FILE --replace restores them
	-t clusterip --id 1 10.96.1.1:80/tcp 10.244.0.1:8080/tcp,state=terminating
	-t externalip --id 2 198.51.100.1:80/tcp 10.244.0.1:8080/tcp,state=terminating
	-t clusterip --id 3 10.96.1.2:80/tcp 10.244.0.1:8080/tcp,state=terminating
	EOF
}

@test "one Service alone, and a Service with no EndpointSlice, are read" {
	jq '.items[] | select(.kind == "Service" and .metadata.name == "kubernetes")' "$FIX/cluster.json" >"$BATS_TEST_TMPDIR/one.json"
	run --separate-stderr k8s -f "$BATS_TEST_TMPDIR/one.json"
	assert_success
	run svc-list -o save
	assert_line "-t clusterip --id 1 10.96.0.1:443/tcp"
}

@test "malformed or truncated JSON, or fields not as the API gives them: exit 2 naming where, nothing changed" {
	k8s -q -f "$FIX/cluster.json" 2>/dev/null
	maps_snapshot "$BATS_TEST_TMPDIR/before"
	local t=$BATS_TEST_TMPDIR c f msg n=0 bad=0
	head -c 5000 "$FIX/cluster.json" >"$t/truncated.json"
	: >"$t/empty.json"
	printf '{"kind": "List", "items": [}\n' >"$t/syntax.json"
	printf '{"kind": "List", "items": [], "items": []}\n' >"$t/dupkey.json"
	printf '[1, 2]\n' >"$t/array.json"
	printf '{"kind": "List", "items": {}}\n' >"$t/items.json"
	edit() { jq "$2" "$FIX/cluster.json" >"$t/$1.json"; }
	edit port '(.items[] | select(.metadata.name == "web" and .kind == "Service") | .spec.ports[0].port) = "http"'
	edit range '(.items[] | select(.metadata.name == "web" and .kind == "Service") | .spec.ports[1].nodePort) = 70000'
	edit cip '(.items[] | select(.metadata.name == "api" and .kind == "Service") | .spec.clusterIPs[0]) = "10.96.300.1"'
	edit at '(.items[] | select(.metadata.name == "lb-m3n4b") | .addressType) = "IPv5"'
	edit epfam '(.items[] | select(.metadata.name == "web-v6xyz") | .endpoints[0].addresses[0]) = "10.1.1.1"'
	edit cond '(.items[] | select(.metadata.name == "ext-zz9yy") | .endpoints[0].conditions.ready) = "yes"'
	edit noname 'del(.items[1].metadata.name)'
	edit nokind 'del(.items[2].kind)'
	edit proto '(.items[] | select(.metadata.name == "kube-dns" and .kind == "Service") | .spec.ports[0].protocol) = "ICMP"'
	edit aff '(.items[] | select(.metadata.name == "api" and .kind == "Service") | .spec.sessionAffinityConfig.clientIP.timeoutSeconds) = 0'
	edit type '(.items[0].spec.type) = "Magic"'
	local cases=(
		"truncated.json:163:24: not the JSON of kubectl|near end of file"
		"empty.json:1:0: not the JSON|nothing was changed"
		"syntax.json:1:|not the JSON of kubectl"
		"dupkey.json:1:|duplicate object key"
		"array.json: top level: expected an object|"
		"items.json: List: items: expected an array|"
		"items[9] (Service shop/web): spec.ports[0].port: expected an integer|"
		"items[9] (Service shop/web): spec.ports[1].nodePort: 70000 is out of range|"
		"items[2] (Service shop/api): spec.clusterIPs[0]: '10.96.300.1' is not an IP address|"
		"(EndpointSlice shop/lb-m3n4b): addressType: 'IPv5' is not IPv4, IPv6 or FQDN|"
		"(EndpointSlice shop/web-v6xyz): endpoints[0].addresses[0]: '10.1.1.1' is not an IPv6 address|"
		"(EndpointSlice shop/ext-zz9yy): endpoints[0].conditions.ready: expected true or false|"
		"items[1] (Service): metadata.name: missing|"
		"items[2]: kind: missing|"
		"(Service kube-system/kube-dns): spec.ports[0].protocol: 'ICMP' is not TCP, UDP or SCTP|"
		"(Service shop/api): spec.sessionAffinityConfig.clientIP.timeoutSeconds: 0 is out of range 1-86400|"
		"(Service default/kubernetes): spec.type: 'Magic' is not ClusterIP|"
	)
	n=${#cases[@]}
	# each bad file: exit 2 with its message, in text and JSON, with --replace
	for f in "$t"/*.json; do
		run --separate-stderr svc-add --format kubernetes -f "$f" --replace
		if [ "$status" -ne 2 ] || ! grep -q 'nothing was changed' <<<"$stderr"; then
			echo "$(basename "$f"): exit $status: $stderr"; bad=$((bad + 1))
		fi
		printf '%s\n' "$stderr" >>"$t/messages"
		run --separate-stderr svc-add -j --format kubernetes -f - --replace <"$f"
		if ! jq -e '.error and .exit_code == 2' >/dev/null <<<"$output"; then
			echo "$(basename "$f") in JSON: $output"; bad=$((bad + 1))
		fi
	done
	for c in "${cases[@]}"; do
		msg=${c%%|*}
		grep -qF -- "$msg" "$t/messages" || { echo "no message '$msg'"; bad=$((bad + 1)); }
		msg=${c#*|}
		[ -z "$msg" ] || grep -qF -- "$msg" "$t/messages" || { echo "no message '$msg'"; bad=$((bad + 1)); }
	done
	maps_snapshot "$BATS_TEST_TMPDIR/after"
	cmp "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/after"
	[ "$n" -ge 15 ]
	[ "$bad" -eq 0 ]
}

@test "--format needs -f; an unknown format is refused" {
	run svc-add --format kubernetes 10.96.0.1:80
	assert_failure 2
	assert_output --partial "--format goes with -f FILE"
	run svc-add --format yaml -f "$FIX/cluster.json"
	assert_failure 2
	assert_output --partial "unknown input format 'yaml'"
	[ ! -e "$KPR_PIN_ROOT" ]
}
