#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Layer 2 end to end in the namespace lab: controller + 3 speakers (ASan builds) on the dir: source,
# real arping / ndisc6 / tcpdump / curl on the client. Everything runs inside namespaces this test
# creates, and they are removed at the end, also when a check fails.
set -u
. "$BARELB_TOP/test/lib/tap.sh"
export LAB_BIN=${BARELB_BIN:-$BARELB_TOP/build/asan/bin} RIG=blbl2$$
. "$BARELB_TOP/test/rig/lab.sh"
trap lab_down EXIT
LAB=$(mktemp -d /tmp/barelb-l2.XXXXXX)

# expected_owner IP NODES...: MetalLB's order, lowest sha256(node#ip) first.
expected_owner() {
	local ip=$1 n best="" bh="" h
	shift
	for n in "$@"; do
		h=$(printf '%s#%s' "$n" "$ip" | sha256sum | cut -c1-64)
		if [ -z "$bh" ] || [[ "$h" < "$bh" ]]; then bh=$h best=$n; fi
	done
	echo "$best"
}

lab_up 3 || { not_ok "the lab comes up"; tap_end; exit 1; }
ok "the lab comes up (3 nodes, controller, speakers)"

# --- ETP Cluster, dual stack --------------------------------------------------------------------
lab_pod web-1 web n3 8080 >/dev/null
lab_service web web 80 8080 Cluster "  ipFamilyPolicy: RequireDualStack
  ipFamilies: [IPv4, IPv6]
  clusterIPs: [10.96.0.5, \"fd00::5\"]"
sed -i '/clusterIPs: \[10.96.0.[0-9]*\]$/d' "$LAB/state/svc-web.yaml"
ip=$(lab_wait_ip web 5)
check "the controller allocates an IPv4 address to a dual-stack service" test -n "$ip"
ip6=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["status"]["loadBalancer"]["ingress"][1]["ip"])' "$LAB/state/status/default/web.json" 2>/dev/null)
check "and an IPv6 address" test -n "$ip6"
want=$(expected_owner "$ip" n1 n2 n3)
check "the elected owner ($want) answers ARP" lab_wait_arp_owner "$ip" "$want" 5
macs=$(lab_arp_macs "$ip" 5)
check "exactly one MAC answers 5 ARP probes" test "$(echo "$macs" | grep -c .)" -eq 1
owner_mac=$(rig_mac "$want")
check "the answer carries the owner's MAC" test "$macs" = "$owner_mac"
na=$(rig_exec client ndisc6 -1 -r 3 -w 500 "$ip6" eth0 2>/dev/null | grep -i "link-layer address" | awk '{print tolower($NF)}')
check "ndisc6 gets a neighbour advertisement for $ip6 from the same node" test "$na" = "$owner_mac"

# Field-by-field look at a captured ARP reply (tcpdump on the client).
rig_exec client timeout 5 tcpdump -i eth0 -nn -e -l -c 2 "arp and host $ip" >"$LAB/cap1.txt" 2>/dev/null &
cap=$!
sleep 0.5
rig_exec client arping -c 1 -w 1 -I eth0 "$ip" >/dev/null 2>&1
wait $cap
client_mac=$(rig_mac client)
check "captured reply: Ethernet source is the owner, destination the client" \
	grep -qE "^.*$owner_mac > $client_mac, ethertype ARP" "$LAB/cap1.txt"
check "captured reply: opcode reply, $ip is-at the owner's MAC" \
	grep -qE "Reply $ip is-at $owner_mac" "$LAB/cap1.txt"

# Addresses nobody owns get no answer.
check "an unallocated pool address gets no ARP answer" test -z "$(lab_arp_macs 192.0.2.207 2)"
check "an address outside every pool gets no ARP answer" test -z "$(lab_arp_macs 192.0.2.50 2)"
check "an unallocated IPv6 pool address gets no NDP answer" \
	test -z "$(rig_exec client ndisc6 -1 -r 1 -w 300 2001:db8:77::207 eth0 2>/dev/null | grep -i 'link-layer')"

