#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# bench bgp: how fast the router (BIRD 2 in the rig) learns and unlearns N = 100,000 /32 prefixes
# from barelb's speaker, against a second BIRD (host "bird2", 192.0.2.250) announcing the same N
# static routes to the same router, in the same run.
#
#   announce: on an Established session, from the moment the sender is handed the N routes
#             (BIRD: `enable` of its static protocol) until the router has imported all N; a
#             cold start (session enabled with the routes already there) and the session-up
#             time are printed as '#' lines (see baseline() for why they are not the figure)
#   withdraw: from the moment the sender is told to withdraw everything (BIRD: `disable` of its
#             static protocol, the session stays up) until the router holds none
#   bytes:    TCP payload the sender sent (ss bytes_acked) per prefix, for the announcement
# The router is polled through birdc (a few ms per poll); each figure is the median of
# BGP_BENCH_RUNS runs (default 3). N: BGP_BENCH_N (default 100000).
# Prints "bench bgp_announce_100k: X ms (baseline Y ms, ratio Z)", the same for the withdrawal and
# "bench bgp_speaker_rss_100k: X KiB (baseline Y KiB, ratio Z)" (the speaker's VmRSS with N announced
# against bird2's holding N static routes) when both halves ran; when the barelb half fails, only
# "# baseline only" lines and "bench ..._baseline" lines without a ratio. Runs in namespaces it
# creates; removes them on exit.
set -u
BARELB_TOP=${BARELB_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BARELB_BIN=${BARELB_BIN:-$BARELB_TOP/bin}
N=${BGP_BENCH_N:-100000}
RUNS=${BGP_BENCH_RUNS:-3}
TIMEOUT_S=${BGP_BENCH_TIMEOUT_S:-60}
export RIG=bgpb$$
BIRD_DIR=$(mktemp -d /tmp/barelb-bgpbench.XXXXXX)
BIRD_WAIT_S=20
. "$BARELB_TOP/test/rig/bird.sh"
cleanup() { bird_down; rig_down; }
trap cleanup EXIT

if [ "$N" -eq 100000 ]; then NAME=100k; else NAME=$N; fi
BASE4=10.128.0.0

now_us() { local t=${EPOCHREALTIME/./}; echo "${t#0}"; }

# _poll PROTO: "STATE IMPORTED" of one of the router's protocols, in one birdc call.
_poll() {
	bird_cmd show protocols all "$1" 2>/dev/null | awk -v p="$1" '
		$1 == p && $2 == "BGP" { st = $6 }
		/^ +Routes:/ { r = $2 }
		END { printf "%s %s\n", (st == "" ? "-" : st), (r == "" ? 0 : r) }'
}

# wait_router PROTO COUNT T0_US: until the router imported COUNT routes from PROTO; sets
# UP_US (first time the session was seen Established, relative to T0_US; -1 if never) and
# DONE_US (relative to T0_US). Returns 1 on timeout.
wait_router() {
	local proto=$1 want=$2 t0=$3 st n now deadline
	deadline=$(( t0 + TIMEOUT_S * 1000000 ))
	UP_US=-1
	while :; do
		read -r st n < <(_poll "$proto")
		now=$(now_us)
		[ "$UP_US" -lt 0 ] && [ "$st" = Established ] && UP_US=$((now - t0))
		if [ "$n" = "$want" ] && { [ "$want" = 0 ] || [ "$st" = Established ]; }; then
			DONE_US=$((now - t0))
			return 0
		fi
		[ "$now" -gt "$deadline" ] && return 1
		sleep 0.002
	done
}

# wait_sender_static COUNT: bird2's static protocol holds COUNT routes (loaded before timing).
wait_sender_static() {
	local t=$((TIMEOUT_S * 20)) n
	while [ "$t" -gt 0 ]; do
		n=$(bird_sender_cmd bird2 show protocols all bird2_s4 2>/dev/null |
			awk '/^ +Routes:/ { print $2; exit }')
		[ "${n:-0}" = "$1" ] && return 0
		sleep 0.05
		t=$((t - 1))
	done
	return 1
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else print v[int((NR + 1) / 2)] }'; }
ms() { awk -v u="$1" 'BEGIN { printf "%.0f", u / 1000 }'; }

# ss bytes_acked of the BGP connections in a namespace (what the sender has got across).
acked_bytes() {
	ip netns exec "$(rig_ns "$1")" ss -tinH state established '( dport = :179 or sport = :179 )' |
		grep -o 'bytes_acked:[0-9]*' | cut -d: -f2 | awk '{ s += $1 } END { print s + 0 }'
}

# ---------- baseline: BIRD announcing N static routes ----------
# Sets BASE_ANNOUNCE_US, BASE_WITHDRAW_US, BASE_BYTES (per prefix), BASE_SESSION_US and
# BASE_COLD_US (one cold start: see below).
#
# Why "warm": BIRD delays its first connect by 1 s after `enable` and, on a session it has just
# established, sends its first UPDATE about 3 s later (its event loop sleeps up to 3 s before it
# runs the queued export: seen in its own trace, "BGP session established" ... 3.0 s ...
# "Sending UPDATE"). Those are BIRD artefacts, not transfer speed, so the figure compared is the
# warm one: the session is up, the sender is handed the N routes (static protocol enabled), and
# the clock stops when the router holds all N. The cold start is printed for information.
baseline() {
	local r ann="" wd="" bytes="" t0 a_us w_us b0 b1 bpp
	bird2_up || return 1
	bird_gen_routes "$N" "$BASE4" >"$BIRD_DIR/routes"
	bird_sender_start bird2 bird2 "$BIRD2_IP4" "$BIRD2_IP6" "$BIRD2_ASN" "$BIRD_DIR/routes" -d ||
		return 1
	wait_sender_static "$N" || { echo "# bird2 did not load $N static routes" >&2; return 1; }
	# Cold: routes loaded, the session is enabled at t0.
	t0=$(now_us)
	bird_sender_cmd bird2 enable bird2_4 >/dev/null
	wait_router bird2_4 "$N" "$t0" || { echo "# baseline cold start timed out" >&2; return 1; }
	BASE_COLD_US=$DONE_US
	BASE_SESSION_US=$UP_US
	echo "# baseline cold start (enable the session, N routes loaded): session up $(ms "$UP_US") ms," \
		"all N held after $(ms "$DONE_US") ms"
	for r in $(seq 1 "$RUNS"); do
		bird_sender_cmd bird2 disable bird2_s4 >/dev/null
		wait_router bird2_4 0 "$(now_us)" || return 1
		b0=$(acked_bytes bird2)
		t0=$(now_us)
		bird_sender_cmd bird2 enable bird2_s4 >/dev/null
		wait_router bird2_4 "$N" "$t0" || { echo "# baseline run $r: announce timed out" >&2; return 1; }
		a_us=$DONE_US
		b1=$(acked_bytes bird2)
		# BIRD's RSS holding the N static routes (and the Adj-RIB-Out it exported them to)
		BASE_RSS_KB=$(awk '/^VmRSS:/ { print $2 }' "/proc/$(cat "$BIRD_DIR/bird2.bgpid")/status" 2>/dev/null)
		bpp=$(awk -v b="$((b1 - b0))" -v n="$N" 'BEGIN { printf "%.1f", b / n }')
		t0=$(now_us)
		bird_sender_cmd bird2 disable bird2_s4 >/dev/null
		wait_router bird2_4 0 "$t0" || { echo "# baseline run $r: withdraw timed out" >&2; return 1; }
		w_us=$DONE_US
		ann="$ann $a_us" wd="$wd $w_us" bytes="$bytes $bpp"
		echo "# baseline run $r: announce $(ms "$a_us") ms, withdraw $(ms "$w_us") ms," \
			"$bpp bytes/prefix (UPDATEs, TCP payload)"
	done
	bird_sender_stop bird2
	BASE_ANNOUNCE_US=$(echo "$ann" | tr ' ' '\n' | grep . | median)
	BASE_WITHDRAW_US=$(echo "$wd" | tr ' ' '\n' | grep . | median)
	BASE_BYTES=$(echo "$bytes" | tr ' ' '\n' | grep . | median)
}

# ---------- barelb: the speaker announcing N service IPs ----------
# Contract, mirroring the baseline: a speaker on n1 peers with the router's neighbour n1_4 (AS 64512,
# iBGP). Warm runs (RUNS times): session Established with nothing announced, t0 = the moment the N
# service IPs (BASE4 upwards) become announceable, wait_router n1_4 "$N" "$t0"; bytes with
# acked_bytes n1 before and after; withdrawal: t0, make all N unannounceable, wait_router n1_4 0
# "$t0". One cold start: speaker started with everything in place, t0 = its start. Sets the medians
# in BL_ANNOUNCE_US, BL_WITHDRAW_US, BL_BYTES, BL_SESSION_US / BL_COLD_US from the cold start, and
# BL_RSS_KB (the speaker's VmRSS with all N announced) and BL_RSS0_KB (a speaker with the same state
# and nothing to announce); returns 0 (1 on failure).
#
# The state: the dir: source with N LoadBalancer Services that already carry
# status.loadBalancer.ingress (no controller: the speaker reads the IPs from status), ETP Cluster,
# each with one EndpointSlice holding one ready endpoint (on n1), in files of 10,000 Services (the
# dir source refuses files over 16 MiB). "Announceable" is one config rewrite (rename over the old
# file) that adds the BGPAdvertisement; "unannounceable" the rewrite that removes it. The session
# stays up throughout.

# bl_state DIR: Node n1 and the N Services + EndpointSlices.
bl_state() {
	local dir=$1
	mkdir -p "$dir"
	printf 'apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n  labels: {kubernetes.io/hostname: n1}\n' \
		>"$dir/node-n1.yaml"
	awk -v n="$N" -v base="$BASE4" -v dir="$dir" 'BEGIN {
		split(base, o, "."); v = ((o[1] * 256 + o[2]) * 256 + o[3]) * 256 + o[4]
		for (i = 0; i < n; i++) {
			if (i % 10000 == 0) { if (f) close(f); f = sprintf("%s/svc-%03d.yaml", dir, i / 10000) }
			x = v + i
			ip = sprintf("%d.%d.%d.%d", int(x / 16777216) % 256, int(x / 65536) % 256,
				int(x / 256) % 256, x % 256)
			printf "---\n{apiVersion: v1, kind: Service, metadata: {name: s%d, namespace: bench}, " \
				"spec: {type: LoadBalancer, externalTrafficPolicy: Cluster, " \
				"ports: [{port: 80, protocol: TCP}]}, " \
				"status: {loadBalancer: {ingress: [{ip: %s}]}}}\n", i, ip > f
			printf "---\n{apiVersion: discovery.k8s.io/v1, kind: EndpointSlice, metadata: " \
				"{name: s%d-a, namespace: bench, labels: {kubernetes.io/service-name: s%d}}, " \
				"addressType: IPv4, endpoints: [{addresses: [10.244.%d.%d], " \
				"conditions: {ready: true}, nodeName: n1}], ports: [{port: 80, protocol: TCP}]}\n",
				i, i, int(i / 250) % 250, i % 250 + 2 > f
		}
	}'
}

