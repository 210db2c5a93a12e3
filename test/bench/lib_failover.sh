# SPDX-License-Identifier: Apache-2.0
# Helpers shared by test/rig/test_failover.sh and test/bench/failover.sh: an ARP prober with
# kernel receive timestamps and its analyser, a TCP forwarder that makes the fake API (on the
# host's 127.0.0.1) reachable as 127.0.0.1 inside node namespaces, the expected L2 owner, and the
# data path that makes an LB IP answer ping and TCP (DNAT on every node to one pod).
# Source it after test/rig/lab.sh. Needs root. Writes its tools into $1 of fo_tools.

# fo_tools DIR: writes DIR/prober.py and DIR/nsfwd.py (run them with /usr/bin/python3).
fo_tools() {
	local d=$1
	mkdir -p "$d" || return 1
	cat >"$d/prober.py" <<'PY'
# ARP prober: every INTERVAL ms, one ARP request per IP from the client's eth0; every ARP frame
# that claims one of the IPs (reply or gratuitous) is logged with its kernel receive time.
#   prober.py run IFACE MYIP INTERVAL_MS DURATION_S OUT IP...
#     OUT lines: "S us ip" (sent), "R us ip mac" (reply), "G us ip mac" (gratuitous)
#   prober.py an OUT IP FROM_US TO_US WHAT [MAC]
#     WHAT: gap (ms, longest time without a reply, window edges included), macs, sent,
#           count MAC (replies from MAC), first MAC (us of first reply/GARP from MAC, or -1),
#           last MAC (us of the last reply from MAC, or -1), dual (probes answered by 2+ MACs),
#           lost (probes sent in the window without a reply before the next probe: unlike gap,
#           not inflated when the prober itself is descheduled), outage (ms, the longest run of
#           unanswered probes, from the first of them to the next answered probe)
import os, select, signal, socket, struct, sys, time
SO_TIMESTAMPNS = 35  # Linux; Python's socket module lacks the name

def mac_s(b): return ":".join("%02x" % x for x in b)

def run(iface, myip, interval_ms, dur_s, out, ips):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
    s.bind((iface, 0x0806))
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    mymac = bytes.fromhex(open("/sys/class/net/%s/address" % iface).read().strip().replace(":", ""))
    me = socket.inet_aton(myip)
    want = {socket.inet_aton(ip): ip for ip in ips}
    frames = [(ip, b"\xff" * 6 + mymac + b"\x08\x06" +
               struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mymac + me + b"\0" * 6 + a)
              for a, ip in want.items()]
    f = open(out, "w", buffering=1 << 16)
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    signal.signal(signal.SIGINT, lambda *a: stop.append(1))
    end = time.monotonic() + dur_s
    nxt = time.monotonic()
    iv = interval_ms / 1000.0
    open(out + ".ready", "w").close()
    while not stop and time.monotonic() < end:
        now = time.monotonic()
        if now >= nxt:
            for ip, fr in frames:
                # the time before the send: a reply can be stamped before send() returns
                f.write("S %d %s\n" % (time.time_ns() // 1000, ip))
                s.send(fr)
            nxt += iv
            if nxt < now:
                nxt = now + iv
        try:
            r, _, _ = select.select([s], [], [], max(0.0, nxt - time.monotonic()))
        except InterruptedError:
            continue
        while r:
            try:
                data, anc, _, _ = s.recvmsg(2048, 64, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                break
            ts = time.time_ns() // 1000
            for lvl, typ, val in anc:
                if lvl == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS:
                    sec, ns = struct.unpack("qq", val[:16])
                    ts = sec * 1000000 + ns // 1000
            if len(data) < 42 or data[12:14] != b"\x08\x06":
                continue
            op = struct.unpack("!H", data[20:22])[0]
            sha, spa, tpa = data[22:28], data[28:32], data[38:42]
            if spa not in want or sha == mymac:
                continue
            if spa == tpa:
                f.write("G %d %s %s\n" % (ts, want[spa], mac_s(sha)))
            elif op == 2:
                f.write("R %d %s %s\n" % (ts, want[spa], mac_s(sha)))
    f.close()

def an(out, ip, t0, t1, what, mac=None):
    sends, reps, garps = [], [], []
    for line in open(out):
        p = line.split()
        if len(p) < 3 or p[2] != ip:
            continue
        t = int(p[1])
        if p[0] == "S":
            sends.append(t)
        elif p[0] == "R":
            reps.append((t, p[3]))
        elif p[0] == "G":
            garps.append((t, p[3]))
    win = [(t, m) for t, m in reps if t0 <= t <= t1]
    if what == "gap":
        ts = [t0] + [t for t, _ in win] + [t1]
        print("%d" % (max(b - a for a, b in zip(ts, ts[1:])) // 1000))
    elif what == "macs":
        print(" ".join(sorted(set(m for _, m in win))))
    elif what == "sent":
        print(len([t for t in sends if t0 <= t <= t1]))
    elif what == "count":
        print(len([1 for _, m in win if m == mac]))
    elif what == "first":
        c = sorted(t for t, m in reps + garps if m == mac and t0 <= t <= t1)
        print(c[0] if c else -1)
    elif what == "last":
        c = [t for t, m in win if m == mac]
        print(c[-1] if c else -1)
    elif what in ("lost", "outage"):
        import bisect
        sends.sort()
        rt = sorted(t for t, _ in reps)
        n, run0, worst = 0, None, 0
        for k, t in enumerate(sends):
            if not t0 <= t <= t1:
                continue
            end = sends[k + 1] if k + 1 < len(sends) else t + 100000
            j = bisect.bisect_left(rt, t)
            if j >= len(rt) or rt[j] >= end:
                n += 1
                if run0 is None:
                    run0 = t
            elif run0 is not None:
                worst, run0 = max(worst, t - run0), None
        if run0 is not None:
            worst = max(worst, t1 - run0)
        print(n if what == "lost" else worst // 1000)
    elif what == "dual":
        import bisect
        sends.sort()
        per = {}
        for t, m in win:
            i = bisect.bisect_right(sends, t) - 1
            per.setdefault(i, set()).add(m)
        print(len([1 for v in per.values() if len(v) > 1]))

if __name__ == "__main__":
    a = sys.argv[1:]
    if a[0] == "run":
        run(a[1], a[2], float(a[3]), float(a[4]), a[5], a[6:])
    else:
        an(a[1], a[2], int(a[3]), int(a[4]), a[5], a[6] if len(a) > 6 else None)
PY
	cat >"$d/nsfwd.py" <<'PY'
# nsfwd.py PORT READYFILE NETNS...: listens on 127.0.0.1:PORT inside each named network namespace
# and relays every connection to 127.0.0.1:PORT of the namespace it was started in (the fake API).
# Sockets keep the namespace they were made in, so one thread does it all.
import ctypes, os, selectors, signal, socket, sys
libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000
port, ready, names = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
host = os.open("/proc/self/ns/net", os.O_RDONLY)
sel = selectors.DefaultSelector()
for n in names:
    fd = os.open("/run/netns/" + n, os.O_RDONLY)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        sys.exit("setns %s: %s" % (n, os.strerror(ctypes.get_errno())))
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(64)
    ls.setblocking(False)
    sel.register(ls, selectors.EVENT_READ, ("listen", None))
    os.close(fd)
libc.setns(host, CLONE_NEWNET)
open(ready, "w").close()
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
peer = {}
def close(s):
    o = peer.pop(s, None)
    for x in (s, o):
        if x is None:
            continue
        try:
            sel.unregister(x)
        except (KeyError, ValueError):
            pass
        peer.pop(x, None)
        x.close()
while True:
    for key, _ in sel.select():
        s = key.fileobj
        if key.data[0] == "listen":
            try:
                c, _ = s.accept()
            except OSError:
                continue
            u = socket.socket()
            u.settimeout(1)
            try:
                u.connect(("127.0.0.1", port))
            except OSError:
                u.close(); c.close(); continue
            for x in (c, u):
                x.setblocking(False)
                x.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sel.register(x, selectors.EVENT_READ, ("relay", None))
            peer[c], peer[u] = u, c
        else:
            try:
                b = s.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                b = b""
            if not b:
                close(s)
                continue
            try:
                peer[s].setblocking(True)
                peer[s].sendall(b)
                peer[s].setblocking(False)
            except (OSError, KeyError):
                close(s)
PY
}

# fo_expected_owner IP NODES...: MetalLB's order, lowest sha256(node#ip) first.
fo_expected_owner() {
	local ip=$1 n best="" bh="" h
	shift
	for n in "$@"; do
		h=$(printf '%s#%s' "$n" "$ip" | sha256sum | cut -c1-64)
		if [ -z "$bh" ] || [[ "$h" < "$bh" ]]; then bh=$h best=$n; fi
	done
	echo "$best"
}

fo_now_us() { echo $(( $(date +%s%N) / 1000 )); }

# fo_datapath PODNODE PODIP TPORT NODES -- LBIP:PORT...: every node DNATs ICMP echo and the TCP port
# of each LB IP to the pod, routes to the pod's subnet via the pod's node, and masquerades.
fo_datapath() {
	local podnode=$1 podip=$2 tport=$3 n rules="" a lbip port nodes=()
	shift 3
	while [ $# -gt 0 ] && [ "$1" != -- ]; do nodes+=("$1"); shift; done
	shift
	for a in "$@"; do
		lbip=${a%:*} port=${a#*:}
		rules="$rules
		ip daddr $lbip icmp type echo-request dnat to $podip
		ip daddr $lbip tcp dport $port dnat to $podip:$tport"
	done
	for n in "${nodes[@]}"; do
		rig_exec "$n" nft delete table ip barelb_fo 2>/dev/null
		rig_exec "$n" nft -f - <<NFT || return 1
table ip barelb_fo {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;$rules
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ip daddr 10.244.0.0/16 masquerade
	}
}
NFT
	done
	fo_routes "$podnode" "${nodes[@]}"
}

# fo_routes PODNODE NODES...: (again) the route to the pod subnet on every other node.
fo_routes() {
	local podnode=$1 n
	shift
	for n in "$@"; do
		[ "$n" = "$podnode" ] && continue
		rig_exec "$n" ip route replace "10.244.${podnode#n}.0/24" via "$(rig_node_ip4 "$podnode")"
	done
	return 0
}

# fo_block NODE IP / fo_unblock NODE: the node stops forwarding traffic for IP (ARP untouched).
fo_block() {
	rig_exec "$1" nft -f - <<NFT
table ip barelb_fo_block {
	chain pre {
		type filter hook prerouting priority raw; policy accept;
		ip daddr $2 drop
	}
}
NFT
}
fo_unblock() { rig_exec "$1" nft delete table ip barelb_fo_block 2>/dev/null; return 0; }

# fo_port NODE up|down: the node's port on the LAN bridge (down: the node is gone from the LAN).
fo_port() { ip -n "$(rig_ns lan)" link set "$1" "$2"; }
