# SPDX-License-Identifier: Apache-2.0
# BIRD 2 in the rig (source it after setting RIG; it sources rig.sh): the router's BGP side, and
# BIRD senders (a "bird2" host at 192.0.2.250 for the benchmark baseline, or BIRDs on the nodes
# standing in for speakers). Every BIRD runs in the foreground (-f) in its namespace with its own
# config, control socket and pid file under $BIRD_DIR; nothing touches the host's own BIRD.
#
# Router (namespace $RIG-router, 192.0.2.254 / 2001:db8:77::fe):
#   bird_start [-a ASN] [-p ASN] [-P NODE=ASN]... [-n "n1 n2"] [-f 4|6|46] [-m PASSWORD] [-g]
#              [-G SECONDS] [-H HOLD] [-A]
#       -a router ASN (default 64512)       -p ASN of every node (default: the router's: iBGP)
#       -P one node's ASN (eBGP and iBGP mixed)   -n nodes (default: n1..n<rig nodes>)
#       -f families: neighbours over IPv4, IPv6 or both (default 46)
#       -m TCP-MD5 password                 -g graceful restart on (default off)
#       -G graceful restart time (default 120)    -H hold time (default: BIRD's 240)
#       -A active: the router also connects (default passive: the speakers connect)
#     Neighbour protocols are named n1_4, n1_6, ... and bird2_4 (192.0.2.250, AS 64600, always
#     there, passive). Routes are imported into master4/master6 (import all, export none); no
#     kernel protocol, so nothing reaches a kernel routing table.
#   bird_routes [PREFIX]        one line per path: "PREFIX NEXTHOP LOCALPREF COMMUNITIES LARGE"
#                               ("-" for an absent attribute; communities "65000:1,65000:2",
#                               large "1:2:3,4:5:6"); sorted
#   bird_wait_route PREFIX [N] [TIMEOUT_S]   until PREFIX has exactly N paths (default: at least 1)
#   bird_wait_no_route PREFIX [TIMEOUT_S]    until PREFIX is gone
#   bird_protocols              "NAME STATE INFO" per BGP protocol (INFO: Established, Active, ...)
#   bird_wait_state PROTO INFO [TIMEOUT_S]   until that protocol's INFO column is INFO
#   bird_imported PROTO         routes the router imported from PROTO
#   bird_cmd ARGS...            birdc on the router's socket
#   bird_restart [-9]           stop (SIGTERM, or SIGKILL) and start with the same config
#   bird_stop                   stop the router's BIRD
# Senders:
#   bird_sender_start NAME HOST IP4 IP6 ASN ROUTES [-m PASSWORD] [-g] [-d]
#       a BIRD in namespace $RIG-HOST announcing the static routes of file ROUTES to the router
#       (IPv4 session for IPv4 routes, IPv6 session for IPv6 ones). ROUTES has one route a line:
#       "PREFIX [BIRD filter statements]", e.g.
#       "10.1.0.5/32 bgp_local_pref = 200; bgp_community.add((65000,1));". -d: the BGP
#       protocols start disabled (enable them with bird_sender_cmd NAME enable NAME_4).
#   bird_sender_cmd NAME ARGS...   birdc on that sender's socket
#   bird_sender_stop NAME
#   bird2_up                    the bird2 host on the LAN (192.0.2.250, 2001:db8:77::fa)
#   bird_gen_routes N BASE4     N /32 routes from BASE4 upwards, in the ROUTES format
# bird_down stops every BIRD this file started and removes $BIRD_DIR (rig_down does the
# namespaces). Timeouts: every wait is bounded (default $BIRD_WAIT_S, 10 s).
. "$(dirname "${BASH_SOURCE[0]}")/rig.sh"

BIRD_DIR=${BIRD_DIR:-/tmp/$RIG-bird}
BIRD_WAIT_S=${BIRD_WAIT_S:-10}
BIRD_ROUTER_ASN=64512
BIRD2_IP4=192.0.2.250
BIRD2_IP6=2001:db8:77::fa
BIRD2_ASN=64600

_bird_sock() { echo "$BIRD_DIR/$1.ctl"; }

