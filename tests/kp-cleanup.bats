#!/usr/bin/env bats
# kp-cleanup against real rules in private network namespaces: iptables of
# both backends and both families, ipsets, nftables tables, links. Every test
# makes its own namespace (named with $$ and $RANDOM: others run tests
# concurrently) and removes it, also when it fails. No traffic is sent.

load helpers
bats_require_minimum_version 1.5.0

FX="$BATS_TEST_DIRNAME/fixtures/kube-proxy"
MY="$BATS_TEST_DIRNAME/fixtures/kp-cleanup"

setup() {
	needs_root
	NS=kpc-test-$$-${BATS_TEST_NUMBER}-$RANDOM
	ip netns add "$NS"
	TMP=$(mktemp -d /tmp/kpc-test.XXXXXX)
	BK=$TMP/backup
	FAKE_PID=
}

teardown() {
	[ -n "${FAKE_PID:-}" ] && kill "$FAKE_PID" 2>/dev/null
	[ -n "${DEFAULT_BK:-}" ] && rm -rf "$DEFAULT_BK"
	[ -n "${NS:-}" ] && ip netns del "$NS" 2>/dev/null
	[ -n "${TMP:-}" ] && rm -rf "$TMP"
	return 0
}

ns() { ip netns exec "$NS" "$@"; }

# iptables-save without counters and comment lines, tables in name order
# (the legacy backend lists them in the order they were made).
canon() {
	grep -v '^#' | sed -E 's/ \[[0-9]+:[0-9]+\]$/ /' |
		awk '/^\*/ { t = substr($0, 2) } { printf "%s\t%08d\t%s\n", t, NR, $0 }' |
		sort -t "$(printf '\t')" -k1,1 -k2,2n | cut -f3-
}

saved() {	# saved BACKEND [6]
	ns "ip${2:-}tables-$1-save" 2>/dev/null | canon
}

# Everything kp-cleanup may touch, for "changed nothing" checks.
snapshot() {
	local b
	for b in nft legacy; do
		echo "== iptables-$b"; saved "$b"
		echo "== ip6tables-$b"; saved "$b" 6
	done
	echo "== ipset"; ns ipset save
	echo "== nft"; ns nft list tables | sort	# listed in creation order
	local t
	for t in "ip kube-proxy" "ip6 kube-proxy"; do
		ns nft list table $t 2>/dev/null || true
	done
	echo "== links"; ip -n "$NS" -o addr show | awk '{ $1 = ""; print }'
}

kube_ipsets() {
	ns ipset create KUBE-LOOP-BACK hash:ip,port,ip
	ns ipset create KUBE-CLUSTER-IP hash:ip,port
	ns ipset add KUBE-CLUSTER-IP 10.96.0.1,tcp:443
	ns ipset create KUBE-NODE-PORT-TCP bitmap:port range 0-65535
	ns ipset create KUBE-6-CLUSTER-IP hash:ip,port family inet6
	ns ipset add KUBE-6-CLUSTER-IP fd00:96::1,tcp:443
	ns ipset create KUBE-6-LOAD-BALANCER-SOURCE-CID hash:ip,port,net family inet6
}

other_ipsets() {
	ns ipset create cali40masq-ipam-pools hash:net
	ns ipset add cali40masq-ipam-pools 10.244.0.0/16
	ns ipset create cali40all-ipam-pools hash:net
	ns ipset create KUBE-ROUTER-PODS hash:ip
	ns ipset create MY-KUBE-SET hash:ip
}

# A node with a bit of everything: iptables mode on nft, IPVS mode on
# legacy, IPv6 on both, ipsets, nftables mode, another tool's rules.
full_node() {
	kube_ipsets
	other_ipsets
	ns iptables-nft-restore <"$FX/kube-proxy-iptables-save.txt"
	ns iptables-nft-restore --noflush <"$MY/own-kube-named.save"
	ns iptables-legacy-restore <"$FX/kube-proxy-ipvs-iptables-save.txt"
	ns ip6tables-nft-restore <"$MY/ip6tables-kube-proxy.save"
	ns ip6tables-legacy-restore <"$MY/ip6tables-kube-proxy.save"
	ns nft -f "$MY/nft-kube-proxy.nft"
	ns nft -f "$MY/nft-others.nft"
}

oracle() {
	canon <"$FX/kube-proxy-iptables-save.expected-after-kube-proxy-cleanup.txt"
}

