#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# fakeapi: a small Kubernetes API server for barelb's tests. It behaves like kube-apiserver for the
# subset barelb uses (TLS, bearer tokens or client certificates, resourceVersion on every object,
# paginated lists, watches with bookmarks, 410 for expired resourceVersions, 409 conflicts, the
# status subresource, merge patch, Leases, Events) and lets a test inject faults through a
# plain-HTTP admin port on 127.0.0.1. Standard library only.
import argparse
import base64
import bisect
import copy
import json
import os
import socket
import ssl
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# (path prefix, resource) -> (kind, apiVersion, namespaced, has status subresource)
RESOURCES = {
    ("/api/v1", "services"): ("Service", "v1", True, True),
    ("/api/v1", "nodes"): ("Node", "v1", False, True),
    ("/api/v1", "namespaces"): ("Namespace", "v1", False, True),
    ("/api/v1", "pods"): ("Pod", "v1", True, True),
    ("/apis/discovery.k8s.io/v1", "endpointslices"):
        ("EndpointSlice", "discovery.k8s.io/v1", True, False),
    ("/apis/coordination.k8s.io/v1", "leases"): ("Lease", "coordination.k8s.io/v1", True, False),
    ("/apis/events.k8s.io/v1", "events"): ("Event", "events.k8s.io/v1", True, False),
}
KIND_RES = {v[0]: k for k, v in RESOURCES.items()}
HISTORY_MAX = 200000


