#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# kube_sync.sh: the kube source's initial sync of 10,000 Services and 10,000 EndpointSlices from
# test/fakeapi (TLS, bearer token, pages of 500), timed by build/bench/kube_sync (release build),
# beside the baseline of curl fetching the same paginated lists from the same server in the same
# run. Prints "bench kube_sync_20k: X ms (baseline Y ms, ratio Z)"; '#' lines explain.
# Everything started is stopped on exit.
set -u
TOP=${BARELB_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${KUBE_SYNC_BIN:-$TOP/build/bench/kube_sync}
API=$TOP/test/fakeapi/fakeapi.py
N=${KUBE_SYNC_N:-10000}      # of each kind
NS=10                        # spread over this many namespaces
REPS=${KUBE_SYNC_REPS:-3}
LIMIT=500                    # the page size the kube backend asks for

T=$(mktemp -d /tmp/barelb-kubesync.XXXXXX)
API_PID=
cleanup() {
	[ -n "$API_PID" ] && kill "$API_PID" 2>/dev/null && wait "$API_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
die() { echo "kube_sync: $*" >&2; exit 1; }

for tool in python3 openssl curl; do
	command -v $tool >/dev/null || die "$tool is missing"
done
[ -x "$BIN" ] || die "$BIN not built (make build/bench/kube_sync)"
"$TOP/test/fakeapi/gencerts.sh" "$T/certs" || die "certificates"

python3 "$API" --cert "$T/certs/server.crt" --key "$T/certs/server.key" --token T1 \
	--port-file "$T/port" --admin-port-file "$T/aport" >"$T/api.log" 2>&1 &
API_PID=$!
for _ in $(seq 100); do
	[ -s "$T/port" ] && [ -s "$T/aport" ] && break
	sleep 0.1
done
PORT=$(cat "$T/port" 2>/dev/null)
APORT=$(cat "$T/aport" 2>/dev/null)
[ -n "$PORT" ] && [ -n "$APORT" ] || die "fake API did not start: $(cat "$T/api.log")"

per=$((N / NS))
for i in $(seq 0 $((NS - 1))); do
	for kind in Service EndpointSlice; do
		curl -sS -m 120 -X POST \
			"http://127.0.0.1:$APORT/bulk?kind=$kind&n=$per&prefix=app&ns=team-$i" \
			>/dev/null || die "bulk load of $kind"
	done
done

cat >"$T/kubeconfig" <<EOF
apiVersion: v1
kind: Config
current-context: bench
contexts:
- name: bench
  context: {cluster: fake, user: bench}
clusters:
- name: fake
  cluster:
    server: https://127.0.0.1:$PORT
    certificate-authority: $T/certs/ca.crt
users:
- name: bench
  user: {token: T1}
EOF

now_ms() { date +%s%3N; }

# The baseline: what a client does at least to hold the same data as text: fetch every page of
# both lists, one curl per page (the continue token comes from the page before), sequentially.
curl_lists() {
	local path cont out
	for path in /api/v1/services /apis/discovery.k8s.io/v1/endpointslices; do
		cont=
		while :; do
			if [ -n "$cont" ]; then
				out=$(curl -sS --cacert "$T/certs/ca.crt" -H "Authorization: Bearer T1" \
					"https://127.0.0.1:$PORT$path?limit=$LIMIT&continue=$cont") || return 1
			else
				out=$(curl -sS --cacert "$T/certs/ca.crt" -H "Authorization: Bearer T1" \
					"https://127.0.0.1:$PORT$path?limit=$LIMIT") || return 1
			fi
			cont=$(printf '%s' "$out" | grep -o '"continue": *"[^"]*"' | head -1 |
				sed 's/.*: *"\(.*\)"/\1/')
			[ -n "$cont" ] || break
		done
	done
}

# The same bytes in one curl process (one TLS handshake): the server's share of either side.
curl_whole() {
	curl -sS --cacert "$T/certs/ca.crt" -H "Authorization: Bearer T1" \
		"https://127.0.0.1:$PORT/api/v1/services" \
		"https://127.0.0.1:$PORT/apis/discovery.k8s.io/v1/endpointslices" >/dev/null
}

best_ours= best_cpu= best_base= best_whole=
min() { if [ -z "$1" ] || [ "$2" -lt "$1" ]; then echo "$2"; else echo "$1"; fi; }
for r in $(seq "$REPS"); do
	# alternate the order, so that neither side always finds the server warm
	for pass in 0 1; do
		if [ $(((pass + r) % 2)) -eq 0 ]; then
			t0=$(now_ms)
			curl_lists || die "curl baseline failed"
			best_base=$(min "$best_base" $(($(now_ms) - t0)))
		else
			line=$("$BIN" --kubeconfig "$T/kubeconfig" --timeout 300) || die "sync failed"
			objs=${line##*objects=}
			[ "$objs" = $((2 * N)) ] || die "synced $objs objects, want $((2 * N))"
			ms=${line#sync_ms=}; ms=${ms%% *}; ms=${ms%.*}
			cpu=${line#*cpu_ms=}; cpu=${cpu%% *}; cpu=${cpu%.*}
			best_ours=$(min "$best_ours" "$ms")
			best_cpu=$(min "$best_cpu" "$cpu")
		fi
	done
	t0=$(now_ms)
	curl_whole || die "curl of the whole lists failed"
	best_whole=$(min "$best_whole" $(($(now_ms) - t0)))
done

echo "# $N Services + $N EndpointSlices in test/fakeapi (Python, TLS, token), pages of $LIMIT;" \
	"wall time to synced, best of $REPS interleaved runs"
echo "# baseline: curl -s of every page in turn (a process and a TLS handshake per page);" \
	"one curl of both unpaginated lists took $best_whole ms (the server's own share);" \
	"barelb's process used $best_cpu ms of CPU"
awk -v o="$best_ours" -v b="$best_base" -v n="$((2 * N / 1000))k" \
	'BEGIN { printf "bench kube_sync_%s: %d ms (baseline %d ms, ratio %.2f)\n", n, o, b, o / b }'