@test "iptables-mode dump through iptables-nft: what stays equals the oracle" {
	ns iptables-nft-restore <"$FX/kube-proxy-iptables-save.txt"
	run kp-cleanup -N "$NS" --backup-dir "$BK"
	assert_success
	assert_output --partial "removed 31 chains, 12 rules"
	diff -u <(oracle) <(saved nft)
}

@test "iptables-mode dump through iptables-legacy: what stays equals the oracle" {
	ns iptables-legacy-restore <"$FX/kube-proxy-iptables-save.txt"
	run kp-cleanup -N "$NS" --backup-dir "$BK"
	assert_success
	diff -u <(oracle) <(saved legacy)
	[ -z "$(saved nft)" ]
}

@test "IPVS-mode dump, both backends: kubelet's KUBE-FIREWALL and KUBE-MARK-DROP, docker's rules stay" {
	local b
	for b in nft legacy; do
		kube_ipsets
		ns "iptables-$b-restore" <"$FX/kube-proxy-ipvs-iptables-save.txt"
		run kp-cleanup -N "$NS" --backup-dir "$BK-$b"
		assert_success
		diff -u <(canon <"$MY/ipvs.expected") <(saved $b)
		ns "iptables-$b-restore" <<<"$(printf '*filter\nCOMMIT\n*nat\nCOMMIT\n')"
	done
}

@test "IPVS-mode nat moved from iptables mode, with Calico, both backends: stale KUBE-SVC-/KUBE-SEP- go, Calico stays" {
	local b
	for b in nft legacy; do
		kube_ipsets
		other_ipsets
		ns "iptables-$b-restore" <"$FX/kube-proxy-ipvs-iptables-save-nat-2022-calico.txt"
		run kp-cleanup -N "$NS" --backup-dir "$BK-$b"
		assert_success
		diff -u <(canon <"$MY/ipvs-calico-nat.expected") <(saved $b)
		# Calico's sets are not kube-proxy's: they stay, with their members.
		ns ipset list cali40masq-ipam-pools | grep -qx '10.244.0.0/16'
		ns "iptables-$b-restore" <<<"$(printf '*nat\nCOMMIT\n')"
		ns ipset destroy
	done
}

@test "kubelet alone (>= 1.28 and < 1.28), both backends: nothing is removed" {
	local f b
	for f in kubelet-iptables-save.txt kubelet-legacy-iptables-save.txt; do
		for b in nft legacy; do
			ns "iptables-$b-restore" <"$FX/$f"
			before=$(saved $b)
			run --separate-stderr kp-cleanup -N "$NS" -j --backup-dir "$BK"
			assert_success
			assert_json
			[ "$(jq -r .changed <<<"$output")" = false ]
			[ "$(saved $b)" = "$before" ]
			[ ! -e "$BK" ]
		done
	done
}

@test "chains that merely contain KUBE and comments that mention kubernetes are kept, byte for byte" {
	ns iptables-nft-restore <"$FX/kube-proxy-iptables-save.txt"
	ns iptables-nft-restore --noflush <"$MY/own-kube-named.save"
	ns iptables-nft-save | grep -E 'KUBE-ROUTER|MY-KUBE-AUDIT|KUBE-NWPLCY' >"$TMP/own.before"
	[ "$(wc -l <"$TMP/own.before")" -eq 13 ]
	run kp-cleanup -N "$NS" --backup-dir "$BK"
	assert_success
	ns iptables-nft-save | grep -E 'KUBE-ROUTER|MY-KUBE-AUDIT|KUBE-NWPLCY' >"$TMP/own.after"
	diff -u "$TMP/own.before" "$TMP/own.after"
	# and kube-proxy's are gone from that same table
	! ns iptables-nft-save | grep -E 'KUBE-SERVICES|KUBE-SVC-|KUBE-PROXY-CANARY' || false
}

@test "IPv6: ip6tables leftovers removed through both backends, the rest kept" {
	ns ip6tables-nft-restore <"$MY/ip6tables-kube-proxy.save"
	ns ip6tables-legacy-restore <"$MY/ip6tables-kube-proxy.save"
	run kp-cleanup -N "$NS" --backup-dir "$BK"
	assert_success
	assert_output --partial "ip6tables-nft ipv6 nat: remove chain KUBE-SVC-NPX46M4PTMTKRN6Y"
	assert_output --partial "ip6tables-legacy ipv6 filter: remove chain KUBE-FORWARD"
	diff -u <(canon <"$MY/ip6tables-kube-proxy.expected") <(saved nft 6)
	diff -u <(canon <"$MY/ip6tables-kube-proxy.expected") <(saved legacy 6)
}

