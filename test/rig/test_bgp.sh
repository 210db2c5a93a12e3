#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# BGP end to end in the namespace lab: controller + 3 speakers (ASan builds) on the dir: source peer
# with BIRD 2 in the router namespace (n1, n2 iBGP, n3 eBGP; IPv4 and IPv6). The router's table is
# read back through test/rig/bird.sh: next hops, local-pref, AS path, communities, aggregation,
# advertisement selectors, ETP Local following its pod, SIGTERM (Cease), a router restart, a
# silently dropped path (hold timer), graceful restart and TCP-MD5. Everything runs in namespaces
# this test creates; they are removed at the end, also when a check fails. Waits are bounded.
set -u
BARELB_TOP=${BARELB_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$BARELB_TOP/test/lib/tap.sh"
export LAB_BIN=${BARELB_BIN:-$BARELB_TOP/build/asan/bin} RIG=blbbgp$$
BIRD_DIR=$(mktemp -d /tmp/barelb-bgpt-bird.XXXXXX)
. "$BARELB_TOP/test/rig/lab.sh"
. "$BARELB_TOP/test/rig/bird.sh"
DATA=$BARELB_TOP/test/data/bgp
LAB=$(mktemp -d /tmp/barelb-bgpt.XXXXXX)
LAB_LOGLEVEL=${LAB_LOGLEVEL:-debug}
cleanup() { bird_down; lab_down; }
trap cleanup EXIT
not() { ! "$@"; }
now_ms() { local t=${EPOCHREALTIME/./}; echo $(( ${t#0} / 1000 )); }

# config FILE [SED]: the lab's L2 config plus the BGP objects of FILE (optionally edited by SED).
config() {
	lab_config
	if [ -n "${2:-}" ]; then sed "$2" "$1"; else cat "$1"; fi >>"$LAB/config.yaml"
}

# svc NAME APP ETP [POOL]: a dual-stack LoadBalancer Service selecting app=APP (IPv4 only when a
# BGP-only POOL is named: those pools hold IPv4 addresses only).
svc() {
	local name=$1 app=$2 etp=$3 pool=${4:-} fam="[IPv4, IPv6]" pol=RequireDualStack ann=""
	if [ -n "$pool" ]; then
		fam="[IPv4]" pol=SingleStack
		ann="  annotations: {metallb.universe.tf/address-pool: $pool}"
	fi
	cat >"$LAB/state/svc-$name.yaml.tmp" <<YAML
apiVersion: v1
kind: Service
metadata:
  name: $name
  namespace: default
$ann
spec:
  type: LoadBalancer
  externalTrafficPolicy: $etp
  ipFamilyPolicy: $pol
  ipFamilies: $fam
  selector: {app: $app}
  ports: [{port: 80, targetPort: 8080, protocol: TCP}]
YAML
	mv "$LAB/state/svc-$name.yaml.tmp" "$LAB/state/svc-$name.yaml"
}

# ingress NAME K: the K-th ingress IP the controller wrote for default/NAME (bounded wait).
ingress() {
	local f="$LAB/state/status/default/$1.json" t=100 v
	while [ "$t" -gt 0 ]; do
		v=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["status"]["loadBalancer"]["ingress"][int(sys.argv[2])]["ip"])' "$f" "$2" 2>/dev/null) &&
			[ -n "$v" ] && { echo "$v"; return 0; }
		sleep 0.05
		t=$((t - 1))
	done
	return 1
}

nexthops() { bird_routes "$1" | awk '{print $2}' | tr '\n' ' ' | sed 's/ $//'; }

# wait_nexthops PREFIX "NH NH..." [TIMEOUT_S]: until the router's paths for PREFIX have exactly
# these next hops (sorted as bird_routes sorts them; "" = no route).
wait_nexthops() {
	local t=$(( ${3:-10} * 20 ))
	while [ "$t" -gt 0 ]; do
		[ "$(nexthops "$1")" = "$2" ] && return 0
		sleep 0.05
		t=$((t - 1))
	done
	echo "# $1: next hops '$(nexthops "$1")', want '$2'"
	return 1
}

# as_paths PREFIX: "NEXTHOP ASPATH" per path ("-" for an empty AS path), sorted.
as_paths() {
	bird_cmd show route for "$1" all 2>/dev/null | awk '
		/^\tvia / { nh = $2 }
		/^\tBGP\.as_path:/ { p = $0; sub(/^\tBGP\.as_path: */, "", p); print nh, (p == "" ? "-" : p) }' |
		sort
}

all_established() {
	local p
	for p in "$@"; do bird_wait_state "$p" Established "${WAIT_S:-15}" || { echo "# $p: $(bird_protocols | awk -v p="$p" '$1 == p')"; return 1; }; done
}

# wait_log FILE PATTERN AFTER_LINE TIMEOUT_MS: until a line past AFTER_LINE matches PATTERN.
wait_log() {
	local f=$1 pat=$2 after=$3 t=$(( $4 / 10 ))
	while [ "$t" -gt 0 ]; do
		tail -n +"$((after + 1))" "$f" 2>/dev/null | grep -qE "$pat" && return 0
		sleep 0.01
		t=$((t - 1))
	done
	return 1
}

# peer_has_gr PROTO: the neighbour's OPEN carried the graceful restart capability.
peer_has_gr() {
	bird_cmd show protocols all "$1" 2>/dev/null | awk '/Neighbor capabilities/ { n = 1; next }
		n && /^    [A-Z]/ { n = 0 } n && /Graceful restart/ { f = 1 } END { exit !f }'
}
all_gone() { local x; for x in "$@"; do bird_wait_no_route "$x" || return 1; done; }
# all_of "CMD ARGS" ...: every command (split on blanks) succeeds.
all_of() { local c; for c in "$@"; do eval "$c" || return 1; done; }
stale() { bird_cmd show route for "$1" all 2>/dev/null | grep -qi stale; }

# stop_wait PID: SIGTERM and wait (bounded, 10 s) until the process is gone.
stop_wait() {
	local t=500
	kill -TERM "$1" 2>/dev/null
	while kill -0 "$1" 2>/dev/null && [ "$t" -gt 0 ]; do sleep 0.02; t=$((t - 1)); done
	! kill -0 "$1" 2>/dev/null
}

N1=192.0.2.11 N2=192.0.2.12 N3=192.0.2.13
N1_6=2001:db8:77::11 N2_6=2001:db8:77::12 N3_6=2001:db8:77::13
ALL4="$N1 $N2 $N3" ALL6="$N1_6 $N2_6 $N3_6"

lab_up 3 || { not_ok "the lab comes up"; tap_end; exit 1; }
config "$DATA/main.yaml"
bird_start -p 64512 -P n3=64513 -f 46 || { not_ok "the router's BIRD starts"; tap_end; exit 1; }
ok "the lab (controller, speakers n1..n3) and the router's BIRD come up"

# --- sessions ------------------------------------------------------------------------------------
check "iBGP IPv4 sessions from n1 and n2 are Established" all_established n1_4 n2_4
check "eBGP IPv4 session from n3 (AS 64513) is Established" all_established n3_4
check "IPv6 sessions from n1, n2 (iBGP) and n3 (eBGP) are Established" all_established n1_6 n2_6 n3_6
check "bird2 (no speaker there) has no session" \
	test "$(bird_protocols | awk '$1 == "bird2_4" { print $3 }')" != Established

# --- a dual-stack ETP Cluster service: every node announces -------------------------------------
lab_pod web-1 web n3 8080 >/dev/null
svc web web Cluster
ip=$(ingress web 0)
ip6=$(ingress web 1)
check "the controller allocates an IPv4 and an IPv6 address ($ip, $ip6)" test -n "$ip" -a -n "$ip6"
check "$ip/32 arrives with the three nodes as next hops" wait_nexthops "$ip/32" "$ALL4"
got=$(bird_routes "$ip/32")
want="$ip/32 $N1 150 64512:100 64512:1:2
$ip/32 $N2 150 64512:100 64512:1:2
$ip/32 $N3 100 64512:100 64512:1:2"
check "local-pref 150 over iBGP (eBGP: BIRD's default 100), communities and large communities" \
	test "$got" = "$want"
[ "$got" = "$want" ] || printf '# got:\n%s\n# want:\n%s\n' "$got" "$want"
got=$(as_paths "$ip/32")
check "AS path: empty from the iBGP nodes, 64513 from n3 (eBGP)" \
	test "$got" = "$N1 -
$N2 -
$N3 64513"
[ "$got" = "$N1 -"$'\n'"$N2 -"$'\n'"$N3 64513" ] || printf '# got:\n%s\n' "$got"
check "$ip6/128 arrives over the IPv6 sessions with the nodes' global addresses" \
	wait_nexthops "$ip6/128" "$ALL6"
got=$(bird_routes "$ip6/128" | awk '{print $3, $4, $5}' | sort -u | tr '\n' ';')
check "IPv6 paths carry the same attributes" test "$got" = "100 64512:100 64512:1:2;150 64512:100 64512:1:2;"
check "no IPv4 prefix over an IPv6 session, no IPv6 prefix over an IPv4 one" \
	test "$(bird_cmd show route protocol n1_6 2>/dev/null | grep -c '^[0-9.]*/32')" = 0 -a \
	"$(bird_cmd show route protocol n1_4 2>/dev/null | grep -c '::')" = 0

# --- aggregation: two services of pool agg (198.51.100.8-11) become one /30 -------------------------
svc agg1 web Cluster agg
svc agg2 web Cluster agg
a1=$(ingress agg1 0)
a2=$(ingress agg2 0)
check "two services get IPs of pool agg ($a1, $a2)" test -n "$a1" -a -n "$a2" -a "$a1" != "$a2"
check "aggregationLength 30: 198.51.100.8/30 from the three nodes, once per node" \
	wait_nexthops 198.51.100.8/30 "$ALL4"
check "no /32 of the aggregated services" test -z "$(bird_routes "$a1/32")$(bird_routes "$a2/32")"
got=$(bird_routes 198.51.100.8/30 | awk '{print $3, $4, $5}' | sort -u | tr '\n' ';')
check "no community or local-pref from the lan advertisement on the /30" test "$got" = "100 - -;"
[ "$got" = "100 - -;" ] || echo "# got: $got"
rm -f "$LAB/state/svc-agg1.yaml"
sleep 0.5
check "one of the two services gone: the /30 stays" wait_nexthops 198.51.100.8/30 "$ALL4"
rm -f "$LAB/state/svc-agg2.yaml"
check "both gone: the /30 is withdrawn" bird_wait_no_route 198.51.100.8/30

# --- advertisement selectors ----------------------------------------------------------------------
svc sel web Cluster sel
s=$(ingress sel 0)
check "BGPAdvertisement nodeSelectors n2: $s/32 only from n2" wait_nexthops "$s/32" "$N2"
svc pr web Cluster pr
p=$(ingress pr 0)
check "BGPAdvertisement peers [r4-ebgp]: $p/32 only from n3, AS path 64513" wait_nexthops "$p/32" "$N3"
check "  ... and its AS path is 64513" test "$(as_paths "$p/32")" = "$N3 64513"
sleep 0.3
check "still nothing from the nodes not selected" \
	test "$(nexthops "$s/32")|$(nexthops "$p/32")" = "$N2|$N3"
rm -f "$LAB/state/svc-sel.yaml" "$LAB/state/svc-pr.yaml"
check "selector services deleted: routes gone" all_gone "$s/32" "$p/32"

# --- service lifecycle: Cluster -> Local with one pod -> pod moves -> deleted ---------------------
lab_pod app-1 app n1 8080 >/dev/null
svc app app Cluster
aip=$(ingress app 0)
aip6=$(ingress app 1)
check "service app ($aip) ETP Cluster: three next hops" wait_nexthops "$aip/32" "$ALL4"
svc app app Local
check "changed to ETP Local, its pod on n1: only n1's next hop" wait_nexthops "$aip/32" "$N1"
check "  ... and over IPv6 too" wait_nexthops "$aip6/128" "$N1_6"
lab_pod_del app-1
lab_pod app-2 app n2 8080 >/dev/null
check "pod moved to n2: the next hop moves to n2" wait_nexthops "$aip/32" "$N2"
check "  ... and over IPv6 too" wait_nexthops "$aip6/128" "$N2_6"
t0=$(now_ms)
rm -f "$LAB/state/svc-app.yaml"
bird_wait_no_route "$aip/32"
r=$?
check "service deleted: its route is gone ($(( $(now_ms) - t0 )) ms)" test $r -eq 0
check "  ... and the IPv6 route" bird_wait_no_route "$aip6/128"
check "the web service is untouched by all this" wait_nexthops "$ip/32" "$ALL4" 1

# --- SIGTERM of a speaker without graceful restart: Cease, its next hop goes at once --------------
t0=$(now_ms)
kill -TERM "$(lab_speaker_pid n1)"
wait_nexthops "$ip/32" "$N2 $N3" 3
r=$?
check "SIGTERM of n1 (no graceful restart): its next hop is withdrawn ($(( $(now_ms) - t0 )) ms)" \
	test $r -eq 0 -a $(( $(now_ms) - t0 )) -lt 2000
check "  ... n1 sent a Cease (BIRD: administrative shutdown)" \
	bash -c "grep -E 'n1_4.*(Received: Administrative shutdown|Received: Cease)' '$BIRD_DIR/router.log' >/dev/null"
check "  ... n1's speaker exited cleanly" bash -c "sleep 0.5; grep -q 'barelb-speaker stopped' '$LAB/n1.log'"
lab_speaker_start n1
check "n1 restarted: its session and next hop are back" \
	all_of "bird_wait_state n1_4 Established 15" "wait_nexthops $ip/32 '$ALL4' 10"

# --- router restart: sessions come back, the full table is re-sent -------------------------------
svc agg1 web Cluster agg
wait_nexthops 198.51.100.8/30 "$ALL4" >/dev/null
before=$(bird_routes)
nbefore=$(echo "$before" | grep -c .)
bird_restart
check "after a router restart every session is back" all_established n1_4 n2_4 n3_4 n1_6 n2_6 n3_6
t=0
while [ "$(bird_routes)" != "$before" ] && [ $t -lt 200 ]; do sleep 0.05; t=$((t + 1)); done
check "  ... and the full table ($nbefore paths) is re-sent, identical" test "$(bird_routes)" = "$before"

# --- path to the router silently dropped: the hold timer (3 s) ends the session -----------------
l0=$(wc -l <"$LAB/n2.log")
t0=$(now_ms)
rig_exec router nft -f - <<NFT
table inet blbdrop {
	chain in { type filter hook input priority 0; policy accept;
		ip saddr $N2 meta l4proto tcp drop
		ip6 saddr $N2_6 meta l4proto tcp drop
	}
	chain out { type filter hook output priority 0; policy accept;
		ip daddr $N2 meta l4proto tcp drop
		ip6 daddr $N2_6 meta l4proto tcp drop
	}
}
NFT
wait_log "$LAB/n2.log" 'peer=r4-ibgp msg="BGP session down"' "$l0" 8000
r=$?
dt=$(( $(now_ms) - t0 ))
check "path from n2 dropped: n2's speaker ends the IPv4 session by its hold timer ($dt ms, hold 3 s)" \
	test $r -eq 0 -a $dt -le 3800
check "  ... and the IPv6 session" wait_log "$LAB/n2.log" 'peer=r6-ibgp msg="BGP session down"' "$l0" 2000
check "  ... the router drops n2's next hop (its hold timer is 3 s too)" wait_nexthops "$ip/32" "$N1 $N3" 5
l1=$(wc -l <"$LAB/n2.log")
rig_exec router nft delete table inet blbdrop
check "drop removed: n2 reconnects (speaker log)" \
	wait_log "$LAB/n2.log" 'peer=r4-ibgp msg="BGP session established"' "$l1" 20000
check "  ... and its next hop is back" wait_nexthops "$ip/32" "$ALL4" 10
check "  ... over IPv6 too" wait_nexthops "$ip6/128" "$ALL6" 10

# --- graceful restart: a restarting speaker loses no route ---------------------------------------
bird_stop
bird_start -p 64512 -P n3=64513 -f 46 -g -G 30 || not_ok "the router's BIRD restarts with graceful restart"
config "$DATA/main.yaml" 's/^  connectTime: 2s$/  connectTime: 2s\n  enableGracefulRestart: true/'
check "graceful restart on both sides: sessions Established" all_established n1_4 n2_4 n3_4 n1_6
check "  ... and the routes are there" wait_nexthops "$ip/32" "$ALL4" 10
check "  ... n1 advertises graceful restart (BIRD's view of its capabilities)" peer_has_gr n1_4
gone="$LAB/gr-samples"
: >"$gone"
( while [ ! -e "$LAB/gr-stop" ]; do
	nexthops "$ip/32" >>"$gone"; echo >>"$gone"
	sleep 0.02
  done ) &
poller=$!
lg=$(wc -l <"$BIRD_DIR/router.log")
pid=$(lab_speaker_pid n1)
check "SIGTERM of n1's speaker (graceful restart negotiated): it exits" stop_wait "$pid"
sleep 1
lab_speaker_start n1
bird_wait_state n1_4 Established 15
r=$?
sleep 1
touch "$LAB/gr-stop"
wait "$poller"
samples=$(grep -c . "$gone")
check "n1's speaker is back" test $r -eq 0
check "the router kept n1's route through the restart ($samples samples)" \
	test "$samples" -ge 20 -a -z "$(grep -v "$N1" "$gone" | grep .)"
check "  ... n1 closed without a NOTIFICATION (no Cease at the router)" \
	bash -c "! tail -n +$((lg + 1)) '$BIRD_DIR/router.log' | grep -E 'n1_4.*Received: (Administrative|Cease)'"
check "  ... and the route is fresh again after End-of-RIB (3 next hops, none stale)" \
	all_of "wait_nexthops $ip/32 '$ALL4' 5" "sleep 0.5" "not stale $ip/32"

# --- TCP-MD5 ---------------------------------------------------------------------------------------
bird_stop
bird_start -p 64512 -n "n1 n2" -f 4 -m s3cret || not_ok "the router's BIRD restarts with TCP-MD5"
config "$DATA/md5.yaml"
check "TCP-MD5: n1, with the right password, gets a session" all_established n1_4
check "  ... and its route arrives" wait_nexthops "$ip/32" "$N1" 10
WAIT_S=4
check "TCP-MD5: n2, with a wrong password, never gets a session (4 s)" not all_established n2_4
WAIT_S=15
check "  ... still only n1's next hop" test "$(nexthops "$ip/32")" = "$N1"

# --- no sanitizer report in any daemon ------------------------------------------------------------
for p in $LAB_PIDS; do stop_wait "$p"; done
check "no sanitizer report in the daemons' logs" \
	bash -c '! grep -lE "runtime error|AddressSanitizer|LeakSanitizer" "$0"/*.log' "$LAB"
tap_end
