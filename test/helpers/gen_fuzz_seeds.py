#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# gen_fuzz_seeds: writes the seed corpora of fuzz_arp, fuzz_ndp, fuzz_kubeconfig and fuzz_watch
# (test/fuzz/seeds/) from the frames of the unit tests (test_arp.c, test_ndp.c, test_responder.c),
# kubeconfigs like test_kubeconfig.c's and kubectl's, and watch events shaped like the API server's. Plain python3, no scapy. Run: test/helpers/gen_fuzz_seeds.py
import json
import os
import socket
import struct
import sys

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
SEEDS = os.path.join(TOP, "test", "fuzz", "seeds")

OUR = bytes.fromhex("02005e100001")   # the fuzz targets' own MAC
CLI = bytes.fromhex("0242c0000264")
BC = b"\xff" * 6


def ip4(s):
    return socket.inet_pton(socket.AF_INET, s)


def ip6(s):
    return socket.inet_pton(socket.AF_INET6, s)


def arp(op=1, eth_dst=BC, eth_src=CLI, sha=CLI, spa="192.0.2.100", tha=b"\0" * 6,
        tpa="192.0.2.200", htype=1, ptype=0x0800, hlen=6, plen=4, pad=False):
    f = eth_dst + eth_src + b"\x08\x06" + struct.pack("!HHBBH", htype, ptype, hlen, plen, op)
    f += sha + ip4(spa) + tha + ip4(tpa)
    if pad:
        f += b"\0" * (60 - len(f))
    return f


def csum(src, dst, msg):
    s = sum(struct.unpack("!8H", src)) + sum(struct.unpack("!8H", dst)) + len(msg) + 58
    if len(msg) % 2:
        msg = msg + b"\0"
    s += sum(struct.unpack("!%dH" % (len(msg) // 2), msg))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def mcast_mac(a):
    return b"\x33\x33" + a[12:16]


def sol_node(a):
    return ip6("ff02::1:ff00:0")[:13] + a[13:16]


def ns(src="2001:db8:77::100", target="2001:db8:77::200", dst=None, eth_dst=None, hop=255,
       code=0, opts=None, bad_csum=False, icmp_type=135, tail=b""):
    s = ip6(src)
    t = ip6(target)
    d = ip6(dst) if dst else sol_node(t)
    if opts is None:
        opts = b"" if src == "::" else b"\x01\x01" + CLI
    msg = bytes([icmp_type, code]) + b"\0\0" + b"\0" * 4 + t + opts
    c = csum(s, d, msg) ^ (1 if bad_csum else 0)
    msg = msg[:2] + struct.pack("!H", c) + msg[4:]
    ipv6 = struct.pack("!IHBB", 6 << 28, len(msg), 58, hop) + s + d
    return (eth_dst or mcast_mac(d)) + CLI + b"\x86\xdd" + ipv6 + msg + tail


def write(kind, name, data):
    d = os.path.join(SEEDS, kind)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def arp_seeds():
    write("arp", "request", arp())
    write("arp", "request-padded", arp(pad=True))
    write("arp", "request-unicast", arp(eth_dst=OUR))
    write("arp", "probe-rfc5227", arp(spa="0.0.0.0"))
    write("arp", "garp-request", arp(spa="192.0.2.200", tpa="192.0.2.200"))
    write("arp", "garp-reply", arp(op=2, spa="192.0.2.200", tpa="192.0.2.200", tha=CLI))
    write("arp", "reply", arp(op=2, eth_dst=OUR, tha=OUR))
    write("arp", "own-frame", arp(eth_src=OUR, sha=OUR))
    write("arp", "other-host", arp(eth_dst=bytes.fromhex("020000000099")))
    write("arp", "truncated-30", arp()[:30])
    write("arp", "hlen-8", arp(hlen=8))
    write("arp", "plen-16", arp(plen=16))
    write("arp", "htype-6", arp(htype=6))
    write("arp", "ptype-ipv6", arp(ptype=0x86dd))
    write("arp", "op-9", arp(op=9))
    write("arp", "jumbo", arp() + b"\xa5" * 9000)
    write("arp", "ipv6-not-arp", ns())


def ndp_seeds():
    write("ndp", "ns-multicast", ns())
    write("ndp", "ns-unicast-nud", ns(dst="2001:db8:77::200", eth_dst=OUR))
    write("ndp", "ns-dad", ns(src="::"))
    write("ndp", "ns-no-slla", ns(opts=b""))
    write("ndp", "ns-padded", ns(tail=b"\0" * 12))
    write("ndp", "ns-two-options", ns(opts=b"\x0e\x01" + b"\x11" * 6 + b"\x01\x01" + CLI))
    write("ndp", "ns-bad-checksum", ns(bad_csum=True))
    write("ndp", "ns-hop-64", ns(hop=64))
    write("ndp", "ns-code-1", ns(code=1))
    write("ndp", "ns-optlen-0", ns(opts=b"\x01\x00" + CLI))
    write("ndp", "ns-optlen-2", ns(opts=b"\x01\x02" + CLI))
    write("ndp", "ns-target-multicast", ns(target="ff02::1", dst="ff02::1"))
    write("ndp", "ns-source-multicast", ns(src="ff02::2"))
    write("ndp", "ns-dad-with-slla", ns(src="::", opts=b"\x01\x01" + CLI))
    write("ndp", "na", ns(icmp_type=136, dst="ff02::1", opts=b"\x02\x01" + CLI))
    write("ndp", "truncated", ns()[:60])
    write("ndp", "arp-not-ipv6", arp())
    f = bytearray(ns())
    f[18:20] = struct.pack("!H", 4000)  # payload length beyond the frame
    write("ndp", "ns-plen-beyond", bytes(f))


SVC = {"apiVersion": "v1", "kind": "Service",
       "metadata": {"name": "web", "namespace": "default", "resourceVersion": "101",
                    "uid": "5f0c", "annotations": {"metallb.universe.tf/address-pool": "lan"}},
       "spec": {"type": "LoadBalancer", "clusterIP": "10.96.0.5", "selector": {"app": "web"},
                "ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}],
                "externalTrafficPolicy": "Cluster"},
       "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.200"}]}}}
