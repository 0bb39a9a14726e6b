#!/usr/bin/env bash
# Kubernetes in and Prometheus out: a 10,000-Service, 50,000-endpoint
# cluster as kubectl prints it (each Service a ClusterIP with two ports,
# five endpoints in one EndpointSlice: 20,000 frontends) through
# svc-add --format kubernetes into a fresh pin root, then again unchanged;
# svc-list -o prometheus of the 20,000. Medians, in milliseconds.
set -euo pipefail	# a failed run must stop the bench, not print 0.00 ms
top=$(cd "$(dirname "$0")/../.." && pwd)
: "${KPR_BIN:=$top/build}"
export PATH="$KPR_BIN:$PATH"
root=/sys/fs/bpf/kpr-bench-k8s-$$
tmp=$(mktemp -d)
trap 'rm -rf "$root" "$tmp"' EXIT
export KPR_PIN_ROOT=$root

python3 - "$tmp/cluster.json" <<'PY'
import json, sys
items = []
for i in range(10000):
    ns, name = 'ns%d' % (i // 100), 'svc%d' % i
    ip = '10.%d.%d.%d' % (96 + i // 62500, i // 250 % 250, i % 250 + 1)
    items.append({'apiVersion': 'v1', 'kind': 'Service',
                  'metadata': {'name': name, 'namespace': ns},
                  'spec': {'type': 'ClusterIP', 'clusterIP': ip, 'clusterIPs': [ip], 'ipFamilies': ['IPv4'],
                           'sessionAffinity': 'None',
                           'ports': [{'name': 'http', 'port': 80, 'protocol': 'TCP', 'targetPort': 8080},
                                     {'name': 'metrics', 'port': 9100, 'protocol': 'TCP', 'targetPort': 9100}]}})
for i in range(10000):
    ns, name = 'ns%d' % (i // 100), 'svc%d' % i
    eps = []
    for j in range(5):
        b = i * 5 + j
        eps.append({'addresses': ['172.%d.%d.%d' % (16 + b // 62500, b // 250 % 250, b % 250 + 1)],
                    'conditions': {'ready': True, 'serving': True, 'terminating': False}, 'nodeName': 'node-%d' % (b % 50)})
    items.append({'apiVersion': 'discovery.k8s.io/v1', 'kind': 'EndpointSlice',
                  'metadata': {'name': name + '-abcde', 'namespace': ns, 'labels': {'kubernetes.io/service-name': name}},
                  'addressType': 'IPv4',
                  'ports': [{'name': 'http', 'port': 8080, 'protocol': 'TCP'}, {'name': 'metrics', 'port': 9100, 'protocol': 'TCP'}],
                  'endpoints': eps})
json.dump({'apiVersion': 'v1', 'kind': 'List', 'items': items}, open(sys.argv[1], 'w'), indent=4)
PY

now() { date +%s%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ms() { awk -v ns="$1" 'BEGIN { printf "%.2f", ns / 1e6 }'; }

echo "# input: $(du -m "$tmp/cluster.json" | cut -f1) MB of kubectl JSON"
runs=5
for r in $(seq $runs); do
	rm -rf "$root"
	t0=$(now); svc-add -q --format kubernetes -f "$tmp/cluster.json" --replace; t1=$(now)
	echo $((t1 - t0))
done | median >"$tmp/load"
echo "load 10,000 Services, 50,000 endpoints (20,000 frontends) through --format kubernetes, fresh root: $(ms "$(cat "$tmp/load")") ms (median of $runs)"
for r in $(seq $runs); do
	t0=$(now); svc-add -q --format kubernetes -f "$tmp/cluster.json" --replace; t1=$(now)
	echo $((t1 - t0))
done | median >"$tmp/noop"
echo "the same again, all unchanged: $(ms "$(cat "$tmp/noop")") ms (median of $runs)"
# a dry run onto a node without state: the parse and the checks, on private maps it creates
t0=$(now); svc-add -q -n --pin-root "$root-none" --format kubernetes -f "$tmp/cluster.json"; t1=$(now)
echo "dry run onto a node without state (private maps created): $(ms $((t1 - t0))) ms"
for r in $(seq $runs); do
	t0=$(now); svc-list -o prometheus >"$tmp/prom"; t1=$(now)
	echo $((t1 - t0))
done | median >"$tmp/prom-ms"
echo "svc-list -o prometheus of 20,000 services: $(ms "$(cat "$tmp/prom-ms")") ms (median of $runs), $(wc -l <"$tmp/prom") lines"
