#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# hostile_bgp: hostile BGP peers for test_hostile_bgp.sh, plain python3 sockets. One listener per
# scenario on BASE_PORT + i (the speaker has one BGPPeer per port, so each scenario is its own
# session and they run side by side). Each listener completes the OPEN exchange (AS 64513, hold
# time 3 s, 4-octet AS and IPv4 unicast capabilities), waits for the speaker's KEEPALIVE, and on
# its first connection does its misdeed, then records what the speaker sent back; later
# connections (the speaker reconnecting) are well behaved.
#   hostile_bgp.py LISTEN_IP BASE_PORT SECONDS READYFILE
# After SECONDS prints one line per scenario:
#   NAME port=P conns=N established=E notif=CODE/SUB data=HEX after_ms=T closed=0|1 notifs=K
# (notif=none when the first connection got no NOTIFICATION; notifs counts them over all
# connections; closed: the speaker closed that connection after the NOTIFICATION).
import os
import select
import socket
import struct
import sys
import threading
import time

MARKER = b"\xff" * 16
MY_AS = 64513
MY_ID = socket.inet_aton("192.0.2.253")
HOLD = 3


def msg(t, body=b""):
    return MARKER + struct.pack("!HB", 19 + len(body), t) + body


def open_msg():
    caps = b"\x01\x04\x00\x01\x00\x01"                  # RFC 4760: IPv4 unicast
    caps += b"\x41\x04" + struct.pack("!I", MY_AS)      # RFC 6793: 4-octet AS
    opt = b"\x02" + bytes([len(caps)]) + caps           # RFC 5492 capabilities parameter
    return msg(1, struct.pack("!BHH4sB", 4, MY_AS, HOLD, MY_ID, len(opt)) + opt)


KEEPALIVE = msg(4)
ORIGIN = b"\x40\x01\x01\x00"
AS_PATH = b"\x40\x02\x06\x02\x01" + struct.pack("!I", MY_AS)  # AS_SEQUENCE of one 4-octet AS
NEXT_HOP = b"\x40\x03\x04" + socket.inet_aton("192.0.2.254")
NLRI = b"\x18\xc6\x33\x64"                                    # 198.51.100.0/24
UNKNOWN_VAL = b"\xde\xad\xbe\xef"


def update(extra_attr=b""):
    attrs = ORIGIN + AS_PATH + NEXT_HOP + extra_attr
    return msg(2, b"\x00\x00" + struct.pack("!H", len(attrs)) + attrs + NLRI)


# name -> (bytes sent at once, slow): every misdeed of RFC 4271 6.1/6.3 and RFC 7606 tried here
SCENARIOS = [
    ("garbage", b"\x5a" * 40, False),                                    # 6.1 not synchronized
    ("bad-marker", MARKER[:7] + b"\x00" + MARKER[8:] + b"\x00\x13\x04", False),
    ("length-18", MARKER + b"\x00\x12\x04", False),                      # 6.1 bad length < 19
    ("keepalive-length-21", MARKER + b"\x00\x15\x04\x00\x00", False),    # KEEPALIVE must be 19
    ("update-lengths", msg(2, b"\x01\x00\x00\x00"), False),              # withdrawn len past end
    ("unknown-optional-transitive", update(b"\xc0\xf0\x04" + UNKNOWN_VAL), False),
    ("unknown-well-known", update(b"\x40\xf0\x04" + UNKNOWN_VAL), False),
    ("huge-5000", MARKER + struct.pack("!HB", 5000, 2) + b"\x00" * (5000 - 19), False),
    ("bad-type-9", MARKER + b"\x00\x13\x09", False),
    ("slow-loris", KEEPALIVE, True),                                     # one byte a second
    ("polite", b"", False),                                              # the control session
]


class Result:
    def __init__(self):
        self.conns = 0
        self.established = 0
        self.notif = None        # (code, sub, data) of the first connection
        self.after_ms = -1
        self.closed = 0
        self.notifs = 0
        self.lock = threading.Lock()