NODE = {"apiVersion": "v1", "kind": "Node",
        "metadata": {"name": "n1", "resourceVersion": "7", "labels": {"kubernetes.io/hostname": "n1"}},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]}}
EPS = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
       "metadata": {"name": "web-abc", "namespace": "default", "resourceVersion": "55",
                    "labels": {"kubernetes.io/service-name": "web"}},
       "addressType": "IPv4",
       "endpoints": [{"addresses": ["10.244.1.2"], "conditions": {"ready": True}, "nodeName": "n1"}],
       "ports": [{"port": 8080, "protocol": "TCP"}]}


def ev(t, o):
    return json.dumps({"type": t, "object": o}, separators=(",", ":")).encode() + b"\n"


def watch_seed(name, kind_idx, chunk, body):
    # fuzz_watch input: kind byte, chunk byte, body
    write("watch", name, bytes([kind_idx, chunk]) + body)


def watch_seeds():
    import copy
    svc2 = copy.deepcopy(SVC)
    svc2["metadata"]["resourceVersion"] = "102"
    svc2["spec"]["ports"][0]["port"] = 81
    book = {"kind": "Service", "apiVersion": "v1", "metadata": {"resourceVersion": "200"}}
    gone = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 410,
            "reason": "Expired", "message": "too old resource version: 1 (150)"}
    err500 = dict(gone, code=500, message="internal error")
    # kind indexes follow enum kobj_kind; 0..5 are all tried by the target anyway
    stream = ev("ADDED", SVC) + ev("MODIFIED", svc2) + ev("BOOKMARK", book) + ev("DELETED", svc2)
    for k in range(6):
        watch_seed("svc-stream-k%d" % k, k, 0, stream)
    watch_seed("svc-split-7", 0, 7, stream)
    watch_seed("svc-split-1", 0, 1, ev("ADDED", SVC))
    watch_seed("svc-crlf", 0, 0, ev("ADDED", SVC).replace(b"\n", b"\r\n") + b"\n\n  \n")
    watch_seed("node", 2, 0, ev("ADDED", NODE) + ev("MODIFIED", NODE))
    watch_seed("eps", 1, 0, ev("ADDED", EPS) + ev("DELETED", EPS))
    watch_seed("gone-410", 0, 0, ev("ADDED", SVC) + ev("ERROR", gone) + ev("ADDED", svc2))
    watch_seed("error-500", 0, 0, ev("ERROR", err500))
    watch_seed("malformed", 0, 0, b'{"type":"ADDED","object":{"metadata":\n' + ev("ADDED", SVC))
    watch_seed("no-rv", 0, 0, ev("ADDED", {"kind": "Service", "metadata": {"name": "x"}}))
    watch_seed("unknown-type", 0, 0, ev("SNAPSHOT", SVC))
    watch_seed("partial-tail", 0, 3, ev("ADDED", SVC) + ev("ADDED", svc2)[:40])
    long_rv = copy.deepcopy(SVC)
    long_rv["metadata"]["resourceVersion"] = "9" * 80
    watch_seed("rv-too-long", 0, 0, ev("MODIFIED", long_rv))


