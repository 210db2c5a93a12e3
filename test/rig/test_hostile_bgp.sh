#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# test_hostile_bgp.sh: hostile BGP peers (test/rig/hostile_bgp.py, plain python3 sockets) in the
# router namespace, one BGPPeer of the speaker each: garbage after OPEN, a bad marker, wrong
# lengths, an UPDATE whose withdrawn-routes length runs past the message, an unknown optional
# transitive attribute (accepted: no reset), an unknown well-known attribute, a 5,000-byte message,
# an unknown type and a slow loris (one byte a second). For each, the NOTIFICATION the peer
# receives is checked byte by byte against RFC 4271 section 6 / RFC 7606, and only that session is
# reset: a polite python peer and BIRD (test/rig/bird.sh, iBGP, another BGPPeer of the same
# speaker) stay Established, BIRD with the service route, throughout. Everything runs in
# namespaces this test creates ($RIG is unique); they are removed at the end, also on failure.
set -u
BARELB_TOP=${BARELB_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$BARELB_TOP/test/lib/tap.sh"
export LAB_BIN=${BARELB_BIN:-$BARELB_TOP/build/asan/bin} RIG=blbhb$$
BIRD_DIR=$(mktemp -d /tmp/barelb-hbgp-bird.XXXXXX)
. "$BARELB_TOP/test/rig/lab.sh"
. "$BARELB_TOP/test/rig/bird.sh"
LAB=$(mktemp -d /tmp/barelb-hbgp.XXXXXX)
HOSTILE_S=${HOSTILE_S:-25}
BASE_PORT=1790
BG=""
cleanup() {
	local p
	for p in $BG; do kill "$p" 2>/dev/null; done
	bird_down
	lab_down
}
trap cleanup EXIT

# The BGP objects: BIRD (iBGP, port 179) and one eBGP peer per hostile scenario (BASE_PORT + i).
bgp_config() {
	local i
	cat <<'YAML'
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata:
  name: bird
spec:
  myASN: 64512
  peerASN: 64512
  peerAddress: 192.0.2.254
  connectTime: 2s
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: bgp
spec:
  ipAddressPools: [lan]
YAML
	for i in $(seq 0 10); do
		cat <<YAML
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata:
  name: hostile-$i
spec:
  myASN: 64512
  peerASN: 64513
  peerAddress: 192.0.2.254
  peerPort: $((BASE_PORT + i))
  holdTime: 9s
  connectTime: 2s
YAML
	done
}

# bird_since PROTO: "STATE SINCE" of a BIRD protocol (SINCE changes when the session restarts).
bird_since() { bird_cmd show protocols "$1" 2>/dev/null | awk -v p="$1" '$1 == p { print $4, $5 }'; }

lab_up 1 || { not_ok "the lab comes up"; tap_end; exit 1; }
bird_start -n n1 -f 4 || { not_ok "the router's BIRD starts"; tap_end; exit 1; }
ok "the lab (1 node) and the router's BIRD come up"
lab_pod web-1 web n1 8080 >/dev/null
lab_service web web 80 8080 Cluster
ip=$(lab_wait_ip web 5)
check "the service gets an IP ($ip)" test -n "$ip"

# The hostile peers listen first, then the speaker learns its BGPPeers.
ip netns exec "$(rig_ns router)" /usr/bin/python3 "$BARELB_TOP/test/rig/hostile_bgp.py" \
	192.0.2.254 "$BASE_PORT" "$HOSTILE_S" "$LAB/hostile.ready" >"$LAB/hostile.txt" 2>&1 &
hostile=$!
BG="$BG $hostile"
for _ in $(seq 1 50); do [ -e "$LAB/hostile.ready" ] && break; sleep 0.1; done
check "the hostile peers listen on ports $BASE_PORT-$((BASE_PORT + 10))" test -e "$LAB/hostile.ready"
bgp_config >>"$LAB/config.yaml"
check "BIRD's session with the speaker is Established" bird_wait_state n1_4 Established 15
check "BIRD has the route to $ip/32" bird_wait_route "$ip/32" 1 10
since0=$(bird_since n1_4)

# Watch BIRD's session and route all through the hostile run.
(
	end=$((SECONDS + HOSTILE_S))
	while [ "$SECONDS" -lt "$end" ]; do
		echo "$(bird_since n1_4) routes=$(bird_routes "$ip/32" | grep -c .)"
		sleep 0.3
	done
) >"$LAB/bird-samples.txt" 2>&1 &
sampler=$!
BG="$BG $sampler"
wait "$hostile"
wait "$sampler"
sed 's/^/# /' "$LAB/hostile.txt"

# result NAME: the hostile peer's line for NAME
result() { grep "^$1 " "$LAB/hostile.txt"; }
field() { result "$1" | grep -Eo " $2=[^ ]+" | cut -d= -f2-; }

# expect NAME NOTIF DATA WHY: the first connection got NOTIFICATION NOTIF (code/subcode) with DATA
# (hex, "-" for none), the speaker closed that connection, and it came back (reconnected).
expect() {
	local name=$1 notif=$2 data=$3 why=$4
	check "$name: NOTIFICATION $notif data $data ($why); got $(field "$name" notif) data $(field "$name" data)" \
		test "$(field "$name" notif)" = "$notif" -a "$(field "$name" data)" = "$data"
	check "$name: the speaker closed that session and connected again ($(field "$name" conns) connections)" \
		test "$(field "$name" closed)" = 1 -a "$(field "$name" conns)" -ge 2 -a "$(field "$name" established)" -ge 2
}
expect garbage 1/1 - "RFC 4271 6.1: marker not all ones, Connection Not Synchronized"
expect bad-marker 1/1 - "RFC 4271 6.1: Connection Not Synchronized"
expect length-18 1/2 0012 "RFC 4271 6.1: Bad Message Length, data the length field"
expect keepalive-length-21 1/2 0015 "RFC 4271 6.1: a KEEPALIVE is 19 bytes"
expect update-lengths 3/1 - "RFC 4271 6.3: withdrawn length past the message, Malformed Attribute List"
expect unknown-well-known 3/2 40f004deadbeef "RFC 4271 6.3: Unrecognized Well-known Attribute, data the attribute"
expect huge-5000 1/2 1388 "RFC 4271 6.1: length 5000 > 4096, data the length field"
expect bad-type-9 1/3 09 "RFC 4271 6.1: Bad Message Type, data the type"
expect slow-loris 4/0 - "RFC 4271 6.5: Hold Timer Expired"
t=$(field slow-loris after_ms)
check "slow-loris: the hold timer (3 s negotiated) fired ${t} ms after the trickle began (1,500-5,000)" \
	test "${t:--1}" -ge 1500 -a "${t:--1}" -le 5000
for n in unknown-optional-transitive polite; do
	check "$n: no NOTIFICATION, one connection all along ($(field "$n" notifs) notifications, $(field "$n" conns) connections)" \
		test "$(field "$n" notif)" = none -a "$(field "$n" notifs)" = 0 -a "$(field "$n" conns)" = 1 -a "$(field "$n" established)" = 1
done

samples=$(grep -c . "$LAB/bird-samples.txt")
bad=$(grep -vc "^$since0 routes=1$" "$LAB/bird-samples.txt")
check "BIRD's session stayed Established since $since0 with the route, in all $samples samples ($bad differ)" \
	test "$samples" -ge 10 -a "$bad" -eq 0
[ "$bad" -ne 0 ] && grep -v "^$since0 routes=1$" "$LAB/bird-samples.txt" | head -3 | sed 's/^/# /'
check "BIRD's session is still the same one afterwards" test "$(bird_since n1_4)" = "$since0"
check "the speaker is still running" kill -0 "$(lab_speaker_pid n1)"
check "the speaker logged the NOTIFICATIONs it sent" \
	test "$(grep -c 'msg="sending NOTIFICATION"' "$LAB/n1.log")" -ge 9
check "no sanitizer report in the daemons' logs" \
	bash -c '! grep -qE "runtime error|AddressSanitizer|LeakSanitizer" "$0"/*.log' "$LAB"
tap_end