# _bird_launch NAME HOST: start bird for $BIRD_DIR/NAME.conf in HOST's namespace, wait until its
# socket answers.
_bird_launch() {
	local name=$1 host=$2 sock t
	sock=$(_bird_sock "$name")
	rm -f "$sock"
	# Not through rig_exec: `func &` would fork a subshell and $! would not be BIRD's pid.
	ip netns exec "$(rig_ns "$host")" bird -f -c "$BIRD_DIR/$name.conf" -s "$sock" \
		-P "$BIRD_DIR/$name.pid" >>"$BIRD_DIR/$name.log" 2>&1 &
	echo $! >"$BIRD_DIR/$name.bgpid"
	disown $! 2>/dev/null
	t=$((BIRD_WAIT_S * 50))
	while [ "$t" -gt 0 ]; do
		birdc -s "$sock" show status 2>/dev/null | grep -q "Daemon is up and running" && return 0
		kill -0 "$(cat "$BIRD_DIR/$name.bgpid")" 2>/dev/null || break
		sleep 0.02
		t=$((t - 1))
	done
	echo "bird.sh: BIRD $name did not come up; log:" >&2
	tail -5 "$BIRD_DIR/$name.log" >&2
	return 1
}

# _bird_kill NAME [SIGNAL]: stop one BIRD and wait (bounded) until it is gone.
_bird_kill() {
	local name=$1 sig=${2:-TERM} pid t
	pid=$(cat "$BIRD_DIR/$name.bgpid" 2>/dev/null) || return 0
	[ -n "$pid" ] || return 0
	kill -"$sig" "$pid" 2>/dev/null
	t=$((BIRD_WAIT_S * 50))
	while kill -0 "$pid" 2>/dev/null && [ "$t" -gt 0 ]; do
		sleep 0.02
		t=$((t - 1))
	done
	kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
	rm -f "$BIRD_DIR/$name.bgpid" "$(_bird_sock "$name")"
	return 0
}

_bird_nodes_default() {
	local n
	n=$(cat "/run/$RIG-rig.nodes" 2>/dev/null || echo "$RIG_NODES")
	seq -f 'n%g' 1 "$n" | tr '\n' ' '
}

bird_start() {
	local asn=$BIRD_ROUTER_ASN peer_asn="" nodes="" fam=46 pw="" gr=0 grt=120 hold="" passive=1
	local overrides="" opt node a ip proto f
	OPTIND=1
	while getopts "a:p:P:n:f:m:gG:H:A" opt; do
		case $opt in
		a) asn=$OPTARG ;;
		p) peer_asn=$OPTARG ;;
		P) overrides="$overrides $OPTARG" ;;
		n) nodes=$OPTARG ;;
		f) fam=$OPTARG ;;
		m) pw=$OPTARG ;;
		g) gr=1 ;;
		G) grt=$OPTARG ;;
		H) hold=$OPTARG ;;
		A) passive=0 ;;
		*) echo "bird_start: bad option" >&2; return 2 ;;
		esac
	done
	BIRD_ROUTER_ASN=$asn
	[ -n "$peer_asn" ] || peer_asn=$asn
	[ -n "$nodes" ] || nodes=$(_bird_nodes_default)
	mkdir -p "$BIRD_DIR"
	{
		echo "# generated by test/rig/bird.sh"
		echo "router id $RIG_LAN4.254;"
		echo "log stderr all;"
		[ -n "${BIRD_DEBUG:-}" ] && echo "debug protocols { states, events };"
		echo "protocol device { scan time 10; }"
		[ -n "${BIRD_DEBUG:-}" ] && echo "debug protocols { states, events };"
		# Common settings of every neighbour. direct: the nodes are on the LAN, so
		# iBGP next hops need no IGP to resolve.
		echo "template bgp node {"
		echo "  local as $asn; direct;"
		[ "$passive" = 1 ] && echo "  passive on;"
		echo "  connect delay time 1; connect retry time 1; error wait time 1, 5;"
		[ -n "$hold" ] && echo "  hold time $hold;"
		[ -n "$pw" ] && echo "  password \"$pw\";"
		if [ "$gr" = 1 ]; then
			echo "  graceful restart on; graceful restart time $grt;"
		else
			echo "  graceful restart off;"
		fi
		echo "}"
		for node in $nodes; do
			a=$peer_asn
			for o in $overrides; do [ "${o%%=*}" = "$node" ] && a=${o#*=}; done
			for f in 4 6; do
				case $fam in *$f*) ;; *) continue ;; esac
				if [ "$f" = 4 ]; then ip=$(rig_node_ip4 "$node"); else ip=$(rig_node_ip6 "$node"); fi
				proto="${node}_$f"
				echo "protocol bgp $proto from node {"
				if [ "$f" = 4 ]; then
					echo "  source address $RIG_LAN4.254;"
					echo "  neighbor $ip as $a;"
					echo "  ipv4 { import all; export none; };"
				else
					echo "  source address $RIG_LAN6::fe;"
					echo "  neighbor $ip as $a;"
					echo "  ipv6 { import all; export none; };"
				fi
				echo "}"
			done
		done
		echo "protocol bgp bird2_4 from node {"
		echo "  source address $RIG_LAN4.254;"
		echo "  neighbor $BIRD2_IP4 as $BIRD2_ASN;"
		echo "  ipv4 { import all; export none; };"
		echo "}"
	} >"$BIRD_DIR/router.conf"
	_bird_launch router router
}