@test "nftables mode: tables ip and ip6 kube-proxy removed, other nftables tables untouched" {
	ns nft -f "$MY/nft-kube-proxy.nft"
	ns nft -f "$MY/nft-others.nft"
	ns nft list table inet my-filter >"$TMP/mine.before"
	ns nft list table ip kube-router >>"$TMP/mine.before"
	run --separate-stderr kp-cleanup -N "$NS" -j --backup-dir "$BK"
	assert_success
	assert_json
	[ "$(jq -c .nft_tables <<<"$output")" = '["ip kube-proxy","ip6 kube-proxy"]' ]
	run ns nft list tables
	refute_output --partial "kube-proxy"
	ns nft list table inet my-filter >"$TMP/mine.after"
	ns nft list table ip kube-router >>"$TMP/mine.after"
	diff -u "$TMP/mine.before" "$TMP/mine.after"
}

@test "IPVS-mode ipsets, KUBE-6-* included, are destroyed after the rules that use them; others stay" {
	kube_ipsets
	other_ipsets
	ns iptables-legacy-restore <"$FX/kube-proxy-ipvs-iptables-save.txt"
	ns ip6tables-nft-restore <<'EOF6'
*nat
:PREROUTING ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A KUBE-SERVICES -m set --match-set KUBE-6-CLUSTER-IP dst,dst -j ACCEPT
COMMIT
EOF6
	run kp-cleanup -N "$NS" --backup-dir "$BK"
	assert_success
	# the rules went first, or ipset destroy would have failed (set in use)
	assert_output --partial "ipset: remove set KUBE-6-CLUSTER-IP"
	run ns ipset list -n
	assert_success
	[ "$(sort <<<"$output" | tr '\n' ' ')" = "KUBE-ROUTER-PODS MY-KUBE-SET cali40all-ipam-pools cali40masq-ipam-pools " ]
}

@test "a KUBE- ipset that a rule of another tool uses is kept, with a warning" {
	kube_ipsets
	ns iptables-nft-restore <<'EOF4'
*filter
:INPUT ACCEPT [0:0]
:MY-GUARD - [0:0]
-A INPUT -j MY-GUARD
-A MY-GUARD -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT
COMMIT
EOF4
	run kp-cleanup -N "$NS" --backup-dir "$BK"
	assert_success
	assert_output --partial "keeping ipset KUBE-CLUSTER-IP"
	ns ipset list -n KUBE-CLUSTER-IP >/dev/null
	ns iptables-nft-save | grep -q -- '-A MY-GUARD -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT'
	! ns ipset list -n KUBE-LOOP-BACK 2>/dev/null || false
}

@test "the kube-ipvs0 dummy is removed with its addresses, and comes back with --restore" {
	if ! err=$(ip -n "$NS" link add kube-ipvs0 type dummy 2>&1); then
		# only a kernel without the driver skips; any other failure fails
		[[ "$err" == *"Unknown device type"* ]] || fail "ip link add type dummy: $err"
		skip "this kernel has no dummy link driver (CONFIG_DUMMY not set)"
	fi
	ip -n "$NS" addr add 10.96.0.1/32 dev kube-ipvs0
	ip -n "$NS" addr add fd00:96::1/128 dev kube-ipvs0 nodad
	before=$(ip -n "$NS" -o addr show dev kube-ipvs0 | awk '{ print $3, $4 }')
	run kp-cleanup -N "$NS" --backup-dir "$BK"
	assert_success
	assert_output --partial "link: remove kube-ipvs0 (dummy, 2 addresses)"
	! ip -n "$NS" link show kube-ipvs0 2>/dev/null || false
	run kp-cleanup -N "$NS" --restore "$BK"
	assert_success
	[ "$(ip -n "$NS" -o addr show dev kube-ipvs0 | awk '{ print $3, $4 }')" = "$before" ]
}