# bl_config ADV: the speaker's config (pool, peer; with ADV=1 the BGPAdvertisement), replaced by a
# rename so the speaker reads it whole, once.
bl_config() {
	{
		cat <<YAML
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: bench}
spec:
  addresses: ["10.128.0.0/14"]
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: router}
spec:
  myASN: 64512
  peerASN: 64512
  peerAddress: $RIG_LAN4.254
YAML
		[ "$1" = 1 ] && cat <<YAML
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: bench}
spec:
  ipAddressPools: [bench]
YAML
	} >"$BL_DIR/config.yaml.tmp"
	mv "$BL_DIR/config.yaml.tmp" "$BL_DIR/config.yaml"
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

barelb() {
	local r ann="" wd="" bytes="" t0 a_us w_us b0 b1 bpp pid r_kb
	BL_DIR=$BIRD_DIR/barelb
	[ -x "$BARELB_BIN/barelb-speaker" ] || { echo "# $BARELB_BIN/barelb-speaker not built" >&2; return 1; }
	bl_state "$BL_DIR/state"
	# The speaker's RSS with the N Services cached and nothing announced (no BGPAdvertisement), to
	# tell the cluster cache from BGP's own share; a separate process, since freed memory is not
	# returned to the system.
	bl_config 0
	ip netns exec "$(rig_ns n1)" "$BARELB_BIN/barelb-speaker" --node n1 --config "$BL_DIR/config.yaml" \
		--source "dir:$BL_DIR/state" --control "$BL_DIR/speaker0.sock" --metrics off \
		>"$BL_DIR/speaker0.log" 2>&1 &
	pid=$!
	bird_wait_state n1_4 Established "$TIMEOUT_S" && sleep 0.5
	BL_RSS0_KB=$(rss_kb "$pid")
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	# the router has seen that speaker go (its Cease) before the cold start begins
	r=$((TIMEOUT_S * 20))
	while [ "$(_poll n1_4 | cut -d' ' -f1)" = Established ] && [ "$r" -gt 0 ]; do sleep 0.05; r=$((r - 1)); done
	bl_config 1
	# Cold: everything in place, t0 = the speaker's start (reading N Services + N slices included).
	t0=$(now_us)
	ip netns exec "$(rig_ns n1)" "$BARELB_BIN/barelb-speaker" --node n1 --config "$BL_DIR/config.yaml" \
		--source "dir:$BL_DIR/state" --control "$BL_DIR/speaker.sock" --metrics off \
		--log-level "${BGP_BENCH_LOGLEVEL:-info}" >"$BL_DIR/speaker.log" 2>&1 &
	pid=$!
	wait_router n1_4 "$N" "$t0" || { echo "# barelb cold start timed out; log:" >&2; tail -5 "$BL_DIR/speaker.log" >&2; return 1; }
	BL_COLD_US=$DONE_US
	BL_SESSION_US=$UP_US
	echo "# barelb cold start (speaker started, N services in place): session up $(ms "$UP_US") ms," \
		"all N held after $(ms "$DONE_US") ms"
	BL_RSS_KB=$(rss_kb "$pid")
	for r in $(seq 1 "$RUNS"); do
		bl_config 0
		wait_router n1_4 0 "$(now_us)" || { echo "# barelb run $r: could not clear the table" >&2; return 1; }
		b0=$(acked_bytes n1)
		t0=$(now_us)
		bl_config 1
		wait_router n1_4 "$N" "$t0" || { echo "# barelb run $r: announce timed out" >&2; return 1; }
		a_us=$DONE_US
		b1=$(acked_bytes n1)
		bpp=$(awk -v b="$((b1 - b0))" -v n="$N" 'BEGIN { printf "%.1f", b / n }')
		sleep 0.2
		r_kb=$(rss_kb "$pid")
		[ "${r_kb:-0}" -gt "${BL_RSS_KB:-0}" ] && BL_RSS_KB=$r_kb
		t0=$(now_us)
		bl_config 0
		wait_router n1_4 0 "$t0" || { echo "# barelb run $r: withdraw timed out" >&2; return 1; }
		w_us=$DONE_US
		ann="$ann $a_us" wd="$wd $w_us" bytes="$bytes $bpp"
		echo "# barelb run $r: announce $(ms "$a_us") ms, withdraw $(ms "$w_us") ms," \
			"$bpp bytes/prefix (UPDATEs, TCP payload), RSS $r_kb KiB"
	done
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	BL_ANNOUNCE_US=$(echo "$ann" | tr ' ' '\n' | grep . | median)
	BL_WITHDRAW_US=$(echo "$wd" | tr ' ' '\n' | grep . | median)
	BL_BYTES=$(echo "$bytes" | tr ' ' '\n' | grep . | median)
	return 0
}