def now_rfc3339():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def status_obj(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def strip_rv(o):
    o = copy.deepcopy(o)
    o.get("metadata", {}).pop("resourceVersion", None)
    return o


class ApiError(Exception):
    def __init__(self, code, reason, message):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message


class State:
    """Everything the server knows, behind one condition variable."""

    def __init__(self):
        self.cv = threading.Condition()
        self.rv = 1
        self.objs = {}           # (res key, ns, name) -> object
        self.hist_rv = []        # resourceVersions of history entries (ascending)
        self.hist = []           # (rv, type, res key, ns, object)
        self.compacted = 0       # watches from a resourceVersion below this get 410
        self.snapshots = {}      # continue-token id -> (rv, [objects])
        self.tokens = set()
        self.reqlog = []         # (time, method, path, status)
        self.kill_gen = 0        # bumped to drop every open watch
        self.watchers = 0
        # faults
        self.fail_n, self.fail_code, self.retry_after, self.fail_match = 0, 500, None, ""
        self.fail_method = ""
        self.delay_ms, self.delay_n = 0, 0
        self.drop_after = 0      # every watch stream is cut after this many events
        self.bad = None          # "truncated" | "malformed": applied to the next watch event
        self.bookmark_s = 1.0

    # -- persistence for the outage test --
    def save(self, path):
        with self.cv:
            data = {"rv": self.rv, "objs": [[k[0][0], k[0][1], k[1], k[2], o]
                                            for k, o in self.objs.items()]}
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(data, f)
        os.rename(tmp, path)

    def load(self, path):
        with open(path) as f:
            data = json.load(f)
        self.rv = data["rv"]
        for p, r, ns, name, o in data["objs"]:
            self.objs[((p, r), ns, name)] = o
        # A restarted server has no watch history: old resourceVersions are still accepted
        # (nothing happened since), like a fresh watch cache at the current revision.
        self.compacted = self.rv

    # -- mutations; caller holds cv --
    def commit(self, key, etype, obj):
        self.rv += 1
        obj.setdefault("metadata", {})["resourceVersion"] = str(self.rv)
        if etype == "DELETED":
            self.objs.pop(key, None)
        else:
            self.objs[key] = obj
        self.hist_rv.append(self.rv)
        self.hist.append((self.rv, etype, key[0], key[1], copy.deepcopy(obj)))
        if len(self.hist) > HISTORY_MAX:
            cut = len(self.hist) - HISTORY_MAX
            self.compacted = self.hist_rv[cut - 1]
            del self.hist[:cut]
            del self.hist_rv[:cut]
        self.cv.notify_all()
        return obj

    def compact(self):
        self.compacted = self.rv
        self.hist, self.hist_rv = [], []
        self.snapshots.clear()

    def create(self, res, ns, obj, keep_status=True):
        kind, apiv, namespaced, has_status = RESOURCES[res]
        md = obj.setdefault("metadata", {})
        if not md.get("name") and md.get("generateName"):
            md["name"] = md["generateName"] + uuid.uuid4().hex[:5]
        name = md.get("name")
        if not name:
            raise ApiError(422, "Invalid", "metadata.name: Required value")
        if namespaced:
            if md.get("namespace") and md["namespace"] != ns:
                raise ApiError(400, "BadRequest", "the namespace of the object does not match")
            md["namespace"] = ns
        key = (res, ns if namespaced else "", name)
        if key in self.objs:
            raise ApiError(409, "AlreadyExists", '%s "%s" already exists' % (res[1], name))
        obj["kind"], obj["apiVersion"] = kind, apiv
        md["uid"] = str(uuid.uuid4())
        md["creationTimestamp"] = now_rfc3339()
        if has_status and not keep_status:
            obj.pop("status", None)
        return self.commit(key, "ADDED", obj)

    def update(self, res, ns, name, new, sub, check_rv=True):
        kind, apiv, namespaced, has_status = RESOURCES[res]
        key = (res, ns if namespaced else "", name)
        old = self.objs.get(key)
        if old is None:
            raise ApiError(404, "NotFound", '%s "%s" not found' % (res[1], name))
        want = (new.get("metadata") or {}).get("resourceVersion")
        if check_rv and want and want != old["metadata"]["resourceVersion"]:
            raise ApiError(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": the object '
                           'has been modified; please apply your changes to the latest version '
                           'and try again' % (res[1], name))
        if (new.get("metadata") or {}).get("name", name) != name:
            raise ApiError(400, "BadRequest", "the name of the object does not match the URL")
        if sub == "status":
            out = copy.deepcopy(old)
            if "status" in new:
                out["status"] = new["status"]
            else:
                out.pop("status", None)
        else:
            out = copy.deepcopy(new)
            if has_status and sub != "all":
                if "status" in old:
                    out["status"] = copy.deepcopy(old["status"])
                else:
                    out.pop("status", None)
        md = out.setdefault("metadata", {})
        for f in ("uid", "creationTimestamp", "namespace", "name"):
            if f in old["metadata"]:
                md[f] = old["metadata"][f]
        out["kind"], out["apiVersion"] = kind, apiv
        md["resourceVersion"] = old["metadata"]["resourceVersion"]
        if out == old:   # no-op writes do not bump the resourceVersion (like the real server)
            return old
        return self.commit(key, "MODIFIED", out)

    def delete(self, res, ns, name):
        namespaced = RESOURCES[res][2]
        key = (res, ns if namespaced else "", name)
        old = self.objs.get(key)
        if old is None:
            raise ApiError(404, "NotFound", '%s "%s" not found' % (res[1], name))
        return self.commit(key, "DELETED", copy.deepcopy(old))

    def select(self, res, ns):
        namespaced = RESOURCES[res][2]
        out = [o for (r, n, _), o in self.objs.items()
               if r == res and (not ns or not namespaced or n == ns)]
        out.sort(key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))
        return out


