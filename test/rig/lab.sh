# SPDX-License-Identifier: Apache-2.0
# The barelb lab on top of the rig (rig.sh): a state directory (the dir: source), a controller, a
# speaker on every node. Shared by `make demo` and the end-to-end tests. Source it; needs root.
#   LAB_BIN   directory of the binaries (bin/ for the demo, build/asan/bin for tests)
#   LAB       work directory (state/, config.yaml, logs); made by lab_up
. "$(dirname "${BASH_SOURCE[0]}")/rig.sh"

LAB_POOL4=${LAB_POOL4:-192.0.2.200-192.0.2.207}
LAB_POOL6=${LAB_POOL6:-2001:db8:77::200/125}
LAB_PIDS=""

lab_config() {
	cat >"$LAB/config.yaml" <<YAML
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: lan
spec:
  addresses: ["$LAB_POOL4", "$LAB_POOL6"]
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata:
  name: lan
spec:
  ipAddressPools: [lan]
YAML
}

# lab_up NODES: rig, state directory with the Node objects, controller, speakers.
lab_up() {
	local nodes=${1:-3} i
	LAB=${LAB:-$(mktemp -d /tmp/barelb-lab.XXXXXX)}
	mkdir -p "$LAB/state"
	rig_up "$nodes" || return 1
	lab_config
	for i in $(seq 1 "$nodes"); do
		printf 'apiVersion: v1\nkind: Node\nmetadata:\n  name: n%s\n  labels: {kubernetes.io/hostname: n%s}\n' \
			"$i" "$i" >"$LAB/state/node-n$i.yaml"
	done
	"$LAB_BIN/barelb-controller" --config "$LAB/config.yaml" --source "dir:$LAB/state" \
		--control "$LAB/controller.sock" --metrics "${LAB_CTL_METRICS:-off}" \
		${LAB_LOGLEVEL:+--log-level $LAB_LOGLEVEL} >"$LAB/controller.log" 2>&1 &
	LAB_PIDS="$LAB_PIDS $!"
	for i in $(seq 1 "$nodes"); do
		lab_speaker_start "n$i"
	done
}

lab_speaker_start() {
	local n=$1
	# Not through rig_exec: `func &` would fork a subshell and $! would not be the speaker.
	ip netns exec "$(rig_ns "$n")" "$LAB_BIN/barelb-speaker" --node "$n" --config "$LAB/config.yaml" \
		--source "dir:$LAB/state" ${LAB_LOGLEVEL:+--log-level $LAB_LOGLEVEL} \
		--control "$LAB/$n.sock" \
		${LAB_SPEAKER_ARGS:-} >>"$LAB/$n.log" 2>&1 &
	echo $! >"$LAB/$n.pid"
	disown $! 2>/dev/null
	LAB_PIDS="$LAB_PIDS $!"
}

lab_speaker_pid() { cat "$LAB/$1.pid" 2>/dev/null; }

lab_down() {
	local p
	for p in $LAB_PIDS; do kill -TERM "$p" 2>/dev/null; done
	sleep 0.2
	for p in $LAB_PIDS; do kill -9 "$p" 2>/dev/null; done
	LAB_PIDS=""
	rig_down
	[ -n "${LAB:-}" ] && [ -z "${LAB_KEEP:-}" ] && rm -rf "$LAB" /tmp/"$RIG"-pod-*
	return 0
}

# lab_service NAME APP PORT TARGETPORT ETP [extra spec lines]: a LoadBalancer Service selecting
# app=APP.
lab_service() {
	local name=$1 app=$2 port=$3 tport=$4 etp=$5
	cat >"$LAB/state/svc-$name.yaml" <<YAML
apiVersion: v1
kind: Service
metadata:
  name: $name
  namespace: default
spec:
  type: LoadBalancer
  clusterIPs: [10.96.0.$((RANDOM % 200 + 10))]
  externalTrafficPolicy: $etp
  selector: {app: $app}
  ports: [{port: $port, targetPort: $tport, protocol: TCP}]
${6:-}
YAML
}

# lab_pod POD APP NODE PORT: the pod's namespace behind NODE, a web server, and its manifest.
lab_pod() {
	local pod=$1 app=$2 node=$3 port=$4 ip
	ip=$(rig_pod_add "$pod" "$node") || return 1
	rig_pod_http "$pod" "$port" >/dev/null
	cat >"$LAB/state/pod-$pod.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: $pod
  namespace: default
  labels: {app: $app}
spec:
  nodeName: $node
  containers: [{name: web, ports: [{containerPort: $port}]}]
status:
  podIP: $ip
  conditions: [{type: Ready, status: "True"}]
YAML
	echo "$ip"
}

lab_pod_del() {
	rm -f "$LAB/state/pod-$1.yaml"
	rig_pod_del "$1"
}

# lab_wait_ip NAME [TIMEOUT_S]: print the first ingress IP the controller wrote for default/NAME.
lab_wait_ip() {
	local f="$LAB/state/status/default/$1.json" t=$(( ${2:-5} * 20 ))
	while [ "$t" -gt 0 ]; do
		if [ -s "$f" ]; then
			/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["status"]["loadBalancer"]["ingress"][0]["ip"])' "$f" 2>/dev/null && return 0
		fi
		sleep 0.05
		t=$((t - 1))
	done
	return 1
}

# lab_mac_owner MAC: which node has this MAC on eth0.
lab_mac_owner() {
	local n mac=${1,,}
	for n in $(ip netns list | awk '{print $1}' | grep -E "^$RIG-n[0-9]+$"); do
		[ "$(ip netns exec "$n" cat /sys/class/net/eth0/address)" = "$mac" ] && echo "${n#"$RIG"-}" && return 0
	done
	echo none
}

# lab_arp_macs IP [COUNT]: the distinct MACs that answered COUNT ARP probes from the client.
lab_arp_macs() {
	rig_exec client arping -c "${2:-3}" -w 2 -I eth0 "$1" 2>/dev/null |
		grep -Eo 'from ([0-9a-f]{2}:){5}[0-9a-f]{2}' | awk '{print $2}' | sort -u
}

# lab_wait_arp_owner IP NODE [TIMEOUT_S]: until NODE (or "none") is what answers ARP for IP.
lab_wait_arp_owner() {
	local ip=$1 want=$2 t=$(( ${3:-5} * 4 )) macs who
	while [ "$t" -gt 0 ]; do
		macs=$(rig_exec client arping -c 1 -w 0.25 -I eth0 "$ip" 2>/dev/null |
			grep -Eo 'from ([0-9a-f]{2}:){5}[0-9a-f]{2}' | awk '{print $2}' | sort -u)
		who=none
		[ -n "$macs" ] && who=$(lab_mac_owner "$macs")
		[ "$who" = "$want" ] && return 0
		t=$((t - 1))
	done
	return 1
}
