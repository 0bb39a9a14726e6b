#!/usr/bin/env bats
# The Ansible collection (contrib/ansible/) with Debian's ansible-core,
# against three lab nodes: each a network namespace with a device and a pin
# root of its own, reached with the local connection.

load helpers

N=3

setup_file() {
	needs_root_file_ansible || return 0
	export KA=ka$$
	local i
	for i in $(seq $N); do
		ip netns add "${KA}n$i"
		ip -n "${KA}n$i" link add eth0 type veth peer name peer0
		ip -n "${KA}n$i" link set eth0 up
		ip -n "${KA}n$i" link set peer0 up
		ip -n "${KA}n$i" addr add 10.99.$i.1/24 dev eth0
	done
}

teardown_file() {
	[ -n "${KA:-}" ] || return 0
	local i
	for i in $(seq $N); do
		xdp-attach -q --pin-root "/sys/fs/bpf/kpr-$KA-$i" -N "${KA}n$i" --detach 2>/dev/null || true
		rm -rf "/sys/fs/bpf/kpr-$KA-$i"
		ip netns del "${KA}n$i" 2>/dev/null || true
	done
}

needs_root_file_ansible() {
	[ "$(id -u)" -eq 0 ] && bpftool map list >/dev/null 2>&1
}

setup() {
	needs_root
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
	TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	export ANSIBLE_COLLECTIONS_PATH=$TOP/contrib/ansible ANSIBLE_NOCOLOR=1 \
		ANSIBLE_LOCAL_TEMP=$BATS_TEST_TMPDIR/ansible-local ANSIBLE_REMOTE_TEMP=$BATS_TEST_TMPDIR/ansible-remote \
		ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_STDOUT_CALLBACK=default
	INV=$BATS_TEST_TMPDIR/hosts
	{
		echo "[nodes]"
		for i in $(seq $N); do
			echo "node$i ansible_connection=local ansible_python_interpreter=/usr/bin/python3 kpr_pin_root=/sys/fs/bpf/kpr-$KA-$i kpr_netns=${KA}n$i node_index=$i"
		done
	} >"$INV"
}

# Between tests every node starts bare: no services, no device attached.
teardown() {
	local i
	for i in $(seq $N); do
		xdp-attach -q --pin-root "/sys/fs/bpf/kpr-$KA-$i" -N "${KA}n$i" --detach 2>/dev/null || true
		rm -rf "/sys/fs/bpf/kpr-$KA-$i"
	done
}

play() { ansible-playbook -i "$INV" "$TOP/tests/ansible/site.yml" "$@"; }
# PLAY RECAP's changed= of every host, as "node1=2 node2=2 node3=2"
recap() { sed -n 's/^\(node[0-9]\) *: ok=[0-9]* *changed=\([0-9]*\).*/\1=\2/p' <<<"$output" | sort | tr '\n' ' ' | sed 's/ $//'; }

@test "ansible-doc shows the three modules" {
	run ansible-doc kpr.node.kpr_services
	assert_success
	assert_output --partial "svc-add --dry-run"
	run ansible-doc kpr.node.kpr_datapath
	assert_success
	assert_output --partial "xdp-attach"
	run ansible-doc kpr.node.kpr_masq
	assert_success
	assert_output --partial "masq-ctl --dry-run"
	run ansible-doc -l kpr.node
	assert_success
	assert_line --regexp '^kpr\.node\.kpr_datapath +'
	assert_line --regexp '^kpr\.node\.kpr_masq +'
	assert_line --regexp '^kpr\.node\.kpr_services +'
}

