#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# lbstate: what the controller wrote, as sorted text lines, for the controller's integration tests.
#   lbstate.py dir STATE [NAMES]   from STATE/status/<ns>/<name>.json
#   lbstate.py kube APORT [NAMES]  from the fake API's admin port (every Service)
#     one line per Service: "ns/name IP[,IP] POOL" ("-" for none); with NAMES (a file of "ns/name"
#     lines) exactly those Services, in that order (a missing one prints "ns/name - -").
#   lbstate.py events-dir STATE    events.log as "ns/name REASON count=N NOTE" lines
#   lbstate.py events-kube APORT   the Events of the fake API, same form
#   lbstate.py gen-dir DIR PREFIX N [--dual-every K] [--ns NS] [--one-file FILE] [--first I]
#                  [--pace-ms MS]
#     writes N LoadBalancer Service manifests (YAML), one file each (MS apart) or all in FILE
import json
import os
import sys
import time
import urllib.request

POOL_ANN = "barelb.io/ip-allocated-from-pool"


def line(key, obj):
    st = (obj.get("status") or {}).get("loadBalancer") or {}
    ips = [i["ip"] for i in st.get("ingress") or [] if "ip" in i]
    pool = ((obj.get("metadata") or {}).get("annotations") or {}).get(POOL_ANN)
    return "%s %s %s" % (key, ",".join(ips) or "-", pool or "-")


def names_of(path):
    with open(path) as f:
        return [x.strip() for x in f if x.strip()]


def emit(objs, names):
    if names is None:
        for k in sorted(objs):
            print(line(k, objs[k]))
    else:
        for k in names:
            print(line(k, objs.get(k, {})))


def dir_objs(state):
    out = {}
    root = os.path.join(state, "status")
    for ns in sorted(os.listdir(root)) if os.path.isdir(root) else []:
        for f in sorted(os.listdir(os.path.join(root, ns))):
            if not f.endswith(".json"):
                continue
            try:
                with open(os.path.join(root, ns, f)) as fh:
                    out["%s/%s" % (ns, f[:-5])] = json.load(fh)
            except (OSError, ValueError):
                out["%s/%s" % (ns, f[:-5])] = {"status": {"loadBalancer": {"ingress": [
                    {"ip": "UNREADABLE"}]}}}
    return out


def admin(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%s%s" % (port, path), timeout=20) as r:
        return json.load(r)


def kube_objs(port):
    out = {}
    for o in admin(port, "/list?kind=Service")["items"]:
        md = o["metadata"]
        out["%s/%s" % (md["namespace"], md["name"])] = o
    return out


def ev_line(e):
    r = e.get("regarding") or {}
    cnt = (e.get("series") or {}).get("count", 1)
    return "%s/%s %s count=%s %s" % (r.get("namespace", ""), r.get("name", ""), e.get("reason"),
                                     cnt, e.get("note", ""))


def gen(args):
    d, prefix, n = args[0], args[1], int(args[2])
    opts = {"--dual-every": "0", "--ns": "default", "--one-file": "", "--first": "0",
            "--pace-ms": "0"}
    i = 3
    while i < len(args):
        opts[args[i]] = args[i + 1]
        i += 2
    dual, ns, one, first = int(opts["--dual-every"]), opts["--ns"], opts["--one-file"], \
        int(opts["--first"])
    docs = []
    for j in range(first, first + n):
        name = "%s-%03d" % (prefix, j)
        if dual and j % dual == 0:
            fam = ("  clusterIPs: [10.96.%d.%d, \"fd00::%x\"]\n  ipFamilies: [IPv4, IPv6]\n"
                   "  ipFamilyPolicy: RequireDualStack\n" % (j // 250, j % 250 + 1, j + 1))
        else:
            fam = "  clusterIPs: [10.96.%d.%d]\n" % (j // 250, j % 250 + 1)
        doc = ("apiVersion: v1\nkind: Service\nmetadata:\n  name: %s\n  namespace: %s\n"
               "spec:\n  type: LoadBalancer\n%s  ports: [{port: %d, protocol: TCP}]\n"
               % (name, ns, fam, 80 + j % 1000))
        if one:
            docs.append(doc)
        else:
            tmp = os.path.join(d, ".%s.tmp" % name)
            with open(tmp, "w") as f:
                f.write(doc)
            os.rename(tmp, os.path.join(d, "%s.yaml" % name))
            time.sleep(int(opts["--pace-ms"]) / 1000.0)
    if one:
        tmp = os.path.join(d, ".%s.tmp" % os.path.basename(one))
        with open(tmp, "w") as f:
            f.write("---\n".join(docs))
        os.rename(tmp, os.path.join(d, one))


def main(a):
    names = names_of(a[2]) if len(a) > 2 and a[0] in ("dir", "kube") else None
    if a[0] == "dir":
        emit(dir_objs(a[1]), names)
    elif a[0] == "kube":
        emit(kube_objs(a[1]), names)
    elif a[0] == "events-dir":
        p = os.path.join(a[1], "events.log")
        if os.path.exists(p):
            with open(p) as f:
                for x in f:
                    try:
                        print(ev_line(json.loads(x)))
                    except ValueError:
                        print("BAD-LINE")
    elif a[0] == "events-kube":
        for e in admin(a[1], "/list?kind=Event")["items"]:
            print(ev_line(e))
    elif a[0] == "gen-dir":
        gen(a[1:])
    else:
        sys.exit("lbstate: unknown command " + a[0])


if __name__ == "__main__":
    main(sys.argv[1:])
