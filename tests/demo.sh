#!/usr/bin/env bash
# make demo: the control plane on a private pin root — services loaded,
# listed the way Cilium lists them, saved, restored elsewhere, deleted.
set -eu
export PATH="${KPR_BIN:-$(cd "$(dirname "$0")/.." && pwd)/build}:$PATH"
root=/sys/fs/bpf/kpr-demo-$$
trap 'rm -rf "$root" "$root-restored" "${saved:-}"' EXIT
export KPR_PIN_ROOT=$root
run() { printf '\n$ %s\n' "$*"; "$@"; }

run svc-add 10.96.0.10:53/udp 10.0.1.5:53 10.0.2.7:53
run svc-add -t nodeport '*:30080' 10.0.1.5:8080 10.0.2.7:8080,weight=3
run svc-add -t loadbalancer --affinity 600 '[2001:db8::10]:443' '[fd00::5]:8443' '[fd00::6]:8443,state=terminating'
run svc-add 10.96.0.10:53/udp 10.0.1.5:53 10.0.2.7:53
run svc-list
saved=$(mktemp)
printf '\n$ svc-list -o save > %s\n' "$saved"
svc-list -o save | tee "$saved"
run svc-add --pin-root "$root-restored" -f "$saved" --replace
run svc-list --pin-root "$root-restored"
run svc-del -j 10.96.0.10:53/udp
