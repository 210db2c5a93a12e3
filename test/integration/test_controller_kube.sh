#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# test_controller_kube.sh: barelb-controller end to end on the kube source against test/fakeapi (bulk, status subresource, annotations, Events, delete, SIGKILL restarts, shrink, API faults).
# Faults: watches cut every few events, 410 Gone with compaction, 500s on the status PATCH; none may
# cause an IP to move or to be given twice. TAP output; bounded waits; an EXIT trap kills everything.
set -u
TOP=${BARELB_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${BARELB_BIN:-$TOP/build/asan/bin}
# shellcheck source=../lib/tap.sh
. "$TOP/test/lib/tap.sh"
CTL=$BIN/barelb-controller
API=$TOP/test/fakeapi/fakeapi.py
LBS="python3 $TOP/test/helpers/lbstate.py"
DATA=$TOP/test/data/controller
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

T=$(mktemp -d /tmp/barelb-ctl-kube.XXXXXX)
API_PID=
declare -A CPID
cleanup() {
	local p
	for p in "${CPID[@]}" $API_PID; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
diag() { sed 's/^/# /' >&2; }
for tool in python3 openssl curl; do
	command -v $tool >/dev/null || { echo "not ok 1 - $tool is missing"; echo "1..1"; exit 1; }
done
[ -x "$CTL" ] || { echo "not ok 1 - $CTL not built"; echo "1..1"; exit 1; }
"$TOP/test/fakeapi/gencerts.sh" "$T/certs" >/dev/null 2>&1 || { echo "not ok 1 - certificates"; echo "1..1"; exit 1; }

# ---------- the fake API (a fresh, empty one per part) ----------
start_api() {
	[ -n "$API_PID" ] && { kill -9 "$API_PID" 2>/dev/null; wait "$API_PID" 2>/dev/null; }
	rm -f "$T/port" "$T/aport"
	python3 "$API" --cert "$T/certs/server.crt" --key "$T/certs/server.key" --token T1 \
		--port-file "$T/port" --admin-port-file "$T/aport" >>"$T/api.log" 2>&1 &
	API_PID=$!
	local i
	for i in $(seq 100); do [ -s "$T/port" ] && [ -s "$T/aport" ] && break; sleep 0.1; done
	PORT=$(cat "$T/port" 2>/dev/null)
	APORT=$(cat "$T/aport" 2>/dev/null)
	[ -n "$PORT" ] && [ -n "$APORT" ] || return 1
	cat >"$T/kc" <<EOF
apiVersion: v1
kind: Config
current-context: t
contexts: [{name: t, context: {cluster: f, user: u}}]
clusters: [{name: f, cluster: {server: "https://127.0.0.1:$PORT", certificate-authority: "$T/certs/ca.crt"}}]
users: [{name: u, user: {token: T1}}]
EOF
}
admin() { # PATH [JSON body]
	if [ $# -ge 2 ]; then
		curl -sS -m 20 -X POST "http://127.0.0.1:$APORT$1" --data-binary "$2"
	else
		curl -sS -m 20 -X POST "http://127.0.0.1:$APORT$1"
	fi
}
reqlog() { curl -sS -m 20 "http://127.0.0.1:$APORT/log"; }
# a Service through the admin port: NAME NS [extra spec JSON] [annotations JSON]
apply_svc() {
	local spec=${3:-} ann=${4:-"{}"}
	admin /apply "{\"kind\":\"Service\",\"metadata\":{\"name\":\"$1\",\"namespace\":\"$2\",\"annotations\":$ann},\"spec\":{\"type\":\"LoadBalancer\",\"clusterIPs\":[\"10.96.8.$((RANDOM % 250 + 1))\"],\"ports\":[{\"port\":80,\"protocol\":\"TCP\"}]${spec:+,$spec}}}" >/dev/null
}

# ---------- the controller ----------
start_ctl() { # NAME CONFIG [args...]
	local name=$1 cfg=$2; shift 2
	"$CTL" --config "$cfg" --source kube --kubeconfig "$T/kc" --log-level debug "$@" >>"$T/$name.log" 2>&1 &
	CPID[$name]=$!
}
alive() { kill -0 "${CPID[$1]}" 2>/dev/null; }
kill9() { kill -9 "${CPID[$1]}" 2>/dev/null; wait "${CPID[$1]}" 2>/dev/null; unset "CPID[$1]"; }
stop_ctl() {
	local p=${CPID[$1]} i rc
	kill -TERM "$p" 2>/dev/null
	for i in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$p" 2>/dev/null
	wait "$p"; rc=$?
	unset "CPID[$1]"
	return $rc
}
wait_for() { # SECONDS command...
	local n=$(($1 * 10)) i; shift
	for i in $(seq "$n"); do "$@" && return 0; sleep 0.1; done
	"$@"
}
dump() { $LBS kube "$APORT" ${1:+"$1"}; } # [NAMES]
all_have_ips() { ! dump "$1" | awk '{print $2}' | grep -qx -- -; }
ip_of() { dump | awk -v k="$1" '$1 == k {print $2}'; }
dups() { awk '{print $2}' "$1" | tr , '\n' | grep -vx -- - | sort | uniq -d; }
names() { # PREFIX COUNT [NS]: the names /bulk makes ("ns/PREFIX-i")
	local i
	for i in $(seq 0 $(($2 - 1))); do printf '%s/%s-%d\n' "${3:-default}" "$1" "$i"; done
}
event_for() { $LBS events-kube "$APORT" 2>/dev/null | grep -E "^$1 $2 count=[0-9]+ ${3:-}" >/dev/null; }

t_start=$(date +%s)
cp "$DATA/pools-a.yaml" "$T/cfg-a.yaml"
cp "$DATA/pools-c.yaml" "$T/cfg-c.yaml"

# =====================================================================================
# A. 200 Services: status subresource, annotation on the object, Events; delete frees
# =====================================================================================
check "fake API starts" start_api
admin "/bulk?kind=Service&n=195&prefix=svc" >/dev/null
for i in 0 1 2 3 4; do
	admin /apply "{\"kind\":\"Service\",\"metadata\":{\"name\":\"dual-$i\",\"namespace\":\"default\"},\"spec\":{\"type\":\"LoadBalancer\",\"clusterIPs\":[\"10.96.7.$i\",\"fd00::7:$i\"],\"ipFamilies\":[\"IPv4\",\"IPv6\"],\"ipFamilyPolicy\":\"RequireDualStack\",\"ports\":[{\"port\":80}]}}" >/dev/null
done
{ names svc 195; names dual 5; } >"$T/a.names"
t0=$(date +%s%N)
start_ctl a "$T/cfg-a.yaml"
if wait_for 60 all_have_ips "$T/a.names"; then
	ok "bulk: 200 Services got IPs ($((($(date +%s%N) - t0) / 1000000)) ms from start)"
else
	not_ok "bulk: 200 Services got IPs"
	dump "$T/a.names" | grep ' - ' | head -3 | diag
fi
dump "$T/a.names" >"$T/a.1"
check "bulk: no IP given twice" [ -z "$(dups "$T/a.1")" ]
check "bulk: 195 single-stack IPv4 + 5 dual-stack (IPv4,IPv6) from a-main" \
	[ "$(awk '$2 ~ /^10\.10\.0\.[0-9]+$/' "$T/a.1" | wc -l)/$(awk '$2 ~ /^10\.10\.0\.[0-9]+,2001:db8:a::[0-9a-f]*$/' "$T/a.1" | wc -l)" = 195/5 ]
check "bulk: annotation barelb.io/ip-allocated-from-pool=a-main on all 200 (patched on the object)" \
	[ "$(awk '$3 == "a-main"' "$T/a.1" | wc -l)" = 200 ]
reqlog >"$T/a.reqlog"
npst=$(python3 -c 'import json,sys; print(len({p.split("?")[0] for t,m,p,c in json.load(open(sys.argv[1])) if m == "PATCH" and p.endswith("/status") and c == 200}))' "$T/a.reqlog")
npan=$(python3 -c 'import json,sys; print(len({p for t,m,p,c in json.load(open(sys.argv[1])) if m == "PATCH" and "/services/" in p and not p.endswith("/status") and c == 200}))' "$T/a.reqlog")
nall=$(python3 -c 'import json,sys; print(sum(1 for t,m,p,c in json.load(open(sys.argv[1])) if m == "PATCH" and "/services/" in p))' "$T/a.reqlog")
check "bulk: ingress written through the status subresource for 200 Services ($npst)" [ "$npst" = 200 ]
check "bulk: annotation patched on the object for 200 Services ($npan)" [ "$npan" = 200 ]
echo "PATCH requests to Services in all: $nall (2 per Service is the minimum)" | diag
check "bulk: no write loop: at most twice the minimum of PATCHes ($nall for 200 Services)" [ "$nall" -le 800 ]
check "bulk: no PUT of a Service (no read-modify-write)" \
	[ "$(python3 -c 'import json,sys; print(sum(1 for t,m,p,c in json.load(open(sys.argv[1])) if m == "PUT" and "/services/" in p))' "$T/a.reqlog")" = 0 ]
# Events: the source writes at most 10 a second, so 200 take ~20 s.
ev_all() { [ "$($LBS events-kube "$APORT" 2>/dev/null | awk '$2 == "IPAllocated" {print $1}' | sort -u | comm -12 - <(sort "$T/a.names") | wc -l)" = 200 ]; }
check "events: an IPAllocated Event POSTed for each of the 200 Services" wait_for 45 ev_all
check "events: the note names the IP and the pool" \
	event_for default/svc-7 IPAllocated "Assigned IP \[$(ip_of default/svc-7)\] from pool a-main"

# delete 50: the 50 new Services must get exactly those IPs (the pool of 200 is full)
awk 'NR <= 50 {print $1}' "$T/a.1" | while IFS=/ read -r ns n; do admin "/delete?kind=Service&ns=$ns&name=$n" >/dev/null; done
awk 'NR <= 50 {print $2}' "$T/a.1" | tr , '\n' | grep -v : | sort >"$T/a.freed"
awk 'NR > 50' "$T/a.1" >"$T/a.kept"
awk 'NR > 50 {print $1}' "$T/a.1" >"$T/a.kept.names"
admin "/bulk?kind=Service&n=50&prefix=new" >/dev/null
names new 50 >"$T/a.new.names"
check "delete: 50 deleted, 50 new Services get IPs" wait_for 20 all_have_ips "$T/a.new.names"
dump "$T/a.new.names" | awk '{print $2}' | sort >"$T/a.newips"
check "delete: the new Services got exactly the freed IPv4 addresses" cmp -s "$T/a.freed" "$T/a.newips"
check "delete: the 150 others kept theirs" cmp -s "$T/a.kept" <(dump "$T/a.kept.names")
check "delete: no IP given twice" [ -z "$(dups <(dump))" ]

# restart: SIGKILL, then start again: nothing moves, nothing is written
dump >"$T/a.before"
kill9 a
admin "/bulk?kind=Service&n=1&prefix=while-down" >/dev/null # takes a free... there is none: fails
start_ctl a2 "$T/cfg-a.yaml"
check "restart: the table is rebuilt from status" wait_for 20 grep -q "allocation table rebuilt from Service status\" services=200" "$T/a2.log"
check "restart: a Service created while it was down gets AllocationFailed (pool full), not a stolen IP" \
	wait_for 20 event_for default/while-down-0 AllocationFailed PoolExhausted
check "restart: every IP is the same" cmp -s "$T/a.before" <(dump | grep -v '^default/while-down-0 ')
check "restart: no status PATCH after the restart but for the failed one" \
	[ "$(grep -c 'msg="assigned"' "$T/a2.log")" = 0 ]
stop_ctl a2
check "A: clean exit on SIGTERM" [ $? = 0 ]

# =====================================================================================
# B. SIGKILL twice while 200 Services are being created
# =====================================================================================
echo "# $(($(date +%s) - t_start)) s so far" >&2
check "fake API restarted empty" start_api
( for i in $(seq 0 199); do admin "/bulk?kind=Service&n=1&prefix=b$i" >/dev/null; sleep 0.01; done ) &
CPID[gen]=$!
names_b() { local i; for i in $(seq 0 199); do echo "default/b$i-0"; done; }
names_b >"$T/b.names"
nips() { dump | grep -vc ' - '; }
ge() { [ "$(nips)" -ge "$1" ]; }
start_ctl b1 "$T/cfg-a.yaml"
wait_for 30 ge 40
kill9 b1
dump | grep -v ' - ' >"$T/b.snap1"
start_ctl b2 "$T/cfg-a.yaml"
wait_for 30 ge 110
kill9 b2
dump | grep -v ' - ' >"$T/b.snap2"
wait "${CPID[gen]}" 2>/dev/null
unset "CPID[gen]"
echo "killed with $(wc -l <"$T/b.snap1") then $(wc -l <"$T/b.snap2") Services allocated" | diag
start_ctl b3 "$T/cfg-a.yaml"
check "SIGKILL x2: after the restart all 200 Services have IPs" wait_for 30 all_have_ips "$T/b.names"
dump "$T/b.names" >"$T/b.final"
check "SIGKILL: no IP given twice" [ -z "$(dups "$T/b.final")" ]
check "SIGKILL: exactly one IP each" [ "$(awk '$2 ~ /^10\.10\.0\.[0-9]+$/' "$T/b.final" | wc -l)" = 200 ]
check "SIGKILL: Services with an IP before the first kill kept it ($(wc -l <"$T/b.snap1"))" \
	[ -z "$(comm -23 <(sort "$T/b.snap1") <(sort "$T/b.final"))" ]
check "SIGKILL: Services with an IP before the second kill kept it ($(wc -l <"$T/b.snap2"))" \
	[ -z "$(comm -23 <(sort "$T/b.snap2") <(sort "$T/b.final"))" ]
stop_ctl b3

# =====================================================================================
# C. pool shrink
# =====================================================================================
echo "# $(($(date +%s) - t_start)) s so far" >&2
check "fake API restarted empty" start_api
admin "/bulk?kind=Service&n=20&prefix=gen" >/dev/null
for i in 0 1 2 3 4 5; do apply_svc "sh$i" default "" '{"barelb.io/address-pool":"shrink"}'; done
names gen 20 >"$T/c.gen"
printf 'default/sh%d\n' 0 1 2 3 4 5 >"$T/c.sh"
cat "$T/c.gen" "$T/c.sh" >"$T/c.both"
start_ctl c "$T/cfg-c.yaml"
check "shrink: 26 Services have IPs" wait_for 20 all_have_ips "$T/c.both"
dump "$T/c.gen" >"$T/c.gen.1"
dump "$T/c.sh" >"$T/c.sh.1"
check "shrink: sh0..sh5 hold 10.31.0.0-5" \
	[ "$(awk '{print $2}' "$T/c.sh.1" | tr '\n' ' ')" = "10.31.0.0 10.31.0.1 10.31.0.2 10.31.0.3 10.31.0.4 10.31.0.5 " ]
sed 's/10\.31\.0\.0-10\.31\.0\.9/10.31.0.3-10.31.0.12/' "$T/cfg-c.yaml" >"$T/cfg-c.new" && mv "$T/cfg-c.new" "$T/cfg-c.yaml"
moved() { [ "$(dump "$T/c.sh" | awk 'NR <= 3 && $2 ~ /^10\.31\.0\.([6-9]|1[0-2])$/' | wc -l)" = 3 ]; }
check "shrink: the 3 Services outside the new range moved into it" wait_for 10 moved
check "shrink: the 3 others kept theirs" [ "$(awk 'NR > 3' "$T/c.sh.1")" = "$(dump "$T/c.sh" | awk 'NR > 3')" ]
check "shrink: the other pool's Services kept theirs" cmp -s "$T/c.gen.1" <(dump "$T/c.gen")
check "shrink: no IP given twice" [ -z "$(dups <(dump))" ]
stop_ctl c

# =====================================================================================
# D. API faults while Services are created: cut watches, 410 Gone, 500 on the status PATCH
# =====================================================================================
echo "# $(($(date +%s) - t_start)) s so far" >&2
cp "$DATA/pools-a.yaml" "$T/cfg-d.yaml"
check "fake API restarted empty" start_api
admin "/bulk?kind=Service&n=60&prefix=base" >/dev/null
names base 60 >"$T/d.base"
start_ctl d "$T/cfg-d.yaml"
check "faults: 60 Services allocated before the faults" wait_for 30 all_have_ips "$T/d.base"
dump "$T/d.base" >"$T/d.base.1"
# watches cut every 3 events while 60 Services come, then 410 storms (history compacted while
# the watches are away), twice
admin "/fault?drop_after=3" >/dev/null
for i in $(seq 0 59); do admin "/bulk?kind=Service&n=1&prefix=f$i" >/dev/null; done
for round in 1 2; do
	admin "/fault?fail=100000&code=500&match=watch=true" >/dev/null
	admin "/fault?kill_watches=1" >/dev/null
	sleep 0.5
	admin "/bulk?kind=Service&n=10&prefix=storm$round" >/dev/null
	admin "/touch?kind=Service&n=30" >/dev/null
	admin "/fault?compact=1" >/dev/null
	admin "/fault?fail=0" >/dev/null
	sleep 1
done
admin "/fault?drop_after=0" >/dev/null
{ for i in $(seq 0 59); do echo "default/f$i-0"; done; names storm1 10; names storm2 10; } >"$T/d.new"
check "faults: the 80 Services created during cut watches and 410s got IPs" wait_for 30 all_have_ips "$T/d.new"
check "faults: the 60 earlier Services kept their IPs" cmp -s "$T/d.base.1" <(dump "$T/d.base")
dump >"$T/d.all"
check "faults: no IP given twice (140 Services)" [ -z "$(dups "$T/d.all")" ]
check "faults: exactly one IP each" [ "$(awk '$2 ~ /^10\.10\.0\.[0-9]+$/' "$T/d.all" | wc -l)" = 140 ]
nrl=$(grep -c "relist\|410\|Expired\|Gone" "$T/d.log")
echo "controller log lines about relists/410: $nrl" | diag
# 500 on the first 5 status PATCHes: the status must still get there. (The annotation PATCH
# succeeds, its MODIFIED event makes the controller look again: that heals it by accident.)
admin "/fault?fail=5&code=500&method=PATCH&match=/status" >/dev/null
admin "/bulk?kind=Service&n=10&prefix=p500" >/dev/null
names p500 10 >"$T/d.p500"
check "faults: 5 x HTTP 500 on the status PATCH: all 10 Services still get their status" \
	wait_for 20 all_have_ips "$T/d.p500"
admin "/fault?fail=0" >/dev/null
# 500 on both PATCHes of 3 Services: nothing changes on the server, so no watch event comes
# back; only a retry in the controller gets the status there.
admin "/fault?fail=6&code=500&method=PATCH&match=/services/q500-" >/dev/null
admin "/bulk?kind=Service&n=3&prefix=q500" >/dev/null
names q500 3 >"$T/d.q500"
if wait_for 20 all_have_ips "$T/d.q500"; then
	ok "faults: 500 on both PATCHes (status and annotation): the write is retried, the status gets there"
else
	not_ok "faults: 500 on both PATCHes (status and annotation): the write is retried, the status gets there"
	dump "$T/d.q500" | grep -c ' - ' | sed 's/^/Services without status: /' | diag
	grep -m2 "q500.*status update failed" "$T/d.log" | diag
fi
admin "/fault?fail=0" >/dev/null
# an outage of the API while it runs: nothing moves; after it, new Services are served
dump >"$T/d.before-outage"
admin "/save?path=$T/state.json" >/dev/null
kill -9 "$API_PID"; wait "$API_PID" 2>/dev/null; API_PID=
sleep 3
check "outage: the controller keeps running while the API is down" alive d
python3 "$API" --cert "$T/certs/server.crt" --key "$T/certs/server.key" --token T1 --port "$PORT" \
	--admin-port "$APORT" --state "$T/state.json" >>"$T/api.log" 2>&1 &
API_PID=$!
wait_for 10 curl -sf -m 2 "http://127.0.0.1:$APORT/stats" -o /dev/null
admin "/bulk?kind=Service&n=3&prefix=after" >/dev/null
names after 3 >"$T/d.after"
check "outage: Services created after the API came back get IPs" wait_for 30 all_have_ips "$T/d.after"
check "outage: nothing that existed before moved" \
	cmp -s "$T/d.before-outage" <(dump | grep -v '^default/after-')
check "faults: the controller is still running" alive d
stop_ctl d
check "faults: clean exit on SIGTERM" [ $? = 0 ]

if grep -l "ERROR: AddressSanitizer\|runtime error" "$T"/*.log >"$T/san" 2>/dev/null; then
	diag <"$T/san"
	not_ok "no sanitizer report in any controller run"
else
	ok "no sanitizer report in any controller run"
fi
echo "# test_controller_kube.sh took $(($(date +%s) - t_start)) s" >&2
tap_end
