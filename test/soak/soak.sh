#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Soak (issue 9): the namespace lab (controller + speakers n1..n3, ASan builds, dir: source) peering
# with BIRD on the router, under continuous churn for SOAK_MINUTES (default 30): Services created,
# changed (externalTrafficPolicy, port) and deleted, pods moving between nodes and coming and going,
# a speaker restarted every few minutes (n2, n3 in turn; SIGTERM and SIGKILL alternating), BIRD
# restarted (SIGTERM and SIGKILL alternating). n1 and the controller are never restarted: their
# VmRSS, sampled every minute, is the growth measure. At the end (churn stopped, settled): every
# Service with endpoints has exactly the one expected ARP owner and the expected BGP next hops, every
# Service without has neither, the controller's status files equal `barelbctl services`, no IP was
# ever given twice, RSS grew by at most SOAK_RSS_MAX_KB, and after SIGTERM no sanitizer or LSan
# report is in any log. Not part of `make test` (test/run.sh does not look in test/soak/).
#
# Run (root, from the repository top, after `make check-build`):
#   SOAK_MINUTES=30 BARELB_TOP=$PWD BARELB_BIN=$PWD/build/asan/bin bash test/soak/soak.sh
# Knobs: SOAK_MINUTES (30), SOAK_RSS_MAX_KB (16384: growth allowed per long-lived daemon, first
# sample vs last), SOAK_KEEP=1 keeps the work directory ($LAB) with logs and rss.tsv.
# ASan's quarantine is capped (quarantine_size_mb=8) so that RSS measures the daemons, not ASan's
# pool of freed blocks (256 MiB by default). Output is TAP plus "#" lines with the numbers.
set -u
BARELB_TOP=${BARELB_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$BARELB_TOP/test/lib/tap.sh"
export LAB_BIN=${BARELB_BIN:-$BARELB_TOP/build/asan/bin} RIG=blbsoak$$
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:quarantine_size_mb=8}
SOAK_MINUTES=${SOAK_MINUTES:-30}
SOAK_RSS_MAX_KB=${SOAK_RSS_MAX_KB:-16384}
BIRD_DIR=$(mktemp -d /tmp/barelb-soak-bird.XXXXXX)
LAB=$(mktemp -d /tmp/barelb-soak.XXXXXX)
LAB_POOL4=192.0.2.200-192.0.2.231
[ -n "${SOAK_KEEP:-}" ] && LAB_KEEP=1
. "$BARELB_TOP/test/rig/lab.sh"
. "$BARELB_TOP/test/rig/bird.sh"
CTL="$LAB_BIN/barelbctl"
cleanup() { bird_down; lab_down; }
trap cleanup EXIT
trap 'exit 1' INT TERM
say() { echo "# $*"; }
now_s() { date +%s; }
NODES="n1 n2 n3"
ALL4="192.0.2.11 192.0.2.12 192.0.2.13"

# ---- config: the lab's L2 pool, announced over BGP too (iBGP, AS 64512, to the router) ----------
lab_up 3 || { not_ok "the lab comes up"; tap_end; exit 1; }
cat >>"$LAB/config.yaml" <<'YAML'
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata:
  name: router
spec:
  myASN: 64512
  peerASN: 64512
  peerAddress: 192.0.2.254
  holdTime: 3s
  connectTime: 2s
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: lan
spec:
  ipAddressPools: [lan]
YAML
bird_start -p 64512 -f 4 || { not_ok "the router's BIRD starts"; tap_end; exit 1; }
ok "the lab (controller, speakers n1..n3, pool $LAB_POOL4) and the router's BIRD come up"
established() { local p; for p in n1_4 n2_4 n3_4; do bird_wait_state "$p" Established 20 || return 1; done; }
check "BGP sessions from n1, n2, n3 are Established" established