bird_cmd() { birdc -s "$(_bird_sock router)" "$@"; }
bird_stop() { _bird_kill router TERM; }

bird_restart() {
	local sig=TERM
	[ "${1:-}" = "-9" ] && sig=KILL
	_bird_kill router "$sig"
	_bird_launch router router
}

# Parse `show route all` (BIRD 2.0) into one line per path. The first line of a network starts
# with the prefix; further paths of the same network start with blanks; attribute lines start
# with a tab.
_bird_parse_routes() {
	awk '
	function flush() {
		if (pfx != "" && have) {
			printf "%s %s %s %s %s\n", pfx, (nh == "" ? "-" : nh), (lp == "" ? "-" : lp),
				(c == "" ? "-" : c), (lc == "" ? "-" : lc)
		}
		have = 0; nh = ""; lp = ""; c = ""; lc = ""
	}
	/^Table / { flush(); pfx = ""; next }
	/^[0-9a-fA-F:.]+\/[0-9]+ / { flush(); pfx = $1; have = 1; next }
	/^ +[a-z]+ \[/ { flush(); have = 1; next }
	/^\tvia / { nh = $2; next }
	/^\tBGP\.next_hop: / { if (nh == "") nh = $2; next }
	/^\tBGP\.local_pref: / { lp = $2; next }
	/^\tBGP\.community: / {
		s = $0; sub(/^\tBGP\.community: /, "", s); gsub(/[()]/, "", s); gsub(/,/, ":", s)
		gsub(/ +/, ",", s); sub(/,$/, "", s); c = s; next
	}
	/^\tBGP\.large_community: / {
		s = $0; sub(/^\tBGP\.large_community: /, "", s)
		gsub(/, /, ":", s); gsub(/\) \(/, ",", s); gsub(/[()]/, "", s); lc = s; next
	}
	END { flush() }'
}

bird_routes() {
	if [ -n "${1:-}" ]; then
		bird_cmd show route for "$1" all 2>/dev/null | _bird_parse_routes | awk -v p="$1" '$1 == p' | sort
	else
		bird_cmd show route all 2>/dev/null | _bird_parse_routes | sort
	fi
}

# bird_wait_route PREFIX [N] [TIMEOUT_S]
bird_wait_route() {
	local pfx=$1 want=${2:-} t=$(( ${3:-$BIRD_WAIT_S} * 20 )) n
	while [ "$t" -gt 0 ]; do
		n=$(bird_routes "$pfx" | grep -c .)
		if [ -n "$want" ]; then [ "$n" -eq "$want" ] && return 0
		else [ "$n" -ge 1 ] && return 0; fi
		sleep 0.05
		t=$((t - 1))
	done
	return 1
}

bird_wait_no_route() { bird_wait_route "$1" 0 "${2:-$BIRD_WAIT_S}"; }

# "NAME STATE INFO" for every BGP protocol.
bird_protocols() {
	bird_cmd show protocols 2>/dev/null | awk '$2 == "BGP" { i = ""; for (k = 6; k <= NF; k++) i = i " " $k
		print $1, $4 (i == "" ? " -" : i) }'
}