KC_HEAD = """apiVersion: v1
kind: Config
current-context: dev
contexts:
- name: other
  context: {cluster: nope, user: nobody}
- name: dev
  context:
    cluster: c1
    user: u1
    namespace: team-a
clusters:
- name: c1
  cluster:
    server: https://10.1.2.3:6443/
"""
PEM = b"-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUfake\n-----END CERTIFICATE-----\n"


def kubeconfig_seeds():
    import base64
    b64 = base64.b64encode(PEM).decode()
    kc = {
        "token": KC_HEAD + "    certificate-authority: pki/ca.crt\nusers:\n- name: u1\n  user:\n"
                 "    token: abc.def\n",
        "ca-data": KC_HEAD + "    certificate-authority-data: %s\n    tls-server-name: api\n"
                   "users:\n- name: u1\n  user:\n    tokenFile: /var/run/token\n" % b64,
        "client-cert-data": KC_HEAD + "    insecure-skip-tls-verify: true\nusers:\n- name: u1\n"
                            "  user:\n    client-certificate-data: %s\n"
                            "    client-key-data: %s\n" % (b64, b64),
        "client-cert-files": KC_HEAD + "users:\n- name: u1\n  user:\n    client-certificate: c.pem\n"
                             "    client-key: /abs/k.pem\n",
        "exec-user": KC_HEAD + "users:\n- name: u1\n  user:\n    exec:\n      command: aws\n"
                     "      args: [eks, get-token]\n",
        "no-user": KC_HEAD.replace("    user: u1\n", ""),
        "bad-base64": KC_HEAD + "    certificate-authority-data: '@@@='\nusers: []\n",
        "insecure-maybe": KC_HEAD + "    insecure-skip-tls-verify: maybe\nusers: []\n",
        "http-server": KC_HEAD.replace("https://10.1.2.3:6443/", "http://[2001:db8::1]:8080///"),
        "flow": '{"apiVersion": "v1", "current-context": "a", "contexts": [{"name": "a", '
                '"context": {"cluster": "c"}}], "clusters": [{"name": "c", "cluster": '
                '{"server": "https://k:443"}}]}\n',
        "anchors": "current-context: a\ncontexts:\n- &ctx {name: a, context: {cluster: c, user: u}}\n"
                   "clusters:\n- name: c\n  cluster: &cl {server: 'https://x'}\n"
                   "users:\n- name: u\n  user: {token: *cl}\n",
        "kind-cluster": "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: "
                        "%s\n    server: https://127.0.0.1:40123\n  name: kind-kind\ncontexts:\n"
                        "- context:\n    cluster: kind-kind\n    user: kind-kind\n  name: kind-kind\n"
                        "current-context: kind-kind\nkind: Config\npreferences: {}\nusers:\n"
                        "- name: kind-kind\n  user:\n    client-certificate-data: %s\n"
                        "    client-key-data: %s\n" % (b64, b64, b64),
        "not-a-mapping": "- just\n- a list\n",
        "empty": "",
    }
    for name, text in kc.items():
        write("kubeconfig", name + ".yaml", text.encode())


if __name__ == "__main__":
    kubeconfig_seeds()
    arp_seeds()
    ndp_seeds()
    watch_seeds()
    sys.exit(0)