@test "the first run changes every node, the second reports changed=0" {
	run play
	assert_success
	[ "$(recap)" = "node1=3 node2=3 node3=3" ] || fail "$output"
	local i
	for i in $(seq $N); do
		run svc-list --pin-root "/sys/fs/bpf/kpr-$KA-$i" -o save
		assert_line "-t clusterip --id 1 10.96.0.10:53/udp 10.0.$i.5:53/udp 10.0.$i.6:53/udp"
		assert_line "-t nodeport --id 2 *:30080/tcp 10.0.$i.5:8080/tcp 10.0.$i.6:8080/tcp,weight=3"
		assert_line "-t loadbalancer --id 3 --affinity 600 --algorithm maglev [2001:db8::10]:443/tcp [fd00::5]:8443/tcp"
		assert_line "-t clusterip --id 4 --mode dsr 10.96.0.20:80/tcp 10.0.$i.7:80/tcp"
		run masq-ctl --pin-root "/sys/fs/bpf/kpr-$KA-$i" -N "${KA}n$i" -j
		assert_success
		[ "$(jq -c '[.ipv4, .ipv6, .all_devices, .devices, .masq_ip4, .pod_cidrs, (.non_masq_cidrs | length)]' <<<"$output")" = \
			"[true,false,false,[\"eth0\"],\"10.99.$i.1\",[\"10.32.$i.0/24\",\"fd00:32:$i::/64\"],13]" ] || fail "$output"
		run xdp-attach --pin-root "/sys/fs/bpf/kpr-$KA-$i" -N "${KA}n$i" --status -j
		[ "$(jq -r '[.attachments[] | select(.hook == "xdp") | .dev + "/" + .mode] | join(",")' <<<"$output")" = eth0/generic ]
		[ "$(lb-mode --pin-root "/sys/fs/bpf/kpr-$KA-$i" -j | jq -r .external_clusterip)" = true ]
	done
	run play
	assert_success
	[ "$(recap)" = "node1=0 node2=0 node3=0" ] || fail "$output"
}

@test "check mode reports the change and touches nothing; --diff names the backend that changes" {
	play >/dev/null
	local i
	for i in $(seq $N); do KPR_PIN_ROOT=/sys/fs/bpf/kpr-$KA-$i maps_snapshot "$BATS_TEST_TMPDIR/before$i"; done
	run play --check --diff -e extra_backend=10.0.9.99:8080
	assert_success
	[ "$(recap)" = "node1=1 node2=1 node3=1" ] || fail "$output"
	assert_output --partial "+-t nodeport --id 2 *:30080/tcp 10.0.1.5:8080/tcp 10.0.1.6:8080/tcp,weight=3 10.0.9.99:8080/tcp"
	assert_output --partial -- "--t nodeport --id 2 *:30080/tcp 10.0.1.5:8080/tcp 10.0.1.6:8080/tcp,weight=3"
	assert_output --partial "+++ after: *:30080/tcp (backend 10.0.9.99:8080/tcp added)"
	for i in $(seq $N); do
		KPR_PIN_ROOT=/sys/fs/bpf/kpr-$KA-$i maps_snapshot "$BATS_TEST_TMPDIR/after$i"
		cmp "$BATS_TEST_TMPDIR/before$i" "$BATS_TEST_TMPDIR/after$i"
	done
	# the check's private copy is gone
	[ -z "$(ls -d /sys/fs/bpf/kpr-$KA-*-ansible-check-* 2>/dev/null)" ]
	run play --diff -e extra_backend=10.0.9.99:8080
	assert_success
	[ "$(recap)" = "node1=1 node2=1 node3=1" ] || fail "$output"
	assert_output --partial "10.0.9.99:8080/tcp"
	svc-list --pin-root "/sys/fs/bpf/kpr-$KA-2" -o save | grep -q '10.0.9.99:8080'
}

@test "a bad line fails with the tool's message, and changes nothing" {
	play >/dev/null
	KPR_PIN_ROOT=/sys/fs/bpf/kpr-$KA-1 maps_snapshot "$BATS_TEST_TMPDIR/before"
	run play -e extra_backend=10.0.9.99:80x
	assert_failure
	assert_output --partial "svc-add failed (exit 2): <stdin>:2: backend '10.0.9.99:80x': bad port '80x'"
	[[ "$output" == *"node1"*"failed=1"* ]]
	KPR_PIN_ROOT=/sys/fs/bpf/kpr-$KA-1 maps_snapshot "$BATS_TEST_TMPDIR/after"
	cmp "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/after"
}

