#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# make demo: barelb end to end in a network-namespace lab, on the state-directory source.
#   a LAN with nodes n1..n3 (a speaker on each), a client, a controller; Pod pod-1 (app: pod, port
#   8080) on n1; Service svc-1 (port 9000 -> 8080, LoadBalancer, externalTrafficPolicy: Local).
# It shows the allocated IP, which node answers ARP for it, the client's curl reaching the pod, then
# moves the pod to n2 and shows the answer move. Everything it creates is removed at the end.
set -u
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
	echo "make demo needs root (it creates network namespaces)" >&2
	exit 1
fi
export LAB_BIN=$PWD/bin RIG=blbdemo
. test/rig/lab.sh
trap lab_down EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
fail() { echo "demo: $*" >&2; exit 1; }

step "0. The config: a pool and a layer-2 advertisement (MetalLB's own format)"
LAB=$(mktemp -d /tmp/barelb-demo.XXXXXX)
lab_up 3 || fail "cannot build the lab"
cat "$LAB/config.yaml"
"$LAB_BIN/barelbctl" check-config "$LAB/config.yaml"
echo "lab: LAN 192.0.2.0/24 with nodes n1 n2 n3 ($RIG_LAN4.11-13), client $RIG_LAN4.100; state dir $LAB/state"

step "1. Pod pod-1 (app: pod, port 8080) on node n1, and Service svc-1 (9000 -> 8080, ETP Local)"
podip=$(lab_pod pod-1 pod n1 8080) || fail "cannot create the pod"
echo "pod-1 runs on n1 with IP $podip"
lab_service svc-1 pod 9000 8080 Local
cat "$LAB/state/svc-svc-1.yaml"

step "2. The controller allocates an external IP and writes it into the Service status"
ip=$(lab_wait_ip svc-1 5) || fail "no IP was allocated (see $LAB/controller.log)"
echo "svc-1 got $ip:"
cat "$LAB/state/status/default/svc-1.json"; echo
grep -h "svc=default/svc-1" "$LAB/controller.log" | head -2

step "3. Which node answers ARP for $ip? (arping from the client)"
lab_wait_arp_owner "$ip" n1 5 || fail "n1 does not answer for $ip"
rig_exec client arping -c 3 -w 3 -I eth0 "$ip"
mac=$(lab_arp_macs "$ip" 1)
echo "answered by $mac = node $(lab_mac_owner "$mac") (the node that hosts pod-1)"
grep -h "announcing" "$LAB"/n*.log

step "3b. What an operator sees: barelbctl on the controller and on n1, and n1's metrics"
"$LAB_BIN/barelbctl" --control "$LAB/controller.sock" services
"$LAB_BIN/barelbctl" --control "$LAB/n1.sock" announcements
rig_exec n1 curl -s localhost:7472/metrics | grep -E '^barelb_speaker_announced|^barelb_layer2_arp_(requests_received|replies_sent)_total'

step "4. The client reaches the pod through $ip:9000"
rig_dnat n1 "$ip" 9000 "$podip" 8080 # kube-proxy's part, standing in
rig_exec client curl -s -m 3 "http://$ip:9000/" || fail "curl failed"

step "5. Move pod-1 to node n2: the answer moves with it"
lab_pod_del pod-1
podip=$(lab_pod pod-1 pod n2 8080) || fail "cannot move the pod"
echo "pod-1 now runs on n2 with IP $podip"
rig_dnat_flush n1
rig_dnat n2 "$ip" 9000 "$podip" 8080
lab_wait_arp_owner "$ip" n2 5 || fail "n2 did not take over"
rig_exec client arping -c 3 -w 3 -I eth0 "$ip"
mac=$(lab_arp_macs "$ip" 1)
echo "answered by $mac = node $(lab_mac_owner "$mac")"
grep -h "announcing" "$LAB"/n*.log
rig_exec client curl -s -m 3 "http://$ip:9000/" || fail "curl failed after the move"

step "6. Done: stopping everything and removing the lab"
