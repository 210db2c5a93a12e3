#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Layer 2 frames field by field: the speaker's ARP replies, gratuitous ARP, solicited and unsolicited
# neighbour advertisements captured on the client with pcapcheck (libpcap) and checked against what
# RFC 826 / 4861 / 5227 say they must hold; truncated and malformed requests (made by rawsend) get
# no answer, and the speaker keeps answering good ones afterwards. Namespaces only; removed at the
# end, also when a check fails.
set -u
. "$BARELB_TOP/test/lib/tap.sh"
export LAB_BIN=${BARELB_BIN:-$BARELB_TOP/build/asan/bin} RIG=blbfr$$
H=${BARELB_HELPERS:-$BARELB_TOP/build/asan/helpers}
. "$BARELB_TOP/test/rig/lab.sh"
trap lab_down EXIT
LAB=$(mktemp -d /tmp/barelb-frames.XXXXXX)
BCAST=ff:ff:ff:ff:ff:ff
CLIENT4=192.0.2.100
CLIENT6=2001:db8:77::100
CAPN=0

for p in pcapcheck rawsend; do
	[ -x "$H/$p" ] || { not_ok "helper $H/$p is built"; tap_end; exit 1; }
done

# cap_start ARGS...: pcapcheck on the client's eth0 in the background; returns once it captures.
cap_start() {
	CAPN=$((CAPN + 1))
	CAP_OUT="$LAB/cap$CAPN.out"
	rm -f "$LAB/cap$CAPN.ready"
	ip netns exec "$(rig_ns client)" timeout 10 "$H/pcapcheck" -i eth0 -r "$LAB/cap$CAPN.ready" "$@" \
		>"$CAP_OUT" 2>&1 &
	CAP_PID=$!
	local t=100
	while [ ! -e "$LAB/cap$CAPN.ready" ] && [ "$t" -gt 0 ]; do sleep 0.02; t=$((t - 1)); done
}

# cap_end WHAT: wait for pcapcheck and import its TAP lines (renumbered) under the label WHAT.
cap_end() {
	local what=$1 rc line n=0
	wait "$CAP_PID"
	rc=$?
	while IFS= read -r line; do
		case $line in
		"ok "*) ok "$what: ${line#ok * - }"; n=$((n + 1)) ;;
		"not ok "*) not_ok "$what: ${line#not ok * - }"; n=$((n + 1)) ;;
		1..*) ;;
		*) echo "# $line" ;;
		esac
	done <"$CAP_OUT"
	[ "$n" -gt 0 ] || not_ok "$what: pcapcheck reported nothing (exit $rc)"
	[ "$rc" -eq 0 ] || echo "# pcapcheck exit status $rc"
}

client() { ip netns exec "$(rig_ns client)" "$@"; }
rawsend() { client timeout 5 "$H/rawsend" -i eth0 "$@" 2>/dev/null; }

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

# The node whose MAC answers ARP for IP, once exactly one does (TIMEOUT_S).
arp_owner() {
	local ip=$1 t=$(( ${2:-8} * 2 )) macs
	while [ "$t" -gt 0 ]; do
		macs=$(lab_arp_macs "$ip" 2)
		if [ -n "$macs" ] && [ "$(echo "$macs" | grep -c .)" -eq 1 ]; then
			lab_mac_owner "$macs"
			return 0
		fi
		sleep 0.3
		t=$((t - 1))
	done
	echo none
	return 1
}

lab_up 3 || { not_ok "the lab comes up"; tap_end; exit 1; }
ok "the lab comes up (3 nodes, controller, speakers)"
lab_pod web-1 web n3 8080 >/dev/null
lab_service web web 80 8080 Cluster "  ipFamilyPolicy: RequireDualStack
  ipFamilies: [IPv4, IPv6]
  clusterIPs: [10.96.0.5, \"fd00::5\"]"
sed -i '/clusterIPs: \[10.96.0.[0-9]*\]$/d' "$LAB/state/svc-web.yaml"
ip=$(lab_wait_ip web 5)
ip6=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["status"]["loadBalancer"]["ingress"][1]["ip"])' "$LAB/state/status/default/web.json" 2>/dev/null)
check "the service gets an IPv4 and an IPv6 address ($ip, $ip6)" test -n "$ip" -a -n "$ip6"
owner=$(arp_owner "$ip" 8)
check "one node answers ARP for $ip, the elected one ($owner)" test "$owner" = "$(expected_owner "$ip" n1 n2 n3)"
[ "$owner" = none ] && { tap_end; exit 1; }
OMAC=$(rig_mac "$owner")
CMAC=$(rig_mac client)
sleep 0.8 # the takeover announcements (3 rounds, 250 ms apart) are over

