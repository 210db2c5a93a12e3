#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# test_kube.sh: the kube source against test/fakeapi. For every fault (dropped watches, 410 storms,
# 500s, 429 with Retry-After, truncated and malformed events, a server outage) the cache of
# kubewatch must end equal to the server's truth: no lost, duplicated or stale object. Also: auth
# and TLS errors, token rotation, client certificates, status/annotation patches, Events, Leases and
# leader election. TAP output; every wait is bounded; everything started is stopped on exit.
set -u
TOP=${BARELB_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
HELPERS=${BARELB_HELPERS:-$TOP/build/asan/helpers}
# shellcheck source=../lib/tap.sh
. "$TOP/test/lib/tap.sh"
KW=$HELPERS/kubewatch
API=$TOP/test/fakeapi/fakeapi.py
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

T=$(mktemp -d /tmp/barelb-kube.XXXXXX)
API_PID=
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}" $API_PID; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

for tool in python3 openssl curl; do
	command -v $tool >/dev/null || { echo "not ok 1 - $tool is missing"; echo "1..1"; exit 1; }
done
[ -x "$KW" ] || { echo "not ok 1 - $KW not built"; echo "1..1"; exit 1; }
"$TOP/test/fakeapi/gencerts.sh" "$T/certs" || { echo "not ok 1 - certificates"; echo "1..1"; exit 1; }

diag() { sed 's/^/# /' >&2; }

