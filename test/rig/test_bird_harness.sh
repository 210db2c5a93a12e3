#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The BIRD harness (test/rig/bird.sh) checked BIRD-to-BIRD: BIRDs on the nodes stand in for
# speakers (iBGP from n1, eBGP from n2, nothing from n3) and the router's view is read back through
# the harness: sessions, prefixes with next hops, local-pref, communities, large communities, IPv6,
# withdrawal, TCP-MD5 (and a wrong password), graceful restart, a router restart, and the bird2
# baseline sender. Everything runs in namespaces this test creates; they are removed at the end,
# also when a check fails.
set -u
BARELB_TOP=${BARELB_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$BARELB_TOP/test/lib/tap.sh"
export RIG=bbh$$
BIRD_DIR=$(mktemp -d /tmp/barelb-bird.XXXXXX)
. "$BARELB_TOP/test/rig/bird.sh"
cleanup() { bird_down; rig_down; }
not() { ! "$@"; }
trap cleanup EXIT

rig_up 3 || { not_ok "the rig comes up"; tap_end; exit 1; }
bird_start -p 64512 -P n2=64500 || { not_ok "the router's BIRD starts"; tap_end; exit 1; }
ok "the rig and the router's BIRD come up"

cat >"$BIRD_DIR/routes1" <<'R'
10.1.0.5/32 bgp_local_pref = 200; bgp_community.add((65000,2)); bgp_community.add((65000,1)); bgp_large_community.add((1,2,3));
10.1.0.0/24
2001:db8:1::5/128 bgp_community.add((65000,6));
R
cat >"$BIRD_DIR/routes2" <<'R'
10.1.0.5/32 bgp_community.add((65000,9)); bgp_large_community.add((64500,1,2)); bgp_large_community.add((7,8,9));
2001:db8:1::5/128
R
bird_sender_start s1 n1 192.0.2.11 2001:db8:77::11 64512 "$BIRD_DIR/routes1"
bird_sender_start s2 n2 192.0.2.12 2001:db8:77::12 64500 "$BIRD_DIR/routes2"

check "iBGP session from n1 (IPv4) is Established" bird_wait_state n1_4 Established
check "eBGP session from n2 (IPv4) is Established" bird_wait_state n2_4 Established
check "IPv6 session from n1 is Established" bird_wait_state n1_6 Established
check "IPv6 session from n2 is Established" bird_wait_state n2_6 Established
check "n3 has no session" test "$(bird_protocols | awk '$1 == "n3_4" { print $3 }')" != Established
check "10.1.0.5/32 arrives with two next hops" bird_wait_route 10.1.0.5/32 2
got=$(bird_routes 10.1.0.5/32)
want="10.1.0.5/32 192.0.2.11 200 65000:1,65000:2 1:2:3
10.1.0.5/32 192.0.2.12 100 65000:9 7:8:9,64500:1:2"
check "bird_routes: next hops, local-pref, communities and large communities" test "$got" = "$want"
[ "$got" = "$want" ] || printf '# got:\n%s\n# want:\n%s\n' "$got" "$want"
check "a prefix without attributes: dashes (local-pref: BIRD's default 100)" \
	test "$(bird_routes 10.1.0.0/24)" = "10.1.0.0/24 192.0.2.11 100 - -"
check "IPv6 prefix arrives with two next hops" bird_wait_route 2001:db8:1::5/128 2
got6=$(bird_routes 2001:db8:1::5/128)
check "IPv6 next hops are the nodes' global addresses" \
	test "$got6" = "2001:db8:1::5/128 2001:db8:77::11 100 65000:6 -
2001:db8:1::5/128 2001:db8:77::12 100 - -"
check "nothing from n3" test -z "$(bird_routes | grep ' 192.0.2.13 ')"
check "bird_imported counts the routes of one session" test "$(bird_imported n1_4)" = 2

# Withdrawal: n1 stops announcing, then n2 goes away.
bird_sender_cmd s1 disable s1_s4 >/dev/null
check "withdrawn by n1: one next hop left" bird_wait_route 10.1.0.5/32 1
check "the remaining path is n2's" test "$(bird_routes 10.1.0.5/32 | awk '{print $2}')" = 192.0.2.12
check "10.1.0.0/24 (only from n1) is gone" bird_wait_no_route 10.1.0.0/24
bird_sender_stop s2
check "n2 stopped: 10.1.0.5/32 is gone" bird_wait_no_route 10.1.0.5/32
check "and its session is down" test "$(bird_protocols | awk '$1 == "n2_4" { print $3 }')" != Established
bird_sender_cmd s1 enable s1_s4 >/dev/null

# Router restart: sessions come back and routes are re-sent.
bird_restart
check "after bird_restart the session from n1 is back" bird_wait_state n1_4 Established 15
check "and n1's routes are re-sent" bird_wait_route 10.1.0.5/32 1
bird_sender_stop s1

# TCP-MD5.
bird_stop
bird_start -n n1 -f 4 -m s3cret
bird_sender_start s1 n1 192.0.2.11 2001:db8:77::11 64512 "$BIRD_DIR/routes1" -m s3cret
check "TCP-MD5: a session with the right password comes up" bird_wait_state n1_4 Established
check "TCP-MD5: routes arrive" bird_wait_route 10.1.0.5/32 1
bird_sender_stop s1
bird_sender_start s1 n1 192.0.2.11 2001:db8:77::11 64512 "$BIRD_DIR/routes1" -m wrong
check "TCP-MD5: a wrong password never gets a session (4 s)" not bird_wait_state n1_4 Established 4
check "TCP-MD5: still no session and no route with the wrong password" \
	test "$(bird_protocols | awk '$1 == "n1_4" { print $3 }')" != Established -a \
	-z "$(bird_routes 10.1.0.5/32)"
bird_sender_stop s1

# Graceful restart: the router keeps the routes of a sender that dies, until it is back.
bird_stop
bird_start -n n1 -f 4 -g -G 30
bird_sender_start s1 n1 192.0.2.11 2001:db8:77::11 64512 "$BIRD_DIR/routes1" -g
check "graceful restart: session up" bird_wait_state n1_4 Established
check "graceful restart: route there" bird_wait_route 10.1.0.5/32 1
_bird_kill s1 KILL
sleep 2
check "graceful restart: the route stays 2 s after the sender was killed" \
	test -n "$(bird_routes 10.1.0.5/32)"
bird_sender_start s1 n1 192.0.2.11 2001:db8:77::11 64512 "$BIRD_DIR/routes1" -g
check "graceful restart: the sender is back" bird_wait_state n1_4 Established
check "graceful restart: the route is still there" test -n "$(bird_routes 10.1.0.5/32)"
bird_sender_stop s1
# Twin: a sender without graceful restart that dies takes its routes with it at once.
bird_sender_start s1 n1 192.0.2.11 2001:db8:77::11 64512 "$BIRD_DIR/routes1"
bird_wait_route 10.1.0.5/32 1
_bird_kill s1 KILL
check "without graceful restart on the sender, its death withdraws the route" \
	bird_wait_no_route 10.1.0.5/32 2

# The baseline sender on the bird2 host.
bird_stop
bird_start -n n1 -f 4
bird2_up
bird_gen_routes 1000 10.128.0.0 >"$BIRD_DIR/r1000"
check "bird_gen_routes writes 1000 routes, first and last right" \
	test "$(head -1 "$BIRD_DIR/r1000") $(tail -1 "$BIRD_DIR/r1000") $(grep -c . "$BIRD_DIR/r1000")" = \
	"10.128.0.0/32 10.128.3.231/32 1000"
bird_sender_start bird2 bird2 "$BIRD2_IP4" "$BIRD2_IP6" "$BIRD2_ASN" "$BIRD_DIR/r1000"
check "bird2 session is Established" bird_wait_state bird2_4 Established
t=0
while [ "$(bird_imported bird2_4)" != 1000 ] && [ $t -lt 200 ]; do sleep 0.05; t=$((t + 1)); done
check "the router holds bird2's 1000 routes" test "$(bird_imported bird2_4)" = 1000
bird_sender_cmd bird2 disable bird2_s4 >/dev/null
t=0
while [ "$(bird_imported bird2_4)" != 0 ] && [ $t -lt 200 ]; do sleep 0.05; t=$((t + 1)); done
check "withdrawn: the router holds none" test "$(bird_imported bird2_4)" = 0

cleanup
trap - EXIT
check "no namespace of the test is left" test -z "$(ip netns list | awk '{print $1}' | grep "^$RIG-")"
check "no BIRD of the test is left" test -z "$(pgrep -f "$BIRD_DIR" 2>/dev/null)"
check "the work directory is gone" test ! -e "$BIRD_DIR"
tap_end