@test "a kube-ipvs0 that is no dummy is kept; a link backup is recreated by rtnetlink" {
	# This kernel may lack the dummy driver: ifb stands in for a link that
	# kp-cleanup must not take for kube-proxy's, and for the restore path.
	mkdir -p "$BK"
	printf 'kind ifb\nstate down\naddr 10.96.0.1/32\naddr 10.96.0.10/32\n' >"$BK/link-kube-ipvs0"
	run kp-cleanup -N "$NS" --restore "$BK" --only link
	assert_success
	assert_output --partial "link: restore kube-ipvs0"
	run ip -n "$NS" -o addr show dev kube-ipvs0
	assert_output --partial "inet 10.96.0.1/32"
	assert_output --partial "inet 10.96.0.10/32"
	run --separate-stderr kp-cleanup -N "$NS" --restore "$BK" --only link -j
	[ "$(jq -r .changed <<<"$output")" = false ]
	run kp-cleanup -N "$NS" --backup-dir "$TMP/bk2"
	assert_success
	assert_output --partial "keeping link kube-ipvs0: it is of kind 'ifb'"
	ip -n "$NS" link show kube-ipvs0 >/dev/null
}

@test "backup then --restore gives back every rule, set and table exactly; a second --restore changes nothing" {
	full_node
	snapshot >"$TMP/before"
	run kp-cleanup -N "$NS" --backup-dir "$BK"
	assert_success
	snapshot >"$TMP/cleaned"
	! diff -q "$TMP/before" "$TMP/cleaned" >/dev/null || false
	for f in iptables-nft.save iptables-legacy.save ip6tables-nft.save ip6tables-legacy.save \
		ipset.save nft-ip-kube-proxy.nft nft-ip6-kube-proxy.nft; do
		[ -f "$BK/$f" ] || fail "no $f in the backup"
	done
	[ "$(stat -c %a "$BK")" = 700 ]
	run --separate-stderr kp-cleanup -N "$NS" --restore "$BK" -n -j
	assert_success
	[ "$(jq -r '.changed, .dry_run' <<<"$output" | tr '\n' ' ')" = "true true " ]
	[ "$(jq -c .nft_tables <<<"$output")" = '["ip kube-proxy","ip6 kube-proxy"]' ]
	snapshot >"$TMP/still-cleaned"
	diff -u "$TMP/cleaned" "$TMP/still-cleaned"
	run kp-cleanup -N "$NS" --restore "$BK"
	assert_success
	snapshot >"$TMP/after"
	diff -u "$TMP/before" "$TMP/after"
	run --separate-stderr kp-cleanup -N "$NS" --restore "$BK" -j
	assert_success
	[ "$(jq -r .changed <<<"$output")" = false ]
	snapshot >"$TMP/again"
	diff -u "$TMP/before" "$TMP/again"
}

@test "--dry-run lists every rule, chain, set and table and changes nothing" {
	full_node
	snapshot >"$TMP/before"
	run kp-cleanup -N "$NS" -n --backup-dir "$BK"
	assert_success
	assert_output --partial "iptables-nft ipv4 nat: would remove chain KUBE-SEP-3WH7PNCF552PK7QF (2 rules)"
	assert_output --partial '    -A KUBE-SEP-3WH7PNCF552PK7QF -p tcp -m comment --comment "default/service1:fileserver" -m tcp -j DNAT --to-destination 10.244.1.5:8080'
	assert_output --partial 'iptables-nft ipv4 filter: would remove rule -A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD'
	assert_output --partial "iptables-legacy ipv4 nat: would remove chain KUBE-FIREWALL"
	assert_output --partial "ip6tables-legacy ipv6 mangle: would remove chain KUBE-PROXY-CANARY"
	assert_output --partial "ipset: would remove set KUBE-6-LOAD-BALANCER-SOURCE-CID"
	assert_output --partial "nft: would remove table ip6 kube-proxy"
	assert_output --partial "(dry run: nothing was changed)"
	refute_output --partial "KUBE-ROUTER"
	refute_output --partial "chain KUBE-FIREWALL (1 rule)"$'\n'"    -A KUBE-FIREWALL ! -s 127.0.0.0/8"
	snapshot >"$TMP/after"
	diff -u "$TMP/before" "$TMP/after"
	[ ! -e "$BK" ]
	run --separate-stderr kp-cleanup -N "$NS" -n -j
	assert_success
	assert_json
	[ "$(jq -r '.changed, .dry_run, .backup_dir' <<<"$output" | tr '\n' ' ')" = "true true null " ]
	# every chain kp-cleanup would remove is in the JSON plan
	[ "$(jq '[.iptables[].chains[]] | length' <<<"$output")" -eq 66 ]
}