# --- ARP replies -----------------------------------------------------------------------------------
cap_start -t 2 -f "arp[6:2] = 2 and arp src host $ip" --expect arp --op 2 --eth-src "$OMAC" \
	--eth-dst "$CMAC" --sha "$OMAC" --spa "$ip" --tha "$CMAC" --tpa "$CLIENT4" --min-len 60 \
	--min 3 --max 3
client arping -q -c 3 -W 0.1 -i eth0 "$ip" >/dev/null 2>&1
cap_end "arping, 3 broadcast requests: one reply each, from $owner only"

cap_start -t 1 -f "arp[6:2] = 2 and arp src host $ip" --expect arp --op 2 --eth-src "$OMAC" \
	--eth-dst "$CMAC" --sha "$OMAC" --spa "$ip" --tha "$CMAC" --tpa "$CLIENT4" --min 1 --max 1
rawsend --eth-dst "$OMAC" --spa "$CLIENT4" --tpa "$ip" arp
cap_end "unicast request (a neighbour re-check)"

cap_start -t 1 -f "arp[6:2] = 2 and arp src host $ip" --expect arp --op 2 --eth-src "$OMAC" \
	--eth-dst "$CMAC" --sha "$OMAC" --spa "$ip" --tha "$CMAC" --tpa 0.0.0.0 --min 1 --max 1
rawsend --spa 0.0.0.0 --tpa "$ip" arp
cap_end "RFC 5227 probe (sender IP 0.0.0.0): the reply goes to the prober's MAC"

# The checker itself: a wrong expectation must fail (so every check above can fail).
cap_start -t 1 -f "arp[6:2] = 2 and arp src host $ip" --expect arp --sha 02:00:00:00:00:01 --min 1
rawsend --spa "$CLIENT4" --tpa "$ip" arp
wait "$CAP_PID"
rc=$?
check "pcapcheck fails a frame whose sender MAC is not the expected one (exit $rc)" \
	grep -q "^not ok .*ARP sender MAC is $OMAC, want 02:00:00:00:00:01" "$CAP_OUT"

# --- neighbour advertisements --------------------------------------------------------------------
cap_start -t 2 -f "icmp6 and ip6[40] = 136 and ip6 src $ip6" --expect na --eth-src "$OMAC" \
	--eth-dst "$CMAC" --ip6-src "$ip6" --target "$ip6" --tlla "$OMAC" --flags SOr --min 1 --max 1
client ndisc6 -1 -r 1 -w 500 "$ip6" eth0 >/dev/null 2>&1
cap_end "ndisc6: solicited NA (S=1 O=1 R=0, TLLA, from the target)"

cap_start -t 1 -f "icmp6 and ip6[40] = 136 and ip6 src $ip6" --expect na --eth-src "$OMAC" \
	--eth-dst "$CMAC" --ip6-src "$ip6" --ip6-dst "$CLIENT6" --target "$ip6" --tlla "$OMAC" \
	--flags SOr --min 1 --max 1
rawsend --src "$CLIENT6" --target "$ip6" ns
cap_end "NS to the solicited-node group from $CLIENT6"

cap_start -t 1 -f "icmp6 and ip6[40] = 136 and ip6 src $ip6" --expect na --eth-src "$OMAC" \
	--eth-dst "$CMAC" --ip6-src "$ip6" --ip6-dst "$CLIENT6" --target "$ip6" --tlla "$OMAC" \
	--flags SOr --min 1 --max 1
rawsend --src "$CLIENT6" --dst "$ip6" --eth-dst "$OMAC" --target "$ip6" ns
cap_end "unicast NS to $ip6 (unreachability probe)"

