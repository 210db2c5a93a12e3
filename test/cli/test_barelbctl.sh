#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# barelbctl against a stand-in daemon (test/helpers/ctltest: a control socket with sample
# answers in the daemons' JSON shapes, and the metrics server): exact tables for every command,
# -o json as the daemon sent it, option forms, error paths (daemon errors, unknown commands,
# missing and stale sockets, usage), the socket file's mode and removal, many clients at once,
# /healthz /readyz /metrics, and check-config/print-config unchanged.
set -u
. "$BARELB_TOP/test/lib/tap.sh"
BIN=${BARELB_BIN:-$BARELB_TOP/build/asan/bin}
HELP=${BARELB_HELPERS:-$BARELB_TOP/build/asan/helpers}
CTL=$BIN/barelbctl
tmp=$(mktemp -d)
pids=""
cleanup() { for p in $pids; do { kill -9 "$p"; wait "$p"; } 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT

wait_for() { # path: wait up to 5 s for a file to exist
	for _ in $(seq 50); do [ -e "$1" ] && return 0; sleep 0.1; done
	return 1
}
free_port() { # a port nothing listens on now (the kernel's choice)
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
same() { # description, expected-file, got-file
	if cmp -s "$2" "$3"; then ok "$1"; else not_ok "$1"; diff -u "$2" "$3" | sed 's/^/# /'; fi
}

SPK=$tmp/speaker.sock
CTR=$tmp/controller.sock
MPORT=$(free_port)
"$HELP/ctltest" --control "$SPK" --metrics "127.0.0.1:$MPORT" --ready-file "$tmp/ready" \
	2>"$tmp/speaker.log" &
pids="$pids $!"
spk_pid=$!
"$HELP/ctltest" --control "$CTR" --as controller 2>"$tmp/controller.log" &
pids="$pids $!"
ctr_pid=$!
"$HELP/ctltest" --control "$tmp/empty.sock" --empty 2>/dev/null &
pids="$pids $!"
check "the stand-in daemons opened their sockets" \
	bash -c "$(declare -f wait_for); wait_for '$SPK' && wait_for '$CTR' && wait_for '$tmp/empty.sock'"
check "the control socket is a socket with mode 0600" \
	test "$(stat -c "%F %a" "$SPK")" = "socket 600"

# ---------- tables ----------
"$CTL" --control "$SPK" status >"$tmp/got" 2>&1
check "status exits 0" test $? -eq 0
cat >"$tmp/want" <<'EOF'
daemon    barelb-speaker 0.1.0
node      node-a
pid       4242
uptime    1h02m
config    /etc/barelb/config.yaml: loaded, 3 reloads, 0 rejected
sync      synced (source kube)
ready     yes
EOF
same "status (speaker): daemon, version, node, config, sync, uptime" "$tmp/want" "$tmp/got"

"$CTL" --control "$CTR" status >"$tmp/got" 2>&1
cat >"$tmp/want" <<'EOF'
daemon    barelb-controller 0.1.0
pid       4242
uptime    1h02m
config    /etc/barelb/config.yaml: loaded, 3 reloads, 1 rejected; STALE: the last change was rejected, the previous config is in force
sync      NOT SYNCED: waiting for the first full list (source kube)
leader    yes (allocating)
ready     no: waiting for the first sync
EOF
same "status (controller): stale config, not synced, leader, not ready with its reason" \
	"$tmp/want" "$tmp/got"

"$CTL" --control "$SPK" services >"$tmp/got" 2>&1
cat >"$tmp/want" <<'EOF'
SERVICE         IP                       POOL    NODES                 WHY
default/web     192.0.2.10               lan     node-a                owner: first of 2 eligible nodes
shop/café       192.0.2.11,2001:db8::11  lan     node-b                not the owner
team-a/api      203.0.113.1              team-a  node-a,node-b,node-c  announced by 3 nodes
default/nobody  192.0.2.10               lan     -                     no eligible node: no ready endpoint (externalTrafficPolicy Local)
EOF
same "services: IP, pool, owner or announcing nodes, why (UTF-8 aligned by characters)" \
	"$tmp/want" "$tmp/got"

"$CTL" --control "$CTR" services >"$tmp/got" 2>&1
cat >"$tmp/want" <<'EOF'
SERVICE         IP          POOL  NODES  WHY
default/web     192.0.2.10  lan   -      allocated
default/greedy  -           -     -      NoFreeIP: pool lan has no free IPv4 address
EOF
same "services (controller): missing fields shown as -" "$tmp/want" "$tmp/got"

"$CTL" --control "$SPK" announcements >"$tmp/got" 2>&1
cat >"$tmp/want" <<'EOF'
IP                   SERVICE       INTERFACE  MODE    SINCE
192.0.2.10           default/web   eth0       layer2  5m12s
2001:db8:1::ffff:10  default/web6  bond0.100  layer2  2d04h
EOF
same "announcements: IP, service, interface, mode, since" "$tmp/want" "$tmp/got"

"$CTL" --control "$SPK" peers >"$tmp/got" 2>&1
cat >"$tmp/want" <<'EOF'
PEER  ADDRESS              ASN  STATE        UPTIME  SENT  LAST ERROR                        LAST NOTIFICATION
tor1  192.0.2.254        64513  Established  2h01m     12  -                                 -
tor2  2001:db8::fe  4200000001  Active       -          0  connect: Connection refused?[31m  received 6/2 Cease: administrative shutdown (1m05s ago)
EOF
same "peers: state, uptime, prefixes sent, last error (control bytes neutralised), last NOTIFICATION" \
	"$tmp/want" "$tmp/got"

"$CTL" --control "$CTR" pools >"$tmp/got" 2>&1
cat >"$tmp/want" <<'EOF'
POOL     FAMILY      SIZE  USED      FREE
lan      ipv4          27     3        23
lan      ipv6         256     1       255
team-a   ipv4           8     8         0
v6-huge  ipv6    1.84e+19     2  1.84e+19
EOF
same "pools: size, used, free by family (numbers right-aligned, 2^64 abbreviated)" \
	"$tmp/want" "$tmp/got"

"$CTL" --control "$tmp/empty.sock" services >"$tmp/got" 2>&1
printf 'SERVICE  IP  POOL  NODES  WHY\n' >"$tmp/want"
same "an empty list prints the header only" "$tmp/want" "$tmp/got"

"$CTL" --control "$SPK" help >"$tmp/got" 2>&1
check "help lists the daemon's commands" grep -qE '^announcements +what this node announces$' "$tmp/got"

# ---------- -o json ----------
"$CTL" --control "$SPK" -o json pools >/dev/null 2>&1
check "pools on the speaker: unknown command, exit 1" test $? -eq 1
for cmd in status services announcements peers; do
	"$CTL" --control "$SPK" -o json "$cmd" >"$tmp/json" 2>"$tmp/err"
	rc=$?
	check "-o json $cmd exits 0 with nothing on stderr" test $rc -eq 0 -a ! -s "$tmp/err"
	check "-o json $cmd is one valid JSON document" \
		python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/json"
done
"$CTL" --control "$CTR" -o json pools >"$tmp/got" 2>&1
cat >"$tmp/want" <<'EOF'
{"pools":[{"pool":"lan","family":"ipv4","size":27,"used":3,"held":1,"free":23},{"pool":"lan","family":"ipv6","size":256,"used":1,"held":0,"free":255},{"pool":"team-a","family":"ipv4","size":8,"used":8,"held":0,"free":0},{"pool":"v6-huge","family":"ipv6","size":18446744073709551616,"used":2,"held":0,"free":18446744073709551614}]}
EOF
same "-o json pools is the daemon's reply byte for byte (exact 128-bit-safe integers)" \
	"$tmp/want" "$tmp/got"
python3 - "$tmp/got" <<'EOF' >"$tmp/py" 2>&1
import json, sys
d = json.load(open(sys.argv[1]))
print(d["pools"][3]["size"] == 2**64)
EOF
check "a JSON reader gets 2^64 exactly" grep -qx True "$tmp/py"
"$CTL" --control "$SPK" -o json peers >"$tmp/a" 2>&1
"$CTL" --control="$SPK" peers -ojson >"$tmp/b" 2>&1
"$CTL" peers --output json --control "$SPK" >"$tmp/c" 2>&1
BARELB_CONTROL=$SPK "$CTL" --output=json peers >"$tmp/d" 2>&1
check "option forms: --control=P, -ojson, options after the command, --output, \$BARELB_CONTROL" \
	bash -c "cmp -s '$tmp/a' '$tmp/b' && cmp -s '$tmp/a' '$tmp/c' && cmp -s '$tmp/a' '$tmp/d'"
"$CTL" --control "$SPK" -o json echo  a 'b c' >"$tmp/got" 2>&1
check "extra words go to the daemon as the command's arguments" \
	grep -qx '{"args":"a b c"}' "$tmp/got"

# ---------- errors ----------
"$CTL" --control "$SPK" fail tor3 >"$tmp/out" 2>"$tmp/err"
rc=$?
check "a daemon error exits 1" test $rc -eq 1
check "a daemon error is printed on stderr with the command" \
	grep -qx 'barelbctl: fail: no such peer "tor3"' "$tmp/err"
check "a daemon error prints nothing on stdout" test ! -s "$tmp/out"
"$CTL" --control "$SPK" -o json fail x >"$tmp/out" 2>/dev/null
check "a daemon error with -o json exits 1 and prints nothing on stdout" \
	test $? -eq 1 -a ! -s "$tmp/out"
"$CTL" --control "$SPK" nosuch >/dev/null 2>"$tmp/err"
check "an unknown daemon command exits 1" test $? -eq 1
check "an unknown daemon command says so" grep -q 'unknown command "nosuch"' "$tmp/err"
"$CTL" --control "$tmp/missing.sock" status >/dev/null 2>"$tmp/err"
check "a missing socket exits 1" test $? -eq 1
check "a missing socket names the path and --control" \
	grep -q "$tmp/missing.sock: No such file or directory (is the daemon running with --control" \
	"$tmp/err"
"$HELP/ctltest" --control "$tmp/stale.sock" 2>/dev/null &
stale_pid=$!
pids="$pids $stale_pid"
wait_for "$tmp/stale.sock"
kill -9 "$stale_pid"
wait "$stale_pid" 2>/dev/null
"$CTL" --control "$tmp/stale.sock" status >/dev/null 2>"$tmp/err"
check "a stale socket (daemon killed) exits 1 and says stale" \
	bash -c "test $? -eq 1 && grep -q 'stale socket' '$tmp/err'"
"$HELP/ctltest" --control "$tmp/stale.sock" 2>/dev/null &
pids="$pids $!"
sleep 0.3
"$CTL" --control "$tmp/stale.sock" status >/dev/null 2>&1
check "a restarted daemon replaces its stale socket" test $? -eq 0
"$HELP/ctltest" --control "$SPK" 2>"$tmp/second.log"
check "a second daemon on a live socket refuses to start" test $? -ne 0
check "... and says the socket is in use" grep -q "in use" "$tmp/second.log"
"$CTL" --control "$SPK" status >/dev/null 2>&1
check "... and the first one still answers" test $? -eq 0

"$CTL" -o yaml --control "$SPK" status >/dev/null 2>&1
check "-o yaml is a usage error (exit 2)" test $? -eq 2
"$CTL" --bogus status >/dev/null 2>&1
check "an unknown option is a usage error (exit 2)" test $? -eq 2
"$CTL" >/dev/null 2>&1
check "no command is a usage error (exit 2)" test $? -eq 2
"$CTL" --control >/dev/null 2>&1
check "--control without a value is a usage error (exit 2)" test $? -eq 2
"$CTL" --control "$SPK" 'Status!' >/dev/null 2>&1
check "a malformed command name is a usage error (exit 2)" test $? -eq 2
"$CTL" --control "$SPK" echo "$(printf 'a\nb')" >/dev/null 2>&1
check "an argument with a line break is refused (exit 2)" test $? -eq 2
"$CTL" --help >"$tmp/help" 2>&1
check "--help documents the default sockets" \
	bash -c "grep -q /run/barelb/speaker.sock '$tmp/help' && grep -q /run/barelb/controller.sock '$tmp/help'"

# ---------- many clients at once ----------
for i in $(seq 24); do
	"$CTL" --control "$SPK" -o json services >"$tmp/par.$i" 2>&1 &
done
wait_ok=1
for job in $(jobs -p); do
	case " $pids " in *" $job "*) continue ;; esac
	wait "$job" || wait_ok=0
done
"$CTL" --control "$SPK" -o json services >"$tmp/par.ref" 2>&1
same_all=1
for i in $(seq 24); do cmp -s "$tmp/par.ref" "$tmp/par.$i" || same_all=0; done
check "24 clients at once all get the full answer" test "$wait_ok$same_all" = 11

# ---------- health and metrics ----------
code=$(curl -s -o "$tmp/body" -w '%{http_code}' "http://127.0.0.1:$MPORT/healthz")
check "/healthz answers 200 while the loop runs" test "$code" = 200
code=$(curl -s -o "$tmp/body" -w '%{http_code}' "http://127.0.0.1:$MPORT/readyz")
check "/readyz is 503 before the daemon is ready" test "$code" = 503
check "/readyz says why in one line" grep -qx 'not ready: waiting for the first sync' "$tmp/body"
touch "$tmp/ready"
code=$(curl -s -o "$tmp/body" -w '%{http_code}' "http://127.0.0.1:$MPORT/readyz")
check "/readyz is 200 once ready" test "$code" = 200
curl -s -D "$tmp/hdr" -o "$tmp/body" "http://127.0.0.1:$MPORT/metrics"
check "/metrics has the Prometheus text content type" \
	grep -qi '^Content-Type: text/plain; version=0.0.4' "$tmp/hdr"
check "/metrics serves the registry" grep -qx 'barelb_k8s_client_config_loaded_bool 1' "$tmp/body"

# ---------- shutdown ----------
kill -TERM "$spk_pid"
wait "$spk_pid"
check "SIGTERM: the daemon exits 0" test $? -eq 0
check "SIGTERM: the socket file is removed" test ! -e "$SPK"
kill -TERM "$ctr_pid"
wait "$ctr_pid"

# ---------- config commands (unchanged) ----------
"$CTL" check-config "$BARELB_TOP/conf/config.yaml" >/dev/null 2>&1
check "check-config conf/config.yaml exits 0" test $? -eq 0
"$CTL" -o json check-config "$BARELB_TOP/conf/config.yaml" >/dev/null 2>&1
check "check-config ignores -o" test $? -eq 0
"$CTL" print-config "$BARELB_TOP/conf/config.yaml" >"$tmp/a" 2>/dev/null
"$BIN/barelb-controller" --print-config "$BARELB_TOP/conf/config.yaml" >"$tmp/b" 2>/dev/null
check "print-config prints what the daemons print" cmp -s "$tmp/a" "$tmp/b"
"$CTL" check-config >/dev/null 2>&1
check "check-config without FILE exits 2" test $? -eq 2
"$CTL" check-config a b >/dev/null 2>&1
check "check-config with two files exits 2" test $? -eq 2
printf 'kind: IPAddressPool\n' >"$tmp/bad.yaml"
"$CTL" check-config "$tmp/bad.yaml" >/dev/null 2>&1
check "check-config of a bad file exits 1" test $? -eq 1
check "version prints barelbctl and the version" \
	bash -c "'$CTL' version | grep -qx 'barelbctl [0-9.]*'"
tap_end
