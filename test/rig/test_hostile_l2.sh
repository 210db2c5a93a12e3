#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# test_hostile_l2.sh: a flood of malformed and hostile ARP/NDP frames (test/rig/hostile_l2.py) at
# the owners of a dual-stack service in the namespace lab (controller + 3 ASan speakers): good
# arping/ndisc6 probes keep being answered, no wrong answer is ever sent (client-side capture),
# the speakers stay up without a sanitizer report, their drop counters rise (barelb_layer2_dropped_total
# on the speaker's /metrics) and a foreign MAC claiming an owned IP raises a rate-limited conflict
# warning in the log. Everything runs in namespaces this test creates ($RIG is unique)
# and they are removed at the end, also when a check fails. TAP.
set -u
. "$BARELB_TOP/test/lib/tap.sh"
export LAB_BIN=${BARELB_BIN:-$BARELB_TOP/build/asan/bin} RIG=blbh2$$
. "$BARELB_TOP/test/rig/lab.sh"
HOSTILE="/usr/bin/python3 $BARELB_TOP/test/rig/hostile_l2.py"
FLOOD_S=${FLOOD_S:-12}
FLOOD_RATE=${FLOOD_RATE:-3000}
FOREIGN=02:de:ad:be:ef:01
UNOWNED4=192.0.2.207,192.0.2.50
UNOWNED6=2001:db8:77::207,2001:db8:77::50
BG=""
cleanup() {
	local p
	for p in $BG; do kill "$p" 2>/dev/null; done
	lab_down
}
trap cleanup EXIT
LAB=$(mktemp -d /tmp/barelb-hostile-l2.XXXXXX)

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

# drops NODE KIND: barelb_layer2_dropped_total{kind=KIND} from NODE's speaker (0 when absent).
METRICS_PORT=${METRICS_PORT:-7472}
drops() {
	local v
	v=$(rig_exec "$1" curl -s -m 2 "http://127.0.0.1:$METRICS_PORT/metrics" 2>/dev/null |
		awk -v k="barelb_layer2_dropped_total{kind=\"$2\"}" '$1 == k { printf "%d", $2 }')
	echo "${v:-0}"
}

for tool in arping ndisc6 tcpdump curl; do
	command -v $tool >/dev/null || { not_ok "$tool is installed"; tap_end; exit 1; }
done
lab_up 3 || { not_ok "the lab comes up"; tap_end; exit 1; }
ok "the lab comes up (3 nodes, controller, speakers)"

lab_pod web-1 web n2 8080 >/dev/null
lab_service web web 80 8080 Cluster "  ipFamilyPolicy: RequireDualStack
  ipFamilies: [IPv4, IPv6]
  clusterIPs: [10.96.0.5, \"fd00::5\"]"
sed -i '/clusterIPs: \[10.96.0.[0-9]*\]$/d' "$LAB/state/svc-web.yaml"
ip=$(lab_wait_ip web 5)
ip6=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["status"]["loadBalancer"]["ingress"][1]["ip"])' "$LAB/state/status/default/web.json" 2>/dev/null)
if [ -z "$ip" ] || [ -z "$ip6" ]; then
	not_ok "the dual-stack service gets an IPv4 and an IPv6 address"; tap_end; exit 1
fi
ok "the dual-stack service gets $ip and $ip6"
own4=$(expected_owner "$ip" n1 n2 n3)
own6=$(expected_owner "$ip6" n1 n2 n3)
mac4=$(rig_mac "$own4")
mac6=$(rig_mac "$own6")
check "$own4 answers ARP for $ip before the flood" lab_wait_arp_owner "$ip" "$own4" 5
na=$(rig_exec client ndisc6 -1 -r 3 -w 500 "$ip6" eth0 2>/dev/null | grep -i "link-layer address" | awk '{print tolower($NF)}')
check "$own6 answers NDP for $ip6 before the flood" test "$na" = "$mac6"

# Baselines of the owners' drop counters (a summary line appears once frames are dropped).
for r in truncated malformed not_request not_for_us own_frame not_owned; do
	eval "b4_$r=$(drops "$own4" $r) b6_$r=$(drops "$own6" $r)"
done
conf4_before=$(grep -c 'address conflict' "$LAB/$own4.log")

# Capture what reaches the client (the answers), then flood from the client.
rig_exec client timeout $((FLOOD_S + 10)) tcpdump -i eth0 -Q in -B 16384 -nn -w "$LAB/cap.pcap" \
	"arp or icmp6" >"$LAB/tcpdump.err" 2>&1 &
cap=$!
BG="$BG $cap"
sleep 1
rig_exec client $HOSTILE flood eth0 "$FLOOD_S" "$FLOOD_RATE" "$ip" "$ip6" "$UNOWNED4" "$UNOWNED6" \
	"$mac4" >"$LAB/flood.txt" 2>&1 &