cap_start -t 1 -f "icmp6 and ip6[40] = 136 and ip6 src $ip6" --expect na --eth-src "$OMAC" \
	--eth-dst "$CMAC" --ip6-src "$ip6" --ip6-dst "$CLIENT6" --target "$ip6" --tlla "$OMAC" \
	--flags SOr --min 1 --max 1
rawsend --src "$CLIENT6" --slla none --target "$ip6" ns
cap_end "NS without a source link-layer option: answered to the frame's source MAC"

cap_start -t 1 -f "icmp6 and ip6[40] = 136 and ip6 src $ip6" --expect na --eth-src "$OMAC" \
	--eth-dst 33:33:00:00:00:01 --ip6-src "$ip6" --ip6-dst ff02::1 --target "$ip6" --tlla "$OMAC" \
	--flags sOr --min 1 --max 1
rawsend --src :: --slla none --target "$ip6" ns
cap_end "DAD probe (source ::): NA to ff02::1, S=0 O=1"

# --- truncated and malformed requests: no answer from anyone ------------------------------------
# no_answer WHAT RAWSEND-ARGS...: nothing answers (no ARP reply, no NA for a non-link-local target,
# from any host but the client) within 0.6 s. Kernels' own neighbour checks between link-local
# addresses are not answers to our frames.
no_answer() {
	local what=$1
	shift
	cap_start -t 0.6 -f "not ether src $CMAC and ((arp[6:2] = 2) or (icmp6 and ip6[40] = 136 and ip6[48] != 0xfe))" \
		--min 0 --max 0
	rawsend "$@"
	cap_end "$what: no answer"
}
no_answer "ARP truncated to 30 bytes" --truncate 30 --spa "$CLIENT4" --tpa "$ip" arp
no_answer "ARP truncated to 41 bytes" --truncate 41 --spa "$CLIENT4" --tpa "$ip" arp
no_answer "ARP with hlen 5" --hlen 5 --spa "$CLIENT4" --tpa "$ip" arp
no_answer "ARP with plen 16" --plen 16 --spa "$CLIENT4" --tpa "$ip" arp
no_answer "ARP with htype 6" --htype 6 --spa "$CLIENT4" --tpa "$ip" arp
no_answer "ARP with ptype 0x86dd" --ptype 0x86dd --spa "$CLIENT4" --tpa "$ip" arp
no_answer "ARP opcode 3" --op 3 --spa "$CLIENT4" --tpa "$ip" arp
no_answer "ARP reply (opcode 2) for $ip" --op 2 --spa "$CLIENT4" --tpa "$ip" arp
no_answer "ARP for an unallocated pool IP" --spa "$CLIENT4" --tpa 192.0.2.207 arp
no_answer "ARP for an IP outside every pool" --spa "$CLIENT4" --tpa 192.0.2.50 arp
no_answer "ARP to another host's MAC" --eth-dst 02:00:00:00:00:99 --spa "$CLIENT4" --tpa "$ip" arp
no_answer "ARP claiming the owner's MAC as sender" --sha "$OMAC" --spa "$CLIENT4" --tpa "$ip" arp
no_answer "NS with a bad checksum" --src "$CLIENT6" --bad-csum --target "$ip6" ns
no_answer "NS with hop limit 64" --src "$CLIENT6" --hop 64 --target "$ip6" ns
no_answer "NS with code 1" --src "$CLIENT6" --code 1 --target "$ip6" ns
no_answer "NS with an option of length 0" --src "$CLIENT6" --optlen 0 --target "$ip6" ns
no_answer "NS with an option running past the end" --src "$CLIENT6" --optlen 2 --target "$ip6" ns
no_answer "NS whose IPv6 payload length exceeds the frame" --src "$CLIENT6" --payload-len 64 --target "$ip6" ns
no_answer "NS truncated to 70 bytes" --src "$CLIENT6" --truncate 70 --target "$ip6" ns
no_answer "NS shorter than 24 ICMP bytes" --src "$CLIENT6" --slla none --payload-len 16 --truncate 70 --target "$ip6" ns
no_answer "DAD probe with a source link-layer option" --src :: --target "$ip6" ns
no_answer "NS from a multicast source" --src ff02::1 --target "$ip6" ns
no_answer "NS for an unallocated pool IP" --src "$CLIENT6" --target 2001:db8:77::207 ns
no_answer "NS for a multicast target" --src "$CLIENT6" --dst ff02::1:ff00:1 --target ff02::1 ns
no_answer "a 14-byte Ethernet header alone" --hex "ffffffffffff${CMAC//:/}0806" hex

