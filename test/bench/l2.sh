#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Layer-2 numbers of issue 5 in the namespace rig, speaker against the kernel in the same run:
#  - ARP and NDP round trip seen by the client (client-side libpcap capture of request->reply, a
#    few hundred probes per target, interleaved), speaker answering a service IP vs the kernel
#    answering an address on the same node's eth0;
#  - the highest request rate answered without loss (rawsend floods, replies counted with pcap on
#    the client), speaker vs kernel, ARP and NDP;
#  - VmRSS of the speaker owning 10,000 service IPs (10,000 Services from a /18 pool in the dir:
#    source) vs the same speaker before the Services exist; a second node holding the same objects
#    without owning any splits the growth into objects and ownership.
# Release daemons from bin/ (make bin/barelb-speaker bin/barelb-controller bin/barelbctl); the two
# helpers are compiled here with -O2 (they use nothing from lib/). Needs root. Prints "bench ..."
# lines and '#' lines with the details. Env: L2B_PROBES (300), L2B_RATES, L2B_SERVICES (10000).
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
export BARELB_TOP=$TOP LAB_BIN=${LAB_BIN:-$TOP/bin} RIG=l2b$$
. "$TOP/test/rig/lab.sh"
PROBES=${L2B_PROBES:-300}
RATES=${L2B_RATES:-"10000 20000 40000 60000 80000 100000 150000 200000"}
NSVC=${L2B_SERVICES:-10000}
CLIENT4=192.0.2.100
CLIENT6=2001:db8:77::100
K4=192.0.2.150
K6=2001:db8:77::150
WORK=$(mktemp -d /tmp/l2bench.XXXXXX)
cleanup() { lab_down; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 1' INT TERM

die() { echo "l2 bench: $*" >&2; exit 1; }
for b in barelb-speaker barelb-controller barelbctl; do
	[ -x "$LAB_BIN/$b" ] || die "$LAB_BIN/$b missing (make bin/$b)"
done
H=$WORK/helpers
mkdir -p "$H"
for p in pcapcheck rawsend; do
	cc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$H/$p" "$TOP/test/helpers/$p.c" -lpcap ||
		die "cannot build $p"
done

client() { ip netns exec "$(rig_ns client)" "$@"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }'; }
field() { # field FILE KEYWORD IP NAME: value after NAME on the "KEYWORD IP ..." line
	awk -v k="$2" -v ip="$3" -v n="$4" '$1 == k && $2 == ip { for (i = 3; i < NF; i++) if ($i == n) print $(i + 1) }' "$1"
}

# cap_start OUT ARGS...: pcapcheck on the client in the background, returns once it captures.
cap_start() {
	local out=$1 t=150
	shift
	rm -f "$out.ready"
	ip netns exec "$(rig_ns client)" timeout 120 "$H/pcapcheck" -i eth0 -r "$out.ready" "$@" >"$out" 2>&1 &
	CAP_PID=$!
	while [ ! -e "$out.ready" ] && [ "$t" -gt 0 ]; do sleep 0.02; t=$((t - 1)); done
	[ -e "$out.ready" ] || die "pcapcheck did not start: $(cat "$out")"
}
cap_stop() { sleep 0.3; kill -TERM "$CAP_PID" 2>/dev/null; wait "$CAP_PID" 2>/dev/null; }

expected_owner() {
	local ip=$1 n best="" bh="" h
	shift
	for n in "$@"; do
		h=$(printf '%s#%s' "$n" "$ip" | sha256sum | cut -c1-64)
		if [ -z "$bh" ] || [[ "$h" < "$bh" ]]; then bh=$h best=$n; fi
	done
	echo "$best"
}

# ================= part 1: latency and rate, 3 nodes =================
LAB=$WORK/lab1
mkdir -p "$LAB"
lab_up 3 >/dev/null || die "lab_up failed"
lab_pod web-1 web n3 8080 >/dev/null || die "lab_pod failed"
lab_service web web 80 8080 Cluster "  ipFamilyPolicy: RequireDualStack
  ipFamilies: [IPv4, IPv6]
  clusterIPs: [10.96.0.5, \"fd00::5\"]"
sed -i '/clusterIPs: \[10.96.0.[0-9]*\]$/d' "$LAB/state/svc-web.yaml"
IP4=$(lab_wait_ip web 10) || die "no IP allocated"
IP6=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["status"]["loadBalancer"]["ingress"][1]["ip"])' "$LAB/state/status/default/web.json")
OWNER=$(expected_owner "$IP4" n1 n2 n3)
lab_wait_arp_owner "$IP4" "$OWNER" 10 || die "$OWNER does not answer for $IP4"
# The kernel's baseline: addresses on the same node's eth0, same LAN, same client.
rig_exec "$OWNER" ip addr add "$K4/24" dev eth0
rig_exec "$OWNER" ip addr add "$K6/64" dev eth0 nodad
SPID=$(lab_speaker_pid "$OWNER")
sleep 1
echo "# rig: 3 nodes; $OWNER answers $IP4 / $IP6 (speaker pid $SPID); its kernel answers $K4 / $K6"
echo "# client-side capture (libpcap, immediate mode, ns timestamps) of request->reply pairs"

# ---- ARP round trip: arping rounds, alternating targets ----
R=10
per=$(( (PROBES + R - 1) / R ))
cap_start "$WORK/arp_rtt" -m time -q -f "arp and (arp host $IP4 or arp host $K4)"
for r in $(seq 1 "$R"); do
	client arping -q -c "$per" -W 0.01 -i eth0 "$IP4" >/dev/null 2>&1
	client arping -q -c "$per" -W 0.01 -i eth0 "$K4" >/dev/null 2>&1
done
cap_stop
grep -E '^(stat|pcap)' "$WORK/arp_rtt" | sed 's/^/# arp: /'
sm=$(field "$WORK/arp_rtt" stat "$IP4" median_us)
km=$(field "$WORK/arp_rtt" stat "$K4" median_us)
sp=$(field "$WORK/arp_rtt" stat "$IP4" p99_us)
kp=$(field "$WORK/arp_rtt" stat "$K4" p99_us)
[ -n "$sm" ] && [ -n "$km" ] || die "no ARP timings: $(cat "$WORK/arp_rtt")"
echo "bench l2_arp_rtt_median: $sm us (baseline $km us, ratio $(ratio "$sm" "$km"))"
echo "bench l2_arp_rtt_p99: $sp us (baseline $kp us, ratio $(ratio "$sp" "$kp"))"

# ---- NDP round trip: one ndisc6 per probe, alternating targets ----
cap_start "$WORK/ndp_rtt" -m time -q -f "icmp6 and (ip6[40] = 135 or ip6[40] = 136)"
for i in $(seq 1 "$PROBES"); do
	client ndisc6 -1 -r 1 -w 100 "$IP6" eth0 >/dev/null 2>&1
	client ndisc6 -1 -r 1 -w 100 "$K6" eth0 >/dev/null 2>&1
done
cap_stop
grep -E "^(stat $IP6|stat $K6|pcap)" "$WORK/ndp_rtt" | sed 's/^/# ndp: /'
sm=$(field "$WORK/ndp_rtt" stat "$IP6" median_us)
km=$(field "$WORK/ndp_rtt" stat "$K6" median_us)
sp=$(field "$WORK/ndp_rtt" stat "$IP6" p99_us)
kp=$(field "$WORK/ndp_rtt" stat "$K6" p99_us)
[ -n "$sm" ] && [ -n "$km" ] || die "no NDP timings: $(cat "$WORK/ndp_rtt")"
echo "bench l2_ndp_rtt_median: $sm us (baseline $km us, ratio $(ratio "$sm" "$km"))"
echo "bench l2_ndp_rtt_p99: $sp us (baseline $kp us, ratio $(ratio "$sp" "$kp"))"

# ---- request floods: one second at each rate, speaker and kernel interleaved ----
# flood FAMILY TARGET RATE: prints "SENT ACHIEVED_RATE REPLIES PCAP_DROPS"
flood() {
	local fam=$1 tgt=$2 rate=$3 out=$WORK/flood filter snt
	if [ "$fam" = 4 ]; then
		filter="arp[6:2] = 2 and arp src host $tgt"
	else
		filter="icmp6 and ip6[40] = 136 and ip6 src $tgt"
	fi
	cap_start "$out" -m count -q --buffer 128 -f "$filter"
	if [ "$fam" = 4 ]; then
		client "$H/rawsend" -i eth0 -R "$rate" -n "$rate" --spa "$CLIENT4" --tpa "$tgt" arp 2>"$out.snd"
	else
		client "$H/rawsend" -i eth0 -R "$rate" -n "$rate" --src "$CLIENT6" --target "$tgt" ns 2>"$out.snd"
	fi
	cap_stop
	snt=$(sed -nE 's/^sent ([0-9]+) in [0-9.]+ s \(([0-9]+)\/s\).*/\1 \2/p' "$out.snd")
	echo "$snt $(field "$out" count "$tgt" replies) $(awk '/^pcap/ { print $5 }' "$out")"
}

# best FAMILY SPEAKER_IP KERNEL_IP: the flood series; sets BEST_S and BEST_K (the highest achieved
# rate with every request answered, at that rate and every lower one).
best_rates() {
	local fam=$1 sip=$2 kip=$3 rate s k s_ok=1 k_ok=1
	BEST_S=0 BEST_K=0
	for rate in $RATES; do
		[ $s_ok = 0 ] && [ $k_ok = 0 ] && break
		s=$(flood "$fam" "$sip" "$rate")
		k=$(flood "$fam" "$kip" "$rate")
		echo "# flood ipv$fam at $rate/s: speaker sent/achieved/answered/pcap-drops $s; kernel $k"
		set -- $s
		if [ $s_ok = 1 ] && [ "${4:-1}" = 0 ] && [ "${3:-0}" = "$1" ]; then BEST_S=$2; else s_ok=0; fi
		set -- $k
		if [ $k_ok = 1 ] && [ "${4:-1}" = 0 ] && [ "${3:-0}" = "$1" ]; then BEST_K=$2; else k_ok=0; fi
	done
}
best_rates 4 "$IP4" "$K4"
echo "bench l2_arp_max_rate: $BEST_S req/s (baseline $BEST_K req/s, ratio $(ratio "$BEST_S" "$BEST_K"))"
best_rates 6 "$IP6" "$K6"
echo "bench l2_ndp_max_rate: $BEST_S req/s (baseline $BEST_K req/s, ratio $(ratio "$BEST_S" "$BEST_K"))"
kill -0 "$SPID" 2>/dev/null || die "the speaker died during the floods"
lab_down

# ================= part 2: RSS with NSVC owned IPs =================
# Two nodes; the Services are ETP Local with their one pod on n1, so n1 owns every IP and n2 holds
# the same objects without owning any: n2 splits the figure into "objects" and "owning".
LAB=$WORK/lab2
mkdir -p "$LAB"
LAB_POOL4=10.64.0.0/18 LAB_SPEAKER_ARGS="--control $LAB/n1.sock" lab_up 2 >/dev/null || die "lab_up failed"
[ -s "$LAB/n2.pid" ] && ip netns list | grep -qE "^$RIG-n1( |$)" ||
	die "the second lab vanished right after lab_up (namespaces $(ip netns list | grep -c "^$RIG-"), $LAB $(ls "$LAB" 2>&1 | head -1))"
kill -TERM "$(lab_speaker_pid n2)"
sleep 0.3
LAB_SPEAKER_ARGS="--control $LAB/n2.sock" lab_speaker_start n2
# The nodes' subnet holds the pool (a /17 around the /18), their own addresses outside the pool.
rig_exec n1 ip addr add 10.64.127.254/17 dev eth0
rig_exec n2 ip addr add 10.64.127.253/17 dev eth0
lab_pod bulk-1 bulk n1 8080 >/dev/null
SPID=$(lab_speaker_pid n1)
SPID2=$(lab_speaker_pid n2)
owned() { "$LAB_BIN/barelbctl" --control "$LAB/${1:-n1}.sock" -o json status 2>/dev/null |
	/usr/bin/python3 -c 'import json,sys
def f(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k == "owned_ips": return v
            r = f(v)
            if r is not None: return r
    return None
print(f(json.load(sys.stdin)))' 2>/dev/null; }
rss() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
rss_detail() { awk '/^(VmRSS|VmHWM|RssAnon|RssFile|RssShmem):/ { printf "%s %s KiB, ", $1, $2 }' "/proc/$1/status"; }
sleep 1.5
o0=$(owned)
base=$(rss "$SPID" VmRSS)
echo "# rss: speaker pid $SPID owns ${o0:-?} IPs: $(rss_detail "$SPID")"
t0=$(date +%s%N)
/usr/bin/python3 - "$LAB/state" "$NSVC" <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
per = 100
for f in range((n + per - 1) // per):
    docs = []
    for i in range(f * per, min(n, (f + 1) * per)):
        docs.append("apiVersion: v1\nkind: Service\nmetadata:\n  name: bulk-%d\n  namespace: default\n"
                    "spec:\n  type: LoadBalancer\n  clusterIPs: [10.96.%d.%d]\n"
                    "  externalTrafficPolicy: Local\n  selector: {app: bulk}\n"
                    "  ports: [{port: 80, targetPort: 8080, protocol: TCP}]\n" % (i, 100 + i // 250, 1 + i % 250))
    tmp = os.path.join(d, ".bulk-%03d.tmp" % f)
    with open(tmp, "w") as fh:
        fh.write("---\n".join(docs))
    os.rename(tmp, os.path.join(d, "bulk-%03d.yaml" % f))
PY
t=600
while [ "$t" -gt 0 ]; do
	o=$(owned)
	[ "${o:-0}" = "$NSVC" ] && break
	sleep 0.2
	t=$((t - 1))
done
t1=$(date +%s%N)
[ "${o:-0}" = "$NSVC" ] || die "the speaker owns ${o:-?} IPs, not $NSVC, after 120 s"
echo "# rss: $NSVC Services in $((NSVC / 100)) files; the speaker owned all after $(( (t1 - t0) / 1000000 )) ms"
sleep 2 # the takeover announcements (3 rounds) are over
kill -0 "$SPID" 2>/dev/null || die "the speaker died"
full=$(rss "$SPID" VmRSS)
echo "# rss: speaker owns $(owned) IPs: $(rss_detail "$SPID") controller VmRSS $(rss "$(echo $LAB_PIDS | awk '{print $1}')" VmRSS) KiB"
# A few of them answered, to be sure the count is real.
n_ok=0
for ipf in "$LAB"/state/status/default/bulk-1.json "$LAB"/state/status/default/bulk-5000.json \
	"$LAB"/state/status/default/bulk-$((NSVC - 1)).json; do
	a=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["status"]["loadBalancer"]["ingress"][0]["ip"])' "$ipf" 2>/dev/null)
	[ -n "$a" ] && [ -n "$(lab_arp_macs "$a" 1)" ] && n_ok=$((n_ok + 1))
done
echo "# rss: n2 (same objects, owns $(owned n2) IPs): $(rss_detail "$SPID2")"
echo "# rss: $n_ok of 3 sampled service IPs answer ARP"
echo "bench l2_speaker_rss_10k: $full KiB (baseline $base KiB, ratio $(ratio "$full" "$base"))"