# --- hand-over on SIGTERM -----------------------------------------------------------------------
others=$(for n in n1 n2 n3; do [ "$n" != "$want" ] && echo "$n"; done)
next=$(expected_owner "$ip" $others)
rig_exec client timeout 6 tcpdump -i eth0 -nn -e -l "arp and host $ip" >"$LAB/cap2.txt" 2>/dev/null &
cap=$!
sleep 0.5
t0=$(date +%s%N)
kill -TERM "$(lab_speaker_pid "$want")"
lab_wait_arp_owner "$ip" "$next" 3
r=$?
t1=$(date +%s%N)
check "after SIGTERM of the owner, $next answers (in $(( (t1 - t0) / 1000000 )) ms)" test $r -eq 0
next_mac=$(rig_mac "$next")
kill $cap 2>/dev/null; wait $cap 2>/dev/null
check "the new owner sent a gratuitous ARP (broadcast, sender = target = $ip)" \
	grep -qE "^.*$next_mac > ff:ff:ff:ff:ff:ff, ethertype ARP.*(Request who-has $ip tell $ip|Reply $ip is-at $next_mac)" "$LAB/cap2.txt"
check "the old owner's speaker exited cleanly" grep -q "barelb-speaker stopped" "$LAB/$want.log"
check "the old owner released its lease" test ! -e "$LAB/state/leases/barelb-speaker-$want.json"

# The stopped speaker comes back: it takes the IP back only because it hashes first, and only one
# node answers at any time.
lab_speaker_start "$want"
check "the restarted speaker takes its IP back (it hashes first)" lab_wait_arp_owner "$ip" "$want" 5
check "still exactly one MAC answers" test "$(lab_arp_macs "$ip" 4 | grep -c .)" -eq 1

# --- a killed speaker: its lease expires -------------------------------------------------------
t0=$(date +%s%N)
kill -9 "$(lab_speaker_pid "$want")"
lab_wait_arp_owner "$ip" "$next" 8
r=$?
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
check "after SIGKILL of the owner, $next answers once the lease expires ($ms ms)" test $r -eq 0
check "the take-over after SIGKILL waited for the lease (>= 1.5 s, <= 5 s)" test "$ms" -ge 1500 -a "$ms" -le 5000
lab_speaker_start "$want"
lab_wait_arp_owner "$ip" "$want" 5

# --- ETP Local: the answer follows the pod ------------------------------------------------------
podip=$(lab_pod app-1 app n1 8080)
lab_service app app 9000 8080 Local
lip=$(lab_wait_ip app 5)
check "an ETP Local service gets an IP" test -n "$lip"
check "ETP Local: only n1, which hosts the pod, answers" lab_wait_arp_owner "$lip" n1 5
check "ETP Local: exactly one MAC answers" test "$(lab_arp_macs "$lip" 4 | grep -c .)" -eq 1
rig_dnat n1 "$lip" 9000 "$podip" 8080
out=$(rig_exec client curl -s -m 3 "http://$lip:9000/")
check "curl from the client reaches the pod through $lip:9000" test "$out" = "pod=app-1"
lab_pod_del app-1
check "ETP Local: no pod anywhere, nobody answers" lab_wait_arp_owner "$lip" none 5
podip=$(lab_pod app-1 app n2 8080)
rig_dnat_flush n1
rig_dnat n2 "$lip" 9000 "$podip" 8080
check "ETP Local: the pod moved to n2, n2 answers" lab_wait_arp_owner "$lip" n2 5
out=$(rig_exec client curl -s -m 3 "http://$lip:9000/")
check "curl reaches the moved pod" test "$out" = "pod=app-1"

# --- no sanitizer report in any daemon -----------------------------------------------------------
lab_down_logs=$(cat "$LAB"/*.log)
check "no sanitizer report in the daemons' logs" \
	bash -c '! grep -qE "runtime error|AddressSanitizer|LeakSanitizer" "$0"/*.log' "$LAB"
tap_end
