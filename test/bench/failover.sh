#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Failover benchmark (issue 7): what a client on the LAN sees when the owner of an LB IP goes,
# barelb (release build, dir: source, defaults: lease 3 s, renew 1 s) against keepalived VRRP
# (advert_int 1 s), both measured in the same run, rounds interleaved.
#
# Rig: 4 nodes; n4 hosts the pod (a web server) and carries the exclude label, so the owner is
# always one of n1..n3 and the pod survives the owner's death. Every node DNATs ICMP echo and TCP
# port 80 of both the LB IP (barelb) and the VIP (keepalived, n1..n3) to the pod, and routes to
# the pod via n4: the client's pings and curls are answered by the pod, through whichever node the
# client's ARP entry points at.
# Client: `ping -D -i 0.005` (a probe every 5 ms) and a curl loop (a new connection each time,
# -m 0.2: a curl whose SYN went to the old node waits out its 200 ms, so the curl gap is coarser).
# Gap = the longest time between two answers around the event, from ping's receive timestamps.
# Events, applied to the current owner (barelb: the ARP owner; keepalived: the VRRP master):
#   sigterm  the daemon gets SIGTERM and, at the same instant, the node stops forwarding traffic
#            for the IP (nft drop): the node is going away, so the client sees the hand-over
#            itself (without the drop the old node would keep forwarding and hide it).
#   sigkill  the daemon gets SIGKILL and the node's LAN port goes down: a dead node.
# After each round the node is restored and the daemon restarted; the next round waits until both
# systems have their usual owner again.
# endpoint_to_arp: an ETP Local service's only pod moves between n1 and n2 (its manifest is
# rewritten atomically); the time from the rewrite to the first ARP frame from the new owner (its
# gratuitous ARP, or a reply to the client's ARP probe, sent every 2 ms) seen by the client.
# Baseline: what the kernel does when an address moves: `ip addr del` on one node, `ip addr add`
# on the other and `arping -U` from it (three program starts, as an operator's or a script's
# failover would do it), timed the same way.
# Prints `bench NAME: X ms (baseline Y ms, ratio X/Y)` lines and '#' lines with every round.
# Needs root, keepalived, arping, iputils ping, curl, nft. Traffic stays in the rig's namespaces;
# everything is removed at the end, also on failure.
set -u
TOP=${BARELB_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
export LAB_BIN=${BARELB_BIN:-$TOP/bin} RIG=blbfb$$
ROUNDS=${FO_ROUNDS:-5}
MOVES=${FO_MOVES:-10}
. "$TOP/test/rig/lab.sh"
. "$TOP/test/bench/lib_failover.sh"
LAB=$(mktemp -d /tmp/barelb-fobench.XXXXXX)
W=$LAB/w
PY=/usr/bin/python3
VIP=192.0.2.230
MOVEIP=192.0.2.240
FO_PIDS=""
declare -A KA_PID MAC

cleanup() {
	local p
	for p in $FO_PIDS "${KA_PID[@]}"; do kill -9 "$p" 2>/dev/null; done
	[ -n "${KEEP:-}" ] && LAB_KEEP=1 && echo "# kept $LAB"
	lab_down
}
trap cleanup EXIT
trap 'exit 1' INT TERM
die() { echo "failover bench: $*" >&2; exit 1; }
for t in keepalived arping ping curl nft; do command -v $t >/dev/null || die "$t is missing"; done

fo_tools "$W" || die "cannot write the helpers"
lab_up 4 >/dev/null 2>&1 || die "the lab does not come up"
for n in n1 n2 n3 n4; do MAC[$n]=$(rig_mac "$n"); done
mac_node() { local n; for n in n1 n2 n3 n4; do [ "${MAC[$n]}" = "$1" ] && echo "$n" && return; done; echo none; }
cat >"$LAB/state/node-n4.yaml" <<'YAML'
apiVersion: v1
kind: Node
metadata:
  name: n4
  labels: {kubernetes.io/hostname: n4, node.kubernetes.io/exclude-from-external-load-balancers: ""}
YAML
podip=$(lab_pod web-1 web n4 8080) || die "no pod"
lab_service web web 80 8080 Cluster
LBIP=$(lab_wait_ip web 10) || die "no LB IP"
BOWN=$(fo_expected_owner "$LBIP" n1 n2 n3)
fo_datapath n4 "$podip" 8080 n1 n2 n3 n4 -- "$LBIP:80" "$VIP:80" || die "data path"

# keepalived on n1..n3: the highest priority on a node that is not barelb's owner, so that a round
# of one system never takes the other's owner down.
KOWN=$(for n in n1 n2 n3; do [ "$n" != "$BOWN" ] && echo "$n"; done | head -1)
ka_conf() { # NODE PRIO
	cat >"$W/ka-$1.conf" <<EOF
global_defs {
	router_id $1
	script_user root
	enable_script_security
}
vrrp_instance bench {
	state BACKUP
	interface eth0
	virtual_router_id 51
	priority $2
	advert_int 1
	virtual_ipaddress {
		$VIP/32 dev eth0
	}
}
EOF
}
ka_start() { # NODE
	rig_exec "$1" ip addr del "$VIP/32" dev eth0 2>/dev/null
	ip netns exec "$(rig_ns "$1")" keepalived -n -l -P -f "$W/ka-$1.conf" -p "$W/ka-$1.pid" \
		-r "$W/ka-$1.vrrp.pid" -c "$W/ka-$1.chk.pid" >>"$LAB/ka-$1.log" 2>&1 &
	KA_PID[$1]=$!
	disown "$!" 2>/dev/null
}
prio=150
for n in $KOWN $(for n in n1 n2 n3; do [ "$n" != "$KOWN" ] && echo "$n"; done); do
	ka_conf "$n" $prio
	prio=$((prio - 50))
	ka_start "$n"
done

owner_now() { # IP: the node whose MAC answers an ARP probe
	local m
	m=$(rig_exec client arping -c 1 -w 0.3 -I eth0 "$1" 2>/dev/null |
		grep -Eo 'from ([0-9a-f]{2}:){5}[0-9a-f]{2}' | awk '{print $2}' | sort -u)
	[ "$(echo "$m" | grep -c .)" -eq 1 ] && mac_node "$m" || echo none
}
settled() { # until barelb and keepalived have their usual owners and both IPs answer ping
	local i
	for i in $(seq 60); do
		if [ "$(owner_now "$LBIP")" = "$BOWN" ] && [ "$(owner_now "$VIP")" = "$KOWN" ] &&
			rig_exec client ping -c 1 -W 1 "$LBIP" >/dev/null 2>&1 &&
			rig_exec client ping -c 1 -W 1 "$VIP" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.25
	done
	return 1
}
settled || die "barelb ($LBIP on $BOWN) and keepalived ($VIP on $KOWN) do not settle"
out=$(rig_exec client curl -s -m 2 "http://$LBIP/") && [ "$out" = "pod=web-1" ] || die "curl $LBIP: '$out'"
out=$(rig_exec client curl -s -m 2 "http://$VIP/") && [ "$out" = "pod=web-1" ] || die "curl $VIP: '$out'"
echo "# rig: LB IP $LBIP (barelb owner $BOWN), VIP $VIP (keepalived master $KOWN), pod on n4; $ROUNDS rounds each"

# round SYSTEM KIND: one event on the owner; writes "ping_gap_ms curl_gap_ms" to $W/res
round() {
	local sys=$1 kind=$2 ip own t0 tend wait_s pp cp i
	if [ "$sys" = barelb ]; then ip=$LBIP own=$BOWN; else ip=$VIP own=$KOWN; fi
	rm -f "$W/ping.txt" "$W/curl.txt" "$W/curl.stop"
	ip netns exec "$(rig_ns client)" ping -D -n -i 0.005 "$ip" >"$W/ping.txt" 2>/dev/null &
	pp=$!
	ip netns exec "$(rig_ns client)" bash -c 'while [ ! -e "$1" ]; do
		curl -s -o /dev/null -m 0.2 "http://$2/" && date +%s%N; done' _ "$W/curl.stop" "$ip" \
		>"$W/curl.txt" 2>/dev/null &
	cp=$!
	FO_PIDS="$FO_PIDS $pp $cp"
	sleep 1
	t0=$(date +%s%N)
	if [ "$kind" = sigterm ]; then
		fo_block "$own" "$ip"
		if [ "$sys" = barelb ]; then kill -TERM "$(lab_speaker_pid "$own")"; else kill -TERM "${KA_PID[$own]}"; fi
		wait_s=2
	else
		# the node dies: off the LAN first, then its daemon (keepalived: parent and VRRP child)
		fo_port "$own" down
		if [ "$sys" = barelb ]; then
			kill -9 "$(lab_speaker_pid "$own")"
		else
			kill -9 "${KA_PID[$own]}" "$(cat "$W/ka-$own.vrrp.pid" 2>/dev/null)" 2>/dev/null
		fi
		wait_s=5
	fi
	sleep "$wait_s"
	tend=$(date +%s%N)
	kill -INT "$pp"; touch "$W/curl.stop"
	wait "$pp" "$cp" 2>/dev/null
	# restore the node and its daemon
	fo_unblock "$own"
	fo_port "$own" up
	fo_routes n4 n1 n2 n3
	if [ "$sys" = barelb ]; then
		sleep 0.2; lab_speaker_start "$own"
	else
		for i in $(seq 50); do kill -0 "${KA_PID[$own]}" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$(cat "$W/ka-$own.vrrp.pid" 2>/dev/null)" 2>/dev/null
		ka_start "$own"
	fi
	("$PY" - "$W/ping.txt" "$W/curl.txt" "$t0" "$tend" <<'PY'
import re, sys
t0, t1 = int(sys.argv[3]) / 1e9, int(sys.argv[4]) / 1e9
def gap(ts):
    ts = [t0 - 0.5] + sorted(t for t in ts if t0 - 0.5 <= t <= t1) + [t1]
    return max(b - a for a, b in zip(ts, ts[1:])) * 1000
p = [float(m.group(1)) for m in re.finditer(r"^\[(\d+\.\d+)\] \d+ bytes from", open(sys.argv[1]).read(), re.M)]
c = [int(x) / 1e9 for x in open(sys.argv[2]).read().split()]
print("%.0f %.0f" % (gap(p), gap(c)))
PY
	) >"$W/res"
	settled || echo "# warning: not settled after the $sys $kind round" >&2
}

declare -A GAPS CGAPS
for r in $(seq "$ROUNDS"); do
	for kind in sigterm sigkill; do
		for sys in barelb keepalived; do
			round "$sys" "$kind"
			read -r g c <"$W/res"
			GAPS[$sys.$kind]="${GAPS[$sys.$kind]:-} $g"
			CGAPS[$sys.$kind]="${CGAPS[$sys.$kind]:-} $c"
			echo "# round $r $kind $sys: ping gap $g ms, curl gap $c ms"
		done
	done
done

# ---------- EndpointSlice / Pod change to the new ARP owner ----------
lab_service loc loc 80 8080 Local
movepod() { # NODE: the only pod of loc, on NODE (atomic rewrite)
	cat >"$LAB/mv.tmp" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: loc-1, namespace: default, labels: {app: loc}}
spec: {nodeName: $1}
status:
  podIP: 10.244.${1#n}.77
  conditions: [{type: Ready, status: "True"}]
YAML
	mv -f "$LAB/mv.tmp" "$LAB/state/pod-loc-1.yaml"
}
movepod n1
LIP=$(lab_wait_ip loc 10) || die "no IP for loc"
lab_wait_arp_owner "$LIP" n1 5 || die "loc: n1 does not answer"
rig_exec n1 ip addr add "$MOVEIP/32" dev eth0
ip netns exec "$(rig_ns client)" "$PY" "$W/prober.py" run eth0 192.0.2.100 2 600 "$W/move.txt" \
	"$LIP" "$MOVEIP" 2>>"$W/prober.err" &
PROBER=$!
FO_PIDS="$FO_PIDS $PROBER"
for i in $(seq 50); do [ -e "$W/move.txt.ready" ] && break; sleep 0.02; done
sleep 0.5
at=n1
declare -a BM KM
for m in $(seq "$MOVES"); do
	to=$([ "$at" = n1 ] && echo n2 || echo n1)
	t0=$(fo_now_us)
	movepod "$to"
	sleep 1
	f=$("$PY" "$W/prober.py" an "$W/move.txt" "$LIP" "$t0" $((t0 + 1000000)) first "${MAC[$to]}")
	BM+=("$(( f > 0 ? (f - t0) : 1000000 ))")
	t0=$(fo_now_us)
	ip -n "$(rig_ns "$at")" addr del "$MOVEIP/32" dev eth0
	ip -n "$(rig_ns "$to")" addr add "$MOVEIP/32" dev eth0
	ip netns exec "$(rig_ns "$to")" arping -q -U -c 1 -i eth0 -S "$MOVEIP" "$MOVEIP" >/dev/null 2>&1
	sleep 1
	f=$("$PY" "$W/prober.py" an "$W/move.txt" "$MOVEIP" "$t0" $((t0 + 1000000)) first "${MAC[$to]}")
	KM+=("$(( f > 0 ? (f - t0) : 1000000 ))")
	echo "# move $m $at->$to: barelb $(echo "${BM[-1]}" | awk '{printf "%.1f", $1/1000}') ms, kernel + arping $(echo "${KM[-1]}" | awk '{printf "%.1f", $1/1000}') ms"
	at=$to
done
kill -TERM "$PROBER" 2>/dev/null; wait "$PROBER" 2>/dev/null

# ---------- results ----------
stats() { # VALUES...: "median max"
	printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {m = (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2; print m, v[NR]}'
}
line() { # NAME X Y
	awk -v n="$1" -v x="$2" -v y="$3" 'BEGIN { printf "bench %s: %.1f ms (baseline %.1f ms, ratio %.2f)\n", n, x, y, (y > 0 ? x / y : 0) }'
}
for kind in sigterm sigkill; do
	read -r bm bx < <(stats ${GAPS[barelb.$kind]})
	read -r km kx < <(stats ${GAPS[keepalived.$kind]})
	read -r cbm cbx < <(stats ${CGAPS[barelb.$kind]})
	read -r ckm ckx < <(stats ${CGAPS[keepalived.$kind]})
	echo "# $kind curl gap: barelb median $cbm ms max $cbx ms; keepalived median $ckm ms max $ckx ms"
	line "failover_${kind}_gap_median" "$bm" "$km"
	line "failover_${kind}_gap_max" "$bx" "$kx"
	[ "$kind" = sigterm ] && aim=100 || aim=3200
	awk -v x="$bx" -v a="$aim" -v k="$kind" 'BEGIN { printf "# aim %s gap < %d ms: %s (max %.0f ms)\n", k, a, (x < a ? "met" : "MISSED"), x }'
done
read -r bm _ < <(stats "${BM[@]}")
read -r km _ < <(stats "${KM[@]}")
line failover_endpoint_to_arp "$(echo "$bm" | awk '{print $1/1000}')" "$(echo "$km" | awk '{print $1/1000}')"
