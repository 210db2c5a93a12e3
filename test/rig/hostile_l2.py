#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# hostile_l2: the hostile side of test_hostile_l2.sh, plain python3 (an AF_PACKET socket, no scapy).
#   hostile_l2.py flood IFACE SECONDS RATE OWNED4 OWNED6 UNOWNED4,... UNOWNED6,... VICTIM_MAC
#       sends malformed and hostile ARP/NDP frames in turn at RATE frames a second for SECONDS;
#       prints "sent N KIND=COUNT ..." at the end
#   hostile_l2.py check CAPTURE.txt NODE=MAC,IP4,IP6[,IP...] ... -- OWNED4 OWNED6 OWNER4 OWNER6
#       UNOWNED,...: reads `tcpdump -e -nn` text; prints one line per wrong answer found, then
#       "answers N wrong W"; exit 1 when W > 0
# The frames (RFC 826, RFC 4861 7.1.1, RFC 5227 2.4): truncated ARP, wrong hardware/protocol
# types and lengths, unknown op, ARP for unowned IPs, requests to another host's MAC and from the
# victim's own MAC, a gratuitous ARP request and reply claiming the owned IPv4 from a foreign MAC,
# an unsolicited NA claiming the owned IPv6, NS with a bad checksum, hop limit 64, a non-zero
# code, option lengths 0 and past the end, a payload length beyond the frame, a multicast target,
# NS for unowned IPv6, and frames of the largest size a veth passes (1514 bytes) for unowned IPs.
import re
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
FOREIGN = bytes.fromhex("02deadbeef01")
OTHER_HOST = bytes.fromhex("020000000099")
BC = b"\xff" * 6
MAX_FRAME = 1514  # MTU 1500 + Ethernet header: the largest frame a veth delivers


def mac(s):
    return bytes.fromhex(s.replace(":", ""))


def ip4(s):
    return socket.inet_pton(socket.AF_INET, s)


def ip6(s):
    return socket.inet_pton(socket.AF_INET6, s)


def arp(src, op=1, eth_dst=BC, sha=None, spa="192.0.2.100", tha=b"\0" * 6, tpa="192.0.2.200",
        htype=1, ptype=0x0800, hlen=6, plen=4):
    f = eth_dst + src + b"\x08\x06" + struct.pack("!HHBBH", htype, ptype, hlen, plen, op)
    return f + (sha or src) + ip4(spa) + tha + ip4(tpa)


