#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The three programs as a user runs them: --version/--help, --check-config and --print-config on
# every MetalLB sample, exit codes, and a running daemon that reloads its config on SIGHUP and on
# file change, keeping the good config when a broken one is written over it.
set -u
. "$BARELB_TOP/test/lib/tap.sh"
BIN=${BARELB_BIN:-$BARELB_TOP/build/asan/bin}
DATA=$BARELB_TOP/test/data/metallb
tmp=$(mktemp -d)
pids=""
cleanup() { for p in $pids; do kill -9 "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT

for p in barelb-controller barelb-speaker barelbctl; do
	out=$("$BIN/$p" --version 2>&1)
	check "$p --version prints its name and version" test "${out#"$p "}" != "$out"
done
"$BIN/barelb-controller" --help >"$tmp/help" 2>&1
check "--help exits 0 and lists --check-config" grep -q -- "--check-config" "$tmp/help"
"$BIN/barelb-controller" --no-such-flag >/dev/null 2>&1
check "an unknown flag exits 2" test $? -eq 2
NODE_NAME= "$BIN/barelb-speaker" --exit-after-load --config "$DATA/crd/deployment_l2.yaml" >/dev/null 2>&1
check "the speaker without a node name exits 2" test $? -eq 2

# Every sample loads, through all three programs (one exception, below).
for f in "$DATA"/crd/*.yaml "$DATA"/legacy/*.yaml "$DATA"/legacy/*.golden; do
	case $f in *config-yaml-full.yaml) continue ;; esac
	b=${f#"$DATA"/}
	"$BIN/barelb-controller" --check-config "$f" >"$tmp/out" 2>&1
	check "controller --check-config $b exits 0" test $? -eq 0
	"$BIN/barelb-speaker" --check-config "$f" >/dev/null 2>&1
	check "speaker --check-config $b exits 0" test $? -eq 0
	"$BIN/barelbctl" check-config "$f" >/dev/null 2>&1
	check "barelbctl check-config $b exits 0" test $? -eq 0
done
grep -q "skipping" <("$BIN/barelbctl" check-config "$DATA/crd/deployment_bgp.yaml" 2>&1)
check "non-config kinds (Deployment, Service) are skipped with a note" test $? -eq 0

# protocol: l2 is rejected at line 43, column 17, naming the allowed values.
"$BIN/barelbctl" check-config "$DATA/legacy/config-yaml-full.yaml" >"$tmp/full" 2>&1
rc=$?
check "config-yaml-full.yaml (protocol: l2) exits 1" test $rc -eq 1
check "config-yaml-full.yaml error is at 43:17 and names layer2 and bgp" \
	grep -qE "config-yaml-full.yaml:43:17: .*layer2.*bgp" "$tmp/full"

# A legacy file prints exactly like its converted twin.
for f in "$DATA"/legacy/*.yaml; do
	case $f in *config-yaml-full.yaml) continue ;; esac
	g=${f%.yaml}.golden
	"$BIN/barelbctl" print-config "$f" >"$tmp/a" 2>/dev/null
	"$BIN/barelbctl" print-config "$g" >"$tmp/b" 2>/dev/null
	check "print-config $(basename "$f") equals its .golden twin" cmp -s "$tmp/a" "$tmp/b"
	check "print-config $(basename "$f") is not empty" test -s "$tmp/a"
done

# Errors: every one reported as FILE:LINE:COL: message, exit 1.
cat >"$tmp/bad.yaml" <<'YAML'
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: one
spec:
  addresses: ["10.0.0.300/24"]
  autoassign: false
YAML
"$BIN/barelb-controller" --check-config "$tmp/bad.yaml" >"$tmp/bad.out" 2>&1
check "a bad config exits 1" test $? -eq 1
check "a bad address is reported at 6:15" grep -q "bad.yaml:6:15: " "$tmp/bad.out"
check "an unknown field is reported at 7:3 with a hint" grep -qE "bad.yaml:7:3: .*autoAssign" "$tmp/bad.out"
"$BIN/barelb-controller" --exit-after-load --config "$tmp/bad.yaml" >/dev/null 2>&1
check "a daemon refuses to start on a bad config (exit 1)" test $? -eq 1
"$BIN/barelb-controller" --check-config "$tmp/missing.yaml" >"$tmp/miss.out" 2>&1
check "a missing file exits 1 with its name" test $? -eq 1 -a -s "$tmp/miss.out"

# barelb's pool extensions: reserved addresses and a hold-down, end to end through a controller.
mkdir -p "$tmp/res/state"
cat >"$tmp/res/config.yaml" <<'YAML'
apiVersion: barelb.io/v1
kind: IPAddressPool
metadata: {name: lan}
spec:
  addresses: [192.0.2.200-192.0.2.203]
  reserved: [192.0.2.200]
  allocationHoldDown: 60s
YAML
"$BIN/barelbctl" print-config "$tmp/res/config.yaml" >"$tmp/res/print" 2>&1
check "print-config keeps reserved and allocationHoldDown under barelb.io/v1" \
	grep -qE '^apiVersion: barelb.io/v1' "$tmp/res/print"
check "print-config prints the hold-down as a duration" grep -q 'allocationHoldDown: "1m0s"' "$tmp/res/print"
svc() { # name [loadBalancerIP]
	printf 'apiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: default}\nspec:\n  type: LoadBalancer\n  clusterIPs: [10.96.0.9]\n  ports: [{port: 80}]\n%s' \
		"$1" "${2:+  loadBalancerIP: $2
}" >"$tmp/res/state/$1.yaml"
}
status_ip() { sed -n 's/.*"ingress":\[{"ip":"\([^"]*\)".*/\1/p' "$tmp/res/state/status/default/$1.json" 2>/dev/null; }
wait_ip() { for _ in $(seq 100); do [ -n "$(status_ip "$1")" ] && return 0; sleep 0.05; done; return 1; }
svc a
"$BIN/barelb-controller" --config "$tmp/res/config.yaml" --source "dir:$tmp/res/state" \
	--metrics off --control off >"$tmp/res/ctl.log" 2>&1 &
cpid=$!
pids="$pids $cpid"
wait_ip a
check "a reserved address is not handed out automatically (a got $(status_ip a))" test "$(status_ip a)" = 192.0.2.201
svc r 192.0.2.200
wait_ip r
check "a reserved address is given when asked for explicitly" test "$(status_ip r)" = 192.0.2.200
rm "$tmp/res/state/a.yaml"
sleep 0.3
svc b
wait_ip b
check "a released address is held for its Service: b does not get a's 192.0.2.201 (got $(status_ip b))" \
	test "$(status_ip b)" = 192.0.2.202
svc a
wait_ip a
check "the released Service gets its address back within the hold-down" test "$(status_ip a)" = 192.0.2.201
kill -TERM $cpid; wait $cpid
sed -i 's/reserved: \[192.0.2.200\]/reserved: [10.0.0.1]/' "$tmp/res/config.yaml"
"$BIN/barelbctl" check-config "$tmp/res/config.yaml" >"$tmp/res/bad" 2>&1
check "a reserved address outside the pool is an error at its position" \
	grep -q 'config.yaml:6:14: IPAddressPool "lan": spec.reserved\[0\]: "10.0.0.1" is not inside' "$tmp/res/bad"

# A running daemon: SIGHUP and file changes reload; a broken file keeps the old config.
mkdir -p "$tmp/etc"
cp "$DATA/crd/simple_pool_adv_l2.yaml" "$tmp/etc/config.yaml"
"$BIN/barelb-speaker" --node n1 --source "dir:$tmp" --config "$tmp/etc/config.yaml" \
	--log-level debug >"$tmp/d.log" 2>&1 &
dpid=$!
pids="$pids $dpid"
wait_for() { # pattern count
	for _ in $(seq 100); do
		[ "$(grep -c "$1" "$tmp/d.log")" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}
check "the speaker starts and loads its config" wait_for "config loaded" 1
cp "$tmp/bad.yaml" "$tmp/etc/config.yaml.new" && mv "$tmp/etc/config.yaml.new" "$tmp/etc/config.yaml"
check "a broken config written over the good one is rejected" wait_for "rejected" 1
check "the rejection names the file, line and column" grep -q "line=6 col=15" "$tmp/d.log"
check "the daemon is still running after a broken config" kill -0 $dpid
cp "$DATA/crd/deployment_bgp.yaml" "$tmp/etc/config.yaml"
check "a fixed config is loaded again" wait_for "config loaded" 2
kill -HUP $dpid
sleep 0.3
check "SIGHUP reloads (an unchanged file changes nothing)" wait_for "SIGHUP" 1
check "an unchanged file is not loaded twice" test "$(grep -c 'config loaded' "$tmp/d.log")" -eq 2
kill -TERM $dpid
wait $dpid
check "SIGTERM stops the daemon cleanly (exit 0)" test $? -eq 0
pids=""
tap_end