rig_up 1 || { echo "# the rig does not come up" >&2; exit 1; }
bird_start -n n1 -f 4 || { echo "# the router's BIRD does not start" >&2; exit 1; }
echo "# bgp: N=$N /32 prefixes, $RUNS runs each, router BIRD $(bird --version 2>&1 | awk '{print $NF}'), medians"
baseline || { echo "# baseline failed" >&2; exit 1; }
barelb
rc=$?
if [ "$rc" -eq 0 ]; then
	ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
	echo "# session up: barelb $(ms "$BL_SESSION_US") ms, BIRD $(ms "$BASE_SESSION_US") ms;" \
		"cold start to N held: barelb $(ms "$BL_COLD_US") ms, BIRD $(ms "$BASE_COLD_US") ms"
	echo "# bytes per prefix: barelb $BL_BYTES, BIRD $BASE_BYTES"
	echo "# ratio = baseline / barelb: above 1 means barelb is faster"
	echo "bench bgp_announce_$NAME: $(ms "$BL_ANNOUNCE_US") ms (baseline $(ms "$BASE_ANNOUNCE_US") ms," \
		"ratio $(ratio "$BASE_ANNOUNCE_US" "$BL_ANNOUNCE_US"))"
	echo "bench bgp_withdraw_$NAME: $(ms "$BL_WITHDRAW_US") ms (baseline $(ms "$BASE_WITHDRAW_US") ms," \
		"ratio $(ratio "$BASE_WITHDRAW_US" "$BL_WITHDRAW_US"))"
	echo "# RSS: barelb-speaker with N prefixes announced (aim: under 32 MiB) against bird2 holding N static routes;" \
		"the speaker without announcing (N Services + N EndpointSlices cached): $BL_RSS0_KB KiB," \
		"difference $((BL_RSS_KB - BL_RSS0_KB)) KiB (BGP's plan, Adj-RIB-Out and sessions, less what fits in" \
		"heap the start-up parse freed: a lower bound of BGP's share)"
	echo "bench bgp_speaker_rss_$NAME: $BL_RSS_KB KiB (baseline $BASE_RSS_KB KiB," \
		"ratio $(ratio "$BASE_RSS_KB" "$BL_RSS_KB"))"
else
	echo "# baseline only: the barelb half failed (see above; no ratio)"
	echo "# BIRD -> BIRD: $BASE_BYTES bytes/prefix; cold start: session up $(ms "$BASE_SESSION_US") ms," \
		"N held after $(ms "$BASE_COLD_US") ms"
	echo "bench bgp_announce_${NAME}_baseline: $(ms "$BASE_ANNOUNCE_US") ms (BIRD 2 static routes, baseline only)"
	echo "bench bgp_withdraw_${NAME}_baseline: $(ms "$BASE_WITHDRAW_US") ms (BIRD 2 static routes, baseline only)"
fi
exit 0
