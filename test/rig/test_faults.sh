#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Faults (issue 9) in the namespace lab, ASan builds: (a) the owner's eth0 goes down/up and loses /
# regains its IPv4 address: answering follows the interface; (b) the controller is SIGKILLed twice
# during a burst of 1,000 Service creations: after the restart every Service has exactly one IP, no
# IP is given twice, and IPs written before a kill are kept; (c) a broken config is written over the
# good one under running daemons: nothing is withdrawn, barelb_k8s_client_config_stale_bool shows 1,
# the fix brings it back to 0. Every wait is bounded; namespaces, processes and files are removed by
# the EXIT trap, also when a check fails.
set -u
BARELB_TOP=${BARELB_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$BARELB_TOP/test/lib/tap.sh"
export LAB_BIN=${BARELB_BIN:-$BARELB_TOP/build/asan/bin} RIG=blbflt$$
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
. "$BARELB_TOP/test/rig/lab.sh"
CTL="$LAB_BIN/barelbctl"
LBS="python3 $BARELB_TOP/test/helpers/lbstate.py"
LAB=$(mktemp -d /tmp/barelb-faults.XXXXXX)
B=$LAB/burst            # part (b): a controller of its own on its own state directory
BPID=""
GENPID=""
cleanup() {
	[ -n "$GENPID" ] && kill -9 "$GENPID" 2>/dev/null
	[ -n "$BPID" ] && kill -9 "$BPID" 2>/dev/null
	lab_down
}
trap cleanup EXIT
trap 'exit 1' INT TERM
diag() { sed 's/^/# /'; }
now_ms() { local t=${EPOCHREALTIME/./}; echo $(( ${t#0} / 1000 )); }
wait_for() { # SECONDS command...: until the command succeeds (checked every 0.1 s)
	local n=$(($1 * 10)) i; shift
	for i in $(seq "$n"); do "$@" && return 0; sleep 0.1; done
	"$@"
}

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
# announced NODE IP: the speaker on NODE says (control socket) it answers for IP on eth0.
announced() {
	"$CTL" --control "$LAB/$1.sock" -o json announcements 2>/dev/null |
		python3 -c 'import json,sys; a=json.load(sys.stdin)["announcements"]
sys.exit(0 if any(x["ip"] == sys.argv[1] and x["interface"] == "eth0" for x in a) else 1)' "$2"
}
not_announced() { ! announced "$@"; }
# nobody_answers IP SECONDS: no ARP answer at all, probing for SECONDS.
nobody_answers() { [ -z "$(rig_exec client arping -c "$2" -w "$2" -I eth0 "$1" 2>/dev/null | grep -Eo 'from ([0-9a-f]{2}:){5}[0-9a-f]{2}')" ]; }
# ndp_mac IP6: the link-layer address in a neighbour advertisement for IP6 (empty: none).
ndp_mac() { rig_exec client ndisc6 -1 -r 2 -w 400 "$1" eth0 2>/dev/null | grep -i "link-layer address" | awk '{print tolower($NF)}'; }
# metric NODE NAME: the value of an unlabelled metric on NODE's speaker (:7472 in its namespace).
metric() { rig_exec "$1" curl -s -m 2 localhost:7472/metrics 2>/dev/null | awk -v m="$2" '$1 == m {print $2}'; }
stale_is() { # VALUE: every speaker's gauge and the controller's status agree on VALUE
	local n c
	for n in n1 n2 n3; do [ "$(metric "$n" barelb_k8s_client_config_stale_bool)" = "$1" ] || return 1; done
	c=$("$CTL" --control "$LAB/controller.sock" -o json status 2>/dev/null |
		python3 -c 'import json,sys; print(1 if json.load(sys.stdin)["config"]["stale"] else 0)' 2>/dev/null)
	[ "$c" = "$1" ]
}

lab_up 3 || { not_ok "the lab comes up"; tap_end; exit 1; }
ok "the lab comes up (3 nodes, controller, speakers)"

# =================================================================================================
# (a) interface down/up, address removed/added under the owner
# =================================================================================================
lab_pod web-1 web n1 8080 >/dev/null
lab_service web web 80 8080 Cluster "  ipFamilyPolicy: RequireDualStack
  ipFamilies: [IPv4, IPv6]"
sed -i '/clusterIPs: \[10.96.0.[0-9]*\]$/d' "$LAB/state/svc-web.yaml"
ip=$(lab_wait_ip web 10)
ip6=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["status"]["loadBalancer"]["ingress"][1]["ip"])' "$LAB/state/status/default/web.json" 2>/dev/null)
check "a dual-stack Service gets an IPv4 and an IPv6 address ($ip, $ip6)" test -n "$ip" -a -n "$ip6"
own=$(expected_owner "$ip" n1 n2 n3)
own_mac=$(rig_mac "$own")
own_ip4=$(rig_node_ip4 "$own")
check "the elected owner $own answers ARP for $ip" lab_wait_arp_owner "$ip" "$own" 10
check "its speaker lists $ip on eth0 (barelbctl announcements)" announced "$own" "$ip"

rig_exec "$own" ip link set eth0 down
check "eth0 down on $own: its speaker stops announcing $ip on eth0 (within 1 s)" \
	wait_for 1 not_announced "$own" "$ip"
check "eth0 down on $own: and $ip6 too" not_announced "$own" "$ip6"
# Election follows liveness (the lease), not link state: $own's lease is renewed through the dir:
# source, so no other node may take over; two owners would be worse than a dark IP. Probe for
# longer than a lease lifetime (test_l2: a killed speaker's lease expires in <= 5 s).
check "eth0 down on $own: nobody answers ARP for $ip (probed 6 s: no take-over while $own's lease lives)" \
	nobody_answers "$ip" 6
check "the speaker on $own is still running" kill -0 "$(lab_speaker_pid "$own")"
rig_exec client timeout 5 tcpdump -i eth0 -nn -e -l "arp and host $ip" >"$LAB/cap-up.txt" 2>/dev/null &
cap=$!
sleep 0.5
t0=$(now_ms)
rig_exec "$own" ip link set eth0 up
lab_wait_arp_owner "$ip" "$own" 3
r=$?
dt=$(( $(now_ms) - t0 ))
check "eth0 up again: $own answers ARP for $ip again ($dt ms)" test $r -eq 0
check "  ... within a second" test $r -eq 0 -a "$dt" -le 1000
sleep 0.5
kill "$cap" 2>/dev/null; wait "$cap" 2>/dev/null
check "eth0 up again: $own sent a gratuitous ARP for $ip (switches relearn its port)" \
	grep -qE "$own_mac > ff:ff:ff:ff:ff:ff, ethertype ARP.*(Request who-has $ip tell $ip|Reply $ip is-at $own_mac)" "$LAB/cap-up.txt"
# The kernel drops static IPv6 addresses when a link goes down (keep_addr_on_down=0, the default),
# so after "up" the node has no 2001:db8:77::/64 on eth0 until it is configured again, and by
# default (subnet holds the IP) $ip6 must not be answered until then.
own_ip6=$(rig_node_ip6 "$own")
if ! rig_exec "$own" ip -6 addr show dev eth0 | grep -q "$own_ip6/64"; then
	echo "# the kernel flushed $own_ip6/64 with the link (keep_addr_on_down=0)"
	check "eth0 up, no IPv6 subnet on it: $ip6 not announced by $own" not_announced "$own" "$ip6"
	t0=$(now_ms)
	rig_exec "$own" ip addr add "$own_ip6/64" dev eth0 nodad
	check "$own_ip6/64 configured again: $own announces $ip6 within a second" \
		wait_for 1 announced "$own" "$ip6"
	echo "# announced $(( $(now_ms) - t0 )) ms after the address came back"
fi
check "NDP for $ip6 answered by $own" test "$(ndp_mac "$ip6")" = "$own_mac"

rig_exec "$own" ip addr del "$own_ip4/24" dev eth0
check "$own_ip4/24 removed from $own's eth0: $ip no longer announced there (within 1 s)" \
	wait_for 1 not_announced "$own" "$ip"
check "  ... and nobody answers ARP for $ip (probed 3 s)" nobody_answers "$ip" 3
check "  ... while $ip6 (its /64 is still on eth0) stays announced" announced "$own" "$ip6"
check "  ... and answered by $own" test "$(ndp_mac "$ip6")" = "$own_mac"
t0=$(now_ms)
rig_exec "$own" ip addr add "$own_ip4/24" dev eth0
lab_wait_arp_owner "$ip" "$own" 3
r=$?
dt=$(( $(now_ms) - t0 ))
check "$own_ip4/24 added back: $own answers ARP for $ip again within a second ($dt ms)" \
	test $r -eq 0 -a "$dt" -le 1000
check "exactly one MAC answers 4 probes, $own's" test "$(lab_arp_macs "$ip" 4)" = "$own_mac"

# =================================================================================================
# (c) a broken config written over the good one under running daemons
# =================================================================================================
cp "$LAB/config.yaml" "$LAB/good.yaml"
check "before: every daemon reports a fresh config (stale 0)" wait_for 5 stale_is 0
fails0=$(metric n1 barelb_config_reload_failures_total)
{
	head -n 5 "$LAB/good.yaml"
	echo '  addresses: ["192.0.2.200-192.0.2.207", "2001:db8:77::200/125"'   # unclosed: a YAML error
	echo '  autoAssign: [true'
} >"$LAB/broken.yaml"
cat "$LAB/broken.yaml" >"$LAB/config.yaml"     # in place, as an editor without rename would
check "broken config: every speaker shows barelb_k8s_client_config_stale_bool 1, the controller stale" \
	wait_for 3 stale_is 1
fails1=$(metric n1 barelb_config_reload_failures_total)
check "broken config: barelb_config_reload_failures_total went up on n1 ($fails0 -> $fails1)" \
	test -n "$fails1" -a "${fails1:-0}" != "${fails0:-0}"
check "broken config: the rejection is logged by the speakers and the controller" \
	grep -q "new config rejected" "$LAB/n1.log" "$LAB/n2.log" "$LAB/n3.log" "$LAB/controller.log"
check "broken config: nothing withdrawn, $own still the only one answering ARP for $ip (4 probes)" \
	test "$(lab_arp_macs "$ip" 4)" = "$own_mac"
check "broken config: $ip still announced by $own" announced "$own" "$ip"
check "broken config: web keeps $ip in its status" test "$(lab_wait_ip web 1)" = "$ip"
lab_service during web 81 8080 Cluster
dip=$(lab_wait_ip during 10)
check "broken config: a new Service still gets an IP from the good config's pool ($dip)" \
	bash -c '[[ "$0" =~ ^192\.0\.2\.20[0-7]$ ]] && [ "$0" != "$1" ]' "$dip" "$ip"
cat "$LAB/good.yaml" >"$LAB/config.yaml"
check "fixed config: stale back to 0 on every speaker and the controller" wait_for 3 stale_is 0
check "fixed config: $own still the only one answering ARP for $ip" test "$(lab_arp_macs "$ip" 3)" = "$own_mac"
rm -f "$LAB/state/svc-during.yaml"

# =================================================================================================
# (b) controller SIGKILLed twice during a burst of 1,000 Service creations
# =================================================================================================
mkdir -p "$B/state"
cat >"$B/config.yaml" <<'YAML'
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: burst
spec:
  addresses: ["10.30.0.0-10.30.3.231"]
YAML
# exactly 1,000 addresses: a leaked or doubly given IP leaves some Service without one.
for i in $(seq 0 999); do printf 'default/svc-%03d\n' "$i"; done >"$B/names"
start_b() {
	"$LAB_BIN/barelb-controller" --config "$B/config.yaml" --source "dir:$B/state" \
		--control "$B/ctl.sock" --metrics off >>"$B/ctl$1.log" 2>&1 &
	BPID=$!
}
kill_b() { kill -9 "$BPID" 2>/dev/null; wait "$BPID" 2>/dev/null; BPID=""; }
nstat() { find "$B/state/status" -name '*.json' 2>/dev/null | wc -l; }
ge() { [ "$(nstat)" -ge "$1" ]; }
all_have_ips() { ! $LBS dir "$B/state" "$B/names" | awk '{print $2}' | grep -qx -- -; }
$LBS gen-dir "$B/state" svc 1000 --pace-ms 4 &
GENPID=$!
start_b 1
wait_for 60 ge 250
kill_b
$LBS dir "$B/state" | grep -v ' - ' >"$B/snap1"
start_b 2
wait_for 60 ge 600
kill_b
$LBS dir "$B/state" | grep -v ' - ' >"$B/snap2"
echo "killed with $(wc -l <"$B/snap1"), then $(wc -l <"$B/snap2") Services holding an IP" | diag
wait "$GENPID" 2>/dev/null
GENPID=""
check "the generator wrote 1,000 Service manifests" test "$(ls "$B/state" | grep -c '^svc-.*\.yaml$')" = 1000
check "the kills came mid-burst (some, not all, had IPs at each kill)" \
	test "$(wc -l <"$B/snap1")" -gt 0 -a "$(wc -l <"$B/snap1")" -lt "$(wc -l <"$B/snap2")" -a "$(wc -l <"$B/snap2")" -lt 1000
start_b 3
t0=$(now_ms)
check "after the restart all 1,000 Services have an IP" wait_for 120 all_have_ips
echo "converged $(( $(now_ms) - t0 )) ms after the last restart" | diag
$LBS dir "$B/state" "$B/names" >"$B/final"
check "every Service has exactly one IP, from pool burst" \
	test "$(awk '$2 ~ /^10\.30\.[0-3]\.[0-9]+$/ && $3 == "burst"' "$B/final" | wc -l)" = 1000
d=$(awk '{print $2}' "$B/final" | sort | uniq -d | head -3)
check "no IP given twice${d:+ (twice: $(echo $d))}" test -z "$d"
check "every Service that had an IP before the first kill kept it ($(wc -l <"$B/snap1"))" \
	test -z "$(comm -23 <(sort "$B/snap1") <(sort "$B/final"))"
check "every Service that had an IP before the second kill kept it ($(wc -l <"$B/snap2"))" \
	test -z "$(comm -23 <(sort "$B/snap2") <(sort "$B/final"))"
check "no unreadable status file" test "$(grep -c UNREADABLE "$B/final")" = 0
kill -TERM "$BPID" 2>/dev/null
for i in $(seq 100); do kill -0 "$BPID" 2>/dev/null || break; sleep 0.1; done
wait "$BPID"
rc=$?
BPID=""
check "the restarted controller exits 0 on SIGTERM (LSan ran)" test $rc -eq 0

# --- clean stop, then no sanitizer report anywhere ------------------------------------------------
for p in $LAB_PIDS; do kill -TERM "$p" 2>/dev/null; done
for i in $(seq 100); do
	alive=0
	for p in $LAB_PIDS; do kill -0 "$p" 2>/dev/null && alive=1; done
	[ $alive = 0 ] && break
	sleep 0.1
done
check "every lab daemon stopped on SIGTERM within 10 s" test $alive = 0
check "no sanitizer report in any daemon's log" \
	bash -c '! grep -lE "runtime error|AddressSanitizer|LeakSanitizer" "$0"/*.log "$0"/burst/*.log' "$LAB"
grep -lE "runtime error|AddressSanitizer|LeakSanitizer" "$LAB"/*.log "$B"/*.log 2>/dev/null | diag
tap_end