def csum(s, d, msg):
    t = sum(struct.unpack("!8H", s)) + sum(struct.unpack("!8H", d)) + len(msg) + 58
    if len(msg) % 2:
        msg += b"\0"
    t += sum(struct.unpack("!%dH" % (len(msg) // 2), msg))
    while t >> 16:
        t = (t & 0xffff) + (t >> 16)
    return (~t) & 0xffff


def sol_node(t):
    return ip6("ff02::1:ff00:0")[:13] + t[13:16]


def icmp6(src, eth_src, s, d, msg, hop=255, bad_csum=False, plen=None, eth_dst=None):
    c = csum(s, d, msg) ^ (1 if bad_csum else 0)
    msg = msg[:2] + struct.pack("!H", c) + msg[4:]
    hdr = struct.pack("!IHBB", 6 << 28, len(msg) if plen is None else plen, 58, hop) + s + d
    return (eth_dst or b"\x33\x33" + d[12:16]) + eth_src + b"\x86\xdd" + hdr + msg


def ns(src, target, s="2001:db8:77::100", opts=None, code=0, **kw):
    t = ip6(target)
    if opts is None:
        opts = b"\x01\x01" + src
    msg = bytes([135, code]) + b"\0" * 6 + t + opts
    return icmp6(src, src, ip6(s), sol_node(t), msg, **kw)


def na(src, target, tlla):
    t = ip6(target)
    msg = bytes([136, 0]) + b"\0\0" + bytes([0x20, 0, 0, 0]) + t + b"\x02\x01" + tlla
    return icmp6(src, src, t, ip6("ff02::1"), msg)


def frames(cli, own4, own6, un4, un6, victim):
    fs = [
        ("arp-truncated", arp(cli, tpa=own4)[:30]),
        ("arp-hlen-8", arp(cli, tpa=own4, hlen=8)),
        ("arp-plen-16", arp(cli, tpa=own4, plen=16)),
        ("arp-htype-6", arp(cli, tpa=own4, htype=6)),
        ("arp-ptype-ipv6", arp(cli, tpa=own4, ptype=0x86dd)),
        ("arp-op-9", arp(cli, tpa=own4, op=9)),
        ("arp-to-other-host", arp(cli, tpa=own4, eth_dst=OTHER_HOST)),
        ("arp-from-victim-mac", arp(victim, tpa=own4)),
        ("garp-request-claim", arp(FOREIGN, spa=own4, tpa=own4)),
        ("garp-reply-claim", arp(FOREIGN, op=2, spa=own4, tpa=own4, tha=FOREIGN)),
        ("arp-reply-to-victim", arp(FOREIGN, op=2, eth_dst=victim, spa=own4, tha=victim,
                                    tpa="192.0.2.100")),
        ("na-claim", na(FOREIGN, own6, FOREIGN)),
        ("ns-bad-checksum", ns(cli, own6, bad_csum=True)),
        ("ns-hop-64", ns(cli, own6, hop=64)),
        ("ns-hop-254", ns(cli, own6, hop=254)),
        ("ns-code-1", ns(cli, own6, code=1)),
        ("ns-optlen-0", ns(cli, own6, opts=b"\x01\x00" + cli)),
        ("ns-optlen-past-end", ns(cli, own6, opts=b"\x01\x04" + cli)),
        ("ns-payload-beyond-frame", ns(cli, own6, plen=1400)),
        ("ns-target-multicast", ns(cli, "ff02::1")),
        ("ns-from-multicast", ns(cli, own6, s="ff02::2")),
    ]
    for u in un4:
        fs.append(("arp-unowned", arp(cli, tpa=u)))
        big = arp(cli, tpa=u)
        fs.append(("arp-unowned-1514", big + b"\xa5" * (MAX_FRAME - len(big))))
    for u in un6:
        fs.append(("ns-unowned", ns(cli, u)))
        # an unknown option of 178 units fills the payload; 4 bytes of Ethernet padding after it
        big = ns(cli, u, opts=b"\x01\x01" + cli + b"\x0e" + bytes([178]) + b"\0" * 1422)
        fs.append(("ns-unowned-1514", big + b"\0" * (MAX_FRAME - len(big))))
    big = arp(cli, tpa=own4, hlen=8)
    fs.append(("arp-bad-hlen-1514", big + b"\x5a" * (MAX_FRAME - len(big))))
    for name, f in fs:
        assert len(f) <= MAX_FRAME, name
    return fs


def flood(argv):
    iface, secs, rate = argv[0], float(argv[1]), float(argv[2])
    own4, own6 = argv[3], argv[4]
    un4 = [x for x in argv[5].split(",") if x]
    un6 = [x for x in argv[6].split(",") if x]
    victim = mac(argv[7])
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((iface, 0))
    cli = s.getsockname()[4][:6]
    fs = frames(cli, own4, own6, un4, un6, victim)
    counts = {}
    sent = errors = 0
    t0 = time.monotonic()
    end = t0 + secs
    while True:
        now = time.monotonic()
        if now >= end:
            break
        # send what is due by now, in batches (no busy wait)
        due = int((now - t0) * rate)
        while sent + errors < due:
            name, f = fs[(sent + errors) % len(fs)]
            try:
                s.send(f)
                sent += 1
                counts[name] = counts.get(name, 0) + 1
            except OSError:
                errors += 1
        time.sleep(0.002)
    print("sent %d errors %d %s" % (sent, errors,
          " ".join("%s=%d" % kv for kv in sorted(counts.items()))))
    return 0


ARP_REPLY = re.compile(r"^(?:\S+ )?([0-9a-f:]{17}) > ([0-9a-f:]{17}), ethertype ARP.*: Reply (\S+) is-at ([0-9a-f:]{17})")
ARP_REQ = re.compile(r"^(?:\S+ )?([0-9a-f:]{17}) > ([0-9a-f:]{17}), ethertype ARP.*: Request who-has (\S+) tell (\S+)")
NA = re.compile(r"^(?:\S+ )?([0-9a-f:]{17}) > ([0-9a-f:]{17}), ethertype IPv6.*neighbor advertisement, tgt is ([0-9a-f:.]+),")


def check(argv):
    cap = argv[0]
    i = argv.index("--")
    nodes = {}
    for spec in argv[1:i]:
        name, rest = spec.split("=", 1)
        parts = rest.split(",")
        nodes[parts[0].lower()] = (name, set(parts[1:]))
    own4, own6, owner4, owner6, unowned = argv[i + 1:i + 6]
    unowned = set(x for x in unowned.split(",") if x)
    answers = wrong = 0

    def bad(why, line):
        nonlocal wrong
        wrong += 1
        print("WRONG %s: %s" % (why, line.strip()))

    for line in open(cap, errors="replace"):
        m = ARP_REPLY.match(line)
        if m:
            src, ip, isat = m.group(1), m.group(3), m.group(4)
            if ip in unowned:
                bad("ARP reply for an unowned IP", line)
            if src in nodes:
                answers += 1
                name, own = nodes[src]
                if isat != src:
                    bad("reply is-at a MAC other than its Ethernet source", line)
                elif not (ip in own or (ip == own4 and name == owner4)):
                    bad("ARP reply from %s for an IP it does not own" % name, line)
            continue
        m = ARP_REQ.match(line)
        if m and m.group(1) in nodes and m.group(3) == m.group(4):  # gratuitous
            name, own = nodes[m.group(1)]
            ip = m.group(3)
            if not (ip in own or (ip == own4 and name == owner4)):
                bad("gratuitous ARP from %s for an IP it does not own" % name, line)
            continue
        m = NA.match(line)
        if m:
            src, tgt = m.group(1), m.group(3)
            if tgt in unowned:
                bad("NA for an unowned IP", line)
            if src in nodes:
                answers += 1
                name, own = nodes[src]
                if not (tgt in own or tgt.startswith("fe80:") or (tgt == own6 and name == owner6)):
                    bad("NA from %s for an IP it does not own" % name, line)
    print("answers %d wrong %d" % (answers, wrong))
    return 1 if wrong else 0


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "flood":
        sys.exit(flood(sys.argv[2:]))
    if len(sys.argv) > 2 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2:]))
    sys.stderr.write("usage: hostile_l2.py flood ... | check ...\n")
    sys.exit(2)