@test "--diff of a service with a mode names the backend that changes, in check mode and for real" {
	local i
	play >/dev/null
	KPR_PIN_ROOT=/sys/fs/bpf/kpr-$KA-1 maps_snapshot "$BATS_TEST_TMPDIR/before"
	run play --check --diff -e dsr_backend=10.0.9.8:80,weight=2
	assert_success
	[ "$(recap)" = "node1=1 node2=1 node3=1" ] || fail "$output"
	assert_output --partial "+++ after: 10.96.0.20:80/tcp (backend 10.0.9.8:80/tcp,weight=2 added; backend 10.0.1.7:80/tcp removed)"
	assert_output --partial -- "--t clusterip --id 4 --mode dsr 10.96.0.20:80/tcp 10.0.1.7:80/tcp"
	assert_output --partial "+-t clusterip --id 4 --mode dsr 10.96.0.20:80/tcp 10.0.9.8:80/tcp,weight=2"
	KPR_PIN_ROOT=/sys/fs/bpf/kpr-$KA-1 maps_snapshot "$BATS_TEST_TMPDIR/after"
	cmp "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/after"
	run play --diff -e dsr_backend=10.0.1.7:80,weight=2
	assert_success
	[ "$(recap)" = "node1=1 node2=1 node3=1" ] || fail "$output"
	assert_output --partial "+++ after: 10.96.0.20:80/tcp (backend 10.0.1.7:80/tcp now 10.0.1.7:80/tcp,weight=2)"
	# -e gives every node node1's backend
	for i in $(seq $N); do
		run svc-list --pin-root "/sys/fs/bpf/kpr-$KA-$i" -o save
		assert_line "-t clusterip --id 4 --mode dsr 10.96.0.20:80/tcp 10.0.1.7:80/tcp,weight=2"
	done
}

@test "kpr_masq: check mode reports the change and touches nothing; --diff shows the settings before and after" {
	play >/dev/null
	local i
	for i in $(seq $N); do KPR_PIN_ROOT=/sys/fs/bpf/kpr-$KA-$i maps_snapshot "$BATS_TEST_TMPDIR/before$i"; done
	run play --check --diff -e masq_ipv6=true
	assert_success
	[ "$(recap)" = "node1=1 node2=1 node3=1" ] || fail "$output"
	assert_line "-ipv6: off"
	assert_line "+ipv6: on"
	for i in $(seq $N); do
		KPR_PIN_ROOT=/sys/fs/bpf/kpr-$KA-$i maps_snapshot "$BATS_TEST_TMPDIR/after$i"
		cmp "$BATS_TEST_TMPDIR/before$i" "$BATS_TEST_TMPDIR/after$i"
	done
	run play -e masq_ipv6=true
	assert_success
	[ "$(recap)" = "node1=1 node2=1 node3=1" ] || fail "$output"
	[ "$(masq-ctl --pin-root "/sys/fs/bpf/kpr-$KA-2" -N "${KA}n2" -j | jq .ipv6)" = true ]
	run play -e masq_ipv6=true
	assert_success
	[ "$(recap)" = "node1=0 node2=0 node3=0" ] || fail "$output"
}

@test "kpr_masq: a bad CIDR fails with masq-ctl's message, and changes nothing" {
	play >/dev/null
	KPR_PIN_ROOT=/sys/fs/bpf/kpr-$KA-1 maps_snapshot "$BATS_TEST_TMPDIR/before"
	run play -e masq_pod_cidr=10.32.1.1/24
	assert_failure
	assert_output --partial "masq-ctl failed (exit 2): bad --pod-cidr: '10.32.1.1/24' has bits set past its prefix: give the network, 10.32.1.0/24"
	[[ "$output" == *"node1"*"failed=1"* ]]
	KPR_PIN_ROOT=/sys/fs/bpf/kpr-$KA-1 maps_snapshot "$BATS_TEST_TMPDIR/after"
	cmp "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/after"
}