flood=$!
BG="$BG $flood"
sleep 1
# 50 ARP probes 0.1 s apart, then 20 NDP probes, all during the flood.
arp_ok=$(rig_exec client arping -c 50 -W 0.1 -w 15 -I eth0 "$ip" 2>/dev/null | grep -ic "from $mac4")
nd_ok=0
for i in $(seq 1 20); do
	rig_exec client ndisc6 -1 -r 1 -w 400 "$ip6" eth0 2>/dev/null | grep -qi "link-layer address.*$mac6" &&
		nd_ok=$((nd_ok + 1))
done
flood_alive=0
kill -0 "$flood" 2>/dev/null && flood_alive=1
wait "$flood"
frc=$?
sent=$(awk '/^sent/ { print $2 }' "$LAB/flood.txt")
check "the flood was sent ($(head -c 200 "$LAB/flood.txt")...)" test "$frc" -eq 0 -a "${sent:-0}" -ge $((FLOOD_S * FLOOD_RATE * 8 / 10))
check "the probes ran while the flood was still going" test "$flood_alive" -eq 1
check "during the flood, $arp_ok of 50 ARP probes were answered by $own4 (>= 48)" test "$arp_ok" -ge 48
check "during the flood, $nd_ok of 20 NDP probes were answered by $own6 (>= 19)" test "$nd_ok" -ge 19

sleep 0.5
kill -INT "$cap" 2>/dev/null
wait "$cap" 2>/dev/null
rig_exec client tcpdump -r "$LAB/cap.pcap" -nn -e >"$LAB/cap.txt" 2>/dev/null
nodes=""
for n in n1 n2 n3; do
	nodes="$nodes $n=$(rig_mac "$n"),$(rig_node_ip4 "$n"),$(rig_node_ip6 "$n")"
done
$HOSTILE check "$LAB/cap.txt" $nodes -- "$ip" "$ip6" "$own4" "$own6" "$UNOWNED4,$UNOWNED6" >"$LAB/check.txt"
crc=$?
check "no wrong answer in the capture ($(tail -n 1 "$LAB/check.txt"); every ARP reply and NA from a node is for an IP it owns, none for $UNOWNED4 $UNOWNED6)" test "$crc" -eq 0
[ "$crc" -ne 0 ] && head -n 5 "$LAB/check.txt" | sed 's/^/# /'
answers=$(awk '/^answers/ { print $2 }' "$LAB/check.txt")
check "the capture holds the answers to the probes (${answers:-0} >= 67)" test "${answers:-0}" -ge 67

for n in n1 n2 n3; do
	check "speaker $n is still running" kill -0 "$(lab_speaker_pid "$n")"
done
check "no sanitizer report in the daemons' logs" \
	bash -c '! grep -qE "runtime error|AddressSanitizer|LeakSanitizer" "$0"/*.log' "$LAB"

# Drop counters rose for each kind of bad frame.
for r in truncated malformed not_request not_for_us own_frame not_owned; do
	a=$(drops "$own4" $r)
	eval "b=\$b4_$r"
	check "$own4 counted $r drops in its metrics ($b -> $a)" test "$a" -gt "$b"
done
for r in truncated malformed not_owned; do
	a=$(drops "$own6" $r)
	eval "b=\$b6_$r"
	check "$own6 counted $r drops in its metrics ($b -> $a)" test "$a" -gt "$b"
done

# Duplicate-address detection: the foreign claims were noticed, with a rate-limited warning.
check "$own4's warning names $ip and $FOREIGN" grep -qE "ip=$ip mac=$FOREIGN msg=\"address conflict" "$LAB/$own4.log"
check "$own6's warning names $ip6 and $FOREIGN" grep -qE "ip=$ip6 mac=$FOREIGN msg=\"address conflict" "$LAB/$own6.log"
conf4=$(( $(grep -c 'address conflict' "$LAB/$own4.log") - conf4_before ))
claims=$(grep -Eo '(garp-re[a-z]+|na)-claim=[0-9]+|arp-reply-to-victim=[0-9]+' "$LAB/flood.txt" |
	awk -F= '{ s += $2 } END { print s + 0 }')
check "conflict warnings are rate-limited ($conf4 lines for ${claims:-?} claims in ${FLOOD_S} s; <= $((FLOOD_S + 8)))" \
	test "$conf4" -ge 1 -a "$conf4" -le $((FLOOD_S + 8))

# The claims changed nothing: the owners still answer, and only they.
macs=$(lab_arp_macs "$ip" 4)
check "after the flood exactly one MAC answers ARP for $ip, $own4's" test "$macs" = "$mac4"
na=$(rig_exec client ndisc6 -1 -r 3 -w 500 "$ip6" eth0 2>/dev/null | grep -i "link-layer address" | awk '{print tolower($NF)}')
check "after the flood $own6 answers NDP for $ip6" test "$na" = "$mac6"
tap_end