# ---- the model: what the soak wrote, the truth the end state is compared with -------------------
SVCS=(s00 s01 s02 s03 s04 s05 s06 s07 s08 s09 s10 s11 s12 s13 s14 s15)
PODS=(p00 p01 p02 p03 p04 p05 p06 p07 p08 p09)
APPS=(a0 a1 a2 a3 a4)
declare -A SVC_APP SVC_ETP SVC_PORT SVC_LIVE POD_APP POD_NODE POD_LIVE
mkdir -p "$LAB/tmp"
put() { cat >"$LAB/tmp/$1" && mv "$LAB/tmp/$1" "$LAB/state/$1"; } # FILE: atomic write into state/

write_svc() {
	local s=$1
	put "svc-$s.yaml" <<YAML
apiVersion: v1
kind: Service
metadata:
  name: $s
  namespace: default
spec:
  type: LoadBalancer
  clusterIPs: [10.96.1.$((10#${s#s} + 10))]
  externalTrafficPolicy: ${SVC_ETP[$s]}
  selector: {app: ${SVC_APP[$s]}}
  ports: [{port: ${SVC_PORT[$s]}, targetPort: 8080, protocol: TCP}]
YAML
	SVC_LIVE[$s]=1
}
del_svc() { rm -f "$LAB/state/svc-$1.yaml"; SVC_LIVE[$1]=0; }
write_pod() {
	local p=$1 n=${POD_NODE[$1]}
	put "pod-$p.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: $p
  namespace: default
  labels: {app: ${POD_APP[$p]}}
spec:
  nodeName: $n
  containers: [{name: web, ports: [{containerPort: 8080}]}]
status:
  podIP: 10.244.${n#n}.$((10#${p#p} + 2))
  conditions: [{type: Ready, status: "True"}]
YAML
	POD_LIVE[$p]=1
}
del_pod() { rm -f "$LAB/state/pod-$1.yaml"; POD_LIVE[$1]=0; }
pick() { local a=("$@"); echo "${a[RANDOM % ${#a[@]}]}"; }
live_svcs() { local s; for s in "${SVCS[@]}"; do [ "${SVC_LIVE[$s]:-0}" = 1 ] && echo "$s"; done; }
dead_svcs() { local s; for s in "${SVCS[@]}"; do [ "${SVC_LIVE[$s]:-0}" = 1 ] || echo "$s"; done; }

for p in "${PODS[@]}"; do
	POD_APP[$p]=${APPS[$((10#${p#p} % 5))]}
	POD_NODE[$p]=n$((10#${p#p} % 3 + 1))
	write_pod "$p"
done
for s in s00 s01 s02 s03 s04 s05 s06 s07; do
	SVC_APP[$s]=$(pick "${APPS[@]}"); SVC_ETP[$s]=$(pick Cluster Local); SVC_PORT[$s]=80
	write_svc "$s"
done

# ---- the churn -----------------------------------------------------------------------------------
declare -A CNT
churn_once() {
	local s p n
	case $((RANDOM % 6)) in
	0) s=$(dead_svcs | shuf -n1)
	   [ -n "$s" ] || return 0
	   SVC_APP[$s]=$(pick "${APPS[@]}"); SVC_ETP[$s]=$(pick Cluster Local); SVC_PORT[$s]=80
	   write_svc "$s"; CNT[svc_create]=$((${CNT[svc_create]:-0} + 1)) ;;
	1) s=$(live_svcs | shuf -n1)
	   [ -n "$s" ] && [ "$(live_svcs | wc -l)" -gt 8 ] || return 0
	   del_svc "$s"; CNT[svc_delete]=$((${CNT[svc_delete]:-0} + 1)) ;;
	2) s=$(live_svcs | shuf -n1)
	   [ -n "$s" ] || return 0
	   if [ $((RANDOM % 2)) = 0 ]; then
		[ "${SVC_ETP[$s]}" = Cluster ] && SVC_ETP[$s]=Local || SVC_ETP[$s]=Cluster
	   else
		SVC_PORT[$s]=$((80 + RANDOM % 100)); SVC_APP[$s]=$(pick "${APPS[@]}")
	   fi
	   write_svc "$s"; CNT[svc_change]=$((${CNT[svc_change]:-0} + 1)) ;;
	3|4) p=$(pick "${PODS[@]}")
	   n=$(for n in $NODES; do [ "$n" != "${POD_NODE[$p]}" ] && echo "$n"; done | shuf -n1)
	   # A pod moves: the old one goes, the new one starts on another node.
	   del_pod "$p"; POD_NODE[$p]=$n; write_pod "$p"; CNT[pod_move]=$((${CNT[pod_move]:-0} + 1)) ;;
	5) p=$(pick "${PODS[@]}")
	   if [ "${POD_LIVE[$p]}" = 1 ]; then del_pod "$p"; else write_pod "$p"; fi
	   CNT[pod_toggle]=$((${CNT[pod_toggle]:-0} + 1)) ;;
	esac
}

# dup_ips: IPs written in two Services' status at once (empty: none).
dup_ips() {
	python3 "$BARELB_TOP/test/helpers/lbstate.py" dir "$LAB/state" | awk '{print $2}' | tr , '\n' |
		grep -vx -- - | sort | uniq -d
}
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null; }
CTL_PID=${LAB_PIDS%% *}; CTL_PID=${LAB_PIDS# }; CTL_PID=${CTL_PID%% *}
N1_PID=$(lab_speaker_pid n1)
echo "minute controller n1 n2 n3" >"$LAB/rss.tsv"
sample_rss() {
	echo "$1 $(rss_kb "$CTL_PID") $(rss_kb "$N1_PID") $(rss_kb "$(lab_speaker_pid n2)") $(rss_kb "$(lab_speaker_pid n3)")" >>"$LAB/rss.tsv"
}

# restart_speaker NODE SIGNAL: stop it (bounded wait: 10 s, then SIGKILL) and start it again.
restart_speaker() {
	local n=$1 sig=$2 pid t=100
	pid=$(lab_speaker_pid "$n")
	kill "-$sig" "$pid" 2>/dev/null
	while kill -0 "$pid" 2>/dev/null && [ $t -gt 0 ]; do sleep 0.1; t=$((t - 1)); done
	if kill -0 "$pid" 2>/dev/null; then
		say "speaker $n did not stop on SIG$sig in 10 s"; CNT[stop_timeout]=$((${CNT[stop_timeout]:-0} + 1))
		kill -9 "$pid" 2>/dev/null
	fi
	lab_speaker_start "$n"
}

DUR=$((SOAK_MINUTES * 60))
SPK_EVERY=$(( DUR / 10 < 60 ? 60 : DUR / 10 ))   # 30 min: every 3 min; 5 min: every minute
BIRD_EVERY=$(( DUR / 3 < 90 ? 90 : DUR / 3 ))
t_start=$(now_s)
next_spk=$((t_start + SPK_EVERY)) next_bird=$((t_start + BIRD_EVERY)) next_min=$t_start
minute=0 spk_i=0 bird_i=0 dup_seen=0 dead_daemon=0
say "soak: $SOAK_MINUTES min; a speaker restart every $SPK_EVERY s, BIRD every $BIRD_EVERY s"
while [ $(( $(now_s) - t_start )) -lt "$DUR" ]; do
	t=$(now_s)
	if [ "$t" -ge "$next_min" ]; then
		sample_rss "$minute"
		d=$(dup_ips)
		[ -n "$d" ] && { dup_seen=$((dup_seen + 1)); say "minute $minute: IP in two statuses: $(echo $d)"; }
		kill -0 "$CTL_PID" 2>/dev/null && kill -0 "$N1_PID" 2>/dev/null || dead_daemon=1
		minute=$((minute + 1)) next_min=$((next_min + 60))
	fi
	if [ "$t" -ge "$next_spk" ]; then
		n=$([ $((spk_i % 2)) = 0 ] && echo n2 || echo n3)
		sig=$([ $(((spk_i / 2) % 2)) = 0 ] && echo TERM || echo KILL)
		restart_speaker "$n" "$sig"
		CNT["speaker_$sig"]=$((${CNT["speaker_$sig"]:-0} + 1))
		spk_i=$((spk_i + 1)) next_spk=$((next_spk + SPK_EVERY))
	fi
	if [ "$t" -ge "$next_bird" ]; then
		if [ $((bird_i % 2)) = 0 ]; then bird_restart; else bird_restart -9; fi ||
			{ say "BIRD did not come back"; CNT[bird_fail]=$((${CNT[bird_fail]:-0} + 1)); }
		CNT[bird_restart]=$((${CNT[bird_restart]:-0} + 1))
		bird_i=$((bird_i + 1)) next_bird=$((next_bird + BIRD_EVERY))
	fi
	churn_once
	sleep 0.$((3 + RANDOM % 5))
done
sample_rss "$minute"
say "churn: $(for k in "${!CNT[@]}"; do printf '%s=%s ' "$k" "${CNT[$k]}"; done)"

# ---- the end state equals the truth --------------------------------------------------------------
check "the controller and n1 ran the whole soak" test "$dead_daemon" = 0
check "no IP was in two Services' status at any minute's look ($minute looks)" test "$dup_seen" = 0
check "no speaker needed more than 10 s to stop" test "${CNT[stop_timeout]:-0}" = 0
check "BIRD came back after every restart" test "${CNT[bird_fail]:-0}" = 0
check "BGP sessions from n1, n2, n3 are Established again" established

# expected_owner IP NODES...: lowest sha256(node#ip) first (elect.c step 7, equal weights).
expected_owner() {
	local ip=$1 n best="" bh="" h
	shift
	for n in "$@"; do
		h=$(printf '%s#%s' "$n" "$ip" | sha256sum | cut -c1-64)
		if [ -z "$bh" ] || [[ "$h" < "$bh" ]]; then bh=$h best=$n; fi
	done
	echo "$best"
}
svc_ip() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["status"]["loadBalancer"]["ingress"][0]["ip"])' "$LAB/state/status/default/$1.json" 2>/dev/null; }
# ep_nodes SVC: the nodes hosting a live pod of its app, sorted ("" if none).
ep_nodes() {
	local p
	for p in "${PODS[@]}"; do
		[ "${POD_LIVE[$p]}" = 1 ] && [ "${POD_APP[$p]}" = "${SVC_APP[$1]}" ] && echo "${POD_NODE[$p]}"
	done | sort -u | tr '\n' ' ' | sed 's/ $//'
}
# want SVC: "OWNER|NEXTHOPS" the truth says ("none|" without endpoints).
want() {
	local s=$1 ip nodes n nh=""
	ip=$(svc_ip "$s")
	nodes=$(ep_nodes "$s")
	[ -z "$nodes" ] && { echo "none|"; return; }
	[ "${SVC_ETP[$s]}" = Cluster ] && nodes=$NODES
	for n in $nodes; do nh="$nh $(rig_node_ip4 "$n")"; done
	echo "$(expected_owner "$ip" $nodes)|$(echo $nh | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')"
}
have() { # SVC: "OWNER|NEXTHOPS" as seen from the client (ARP, 2 probes) and the router
	local ip macs who nh
	ip=$(svc_ip "$1")
	macs=$(lab_arp_macs "$ip" 2)
	case $(echo "$macs" | grep -c .) in
	0) who=none ;;
	1) who=$(lab_mac_owner "$macs") ;;
	*) who="several:$(echo $macs)" ;;
	esac
	nh=$(bird_routes "$ip/32" | awk '{print $2}' | tr '\n' ' ' | sed 's/ $//')
	echo "$who|$nh"
}
all_match() {
	local s bad=0
	for s in $(live_svcs); do
		[ "$(have "$s")" = "$(want "$s")" ] || { bad=1; [ -n "${1:-}" ] && say "$s ip=$(svc_ip "$s") etp=${SVC_ETP[$s]} pods on: $(ep_nodes "$s"); have $(have "$s"), want $(want "$s")"; }
	done
	return $bad
}
every_live_has_ip() { local s; for s in $(live_svcs); do [ -n "$(svc_ip "$s")" ] || return 1; done; }
check "every live Service ($(live_svcs | wc -l)) has an IP in its status" every_live_has_ip
# Settle: SIGKILLed speakers' leases and BGP hold timers (3 s) run out, the withdraw hold (0.5 s).
t=30 r=1
while [ $t -gt 0 ]; do all_match && { r=0; break; }; sleep 1; t=$((t - 1)); done
[ $r = 0 ] || all_match verbose
n_ep=0
for s in $(live_svcs); do [ -n "$(ep_nodes "$s")" ] && n_ep=$((n_ep + 1)); done
check "end state equals the truth: $n_ep Services with endpoints have exactly the expected ARP owner and BGP next hops, $(( $(live_svcs | wc -l) - n_ep )) without have neither" test $r = 0
ctl_view() {
	"$CTL" --control "$LAB/controller.sock" -o json services |
		python3 -c 'import json,sys
for x in json.load(sys.stdin)["services"]:
    if x.get("ips"): print(x["service"], ",".join(x["ips"]))' | sort
}
file_view() { python3 "$BARELB_TOP/test/helpers/lbstate.py" dir "$LAB/state" | awk '$2 != "-" {print $1, $2}' | sort; }
ctl_view >"$LAB/ctl.view"; file_view >"$LAB/file.view"
check "the controller's status files equal barelbctl services ($(wc -l <"$LAB/file.view") Services)" \
	cmp -s "$LAB/ctl.view" "$LAB/file.view"
cmp -s "$LAB/ctl.view" "$LAB/file.view" || diff "$LAB/ctl.view" "$LAB/file.view" | head -5 | sed 's/^/# /'
check "no IP given twice at the end" test -z "$(dup_ips)"

# ---- RSS -----------------------------------------------------------------------------------------
say "VmRSS (kB) per minute:"
sed 's/^/#   /' "$LAB/rss.tsv"
read -r _ c0 a0 _ _ < <(sed -n 2p "$LAB/rss.tsv")
read -r _ c1 a1 _ _ < <(tail -n1 "$LAB/rss.tsv")
check "controller VmRSS grew by at most $SOAK_RSS_MAX_KB kB (first $c0, last $c1 kB: $((c1 - c0)))" \
	test $((c1 - c0)) -le "$SOAK_RSS_MAX_KB"
check "speaker n1 VmRSS grew by at most $SOAK_RSS_MAX_KB kB (first $a0, last $a1 kB: $((a1 - a0)))" \
	test $((a1 - a0)) -le "$SOAK_RSS_MAX_KB"

# ---- clean stop; no sanitizer report --------------------------------------------------------------
pids="$CTL_PID $(lab_speaker_pid n1) $(lab_speaker_pid n2) $(lab_speaker_pid n3)"
for p in $pids; do kill -TERM "$p" 2>/dev/null; done
t=300
while [ $t -gt 0 ]; do
	alive=0
	for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
	[ $alive = 0 ] && break
	sleep 0.1; t=$((t - 1))
done
check "every daemon stopped on SIGTERM within 30 s (LSan runs at exit)" test $alive = 0
check "each speaker logged a clean stop for every SIGTERM it got (+1 for the final one)" \
	test "$(cat "$LAB"/n[23].log | grep -c 'barelb-speaker stopped')" -ge $(( ${CNT[speaker_TERM]:-0} + 2 ))
bad=$(grep -lE "runtime error|AddressSanitizer|LeakSanitizer|ERROR: " "$LAB"/*.log 2>/dev/null)
check "no sanitizer or LSan report in any daemon's log" test -z "$bad"
for f in $bad; do say "$f:"; grep -m5 -E "runtime error|Sanitizer|ERROR: " "$f" | sed 's/^/#   /'; done
say "elapsed $(( $(now_s) - t_start )) s"
tap_end