@test "a second run finds nothing to do: changed false, no backup" {
	full_node
	run kp-cleanup -N "$NS" --backup-dir "$BK"
	assert_success
	snapshot >"$TMP/once"
	run --separate-stderr kp-cleanup -N "$NS" -j --backup-dir "$TMP/second"
	assert_success
	assert_json
	[ "$(jq -r .changed <<<"$output")" = false ]
	[ ! -e "$TMP/second" ]
	run kp-cleanup -N "$NS" --backup-dir "$TMP/second"
	assert_output --partial "nothing to do: no kube-proxy leftovers"
	snapshot >"$TMP/twice"
	diff -u "$TMP/once" "$TMP/twice"
}

@test "without IPVS in the kernel it says so and goes on" {
	[ -d /sys/module/ip_vs ] && skip "this kernel has IPVS loaded"
	ns iptables-nft-restore <"$FX/kube-proxy-iptables-save.txt"
	run kp-cleanup -N "$NS" --backup-dir "$BK"
	assert_success
	assert_output --partial "ipvs: not available in this kernel (no generic netlink family IPVS"
	diff -u <(oracle) <(saved nft)
	run --separate-stderr kp-cleanup -N "$NS" -j --backup-dir "$TMP/bk2"
	assert_success
	[ "$(jq -r .ipvs <<<"$output")" = unavailable ]
}

@test "--only narrows what is removed" {
	full_node
	saved nft >"$TMP/ipt.before"
	run kp-cleanup -N "$NS" --only nft --backup-dir "$BK"
	assert_success
	run ns nft list tables
	refute_output --partial "kube-proxy"
	diff -u "$TMP/ipt.before" <(saved nft)
	ns ipset list -n KUBE-CLUSTER-IP >/dev/null
	# sets still used by kube-proxy's rules cannot go before the rules
	run kp-cleanup -N "$NS" --only ipset --backup-dir "$TMP/bk2"
	assert_success
	assert_output --partial "keeping ipset KUBE-LOOP-BACK"
	run kp-cleanup -N "$NS" --only iptables,ipset --backup-dir "$TMP/bk3"
	assert_success
	! ns ipset list -n KUBE-CLUSTER-IP 2>/dev/null || false
	[ ! -e "$TMP/bk3/nft-ip-kube-proxy.nft" ]
}

@test "refuses while a kube-proxy process runs; --force goes on" {
	cp /bin/sleep "$TMP/kube-proxy"
	"$TMP/kube-proxy" 300 &
	FAKE_PID=$!
	ns iptables-nft-restore <"$FX/kube-proxy-iptables-save.txt"
	before=$(saved nft)
	run --separate-stderr kp-cleanup -N "$NS" --backup-dir "$BK" -j
	[ "$status" -eq 1 ]
	assert_json
	[[ "$(jq -r .error <<<"$output")" == *"kube-proxy is running (pid "*"--force"* ]]
	[ "$(saved nft)" = "$before" ]
	[ ! -e "$BK" ]
	run kp-cleanup -N "$NS" --backup-dir "$BK" --force
	assert_success
	assert_output --partial "kube-proxy is running"
	diff -u <(oracle) <(saved nft)
}

@test "bad options exit 2, print JSON with -j, and change nothing" {
	full_node
	snapshot >"$TMP/before"
	local args
	for args in "--only bogus" "--only iptables," "--only=" "--frobnicate" "extra-arg" \
		"--wait abc" "--restore $TMP/none" "--restore $TMP --backup-dir $BK" "--backup-dir="; do
		run --separate-stderr kp-cleanup -N "$NS" -j $args
		[ "$status" -eq 2 ] || fail "kp-cleanup $args: exit $status, not 2: $output"
		assert_json
		jq -e .error >/dev/null <<<"$output"
	done
	run --separate-stderr kp-cleanup -N "kpc-test-absent-$$-$RANDOM" -j
	[ "$status" -eq 2 ]
	assert_json
	snapshot >"$TMP/after"
	diff -u "$TMP/before" "$TMP/after"
	[ ! -e "$BK" ]
}

