#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The barelb test rig: network namespaces on one machine, nothing on the host's own interfaces.
#
#   LAN  (namespace $RIG-lan): bridge br0, STP off, forward_delay 0, multicast snooping off (so NDP
#        multicast is flooded), one port per host below.
#   n1..nN  nodes: eth0 = 192.0.2.1N/24, 2001:db8:77::1N/64 (each runs a speaker)
#   client  eth0 = 192.0.2.100/24, 2001:db8:77::100/64 (arping, ndisc6, curl)
#   router  eth0 = 192.0.2.254/24, 2001:db8:77::fe/64 (BIRD, when a test starts it)
#   pods    a namespace per pod behind its node: 10.244.N.K/24 on the node's "p-POD" veth; the node
#           DNATs LB-IP:port to pod:targetPort with nftables (standing in for kube-proxy).
# Addresses are documentation ranges (RFC 5737, RFC 3849) and never leave the namespaces.
#
# Use as a library (source it, then rig_up / rig_down ...) or as a command:
#   rig.sh up [NODES]   rig.sh down   rig.sh exec HOST CMD...
# RIG (default "blb") prefixes every namespace name, so two rigs can coexist.
set -u
RIG=${RIG:-blb}
RIG_LAN4=192.0.2
RIG_LAN6=2001:db8:77
RIG_NODES=${RIG_NODES:-3}

rig_ns() { echo "$RIG-$1"; }
rig_exec() { local h=$1; shift; ip netns exec "$(rig_ns "$h")" "$@"; }
rig_node_ip4() { echo "$RIG_LAN4.1${1#n}"; }
rig_node_ip6() { echo "$RIG_LAN6::1${1#n}"; }
rig_mac() { rig_exec "$1" cat /sys/class/net/eth0/address; }

# Quiet IPv6 on a host: no DAD (RIG-NOTES: an address is unusable for ~2 s otherwise), no RAs.
_rig_sysctl() {
	local ns=$1
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 \
		net.ipv6.conf.default.dad_transmits=0 >/dev/null 2>&1
}

# rig_host NAME IPV4 IPV6: a namespace with eth0 on the LAN bridge.
rig_host() {
	local name=$1 ip4=$2 ip6=$3 ns lan
	ns=$(rig_ns "$name")
	lan=$(rig_ns lan)
	ip netns add "$ns" || return 1
	_rig_sysctl "$ns"
	ip -n "$ns" link set lo up
	ip link add eth0 netns "$ns" type veth peer name "$name" netns "$lan" || return 1
	ip -n "$lan" link set "$name" master br0 up
	ip -n "$ns" addr add "$ip4/24" dev eth0
	ip -n "$ns" addr add "$ip6/64" dev eth0 nodad
	ip -n "$ns" link set eth0 up
}

rig_up() {
	local nodes=${1:-$RIG_NODES} lan i
	rig_down 2>/dev/null
	lan=$(rig_ns lan)
	ip netns add "$lan" || return 1
	_rig_sysctl "$lan"
	ip -n "$lan" link set lo up
	ip -n "$lan" link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0 || return 1
	ip -n "$lan" link set br0 up
	for i in $(seq 1 "$nodes"); do
		rig_host "n$i" "$(rig_node_ip4 "n$i")" "$(rig_node_ip6 "n$i")" || return 1
		# Nodes route pod traffic (DNAT to pods behind them).
		rig_exec "n$i" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	done
	rig_host client "$RIG_LAN4.100" "$RIG_LAN6::100" || return 1
	rig_host router "$RIG_LAN4.254" "$RIG_LAN6::fe" || return 1
	echo "$nodes" >"/run/$RIG-rig.nodes"
}

# Kill everything running inside the rig's namespaces, then delete them. Safe to call twice.
rig_down() {
	local ns pids
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$RIG-"); do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		[ -n "$pids" ] && kill -9 $pids 2>/dev/null
	done
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$RIG-"); do
		ip netns del "$ns" 2>/dev/null
	done
	rm -f "/run/$RIG-rig.nodes"
	return 0
}

# rig_pod_add POD NODE: a pod namespace behind NODE with IP 10.244.<node>.<k>; prints the IP.
rig_pod_add() {
	local pod=$1 node=$2 n k ip ns nns
	n=${node#n}
	ns=$(rig_ns "pod-$pod")
	nns=$(rig_ns "$node")
	k=$(( $(ip netns list | grep -c "^$RIG-pod-") + 2 ))
	ip="10.244.$n.$k"
	ip netns add "$ns" || return 1
	ip -n "$ns" link set lo up
	ip link add eth0 netns "$ns" type veth peer name "p-$pod" netns "$nns" || return 1
	ip -n "$ns" addr add "$ip/24" dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$ns" route add default via "10.244.$n.1"
	ip -n "$nns" addr add "10.244.$n.1/24" dev "p-$pod" 2>/dev/null
	ip -n "$nns" link set "p-$pod" up
	echo "$ip"
}

rig_pod_del() {
	local pod=$1 ns
	ns=$(rig_ns "pod-$pod")
	pids=$(ip netns pids "$ns" 2>/dev/null)
	[ -n "$pids" ] && kill -9 $pids 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	return 0
}

# rig_pod_http POD PORT: a tiny HTTP server in the pod answering "pod=POD".
rig_pod_http() {
	local pod=$1 port=$2 dir
	dir=$(mktemp -d "/tmp/$RIG-pod-$pod.XXXX")
	echo "pod=$pod" >"$dir/index.html"
	ip netns exec "$(rig_ns "pod-$pod")" /usr/bin/python3 -m http.server "$port" --bind 0.0.0.0 \
		--directory "$dir" >/dev/null 2>&1 &
	echo $!
	disown $! 2>/dev/null
}

# rig_dnat NODE LBIP PORT PODIP TARGETPORT: kube-proxy's job for one service port on one node.
rig_dnat() {
	local node=$1 lbip=$2 port=$3 podip=$4 tport=$5
	rig_exec "$node" nft -f - <<NFT
table ip barelb_rig {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		ip daddr $lbip tcp dport $port dnat to $podip:$tport
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ip daddr 10.244.0.0/16 masquerade
	}
}
NFT
}

rig_dnat_flush() { rig_exec "$1" nft delete table ip barelb_rig 2>/dev/null; return 0; }

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	case "${1:-}" in
	up) rig_up "${2:-$RIG_NODES}" && echo "rig $RIG up" ;;
	down) rig_down && echo "rig $RIG down" ;;
	exec) shift; rig_exec "$@" ;;
	*) echo "usage: $0 up [NODES] | down | exec HOST CMD..." >&2; exit 2 ;;
	esac
fi