# --- still answering ----------------------------------------------------------------------------
pid=$(lab_speaker_pid "$owner")
check "the owner's speaker is still running" kill -0 "$pid"
cap_start -t 2 -f "arp[6:2] = 2 and arp src host $ip" --expect arp --op 2 --eth-src "$OMAC" \
	--eth-dst "$CMAC" --sha "$OMAC" --spa "$ip" --tha "$CMAC" --tpa "$CLIENT4" --min 3 --max 3
client arping -q -c 3 -W 0.1 -i eth0 "$ip" >/dev/null 2>&1
cap_end "after the malformed frames, arping still gets its 3 replies"
cap_start -t 1 -f "icmp6 and ip6[40] = 136 and ip6 src $ip6" --expect na --eth-src "$OMAC" \
	--target "$ip6" --tlla "$OMAC" --flags SOr --min 1 --max 1
client ndisc6 -1 -r 1 -w 500 "$ip6" eth0 >/dev/null 2>&1
cap_end "after the malformed frames, ndisc6 still gets its NA"

# --- takeover: gratuitous ARP and unsolicited NA from the next owner ---------------------------
# The next owner is known in advance (MetalLB's order: lowest sha256(node#ip) among the others), so
# its burst is checked against its MAC; a frame from any other node fails the checks.
others=""
for n in n1 n2 n3; do [ "$n" != "$owner" ] && others="$others $n"; done
next=$(expected_owner "$ip" $others)
NMAC=$(rig_mac "$next")
cap_start -t 2 -f "arp[6:2] = 1 and arp src host $ip" --expect arp --op 1 --eth-src "$NMAC" \
	--eth-dst "$BCAST" --sha "$NMAC" --spa "$ip" --tha 00:00:00:00:00:00 --tpa "$ip" --min 3 --max 3
P1=$CAP_PID O1=$CAP_OUT
cap_start -t 2 -f "arp[6:2] = 2 and arp src host $ip" --expect arp --op 2 --eth-src "$NMAC" \
	--eth-dst "$BCAST" --sha "$NMAC" --spa "$ip" --tha "$NMAC" --tpa "$ip" --min 3 --max 3
P2=$CAP_PID O2=$CAP_OUT
cap_start -t 2 -f "icmp6 and ip6[40] = 136" --expect na --eth-src "$NMAC" --eth-dst 33:33:00:00:00:01 \
	--ip6-src "$ip6" --ip6-dst ff02::1 --target "$ip6" --tlla "$NMAC" --flags sOr --min 3 --max 3
P3=$CAP_PID O3=$CAP_OUT
kill -TERM "$pid"
CAP_PID=$P1 CAP_OUT=$O1 cap_end "takeover by $next: gratuitous ARP requests (3 rounds, broadcast, sender = target = $ip, target MAC 0)"
CAP_PID=$P2 CAP_OUT=$O2 cap_end "takeover by $next: gratuitous ARP replies (3 rounds, broadcast, target MAC = sender MAC)"
CAP_PID=$P3 CAP_OUT=$O3 cap_end "takeover by $next: unsolicited NA (3 rounds, to ff02::1, S=0 O=1, TLLA)"
check "$next answers ARP after the takeover" test "$(arp_owner "$ip" 5)" = "$next"
cap_start -t 1 -f "icmp6 and ip6[40] = 136 and ip6 src $ip6" --expect na --eth-src "$NMAC" \
	--eth-dst "$CMAC" --ip6-src "$ip6" --target "$ip6" --tlla "$NMAC" --flags SOr --min 1 --max 1
client ndisc6 -1 -r 1 -w 500 "$ip6" eth0 >/dev/null 2>&1
cap_end "ndisc6 after the takeover: NA from $next"

check "no sanitizer report in the daemons' logs" \
	bash -c '! grep -qE "runtime error|AddressSanitizer|LeakSanitizer" "$0"/*.log' "$LAB"
tap_end