def parse_path(path):
    """→ (res key, namespace, name, subresource) or None."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and parts[0] == "api":
        prefix, rest = "/api/" + parts[1], parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        prefix, rest = "/apis/%s/%s" % (parts[1], parts[2]), parts[3:]
    else:
        return None
    ns = ""
    if len(rest) >= 3 and rest[0] == "namespaces":
        ns, rest = rest[1], rest[2:]
    if not rest or len(rest) > 3:
        return None
    res = (prefix, rest[0])
    if res not in RESOURCES:
        return None
    if ns and not RESOURCES[res][2]:
        return None
    name = rest[1] if len(rest) >= 2 else None
    sub = rest[2] if len(rest) == 3 else None
    if sub not in (None, "status"):
        return None
    return res, ns, name, sub


class ApiHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fakeapi"
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle adds 20-50 ms
    # between pages, which a real API server does not.
    disable_nagle_algorithm = True

    def setup(self):
        # TLS handshake here, in the connection's thread, so that a stuck client cannot block
        # the accept loop.
        ctx = self.server.ssl_ctx
        if ctx:
            self.request.settimeout(10)
            self.request = ctx.wrap_socket(self.request, server_side=True)
            self.request.settimeout(None)
        super().setup()

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("fakeapi: " + (fmt % args) + "\n")

    # -- helpers --
    def send_json(self, code, obj, extra=None):
        body = (json.dumps(obj) + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.record(code)

    def record(self, code):
        st = self.server.st
        with st.cv:
            st.reqlog.append((time.time(), self.command, self.path, code))

    def send_error_status(self, e, extra=None):
        self.send_json(e.code, status_obj(e.code, e.reason, e.message), extra)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n > 16 << 20:
            raise ApiError(413, "RequestEntityTooLarge", "request body too large")
        data = self.rfile.read(n) if n else b""
        try:
            return json.loads(data) if data else {}
        except ValueError as e:
            raise ApiError(400, "BadRequest", "invalid JSON body: %s" % e)

    def authenticated(self):
        st = self.server.st
        if self.server.ssl_ctx:
            try:
                if self.request.getpeercert():   # verified client certificate
                    return True
            except (ValueError, AttributeError):
                pass
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            with st.cv:
                return auth[7:] in st.tokens
        return False

    def faults(self):
        """Injected failures and delays; True when a response was already sent."""
        st = self.server.st
        with st.cv:
            delay = 0
            if st.delay_n:
                delay = st.delay_ms / 1000.0
                if st.delay_n > 0:
                    st.delay_n -= 1
            fail = st.fail_n > 0 and st.fail_match in self.path and \
                st.fail_method in ("", self.command)
            if fail:
                st.fail_n -= 1
                code, ra = st.fail_code, st.retry_after
        if delay:
            time.sleep(delay)
        if fail:
            extra = {"Retry-After": str(ra)} if ra is not None else None
            reason = {429: "TooManyRequests", 409: "Conflict"}.get(code, "InternalError")
            self.read_body_quiet()
            self.send_error_status(ApiError(code, reason, "injected failure"), extra)
            return True
        return False

    def read_body_quiet(self):
        try:
            n = int(self.headers.get("Content-Length") or 0)
            if n:
                self.rfile.read(n)
        except (ValueError, OSError):
            pass

    # -- dispatch --
    def handle_any(self):
        st = self.server.st
        u = urlsplit(self.path)
        q = {k: v[-1] for k, v in parse_qs(u.query).items()}
        if not self.authenticated():
            self.read_body_quiet()
            return self.send_error_status(ApiError(401, "Unauthorized", "Unauthorized"))
        if self.faults():
            return
        p = parse_path(u.path)
        try:
            if p is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            res, ns, name, sub = p
            m = self.command
            if m == "GET" and name is None:
                if q.get("watch") in ("true", "1"):
                    return self.do_watch(res, ns, q)
                return self.do_list(res, ns, q)
            if m == "GET":
                with st.cv:
                    o = st.objs.get((res, ns if RESOURCES[res][2] else "", name))
                    if o is None:
                        raise ApiError(404, "NotFound", '%s "%s" not found' % (res[1], name))
                    return self.send_json(200, o)
            if m == "POST" and name is None:
                body = self.read_body()
                with st.cv:
                    o = st.create(res, ns, body, keep_status=False)
                return self.send_json(201, o)
            if m == "PUT" and name:
                body = self.read_body()
                with st.cv:
                    o = st.update(res, ns, name, body, sub)
                return self.send_json(200, o)
            if m == "PATCH" and name:
                ct = (self.headers.get("Content-Type") or "").split(";")[0].strip()
                if ct != "application/merge-patch+json":
                    self.read_body_quiet()
                    raise ApiError(415, "UnsupportedMediaType",
                                   "the body of the request was in an unknown format")
                patch = self.read_body()
                with st.cv:
                    key = (res, ns if RESOURCES[res][2] else "", name)
                    old = st.objs.get(key)
                    if old is None:
                        raise ApiError(404, "NotFound", '%s "%s" not found' % (res[1], name))
                    new = merge_patch(old, patch)
                    # a resourceVersion in the patch is a precondition; none means "any"
                    if not (patch.get("metadata") or {}).get("resourceVersion"):
                        new.setdefault("metadata", {})["resourceVersion"] = \
                            old["metadata"]["resourceVersion"]
                    o = st.update(res, ns, name, new, sub)
                return self.send_json(200, o)
            if m == "DELETE" and name:
                self.read_body_quiet()
                with st.cv:
                    o = st.delete(res, ns, name)
                return self.send_json(200, o)
            raise ApiError(405, "MethodNotAllowed", "method not allowed")
        except ApiError as e:
            return self.send_error_status(e)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

    def do_list(self, res, ns, q):
        st = self.server.st
        limit = int(q.get("limit") or 0)
        cont = q.get("continue")
        kind, apiv = RESOURCES[res][0], RESOURCES[res][1]
        with st.cv:
            if cont:
                try:
                    tok = json.loads(base64.urlsafe_b64decode(cont.encode()))
                    sid, start = tok["id"], tok["start"]
                except (ValueError, KeyError, TypeError):
                    raise ApiError(400, "BadRequest", "invalid continue token")
                snap = st.snapshots.get(sid)
                if snap is None:
                    raise ApiError(410, "Expired", "The provided continue parameter is too old "
                                   "to display a consistent list result. You can start a new "
                                   "list without the continue parameter.")
                rv, objs = snap
            else:
                rv, objs, start = st.rv, st.select(res, ns), 0
                sid = None
            page = objs[start:start + limit] if limit else objs[start:]
            nxt = start + len(page)
            md = {"resourceVersion": str(rv)}
            if limit and nxt < len(objs):
                if sid is None:
                    sid = uuid.uuid4().hex
                    st.snapshots[sid] = (rv, objs)
                md["continue"] = base64.urlsafe_b64encode(
                    json.dumps({"id": sid, "start": nxt}).encode()).decode()
                md["remainingItemCount"] = len(objs) - nxt
            elif sid:
                st.snapshots.pop(sid, None)
            items = []
            for o in page:   # items of a typed list carry no kind/apiVersion (like the real one)
                o = dict(o)
                o.pop("kind", None)
                o.pop("apiVersion", None)
                items.append(o)
            body = {"kind": kind + "List", "apiVersion": apiv, "metadata": md, "items": items}
        return self.send_json(200, body)

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def do_watch(self, res, ns, q):
        st = self.server.st
        kind, apiv, namespaced, _ = RESOURCES[res]
        rvq = q.get("resourceVersion", "")
        bookmarks = q.get("allowWatchBookmarks") == "true"
        timeout = float(q.get("timeoutSeconds") or 1800)
        try:
            start_rv = int(rvq) if rvq not in ("", "0") else None
        except ValueError:
            raise ApiError(400, "BadRequest", "invalid resourceVersion")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.record(200)
        pending = []
        with st.cv:
            gen = st.kill_gen
            if start_rv is None:
                pos = st.rv
                pending = [(pos, "ADDED", copy.deepcopy(o)) for o in st.select(res, ns)]
            elif start_rv < st.compacted:
                err = status_obj(410, "Expired", "too old resource version: %d (%d)"
                                 % (start_rv, st.compacted))
                pending = None
            else:
                pos = start_rv
            st.watchers += 1
        try:
            if pending is None:
                self.chunk((json.dumps({"type": "ERROR", "object": err}) + "\n").encode())
                self.chunk(b"")
                return
            deadline = time.monotonic() + timeout
            last_bm = time.monotonic()
            sent = 0
            while True:
                with st.cv:
                    if not pending:
                        i = bisect.bisect_right(st.hist_rv, pos)
                        if pos < st.compacted:
                            # the history we need was compacted while we were behind
                            err = status_obj(410, "Expired", "too old resource version")
                            pending = None
                        else:
                            for rv, t, r, n, o in st.hist[i:]:
                                if r == res and (not namespaced or not ns or n == ns):
                                    pending.append((rv, t, o))
                            pos = st.rv
                    if pending == []:
                        st.cv.wait(0.2)
                    if st.kill_gen != gen:
                        self.close_connection = True
                        return
                    bad, drop = st.bad, st.drop_after
                    if pending and bad:
                        st.bad = None
                if pending is None:
                    self.chunk((json.dumps({"type": "ERROR", "object": err}) + "\n").encode())
                    self.chunk(b"")
                    return
                while pending:
                    rv, t, o = pending.pop(0)
                    o = dict(o)
                    o["kind"], o["apiVersion"] = kind, apiv
                    line = (json.dumps({"type": t, "object": o}) + "\n").encode()
                    if bad == "truncated":
                        self.chunk(line[:len(line) // 2])
                        self.close_connection = True
                        return
                    if bad == "malformed":
                        self.chunk(b'{"type":"MODIFIED","object":{"kind":"%s",]]]\n'
                                   % kind.encode())
                        bad = None
                    self.chunk(line)
                    sent += 1
                    if drop and sent >= drop:
                        self.close_connection = True   # cut: no terminating chunk
                        return
                now = time.monotonic()
                if now >= deadline:
                    self.chunk(b"")
                    return
                if bookmarks and now - last_bm >= st.bookmark_s:
                    last_bm = now
                    bm = {"type": "BOOKMARK", "object": {"kind": kind, "apiVersion": apiv,
                          "metadata": {"resourceVersion": str(pos)}}}
                    self.chunk((json.dumps(bm) + "\n").encode())
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            self.close_connection = True
        finally:
            with st.cv:
                st.watchers -= 1


class AdminHandler(BaseHTTPRequestHandler):
    """Test control: plain HTTP, 127.0.0.1 only. POST (or GET) to:
    /apply            body: an object, a list, or {"items": [...]}: create or replace (status too)
    /delete           ?kind=&ns=&name=
    /bulk             ?kind=Service|Node|Namespace|EndpointSlice&n=&prefix=&ns=: generated objects
    /touch            ?kind=&n=[&ns=]: change a label on the first n objects
    /fault            ?fail=N&code=500|429|409[&retry_after=S][&match=SUBSTR][&method=M]
                      ?delay_ms=D[&delay_n=N]  ?drop_after=N (cut every watch after N events)
                      ?bad=truncated|malformed (the next watch event)  ?compact=1 (expire all
                      resourceVersions)  ?kill_watches=1  ?bookmark_s=S
    /tokens           ?set=a,b: the accepted bearer tokens
    /truth            ?kinds=Service,Node[&ns=]: "Kind ns/name rv=N" lines, sorted
    /obj, /list       ?kind=&ns=[&name=]: objects as JSON
    /log              every API request: [time, method, path, status]
    /save             ?path=: the objects and the resourceVersion, for a restart with --state
    /stats            rv, open watches, request count"""
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, code, body, ctype="application/json"):
        if not isinstance(body, bytes):
            body = (json.dumps(body) + "\n").encode() if ctype == "application/json" \
                else body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self):
        st = self.server.st
        u = urlsplit(self.path)
        q = {k: v[-1] for k, v in parse_qs(u.query).items()}
        n = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(n) if n else b""
        try:
            out = self.dispatch(st, u.path, q, data)
        except ApiError as e:
            return self.reply(e.code, status_obj(e.code, e.reason, e.message))
        except (ValueError, KeyError) as e:
            return self.reply(400, {"error": repr(e)})
        if isinstance(out, str):
            return self.reply(200, out, "text/plain")
        return self.reply(200, out)

    do_GET = do_POST = handle_any

    def dispatch(self, st, path, q, data):
        if path == "/apply":   # create or replace, status included, no preconditions
            body = json.loads(data)
            objs = body.get("items", []) if isinstance(body, dict) and "items" in body else \
                (body if isinstance(body, list) else [body])
            rvs = []
            with st.cv:
                for o in objs:
                    res = KIND_RES[o["kind"]]
                    ns = o["metadata"].get("namespace", "default") if RESOURCES[res][2] else ""
                    key = (res, ns, o["metadata"]["name"])
                    if key in st.objs:
                        r = st.update(res, ns, key[2], o, "all", check_rv=False)
                    else:
                        r = st.create(res, ns, o)
                    rvs.append(r["metadata"]["resourceVersion"])
            return {"rvs": rvs}
        if path == "/delete":
            with st.cv:
                st.delete(KIND_RES[q["kind"]], q.get("ns", ""), q["name"])
            return {}
        if path == "/bulk":   # n generated Services (or Nodes/Namespaces) named PREFIX-i
            kind, cnt = q.get("kind", "Service"), int(q["n"])
            prefix, ns = q.get("prefix", "svc"), q.get("ns", "default")
            with st.cv:
                for i in range(cnt):
                    st.create(KIND_RES[kind], ns if kind not in ("Node", "Namespace") else "",
                              gen_object(kind, "%s-%d" % (prefix, i), ns, i))
            return {"rv": st.rv}
        if path == "/touch":   # modify the first n objects of a kind (a label changes)
            kind, cnt = q.get("kind", "Service"), int(q["n"])
            res = KIND_RES[kind]
            with st.cv:
                objs = st.select(res, q.get("ns", ""))[:cnt]
                for o in objs:
                    o = copy.deepcopy(o)
                    lb = o["metadata"].setdefault("labels", {})
                    lb["touched"] = str(int(lb.get("touched", "0")) + 1)
                    md = o["metadata"]
                    st.update(res, md.get("namespace", ""), md["name"], o, "all", check_rv=False)
            return {"rv": st.rv}
        if path == "/fault":
            with st.cv:
                if "fail" in q:
                    st.fail_n = int(q["fail"])
                    st.fail_code = int(q.get("code", 500))
                    st.retry_after = q.get("retry_after")
                    st.fail_match = q.get("match", "")
                    st.fail_method = q.get("method", "")
                if "delay_ms" in q:
                    st.delay_ms, st.delay_n = int(q["delay_ms"]), int(q.get("delay_n", -1))
                if "drop_after" in q:
                    st.drop_after = int(q["drop_after"])
                if "bad" in q:
                    st.bad = q["bad"] or None
                if "bookmark_s" in q:
                    st.bookmark_s = float(q["bookmark_s"])
                if q.get("compact"):
                    st.compact()
                if q.get("kill_watches"):
                    st.kill_gen += 1
                st.cv.notify_all()
            return {}
        if path == "/tokens":
            with st.cv:
                st.tokens = set(t for t in q.get("set", "").split(",") if t)
            return {}
        if path == "/truth":   # "Kind ns/name rv=N" lines, sorted, for comparison with a cache
            kinds = q.get("kinds", "Service,EndpointSlice,Node,Namespace,Lease").split(",")
            lines = []
            with st.cv:
                for (res, ns, name), o in st.objs.items():
                    kind = RESOURCES[res][0]
                    if kind in kinds and (not q.get("ns") or ns == q["ns"]):
                        lines.append("%s %s rv=%s" % (kind, ("%s/%s" % (ns, name)) if ns else name,
                                                      o["metadata"]["resourceVersion"]))
            return "".join(line + "\n" for line in sorted(lines))
        if path == "/obj":
            res = KIND_RES[q["kind"]]
            with st.cv:
                o = st.objs.get((res, q.get("ns", "") if RESOURCES[res][2] else "", q["name"]))
            if o is None:
                raise ApiError(404, "NotFound", "no such object")
            return o
        if path == "/list":
            res = KIND_RES[q["kind"]]
            with st.cv:
                return {"items": st.select(res, q.get("ns", ""))}
        if path == "/log":
            with st.cv:
                return [list(x) for x in st.reqlog]
        if path == "/save":
            st.save(q["path"])
            return {}
        if path == "/stats":
            with st.cv:
                return {"rv": st.rv, "watchers": st.watchers, "requests": len(st.reqlog),
                        "compacted": st.compacted}
        raise ApiError(404, "NotFound", "no such admin command")


def gen_object(kind, name, ns, i):
    if kind == "Service":
        return {"metadata": {"name": name, "namespace": ns, "labels": {"app": name}},
                "spec": {"type": "LoadBalancer", "ports": [{"port": 80 + i % 1000,
                                                            "protocol": "TCP"}],
                         "selector": {"app": name}, "clusterIP": "10.96.%d.%d"
                         % (i // 250 % 250, i % 250 + 1)}}
    if kind == "Node":
        return {"metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
                "status": {"conditions": [{"type": "Ready", "status": "True"}],
                           "addresses": [{"type": "InternalIP",
                                          "address": "192.168.%d.%d" % (i // 250, i % 250 + 1)}]}}
    if kind == "Namespace":
        return {"metadata": {"name": name}}
    if kind == "EndpointSlice":
        return {"metadata": {"name": name, "namespace": ns,
                             "labels": {"kubernetes.io/service-name": name}},
                "addressType": "IPv4",
                "endpoints": [{"addresses": ["10.244.%d.%d" % (i // 250 % 250, i % 250 + 1)],
                               "conditions": {"ready": True}, "nodeName": "node-0"}]}
    raise ValueError("cannot generate " + kind)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # TLS handshake failures (wrong CA on the client side) and resets are expected in tests.
        e = sys.exc_info()[1]
        if isinstance(e, (ssl.SSLError, ConnectionError, socket.timeout, OSError)):
            if self.verbose:
                sys.stderr.write("fakeapi: connection error: %s\n" % e)
            return
        super().handle_error(request, client_address)


def write_file(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--client-ca", help="accept client certificates signed by this CA")
    ap.add_argument("--token", action="append", default=[], help="accepted bearer token")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--admin-port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--admin-port-file")
    ap.add_argument("--state", help="load objects from this file (written by /save)")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()

    st = State()
    st.tokens = set(a.token)
    if a.state and os.path.exists(a.state):
        st.load(a.state)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    if a.client_ca:
        ctx.load_verify_locations(a.client_ca)
        ctx.verify_mode = ssl.CERT_OPTIONAL

    api = Server(("127.0.0.1", a.port), ApiHandler)
    api.st, api.ssl_ctx, api.verbose = st, ctx, a.verbose
    adm = Server(("127.0.0.1", a.admin_port), AdminHandler)
    adm.st, adm.ssl_ctx, adm.verbose = st, None, a.verbose
    threading.Thread(target=adm.serve_forever, daemon=True).start()
    if a.admin_port_file:
        write_file(a.admin_port_file, "%d\n" % adm.server_address[1])
    if a.port_file:
        write_file(a.port_file, "%d\n" % api.server_address[1])
    print("fakeapi: https://127.0.0.1:%d admin http://127.0.0.1:%d"
          % (api.server_address[1], adm.server_address[1]), file=sys.stderr, flush=True)
    try:
        api.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