# ---------- the fake API ----------
start_api() { # extra args...
	rm -f "$T/port" "$T/aport"
	python3 "$API" --cert "$T/certs/server.crt" --key "$T/certs/server.key" \
		--client-ca "$T/certs/ca.crt" --token T1 --port-file "$T/port" \
		--admin-port-file "$T/aport" "$@" >>"$T/api.log" 2>&1 &
	API_PID=$!
	local i
	for i in $(seq 100); do
		[ -s "$T/port" ] && [ -s "$T/aport" ] && break
		sleep 0.1
	done
	PORT=$(cat "$T/port" 2>/dev/null)
	APORT=$(cat "$T/aport" 2>/dev/null)
	[ -n "$PORT" ] && [ -n "$APORT" ]
}
admin() { # PATH [JSON body]
	if [ $# -ge 2 ]; then
		curl -sS -m 20 -X POST "http://127.0.0.1:$APORT$1" --data-binary "$2"
	else
		curl -sS -m 20 -X POST "http://127.0.0.1:$APORT$1"
	fi
}
jget() { # JSON on stdin, python expression on `o`
	python3 -c "import json,sys; o=json.load(sys.stdin); print($1)"
}
KINDS_ALL=Service,Node,EndpointSlice
truth() { curl -sS -m 20 "http://127.0.0.1:$APORT/truth?kinds=${1:-$KINDS_ALL}"; }

# ---------- kubeconfigs ----------
kubeconfig() { # FILE, user block lines..., [CA file]
	local f=$1 user=$2 ca=${3:-$T/certs/ca.crt}
	cat >"$f" <<EOF
apiVersion: v1
kind: Config
current-context: test
contexts:
- name: test
  context:
    cluster: fake
    user: tester
clusters:
- name: fake
  cluster:
    server: https://127.0.0.1:$PORT
    certificate-authority: $ca
users:
- name: tester
  user:
$user
EOF
}

# ---------- kubewatch ----------
declare -A KWPID
start_kw() { # NAME args...
	local name=$1; shift
	rm -f "$T/$name.dump" "$T/$name.ready" "$T/$name.stats"
	"$KW" --dump "$T/$name.dump" --stats "$T/$name.stats" --ready "$T/$name.ready" \
		--timeout 400 "$@" >"$T/$name.log" 2>&1 &
	KWPID[$name]=$!
	PIDS+=($!)
}
wait_file() { # FILE SECONDS
	local i
	for i in $(seq $(($2 * 10))); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
dump_now() { # NAME
	rm -f "$T/$1.dump"
	kill -USR1 "${KWPID[$1]}" 2>/dev/null || return 1
	wait_file "$T/$1.dump" 5
}
stat_of() { # NAME KEY
	dump_now "$1" >/dev/null
	sed -n "s/^$2=//p" "$T/$1.stats"
}
converged() { # NAME SECONDS [KINDS]: the cache equals the truth
	local i
	for i in $(seq $(($2 * 4))); do
		if dump_now "$1" && truth "${3:-$KINDS_ALL}" >"$T/truth" &&
			cmp -s "$T/truth" "$T/$1.dump"; then
			return 0
		fi
		sleep 0.25
	done
	echo "cache of $1 differs from the truth:" | diag
	diff "$T/truth" "$T/$1.dump" | head -10 | diag
	return 1
}
stop_kw() { # NAME: SIGTERM, wait (bounded), return its exit status
	local p=${KWPID[$1]} i
	kill -TERM "$p" 2>/dev/null
	for i in $(seq 100); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$p" 2>/dev/null
	wait "$p"
}

t_start=$(date +%s)
check "fake API server starts (TLS on 127.0.0.1)" start_api

# ---------- initial list with pagination ----------
admin "/bulk?kind=Service&n=1200&prefix=svc" >/dev/null
admin "/bulk?kind=Node&n=5&prefix=node" >/dev/null
admin "/bulk?kind=EndpointSlice&n=50&prefix=svc" >/dev/null
kubeconfig "$T/kc-token" "    token: T1"
start_kw A --kubeconfig "$T/kc-token" --kinds service,node,endpointslice
check "initial list: synced within 20 s" wait_file "$T/A.ready" 20
check "initial list: 1,255 objects, cache equals the truth" converged A 10
pages=$(curl -sS -m 10 "http://127.0.0.1:$APORT/log" |
	jget 'sum(1 for t,m,p,c in o if p.startswith("/api/v1/services?limit=500"))')
check "initial list: services listed in pages of 500 ($pages requests, want 3)" [ "$pages" = 3 ]

# ---------- live changes ----------
admin "/apply" '{"kind":"Service","metadata":{"name":"live-1","namespace":"other"},"spec":{"type":"LoadBalancer","ports":[{"port":443}]}}' >/dev/null
admin "/touch?kind=Service&n=20" >/dev/null
for i in 1 2 3 4 5; do admin "/delete?kind=Service&ns=default&name=svc-$((1000 + i))" >/dev/null; done
admin "/delete?kind=Node&name=node-4" >/dev/null
admin "/touch?kind=EndpointSlice&n=3" >/dev/null
check "live add/modify/delete: converged" converged A 10

# ---------- dropped watches ----------
r0=$(stat_of A watch_restarts)
admin "/fault?drop_after=7" >/dev/null
admin "/touch?kind=Service&n=60" >/dev/null
for i in $(seq 6 15); do admin "/delete?kind=Service&ns=default&name=svc-$((1000 + i))" >/dev/null; done
admin "/bulk?kind=Service&n=12&prefix=added&ns=drop" >/dev/null
check "watch dropped every 7 events: converged" converged A 20
r1=$(stat_of A watch_restarts)
check "watch dropped every 7 events: the watch was resumed ($r0 -> $r1 restarts)" [ "$((r1 - r0))" -ge 5 ]
admin "/fault?drop_after=0" >/dev/null

# ---------- 410 storm: relist delivers only the difference ----------
storm_ok=0
for round in 1 2 3; do
	a0=$(stat_of A added); m0=$(stat_of A modified); d0=$(stat_of A deleted); l0=$(stat_of A relists)
	# Keep watches away while the history is changed and compacted, so that the resume
	# point is gone when they come back.
	admin "/fault?fail=100000&code=500&match=watch=true" >/dev/null
	admin "/fault?kill_watches=1" >/dev/null
	sleep 0.5
	admin "/touch?kind=Service&n=$((round * 7))" >/dev/null
	for i in $(seq 1 $round); do admin "/delete?kind=Service&ns=default&name=svc-$((900 + round * 10 + i))" >/dev/null; done
	admin "/bulk?kind=Service&n=2&prefix=storm$round&ns=storm" >/dev/null
	admin "/fault?compact=1" >/dev/null
	admin "/fault?fail=0" >/dev/null
	if converged A 20; then
		a1=$(stat_of A added); m1=$(stat_of A modified); d1=$(stat_of A deleted); l1=$(stat_of A relists)
		got="+$((a1 - a0)) ~$((m1 - m0)) -$((d1 - d0)) relists $((l1 - l0))"
		want="+2 ~$((round * 7)) -$round"
		if [ "$got" = "$want relists $((l1 - l0))" ] && [ $((l1 - l0)) -ge 1 ]; then
			storm_ok=$((storm_ok + 1))
		else
			echo "410 round $round delivered $got, want $want relists >= 1" | diag
		fi
	fi
done
check "410 storm (3 rounds): converged, relisted, and delivered exactly the differences" [ $storm_ok = 3 ]

# ---------- 500s ----------
admin "/fault?fail=4&code=500" >/dev/null
admin "/fault?kill_watches=1" >/dev/null
admin "/touch?kind=Node&n=3" >/dev/null
admin "/delete?kind=Service&ns=default&name=svc-7" >/dev/null
check "4 x HTTP 500: converged" converged A 20
n500=$(curl -sS -m 10 "http://127.0.0.1:$APORT/log" | jget 'sum(1 for t,m,p,c in o if c == 500)')
check "4 x HTTP 500: the errors were served ($n500 in the log)" [ "$n500" -ge 4 ]

# ---------- 429 with Retry-After ----------
admin "/fault?fail=1&code=429&retry_after=2&match=/api/v1/services?watch" >/dev/null
admin "/fault?kill_watches=1" >/dev/null
admin "/touch?kind=Service&n=2" >/dev/null
check "429 + Retry-After: converged" converged A 20
gap=$(curl -sS -m 10 "http://127.0.0.1:$APORT/log" | jget '
(lambda e: min([t - e[0] for t,m,p,c in o if t > e[0] and p.startswith("/api/v1/services?watch")] or [-1]))(
 [x for x in o if x[3] == 429][-1])')
check "429 + Retry-After: 2: the next watch came after $gap s (>= 1.9)" \
	python3 -c "import sys; sys.exit(0 if $gap >= 1.9 else 1)"

# ---------- truncated and malformed events ----------
r0=$(stat_of A watch_restarts)
admin "/fault?bad=truncated" >/dev/null
admin "/touch?kind=Service&n=3" >/dev/null
check "truncated watch event: converged" converged A 20
r1=$(stat_of A watch_restarts)
check "truncated watch event: the watch was restarted" [ "$r1" -gt "$r0" ]
e0=$(stat_of A decode_errors)
admin "/fault?bad=malformed" >/dev/null
admin "/touch?kind=Service&n=3" >/dev/null
check "malformed watch event: converged" converged A 20
e1=$(stat_of A decode_errors)
check "malformed watch event: counted as a decode error ($e0 -> $e1)" [ "$e1" -gt "$e0" ]

# ---------- 10-second outage ----------
truth >"$T/before-outage"
d0=$(stat_of A deleted)
admin "/save?path=$T/state.json" >/dev/null
kill -9 "$API_PID"; wait "$API_PID" 2>/dev/null; API_PID=
sleep 5
dump_now A
check "outage: the cache keeps every object while the API is down" cmp -s "$T/before-outage" "$T/A.dump"
sleep 5
check "outage: server restarted on the same port with the same state" \
	start_api --port "$PORT" --admin-port "$APORT" --state "$T/state.json"
admin "/touch?kind=Service&n=5" >/dev/null
admin "/delete?kind=Service&ns=default&name=svc-8" >/dev/null
admin "/bulk?kind=Service&n=3&prefix=after&ns=outage" >/dev/null
check "outage: converged after the restart" converged A 40
d1=$(stat_of A deleted)
check "outage: nothing was deleted but the one deletion ($d0 -> $d1)" [ "$((d1 - d0))" = 1 ]

# ---------- auth and TLS errors ----------
kubeconfig "$T/kc-bad" "    token: WRONG"
start_kw BADTOK --kubeconfig "$T/kc-bad"
sleep 3
check "wrong token: not synced" [ ! -e "$T/BADTOK.ready" ]
check "wrong token: a clear error (401, credentials)" grep -q "401 Unauthorized.*rejected the credentials" "$T/BADTOK.log"
kubeconfig "$T/kc-ca" "    token: T1" "$T/certs/otherca.crt"
start_kw BADCA --kubeconfig "$T/kc-ca"
sleep 3
check "wrong CA: not synced" [ ! -e "$T/BADCA.ready" ]
check "wrong CA: a clear TLS error" grep -q "TLS error talking to https://127.0.0.1:$PORT.*certificate" "$T/BADCA.log"
grep -m1 -E "TLS|401" "$T/BADCA.log" "$T/BADTOK.log" | diag
stop_kw BADTOK; stop_kw BADCA

# ---------- token file rotation ----------
echo T2 >"$T/token"
admin "/tokens?set=T1,T2" >/dev/null
kubeconfig "$T/kc-file" "    tokenFile: $T/token"
start_kw ROT --kubeconfig "$T/kc-file" --kinds service,node,endpointslice
check "tokenFile: synced" wait_file "$T/ROT.ready" 20
echo T3 >"$T/token.new" && mv "$T/token.new" "$T/token"
admin "/tokens?set=T1,T3" >/dev/null
admin "/fault?kill_watches=1" >/dev/null
admin "/touch?kind=Service&n=4" >/dev/null
check "tokenFile rotated: the new token is used, converged" converged ROT 20
check "tokenFile rotated: logged" grep -q "token file .* changed" "$T/ROT.log"
stop_kw ROT

# ---------- client certificate (and *-data fields) ----------
b64() { base64 -w0 <"$1"; }
cat >"$T/kc-cert" <<EOF
apiVersion: v1
kind: Config
current-context: c
contexts: [{name: c, context: {cluster: k, user: u}}]
clusters: [{name: k, cluster: {server: "https://127.0.0.1:$PORT", certificate-authority-data: $(b64 "$T/certs/ca.crt")}}]
users: [{name: u, user: {client-certificate-data: $(b64 "$T/certs/client.crt"), client-key-data: $(b64 "$T/certs/client.key")}}]
EOF
start_kw CERT --kubeconfig "$T/kc-cert"
check "client certificate from *-data fields: synced" wait_file "$T/CERT.ready" 20
check "client certificate: cache equals the truth" converged CERT 10 Service
stop_kw CERT

# ---------- status patch and annotations ----------
timeout 60 "$KW" --kubeconfig "$T/kc-token" --patch default/svc-0 --ingress 192.0.2.10 --ingress 2001:db8::10 \
	--annotate barelb.io/ip-allocated-from-pool=pool-a --result "$T/patch.res" \
	--exit-after-writes --timeout 30 >"$T/patch.log" 2>&1
check "patch: done without error" grep -qx "patch ok" "$T/patch.res"
obj=$(curl -sS -m 10 "http://127.0.0.1:$APORT/obj?kind=Service&ns=default&name=svc-0")
check "patch: status.loadBalancer.ingress on the server" \
	[ "$(echo "$obj" | jget '",".join(i["ip"] for i in o["status"]["loadBalancer"]["ingress"])')" = "192.0.2.10,2001:db8::10" ]
check "patch: annotation on the server" \
	[ "$(echo "$obj" | jget 'o["metadata"]["annotations"]["barelb.io/ip-allocated-from-pool"]')" = pool-a ]
check "patch: spec untouched" [ "$(echo "$obj" | jget 'o["spec"]["type"]')" = LoadBalancer ]
check "patch: the watching cache sees it" converged A 10
timeout 60 "$KW" --kubeconfig "$T/kc-token" --patch default/svc-0 --annotate barelb.io/ip-allocated-from-pool- \
	--result "$T/patch2.res" --exit-after-writes --timeout 30 >"$T/patch2.log" 2>&1
obj=$(curl -sS -m 10 "http://127.0.0.1:$APORT/obj?kind=Service&ns=default&name=svc-0")
check "patch: annotation and ingress removed" \
	[ "$(echo "$obj" | jget '("barelb.io/ip-allocated-from-pool" in o["metadata"].get("annotations", {}), "ingress" in o["status"]["loadBalancer"])')" = "(False, False)" ]

# ---------- Events ----------
timeout 60 "$KW" --kubeconfig "$T/kc-token" --event "default/svc-1:AllocationFailed:no pool has a free address" \
	--event-count 5 --exit-after-writes --timeout 30 >"$T/ev.log" 2>&1
evs=$(curl -sS -m 10 "http://127.0.0.1:$APORT/list?kind=Event&ns=default")
check "events: 5 repeats aggregated into one Event with series.count 5" \
	[ "$(echo "$evs" | jget '[(e["reason"], e.get("series", {}).get("count")) for e in o["items"]]')" = "[('AllocationFailed', 5)]" ]
check "events: regarding, note, type, reporting fields, MicroTime" \
	[ "$(echo "$evs" | jget 'all([e["regarding"]["name"] == "svc-1", e["regarding"]["kind"] == "Service", e["note"] == "no pool has a free address", e["type"] == "Normal", e["reportingController"] != "", e["reportingInstance"] != "", e["action"] != "", len(e["eventTime"]) == 27] for e in o["items"])')" = True ]
# 40 distinct Events at once: written at about 10 a second (a burst of 10, then the rate), none
# dropped: after 2 s some are still waiting, after 7 s all are there.
in_range() { [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }
flood_count() { curl -sS -m 10 "http://127.0.0.1:$APORT/list?kind=Event&ns=default" |
	jget "sum(1 for e in o['items'] if e['reason'] == '$1')"; }
timeout 60 "$KW" --kubeconfig "$T/kc-token" --event "default/svc-2:Flood:note" --event-count 40 --event-distinct \
	--timeout 2 >"$T/ev2.log" 2>&1
nflood=$(flood_count Flood)
check "events: 40 distinct Events at once are rate-limited ($nflood written in 2 s, want 10-32)" \
	in_range "$nflood" 10 32
timeout 60 "$KW" --kubeconfig "$T/kc-token" --event "default/svc-2:Flood2:note" --event-count 40 --event-distinct \
	--timeout 7 >"$T/ev3.log" 2>&1
nflood=$(flood_count Flood2)
check "events: ... and none is dropped: all 40 written within 7 s ($nflood)" [ "$nflood" = 40 ]

# ---------- Leases ----------
lease() { # RESULTFILE args...
	local r=$1; shift
	rm -f "$r"
	timeout 60 "$KW" --kubeconfig "$T/kc-token" --kinds lease --lease-ns barelb-system "$@" --result "$r" \
		--exit-after-writes --timeout 30 >>"$T/lease.log" 2>&1
	cat "$r" 2>/dev/null
}
holder() { curl -sS -m 10 "http://127.0.0.1:$APORT/obj?kind=Lease&ns=barelb-system&name=$1" | jget 'o["spec"].get("holderIdentity")'; }
lrv() { curl -sS -m 10 "http://127.0.0.1:$APORT/obj?kind=Lease&ns=barelb-system&name=$1" | jget 'o["metadata"]["resourceVersion"]'; }
check "lease: create" [ "$(lease "$T/l.res" --lease-renew L1 --holder alpha)" = "lease-renew ok" ]
check "lease: held by alpha on the server" [ "$(holder L1)" = alpha ]
rv1=$(lrv L1)
sleep 0.1
check "lease: renew by the holder" [ "$(lease "$T/l.res" --lease-renew L1 --holder alpha)" = "lease-renew ok" ]
rv2=$(lrv L1)
check "lease: the renewal was written ($rv1 -> $rv2)" [ "$rv2" -gt "$rv1" ]
check "lease: another holder is refused while it is fresh" \
	grep -q "lease-renew error: .*held by alpha" <(lease "$T/l.res" --lease-renew L1 --holder beta)
admin "/fault?fail=1&code=409&method=PUT&match=leases/L1" >/dev/null
check "lease: a 409 on update is re-read and retried once" [ "$(lease "$T/l.res" --lease-renew L1 --holder alpha)" = "lease-renew ok" ]
admin "/fault?fail=2&code=409&method=PUT&match=leases/L1" >/dev/null
check "lease: two 409s in a row fail" grep -q "lease-renew error: .*409" <(lease "$T/l.res" --lease-renew L1 --holder alpha)
admin "/fault?fail=0" >/dev/null
code=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' --cacert "$T/certs/ca.crt" -H "Authorization: Bearer T1" \
	-X PUT --data '{"metadata":{"name":"L1","resourceVersion":"1"},"spec":{}}' \
	"https://127.0.0.1:$PORT/apis/coordination.k8s.io/v1/namespaces/barelb-system/leases/L1")
check "lease: the server answers 409 to a stale resourceVersion" [ "$code" = 409 ]
r=$(lease "$T/l.res" --lease-release L1 --holder beta)
check "lease: release by a non-holder changes nothing" [ "$r/$(holder L1)" = "lease-release ok/alpha" ]
r=$(lease "$T/l.res" --lease-release L1 --holder alpha)
check "lease: release by the holder clears it" [ "$r/$(holder L1)" = "lease-release ok/None" ]
check "lease: a released lease is taken at once" [ "$(lease "$T/l.res" --lease-renew L1 --holder beta)" = "lease-renew ok" ]

# ---------- leader election (kube, and dir: since it only uses the source's lease calls) ----------
leader_state() { cat "$T/$1.leader" 2>/dev/null; }
wait_leading() { # NAME SECONDS
	local i
	for i in $(seq $(($2 * 10))); do
		[ "$(leader_state "$1")" = leading ] && return 0
		sleep 0.1
	done
	return 1
}
leader_suite() { # LABEL PREFIX source args...
	local label=$1 x=${2}X y=${2}Y took t0 yrc; shift 2
	start_kw "$x" "$@" --kinds lease --lease-ns barelb-system --leader-elect barelb-controller \
		--identity "$x" --leader-file "$T/$x.leader"
	check "leader ($label): the first candidate leads" wait_leading "$x" 10
	start_kw "$y" "$@" --kinds lease --lease-ns barelb-system --leader-elect barelb-controller \
		--identity "$y" --leader-file "$T/$y.leader"
	sleep 4
	check "leader ($label): exactly one leads" [ "$(leader_state "$x")/$(leader_state "$y")" = leading/standby ]
	kill -9 "${KWPID[$x]}"; wait "${KWPID[$x]}" 2>/dev/null
	t0=$(date +%s%N)
	if wait_leading "$y" 25; then
		took=$((($(date +%s%N) - t0) / 1000000))
		# Worst case: the leader renewed just before dying, the standby saw that record up
		# to one retry period (2 s) later and polls every 2 s: 15 + 2 + 2 s, plus slack.
		check "leader ($label): the standby took over ${took} ms after the leader died (<= 20 s)" [ "$took" -le 20000 ]
	else
		not_ok "leader ($label): the standby took over after the leader died"
	fi
	start_kw "$x" "$@" --kinds lease --lease-ns barelb-system --leader-elect barelb-controller \
		--identity "$x" --leader-file "$T/$x.leader"
	sleep 3
	check "leader ($label): a restarted candidate stays standby" [ "$(leader_state "$x")" = standby ]
	t0=$(date +%s%N)
	stop_kw "$y"
	yrc=$?
	if wait_leading "$x" 10; then
		took=$((($(date +%s%N) - t0) / 1000000))
		check "leader ($label): SIGTERM releases, the standby leads ${took} ms later (<= 5 s)" [ "$took" -le 5000 ]
	else
		not_ok "leader ($label): SIGTERM releases and the standby leads"
	fi
	check "leader ($label): the released leader exits cleanly" [ "$yrc" = 0 ]
	if [ "$label" = kube ]; then
		check "leader (kube): the Lease on the server names the new leader" [ "$(holder barelb-controller)" = "$x" ]
		stop_kw "$x"
		check "leader (kube): after SIGTERM the Lease has no holder" [ "$(holder barelb-controller)" = None ]
	else
		stop_kw "$x"
	fi
}
leader_suite kube K --kubeconfig "$T/kc-token"
mkdir -p "$T/state"
leader_suite dir D --source "dir:$T/state"

# ---------- the long-running watcher ends cleanly (ASan: no leak, no error) ----------
check "kubewatch A is still converged at the end" converged A 10
stop_kw A
check "kubewatch A exits cleanly on SIGTERM (no sanitizer report)" [ $? = 0 ]
if grep -q "ERROR: AddressSanitizer\|runtime error" "$T"/*.log; then
	grep -l "ERROR: AddressSanitizer\|runtime error" "$T"/*.log | diag
	not_ok "no sanitizer report in any kubewatch run"
else
	ok "no sanitizer report in any kubewatch run"
fi
echo "# test_kube.sh took $(($(date +%s) - t_start)) s" >&2
tap_end