def read_msgs(buf):
    """Split complete messages off buf; returns (list of (type, bytes), rest)."""
    out = []
    while len(buf) >= 19:
        ln = struct.unpack("!H", buf[16:18])[0]
        if ln < 19 or len(buf) < ln:
            break
        out.append((buf[18], buf[:ln]))
        buf = buf[ln:]
    return out, buf


def handshake(c, deadline):
    """OPEN exchange; True once the speaker's KEEPALIVE came (it then counts us Established as
    soon as our KEEPALIVE arrives)."""
    buf = b""
    sent_open = False
    while time.monotonic() < deadline:
        r, _, _ = select.select([c], [], [], 0.2)
        if not r:
            continue
        d = c.recv(65536)
        if not d:
            return False, buf
        buf += d
        ms, buf = read_msgs(buf)
        for t, m in ms:
            if t == 1 and not sent_open:
                c.sendall(open_msg() + KEEPALIVE)
                sent_open = True
            elif t == 4 and sent_open:
                return True, buf
            elif t == 3:
                return False, buf
    return False, buf


def serve(c, name, first, res, end, payload, slow):
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    ok, buf = handshake(c, time.monotonic() + 10)
    if not ok:
        return
    with res.lock:
        res.established += 1
    time.sleep(0.5)  # let the speaker's OpenConfirm -> Established happen and its UPDATEs come
    misdeed = first and name != "polite"
    t0 = time.monotonic()
    if misdeed and not slow:
        c.sendall(payload)
    slow_i = 0
    next_ka = time.monotonic()
    got = False
    while time.monotonic() < end:
        now = time.monotonic()
        if misdeed and slow and slow_i < len(payload) and now >= t0 + slow_i:
            c.sendall(payload[slow_i:slow_i + 1])
            slow_i += 1
        # Keepalives keep our side of the session alive, except for the slow loris: the point
        # there is that no complete message arrives before the hold timer runs out.
        if not (misdeed and slow) and now >= next_ka:
            c.sendall(KEEPALIVE)
            next_ka = now + 1
        r, _, _ = select.select([c], [], [], 0.1)
        if not r:
            continue
        try:
            d = c.recv(65536)
        except OSError:
            d = b""
        if not d:
            if got and first:
                with res.lock:
                    res.closed = 1
            return
        buf += d
        ms, buf = read_msgs(buf)
        for t, m in ms:
            if t == 3:
                with res.lock:
                    res.notifs += 1
                    if first and not got:
                        res.notif = (m[19], m[20], m[21:])
                        res.after_ms = int((time.monotonic() - t0) * 1000)
                got = True


def listener(ip, port, name, payload, slow, res, end):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((ip, port))
    s.listen(4)
    s.settimeout(0.2)
    threads = []
    while time.monotonic() < end:
        try:
            c, _ = s.accept()
        except socket.timeout:
            continue
        with res.lock:
            res.conns += 1
            first = res.conns == 1
        th = threading.Thread(target=serve, args=(c, name, first, res, end, payload, slow),
                              daemon=True)
        th.start()
        threads.append((th, c))
    for th, c in threads:
        th.join(1)
        try:
            c.close()
        except OSError:
            pass
    s.close()


def main():
    ip, base, secs, ready = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    end = time.monotonic() + secs
    results = []
    ths = []
    for i, (name, payload, slow) in enumerate(SCENARIOS):
        res = Result()
        results.append((name, base + i, res))
        th = threading.Thread(target=listener, args=(ip, base + i, name, payload, slow, res, end),
                              daemon=True)
        th.start()
        ths.append(th)
    time.sleep(0.3)
    with open(ready, "w") as f:
        f.write("ready\n")
    for th in ths:
        th.join(secs + 5)
    for name, port, r in results:
        if r.notif:
            n = "%d/%d data=%s" % (r.notif[0], r.notif[1], r.notif[2].hex() or "-")
        else:
            n = "none data=-"
        print("%s port=%d conns=%d established=%d notif=%s after_ms=%d closed=%d notifs=%d" %
              (name, port, r.conns, r.established, n, r.after_ms, r.closed, r.notifs))
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
