#!/usr/bin/env bash
# make demo: the netns lab up, the datapath attached to the node, a
# LoadBalancer service with three backends, twenty requests spreading over
# them, the counters, a ping of the service address, and the lab down again
# (also when a step fails); then the bridged lab, where the same curl shows
# the LB node in SNAT and the client in DSR.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
: "${KPR_BIN:=$top/build}"
export PATH="$KPR_BIN:$PATH"
export KPR_LAB_PREFIX=${KPR_LAB_PREFIX:-kdemo$$}
export KPR_LAB_PREFIX=${KPR_LAB_PREFIX:0:9}
export KPR_PIN_ROOT=/sys/fs/bpf/kpr-lab-$KPR_LAB_PREFIX
LAB=$top/tests/lab/lab.sh
NODE=${KPR_LAB_PREFIX}node
VIP=10.77.100.1

[ "$(id -u)" -eq 0 ] || { echo "make demo needs root (network namespaces, BPF)" >&2; exit 1; }
trap '"$LAB" down' EXIT

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

step "$LAB" up
step xdp-attach -N "$NODE" eth0 eth1
step svc-add -t loadbalancer $VIP:80 10.77.2.11:80 10.77.2.12:80 10.77.2.13:80
step lb-mode -N "$NODE"
printf '\n\033[1m$ # twenty requests from the client namespace\033[0m\n'
for i in $(seq 20); do
	"$LAB" exec client curl -sS -m 3 http://$VIP/
done | tee /tmp/kpr-demo-$$.out
printf '\n\033[1m$ # spread\033[0m\n'
grep -o 'backend=b[0-9]' /tmp/kpr-demo-$$.out | sort | uniq -c
rm -f /tmp/kpr-demo-$$.out
step svc-list --stats
step "$LAB" exec client ping -c 3 -i 0.2 $VIP
step xdp-attach -N "$NODE" --status

# DSR, on the bridged lab: the same curl shows the LB node's address in
# SNAT and the client's in DSR, and in DSR the LB node counts no replies.
DVIP=10.78.100.1
step "$LAB" down
export KPR_LAB_TOPO=dsr
BPIN=$KPR_PIN_ROOT-bnode
step "$LAB" up
step xdp-attach -N "$NODE" eth0
step env KPR_PIN_ROOT="$BPIN" xdp-attach -N "${KPR_LAB_PREFIX}bnode" eth0
# every node holds the services, as in a fleet
step svc-add -t loadbalancer $DVIP:80 10.78.5.11:80
step env KPR_PIN_ROOT="$BPIN" svc-add -t loadbalancer $DVIP:80 10.78.5.11:80
printf '\n\033[1m$ # SNAT: the pod sees the LB node (10.78.0.1); requests and replies counted\033[0m\n'
step "$LAB" exec client curl -sS -m 3 http://$DVIP/
step svc-list --stats
step lb-mode -N "$NODE" --mode dsr
step svc-del $DVIP:80
step svc-add -t loadbalancer $DVIP:80 10.78.5.11:80
printf '\n\033[1m$ # DSR: the pod sees the client (10.78.0.2); the LB node counts the requests only\033[0m\n'
step "$LAB" exec client curl -sS -m 3 http://$DVIP/
step svc-list --stats
step lb-mode -N "$NODE"
