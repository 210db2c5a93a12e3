#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# test_controller_dir.sh: barelb-controller end to end on the dir: source (bulk, delete, SIGKILL restarts, pool shrink, requests, sharing, classes, reloads, leader election).
# What is checked is what the controller wrote: PATH/status/<ns>/<name>.json and PATH/events.log.
# TAP output; every wait is bounded; every process started is killed by the EXIT trap.
set -u
TOP=${BARELB_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${BARELB_BIN:-$TOP/build/asan/bin}
# shellcheck source=../lib/tap.sh
. "$TOP/test/lib/tap.sh"
CTL=$BIN/barelb-controller
LBS="python3 $TOP/test/helpers/lbstate.py"
DATA=$TOP/test/data/controller
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

T=$(mktemp -d /tmp/barelb-ctl-dir.XXXXXX)
declare -A CPID
cleanup() {
	local p
	for p in "${CPID[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
diag() { sed 's/^/# /' >&2; }
[ -x "$CTL" ] || { echo "not ok 1 - $CTL not built"; echo "1..1"; exit 1; }

# ---------- helpers ----------
start_ctl() { # NAME STATE CONFIG [args...]: the controller in the background, log in $T/NAME.log
	local name=$1 st=$2 cfg=$3; shift 3
	mkdir -p "$st"
	"$CTL" --config "$cfg" --source "dir:$st" --log-level debug "$@" >>"$T/$name.log" 2>&1 &
	CPID[$name]=$!
}
alive() { kill -0 "${CPID[$1]}" 2>/dev/null; }
kill9() { kill -9 "${CPID[$1]}" 2>/dev/null; wait "${CPID[$1]}" 2>/dev/null; unset "CPID[$1]"; }
stop_ctl() { # NAME: SIGTERM, bounded wait; returns the exit status
	local p=${CPID[$1]} i rc
	kill -TERM "$p" 2>/dev/null
	for i in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$p" 2>/dev/null
	wait "$p"; rc=$?
	unset "CPID[$1]"
	return $rc
}
wait_for() { # SECONDS command...: until the command succeeds
	local n=$(($1 * 10)) i; shift
	for i in $(seq "$n"); do "$@" && return 0; sleep 0.1; done
	"$@"
}
dump() { $LBS dir "$1" ${2:+"$2"}; } # STATE [NAMES]
# every Service of NAMES has an IP (dual: two), in the dump of STATE
all_have_ips() { ! dump "$1" "$2" | awk '{print $2}' | grep -qx -- -; }
ip_of() { dump "$1" | awk -v k="$2" '$1 == k {print $2}'; }
pool_of() { dump "$1" | awk -v k="$2" '$1 == k {print $3}'; }
has_ip() { [ "$(ip_of "$1" "$2")" = "$3" ]; }
no_ip() { local v; v=$(ip_of "$1" "$2"); [ -z "$v" ] || [ "$v" = - ]; }
dups() { awk '{print $2}' "$1" | tr , '\n' | grep -vx -- - | sort | uniq -d; } # FILE
event_for() { # STATE ns/name REASON [note regex]: such an event is in events.log
	$LBS events-dir "$1" | grep -E "^$2 $3 count=[0-9]+ ${4:-}" >/dev/null
}
in_v4_range() { # FILE A.B.C. LO HI: every first IP is A.B.C.x with LO <= x <= HI
	awk -v p="$2" -v lo="$3" -v hi="$4" '{ split($2, ips, ","); ip = ips[1];
		if (index(ip, p) != 1) bad++; else { x = substr(ip, length(p) + 1) + 0;
		if (x < lo || x > hi) bad++ } } END { exit bad > 0 }' "$1"
}
names() { # PREFIX FIRST COUNT [NS]: "ns/PREFIX-NNN" lines
	local i
	for i in $(seq "$2" $(($2 + $3 - 1))); do printf '%s/%s-%03d\n' "${4:-default}" "$1" "$i"; done
}
svc() { # FILE NAME [spec lines...] [-- annotation lines]: one Service manifest
	local f=$1 name=$2 spec=() ann=() inann=0 l; shift 2
	for l in "$@"; do
		if [ "$l" = -- ]; then inann=1; elif [ $inann = 1 ]; then ann+=("$l"); else spec+=("$l"); fi
	done
	{
		printf 'apiVersion: v1\nkind: Service\nmetadata:\n  name: %s\n  namespace: default\n' "$name"
		if [ ${#ann[@]} -gt 0 ]; then echo "  annotations:"; printf '    %s\n' "${ann[@]}"; fi
		printf 'spec:\n  type: LoadBalancer\n  clusterIPs: [10.96.9.%d]\n' $((RANDOM % 250 + 1))
		[ ${#spec[@]} -gt 0 ] && printf '  %s\n' "${spec[@]}"
		grep -q "ports:" <<<"${spec[*]:-}" || echo "  ports: [{port: 80, protocol: TCP}]"
	} >"$f.tmp" && mv "$f.tmp" "$f"
}

t_start=$(date +%s)

# =====================================================================================
# A. 200 Services in one file: IPs, dual stack, annotation, events; delete frees; exhausted
# =====================================================================================
A=$T/a
mkdir -p "$A"
cp "$DATA/pools-a.yaml" "$T/cfg-a.yaml"
$LBS gen-dir "$A" svc 200 --dual-every 20 --one-file bulk.yaml
names svc 0 200 >"$T/a.names"
t0=$(date +%s%N)
start_ctl a "$A" "$T/cfg-a.yaml"
if wait_for 30 all_have_ips "$A" "$T/a.names"; then
	ok "bulk: 200 Services got IPs ($((($(date +%s%N) - t0) / 1000000)) ms from start)"
else
	not_ok "bulk: 200 Services got IPs"
	dump "$A" "$T/a.names" | grep ' - ' | head -5 | diag
fi
dump "$A" "$T/a.names" >"$T/a.1"
check "bulk: no IP given twice" [ -z "$(dups "$T/a.1")" ]
check "bulk: every IPv4 address from pool a-main (10.10.0.0-199)" in_v4_range "$T/a.1" 10.10.0. 0 199
check "bulk: the 10 RequireDualStack Services have an IPv4 and an IPv6 address" \
	[ "$(awk '$2 ~ /^10\.10\.0\.[0-9]+,2001:db8:a::[0-9a-f]*$/' "$T/a.1" | wc -l)" = 10 ]
check "bulk: the 190 single-stack Services have exactly one IPv4 address" \
	[ "$(awk '$2 ~ /^10\.10\.0\.[0-9]+$/' "$T/a.1" | wc -l)" = 190 ]
check "bulk: annotation barelb.io/ip-allocated-from-pool=a-main on all 200" \
	[ "$(awk '$3 == "a-main"' "$T/a.1" | wc -l)" = 200 ]

# delete 50 (rewrite the file without svc-000..049); 50 new Services must get exactly those IPs:
# the pool has 200 addresses, so they can come from nowhere else.
awk 'NR > 50' "$T/a.1" >"$T/a.kept"
awk 'NR <= 50 {print $2}' "$T/a.1" | tr , '\n' | grep -v : | sort >"$T/a.freed"
$LBS gen-dir "$A" svc 150 --dual-every 20 --one-file bulk.yaml --first 50
$LBS gen-dir "$A" new 50 --one-file new.yaml
names svc 50 150 >"$T/a.names2"
names new 0 50 >"$T/a.new.names"
check "delete: 50 Services deleted, 50 new ones get IPs (pool of 200 was full)" \
	wait_for 20 all_have_ips "$A" "$T/a.new.names"
dump "$A" "$T/a.new.names" | awk '{print $2}' | sort >"$T/a.newips"
check "delete: the new Services got exactly the freed IPv4 addresses" cmp -s "$T/a.freed" "$T/a.newips"
if ! cmp -s "$T/a.freed" "$T/a.newips"; then
	grep -c "released" "$T/a.log" | sed 's/^/released log lines: /' | diag
	diff "$T/a.freed" "$T/a.newips" | head -5 | diag
fi
dump "$A" "$T/a.names2" >"$T/a.2"
check "delete: the 150 others kept their IPs" cmp -s "$T/a.kept" "$T/a.2"
cat "$T/a.names2" "$T/a.new.names" >"$T/a.all"
dump "$A" "$T/a.all" >"$T/a.3"
check "delete: still no IP given twice" [ -z "$(dups "$T/a.3")" ]
svc "$A/extra.yaml" extra
check "exhausted: a 201st Service gets an AllocationFailed event naming the pool size" \
	wait_for 45 event_for "$A" default/extra AllocationFailed "PoolExhausted.*200"
check "exhausted: and no IP" no_ip "$A" default/extra
# Events are rate-limited to 10 a second by the source (queued, not dropped): 250 take ~25 s.
ev_all() { [ "$($LBS events-dir "$A" | awk '$2 == "IPAllocated" {print $1}' | sort -u | comm -12 - <(sort "$T/a.all" "$T/a.names" | uniq) | wc -l)" -ge 250 ]; }
check "events: an IPAllocated event for each of the 250 Services (events.log)" wait_for 45 ev_all
$LBS events-dir "$A" 2>/dev/null | grep -m1 "default/svc-100 IPAllocated" | diag
check "events: the note names the IP and the pool" \
	event_for "$A" default/svc-100 IPAllocated "Assigned IP \[$(ip_of "$A" default/svc-100)\] from pool a-main"
check "bulk: the controller is still running" alive a
stop_ctl a
check "bulk: clean exit on SIGTERM (status 0, no sanitizer report)" [ $? = 0 ]

echo "# $(($(date +%s) - t_start)) s so far" >&2
# =====================================================================================
# B. SIGKILL while 200 Services are being created, three times; restart keeps every IP
# =====================================================================================
B=$T/b
mkdir -p "$B"
sed 's/10\.10\.0\./10.20.0./g; s/2001:db8:a::/2001:db8:b::/g' "$DATA/pools-a.yaml" >"$T/cfg-b.yaml"
names svc 0 200 >"$T/b.names"
$LBS gen-dir "$B" svc 200 --dual-every 20 --pace-ms 20 &
GEN=$!
CPID[gen]=$GEN
nstat() { find "$B/status" -name '*.json' 2>/dev/null | wc -l; }
ge() { [ "$(nstat)" -ge "$1" ]; }
start_ctl b1 "$B" "$T/cfg-b.yaml"
wait_for 30 ge 40
kill9 b1
dump "$B" | grep -v ' - ' >"$T/b.snap1"
start_ctl b2 "$B" "$T/cfg-b.yaml"
wait_for 30 ge 110
kill9 b2
dump "$B" | grep -v ' - ' >"$T/b.snap2"
wait "$GEN" 2>/dev/null
unset "CPID[gen]"
echo "killed with $(wc -l <"$T/b.snap1") then $(wc -l <"$T/b.snap2") Services allocated" | diag
start_ctl b3 "$B" "$T/cfg-b.yaml"
check "SIGKILL x2 mid-creation: after the restart all 200 Services have IPs" wait_for 30 all_have_ips "$B" "$T/b.names"
dump "$B" "$T/b.names" >"$T/b.final"
check "SIGKILL: no IP given twice" [ -z "$(dups "$T/b.final")" ]
check "SIGKILL: exactly one IPv4 (two IPs for the 10 dual-stack ones)" \
	[ "$(awk '$2 ~ /^10\.20\.0\.[0-9]+$/' "$T/b.final" | wc -l)/$(awk '$2 ~ /^10\.20\.0\.[0-9]+,2001:db8:b::[0-9a-f]*$/' "$T/b.final" | wc -l)" = 190/10 ]
check "SIGKILL: every Service that had an IP before the first kill kept it ($(wc -l <"$T/b.snap1"))" \
	[ -z "$(comm -23 <(sort "$T/b.snap1") <(sort "$T/b.final"))" ]
check "SIGKILL: every Service that had an IP before the second kill kept it ($(wc -l <"$T/b.snap2"))" \
	[ -z "$(comm -23 <(sort "$T/b.snap2") <(sort "$T/b.final"))" ]
check "restart: the table was rebuilt from status before allocating" \
	grep -q "allocation table rebuilt from Service status\" services=$(wc -l <"$T/b.snap2")" "$T/b3.log"
cp "$T/b.final" "$T/b.before-restart"
stop_ctl b3
start_ctl b4 "$B" "$T/cfg-b.yaml"
sleep 2
dump "$B" "$T/b.names" >"$T/b.after"
check "clean restart with everything allocated: nothing changes" cmp -s "$T/b.before-restart" "$T/b.after"
check "clean restart: no IPAllocated logged" [ "$(grep -c 'msg="assigned"' "$T/b4.log")" = 0 ]
stop_ctl b4

echo "# $(($(date +%s) - t_start)) s so far" >&2
# =====================================================================================
# C. pool shrink, requests, sharing, classes, type change, avoidBuggyIPs, broken config
# =====================================================================================
C=$T/c
mkdir -p "$C"
cp "$DATA/pools-c.yaml" "$T/cfg-c.yaml"
$LBS gen-dir "$C" gen 20 --one-file gen.yaml
names gen 0 20 >"$T/c.gen"
for i in 0 1 2 3 4 5; do
	svc "$C/sh$i.yaml" "sh$i" -- "barelb.io/address-pool: shrink"
done
printf 'default/sh%d\n' 0 1 2 3 4 5 >"$T/c.sh"
start_ctl c "$C" "$T/cfg-c.yaml"
cat "$T/c.gen" "$T/c.sh" >"$T/c.both"
check "shrink: 20 Services in pool gen and 6 in pool shrink have IPs" wait_for 20 all_have_ips "$C" "$T/c.both"
dump "$C" "$T/c.gen" >"$T/c.gen.1"
dump "$C" "$T/c.sh" >"$T/c.sh.1"
check "shrink: pool shrink hands out 10.31.0.0-5 in name order" \
	[ "$(awk '{print $2}' "$T/c.sh.1" | tr '\n' ' ')" = "10.31.0.0 10.31.0.1 10.31.0.2 10.31.0.3 10.31.0.4 10.31.0.5 " ]
# 10.31.0.0-9 becomes 10.31.0.3-12: sh0..sh2 must move, sh3..sh5 and every gen Service stay.
sed 's/10\.31\.0\.0-10\.31\.0\.9/10.31.0.3-10.31.0.12/' "$T/cfg-c.yaml" >"$T/cfg-c.new"
mv "$T/cfg-c.new" "$T/cfg-c.yaml"
moved() { dump "$C" "$T/c.sh" | awk 'NR <= 3 {print $2}' | grep -qE '^10\.31\.0\.([6-9]|1[0-2])$' &&
	[ "$(dump "$C" "$T/c.sh" | awk 'NR <= 3 && $2 ~ /^10\.31\.0\.([6-9]|1[0-2])$/' | wc -l)" = 3 ]; }
check "shrink: the 3 Services whose IPs left the pool got new ones inside it" wait_for 10 moved
dump "$C" "$T/c.sh" >"$T/c.sh.2"
check "shrink: the 3 others kept theirs" [ "$(awk 'NR > 3' "$T/c.sh.1")" = "$(awk 'NR > 3' "$T/c.sh.2")" ]
check "shrink: the Services of the other pool kept theirs" cmp -s "$T/c.gen.1" <(dump "$C" "$T/c.gen")
check "shrink: no IP given twice" [ -z "$(dups <(dump "$C"))" ]

# requests
svc "$C/r-lbip.yaml" r-lbip "loadBalancerIP: 10.40.0.5"
svc "$C/r-barelb.yaml" r-barelb -- "barelb.io/loadBalancerIPs: 10.40.0.6"
svc "$C/r-metallb.yaml" r-metallb -- "metallb.io/loadBalancerIPs: 10.40.0.7"
svc "$C/r-universe.yaml" r-universe -- "metallb.universe.tf/loadBalancerIPs: 10.40.0.8"
svc "$C/r-both.yaml" r-both -- "barelb.io/loadBalancerIPs: 10.40.0.9" "metallb.io/loadBalancerIPs: 10.40.0.10"
svc "$C/r-pool.yaml" r-pool -- "barelb.io/address-pool: req"
svc "$C/r-pool-m.yaml" r-pool-m -- "metallb.universe.tf/address-pool: req"
svc "$C/r-nopool.yaml" r-nopool "loadBalancerIP: 10.99.0.1"
svc "$C/r-nosuch.yaml" r-nosuch -- "barelb.io/address-pool: nosuch"
check "request: spec.loadBalancerIP 10.40.0.5" wait_for 10 has_ip "$C" default/r-lbip 10.40.0.5
check "request: barelb.io/loadBalancerIPs 10.40.0.6" wait_for 5 has_ip "$C" default/r-barelb 10.40.0.6
check "request: metallb.io/loadBalancerIPs 10.40.0.7" wait_for 5 has_ip "$C" default/r-metallb 10.40.0.7
check "request: metallb.universe.tf/loadBalancerIPs 10.40.0.8" wait_for 5 has_ip "$C" default/r-universe 10.40.0.8
check "request: barelb.io/ wins over metallb.io/ (10.40.0.9)" wait_for 5 has_ip "$C" default/r-both 10.40.0.9
inreq() { ip_of "$C" "$1" | grep -qE '^10\.40\.0\.[0-9]+$' && [ "$(pool_of "$C" "$1")" = req ]; }
check "request: barelb.io/address-pool: req (autoAssign false) → an IP of req, annotated req" wait_for 5 inreq default/r-pool
check "request: metallb.universe.tf/address-pool: req → an IP of req" wait_for 5 inreq default/r-pool-m
check "request: an IP in no pool → AllocationFailed IPNotInPool" \
	wait_for 5 event_for "$C" default/r-nopool AllocationFailed "IPNotInPool.*10\.99\.0\.1"
check "request: an unknown pool → AllocationFailed NoSuchPool" \
	wait_for 5 event_for "$C" default/r-nosuch AllocationFailed "NoSuchPool.*nosuch"
check "request: failed requests hold no IP" eval 'no_ip "$C" default/r-nopool && no_ip "$C" default/r-nosuch'

# sharing
svc "$C/sh-a.yaml" share-a "loadBalancerIP: 10.40.0.20" "ports: [{port: 80, protocol: TCP}]" -- "barelb.io/allow-shared-ip: k1"
svc "$C/sh-b.yaml" share-b "loadBalancerIP: 10.40.0.20" "ports: [{port: 443, protocol: TCP}, {port: 80, protocol: UDP}]" -- "metallb.universe.tf/allow-shared-ip: k1"
check "sharing: same key, disjoint ports → both on 10.40.0.20" \
	wait_for 10 eval 'has_ip "$C" default/share-a 10.40.0.20 && has_ip "$C" default/share-b 10.40.0.20'
svc "$C/sh-c.yaml" share-c "loadBalancerIP: 10.40.0.20" "ports: [{port: 80, protocol: TCP}]" -- "barelb.io/allow-shared-ip: k1"
check "sharing: TCP/80 taken → AllocationFailed PortConflict naming the holder" \
	wait_for 10 event_for "$C" default/share-c AllocationFailed "PortConflict.*share-a"
$LBS events-dir "$C" 2>/dev/null | grep -m1 "default/share-c AllocationFailed" | diag
svc "$C/sh-d.yaml" share-d "loadBalancerIP: 10.40.0.20" "ports: [{port: 8080, protocol: TCP}]" -- "barelb.io/allow-shared-ip: k2"
check "sharing: another key → AllocationFailed SharingKeyMismatch" \
	wait_for 10 event_for "$C" default/share-d AllocationFailed "SharingKeyMismatch"
check "sharing: the refused ones hold no IP" eval 'no_ip "$C" default/share-c && no_ip "$C" default/share-d'
check "sharing: the sharers still hold 10.40.0.20" eval 'has_ip "$C" default/share-a 10.40.0.20 && has_ip "$C" default/share-b 10.40.0.20'

# loadBalancerClass: the default controller takes only Services without a class
svc "$C/cls.yaml" cls "loadBalancerClass: barelb.io/x"
svc "$C/cls-after.yaml" cls-after -- "barelb.io/address-pool: req"
wait_for 10 inreq default/cls-after
check "class: a Service with loadBalancerClass is left alone by a controller without --lb-class" \
	[ ! -e "$C/status/default/cls.json" ]
D=$T/d
mkdir -p "$D"
svc "$D/x1.yaml" x1 "loadBalancerClass: barelb.io/x"
svc "$D/x2.yaml" x2
svc "$D/x3.yaml" x3 "loadBalancerClass: other.io/y"
start_ctl d "$D" "$T/cfg-c.yaml" --lb-class barelb.io/x
check "class: --lb-class barelb.io/x allocates for its class" wait_for 10 eval 'ip_of "$D" default/x1 | grep -q "^10\."'
sleep 0.5
check "class: --lb-class leaves Services without a class or of another class alone" \
	eval '[ ! -e "$D/status/default/x2.json" ] && [ ! -e "$D/status/default/x3.json" ]'
stop_ctl d

# type change away from LoadBalancer releases and clears
svc "$C/tc.yaml" tc "loadBalancerIP: 10.40.0.30"
check "type change: LoadBalancer Service gets 10.40.0.30" wait_for 10 has_ip "$C" default/tc 10.40.0.30
sed 's/type: LoadBalancer/type: ClusterIP/' "$C/tc.yaml" >"$C/.tc" && mv "$C/.tc" "$C/tc.yaml"
check "type change to ClusterIP: ingress and pool annotation cleared" \
	wait_for 10 eval '[ "$(dump "$C" <(echo default/tc))" = "default/tc - -" ]'
svc "$C/tc2.yaml" tc2 "loadBalancerIP: 10.40.0.30"
check "type change: the released IP goes to the next Service that asks" wait_for 10 has_ip "$C" default/tc2 10.40.0.30

# avoidBuggyIPs: pool buggy is 10.50.0.255-10.50.1.1: only 10.50.1.1 may be handed out
svc "$C/b1.yaml" b1 -- "barelb.io/address-pool: buggy"
check "avoidBuggyIPs: the only non-.0/.255 address 10.50.1.1" wait_for 10 has_ip "$C" default/b1 10.50.1.1
svc "$C/b2.yaml" b2 -- "barelb.io/address-pool: buggy"
check "avoidBuggyIPs: the next Service → PoolExhausted (.255 and .0 are never given)" \
	wait_for 10 event_for "$C" default/b2 AllocationFailed PoolExhausted
svc "$C/b3.yaml" b3 "loadBalancerIP: 10.50.1.0"
check "avoidBuggyIPs: requesting 10.50.1.0 → AllocationFailed BuggyIP" \
	wait_for 10 event_for "$C" default/b3 AllocationFailed BuggyIP
check "avoidBuggyIPs: neither got an IP" eval 'no_ip "$C" default/b2 && no_ip "$C" default/b3'

# a broken config over the good one: rejected, nothing moves, the controller keeps running
sleep 0.5
dump "$C" >"$T/c.before-bad"
cp "$T/cfg-c.yaml" "$T/cfg-c.good"
printf 'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: gen}\nspec:\n  addresses: [10.30.0.0/33]\n' >"$T/cfg-c.yaml"
check "broken config (in place): rejected and logged" wait_for 10 grep -q "new config rejected" "$T/c.log"
printf 'this: [is not: yaml\n' >"$T/cfg-c.bad" && mv "$T/cfg-c.bad" "$T/cfg-c.yaml"
sleep 1
check "broken config (renamed over): rejected too" [ "$(grep -c "new config rejected" "$T/c.log")" -ge 2 ]
svc "$C/during-bad.yaml" during-bad -- "barelb.io/address-pool: req"
check "broken config: the controller keeps running and allocating from the last good pools" \
	wait_for 10 inreq default/during-bad
check "broken config: no other IP changed" cmp -s "$T/c.before-bad" <(dump "$C" | grep -v '^default/during-bad ')
cp "$T/cfg-c.good" "$T/cfg-c.yaml"
sleep 1
check "good config again: still no IP changed" cmp -s "$T/c.before-bad" <(dump "$C" | grep -v '^default/during-bad ')
check "C: the controller is still running" alive c
stop_ctl c
check "C: clean exit on SIGTERM" [ $? = 0 ]

echo "# $(($(date +%s) - t_start)) s so far" >&2
# =====================================================================================
# E. leader election: two controllers on one dir
# =====================================================================================
E=$T/e
mkdir -p "$E"
cp "$DATA/pools-c.yaml" "$T/cfg-e.yaml"
$LBS gen-dir "$E" e 20 --one-file e.yaml
names e 0 20 >"$T/e.names"
POD_NAME=ctl-x start_ctl x "$E" "$T/cfg-e.yaml" --leader-elect
check "leader: the first controller leads" wait_for 10 grep -q "leading: allocating" "$T/x.log"
check "leader: and allocates" wait_for 10 all_have_ips "$E" "$T/e.names"
POD_NAME=ctl-y start_ctl y "$E" "$T/cfg-e.yaml" --leader-elect
sleep 3
$LBS gen-dir "$E" e2 5 --one-file e2.yaml
names e2 0 5 >"$T/e2.names"
check "leader: Services created while both run get IPs" wait_for 10 all_have_ips "$E" "$T/e2.names"
check "leader: only the leader writes (standby logged no assignment, never led)" \
	eval '! grep -q "msg=\"assigned\"\|leading: allocating" "$T/y.log"'
holder() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["spec"]["holderIdentity"])' "$E/leases/barelb-controller.json" 2>/dev/null; }
check "leader: the Lease file names ctl-x" [ "$(holder)" = ctl-x ]
cat "$T/e.names" "$T/e2.names" >"$T/e.all"
dump "$E" "$T/e.all" >"$T/e.1"
kill9 x
t0=$(date +%s%N)
$LBS gen-dir "$E" e3 3 --one-file e3.yaml
names e3 0 3 >"$T/e3.names"
if wait_for 25 grep -q "leading: allocating" "$T/y.log"; then
	took=$((($(date +%s%N) - t0) / 1000000))
	check "leader: after SIGKILL of the leader the standby leads ${took} ms later (<= 20 s: lease 15 s + retry)" [ $took -le 20000 ]
else
	not_ok "leader: after SIGKILL of the leader the standby leads"
fi
check "leader: the new leader allocates what was created meanwhile" wait_for 10 all_have_ips "$E" "$T/e3.names"
check "leader: and keeps every IP the old leader gave" cmp -s "$T/e.1" <(dump "$E" "$T/e.all")
POD_NAME=ctl-x start_ctl x2 "$E" "$T/cfg-e.yaml" --leader-elect
sleep 3
check "leader: the restarted controller stands by" eval '! grep -q "leading: allocating" "$T/x2.log"'
cat "$T/e.all" "$T/e3.names" >"$T/e.all2"
dump "$E" "$T/e.all2" >"$T/e.2"
t0=$(date +%s%N)
stop_ctl y
yrc=$?
if wait_for 10 grep -q "leading: allocating" "$T/x2.log"; then
	took=$((($(date +%s%N) - t0) / 1000000))
	check "leader: after SIGTERM of the leader the standby leads ${took} ms later (<= 5 s)" [ $took -le 5000 ]
else
	not_ok "leader: after SIGTERM of the leader the standby leads"
fi
check "leader: the leader exited cleanly on SIGTERM" [ "$yrc" = 0 ]
$LBS gen-dir "$E" e4 2 --one-file e4.yaml
names e4 0 2 >"$T/e4.names"
check "leader: the third leader allocates" wait_for 10 all_have_ips "$E" "$T/e4.names"
check "leader: no IP moved across the two hand-overs" cmp -s "$T/e.2" <(dump "$E" "$T/e.all2")
check "leader: no IP given twice" [ -z "$(dups <(dump "$E"))" ]
stop_ctl x2

# =====================================================================================
# F. a deleted Service's status goes with it (as in the API): re-created while the controller
#    is down, it must not take back an IP that was given to another Service meanwhile
# =====================================================================================
F=$T/f
mkdir -p "$F"
svc "$F/ga.yaml" ga
start_ctl f1 "$F" "$T/cfg-c.yaml"
wait_for 10 has_ip "$F" default/ga 10.30.0.0
rm "$F/ga.yaml"
sleep 0.5
svc "$F/gb.yaml" gb
check "stale status: after ga is deleted, gb gets its IP 10.30.0.0" wait_for 10 has_ip "$F" default/gb 10.30.0.0
stop_ctl f1
svc "$F/ga.yaml" ga
start_ctl f2 "$F" "$T/cfg-c.yaml"
wait_for 10 eval 'ip_of "$F" default/ga | grep -q "^10\.30\.0\.[1-9]"'
check "stale status: a controller restart does not move gb (ga, re-created, gets a new IP)" \
	has_ip "$F" default/gb 10.30.0.0
dump "$F" | diag
stop_ctl f2

if grep -l "ERROR: AddressSanitizer\|runtime error" "$T"/*.log >"$T/san" 2>/dev/null; then
	diag <"$T/san"
	not_ok "no sanitizer report in any controller run"
else
	ok "no sanitizer report in any controller run"
fi
echo "# test_controller_dir.sh took $(($(date +%s) - t_start)) s" >&2
tap_end