@test "a table that changes under it is left as it was, never half cleaned (both backends)" {
	local b t
	for b in nft legacy; do
		ns "iptables-$b-restore" <"$FX/kube-proxy-iptables-save.txt"
		# Between kp-cleanup's reading and writing, someone deletes one of
		# kube-proxy's jumps: its -D of that rule fails inside the restore.
		mkdir -p "$TMP/bin-$b"
		cat >"$TMP/bin-$b/iptables-$b-restore" <<EOS
#!/bin/sh
iptables-$b -t nat -D OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
exec /usr/sbin/iptables-$b-restore "\$@"
EOS
		chmod +x "$TMP/bin-$b/iptables-$b-restore"
		ns "iptables-$b" -t nat -D OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
		saved $b >"$TMP/expected-nat-$b"
		ns "iptables-$b-restore" <"$FX/kube-proxy-iptables-save.txt"
		saved $b >"$TMP/before-$b"
		PATH="$TMP/bin-$b:$PATH" run kp-cleanup -N "$NS" --backup-dir "$BK-$b"
		[ "$status" -eq 1 ] || fail "exit $status: $output"
		assert_output --partial "could not apply the change"
		[ -f "$BK-$b/iptables-$b.save" ]
		# every table is either as it was (less the rule deleted meanwhile)
		# or exactly cleaned
		for t in mangle filter nat; do
			got=$(saved $b | awk -v t="*$t" '/^\*/ { on = ($0 == t) } on')
			was=$(awk -v t="*$t" '/^\*/ { on = ($0 == t) } on' "$TMP/expected-nat-$b")
			clean=$(oracle | awk -v t="*$t" '/^\*/ { on = ($0 == t) } on')
			[ "$got" = "$was" ] || [ "$got" = "$clean" ] || fail "$b table $t is half changed: $got"
		done
		# nat could not change: its kube-proxy chains are all there
		saved $b | grep -q '^:KUBE-SVC-NPX46M4PTMTKRN6Y - $'
		run kp-cleanup -N "$NS" --backup-dir "$BK-$b-again"
		assert_success
		diff -u <(oracle) <(saved $b)
		ns "iptables-$b-restore" <<<"$(printf '*filter\nCOMMIT\n*nat\nCOMMIT\n*mangle\nCOMMIT\n')"
	done
}

@test "a backup directory that is not empty is refused before anything changes" {
	ns iptables-nft-restore <"$FX/kube-proxy-iptables-save.txt"
	mkdir -p "$BK" && echo keep >"$BK/old"
	before=$(saved nft)
	run kp-cleanup -N "$NS" --backup-dir "$BK"
	[ "$status" -eq 2 ]
	assert_output --partial "is not empty"
	[ "$(saved nft)" = "$before" ]
	[ "$(cat "$BK/old")" = keep ]
}

@test "the default backup directory is /var/lib/kpr/backup/<UTC timestamp>" {
	ns iptables-nft-restore <"$FX/kube-proxy-iptables-save.txt"
	run --separate-stderr kp-cleanup -N "$NS" -j
	assert_success
	DEFAULT_BK=$(jq -r .backup_dir <<<"$output")
	[[ "$DEFAULT_BK" =~ ^/var/lib/kpr/backup/[0-9]{8}T[0-9]{6}Z$ ]]
	[ -f "$DEFAULT_BK/iptables-nft.save" ]
	run kp-cleanup -N "$NS" --restore "$DEFAULT_BK"
	assert_success
}

@test "another kp-cleanup holding the lock: exit 3 after -w" {
	ns iptables-nft-restore <"$FX/kube-proxy-iptables-save.txt"
	before=$(saved nft)
	# hold the lock in this shell: no process to outlive the test
	exec {lockfd}>>/run/kpr-kp-cleanup.lock
	flock -n "$lockfd"
	run --separate-stderr kp-cleanup -N "$NS" -w 0 -j --backup-dir "$BK"
	flock -u "$lockfd"
	exec {lockfd}>&-
	[ "$status" -eq 3 ]
	assert_json
	[ "$(saved nft)" = "$before" ]
	[ ! -e "$BK" ]
}

@test "man page and completion offer exactly the options of --help" {
	assert_docs_match_help kp-cleanup
	only=$(bash -c '
		source "$1"
		COMP_WORDS=(kp-cleanup --only ip); COMP_CWORD=2
		_kpr kp-cleanup ip --only
		printf "%s\n" "${COMPREPLY[@]}"' _ "$BATS_TEST_DIRNAME/../completions/kp-cleanup" | LC_ALL=C sort | tr '\n' ' ')
	[ "$only" = "ipset iptables ipvs " ]
}