bird_wait_state() {
	local proto=$1 want=$2 t=$(( ${3:-$BIRD_WAIT_S} * 20 ))
	while [ "$t" -gt 0 ]; do
		[ "$(bird_protocols | awk -v p="$proto" '$1 == p { print $3 }')" = "$want" ] && return 0
		sleep 0.05
		t=$((t - 1))
	done
	return 1
}

# Routes the router imported from PROTO (0 when the protocol is down).
bird_imported() {
	local n
	n=$(bird_cmd show protocols all "$1" 2>/dev/null | awk '/^ +Routes:/ { print $2; exit }')
	echo "${n:-0}"
}

# ---------- senders ----------

bird_gen_routes() {
	local n=$1 base=$2
	awk -v n="$n" -v base="$base" 'BEGIN {
		split(base, o, "."); v = ((o[1] * 256 + o[2]) * 256 + o[3]) * 256 + o[4]
		for (i = 0; i < n; i++) {
			x = v + i
			printf "%d.%d.%d.%d/32\n", int(x / 16777216) % 256, int(x / 65536) % 256,
				int(x / 256) % 256, x % 256
		}
	}'
}

# bird_sender_start NAME HOST IP4 IP6 ASN ROUTES [-m PASSWORD] [-g] [-d]
bird_sender_start() {
	local name=$1 host=$2 ip4=$3 ip6=$4 asn=$5 routes=$6 pw="" gr=0 dis=0 opt f
	shift 6
	OPTIND=1
	while getopts "m:gd" opt; do
		case $opt in
		m) pw=$OPTARG ;;
		g) gr=1 ;;
		d) dis=1 ;;
		*) echo "bird_sender_start: bad option" >&2; return 2 ;;
		esac
	done
	mkdir -p "$BIRD_DIR"
	{
		echo "# generated by test/rig/bird.sh"
		echo "router id $ip4;"
		echo "log stderr all;"
		echo "protocol device { scan time 10; }"
		[ -n "${BIRD_DEBUG:-}" ] && echo "debug protocols { states, events };"
		echo "protocol static ${name}_s4 { ipv4;"
		awk '$1 !~ /:/ { p = $1; $1 = ""; sub(/^ +/, "");
			if ($0 == "") printf "  route %s blackhole;\n", p
			else printf "  route %s blackhole { %s };\n", p, $0 }' "$routes"
		echo "}"
		echo "protocol static ${name}_s6 { ipv6;"
		awk '$1 ~ /:/ { p = $1; $1 = ""; sub(/^ +/, "");
			if ($0 == "") printf "  route %s blackhole;\n", p
			else printf "  route %s blackhole { %s };\n", p, $0 }' "$routes"
		echo "}"
		for f in 4 6; do
			echo "protocol bgp ${name}_$f {"
			[ "$dis" = 1 ] && echo "  disabled;"
			echo "  local as $asn; direct;"
			echo "  connect delay time 0; connect retry time 1; error wait time 1, 5;"
			[ -n "$pw" ] && echo "  password \"$pw\";"
			if [ "$gr" = 1 ]; then echo "  graceful restart on;"; else echo "  graceful restart off;"; fi
			if [ "$f" = 4 ]; then
				echo "  source address $ip4; neighbor $RIG_LAN4.254 as $BIRD_ROUTER_ASN;"
				echo "  ipv4 { import none; export all; next hop self; };"
			else
				echo "  source address $ip6; neighbor $RIG_LAN6::fe as $BIRD_ROUTER_ASN;"
				echo "  ipv6 { import none; export all; next hop self; };"
			fi
			echo "}"
		done
	} >"$BIRD_DIR/$name.conf"
	_bird_launch "$name" "$host"
}

bird_sender_cmd() { local name=$1; shift; birdc -s "$(_bird_sock "$name")" "$@"; }
bird_sender_stop() { _bird_kill "$1" TERM; }

bird2_up() {
	ip netns list | grep -q "^$(rig_ns bird2)\b" && return 0
	rig_host bird2 "$BIRD2_IP4" "$BIRD2_IP6"
}

bird_down() {
	local f
	for f in "$BIRD_DIR"/*.bgpid; do
		[ -e "$f" ] || continue
		_bird_kill "$(basename "$f" .bgpid)" KILL
	done
	[ -z "${BIRD_KEEP:-}" ] && rm -rf "$BIRD_DIR"
	return 0
}
