#!/usr/bin/env python3
"""Token service of mini's Hub-like test registry (tests/system/hub/hub.sh).

Speaks the distribution token protocol (docs/spec/auth/token.md) the way
Docker Hub's auth.docker.io does, on plain HTTP on loopback; nginx puts TLS
in front of it.  docker-registry itself checks the tokens: they are JWTs
(RS256) with the signing certificate in the x5c header, which the registry
verifies against its `auth.token.rootcertbundle`.  Signing uses the openssl
CLI, so only the Python standard library is needed.

    GET /token?service=S&scope=repository:NAME:ACTIONS[&scope=...][&account=U]
        [Authorization: Basic ...]

* Wrong basic credentials: 401 {"details": "incorrect username or password"}.
* Anonymous: "pull" on every repository except private/* (an empty grant
  there, as Docker Hub does; the registry then answers 401).
* A known user gets what it asks for ("push" only for the admin user).
* Repositories oauth/*: the answer carries "access_token" instead of "token".
* Repositories shortlived/*: every odd token for them is already expired
  (the registry answers 401 and the client must fetch a new one).

Every request is logged as one line: "GET <path?query> user=<name|->".
"""
import argparse
import base64
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

LEEWAY = 60  # docker/distribution registry/auth/token: Leeway


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class State:
    def __init__(self, args):
        self.args = args
        with open(args.cert) as f:
            pem = f.read()
        der_b64 = "".join(
            line for line in pem.splitlines() if line and not line.startswith("-----")
        )
        self.x5c = [der_b64]
        self.users = {}
        with open(args.users) as f:
            for line in f:
                line = line.strip()
                if line and ":" in line:
                    u, p = line.split(":", 1)
                    self.users[u] = p
        self.lock = threading.Lock()
        self.counters = {}
        self.log = open(args.log, "a", buffering=1)

    def sign(self, claims):
        header = {"typ": "JWT", "alg": "RS256", "x5c": self.x5c}
        signing_input = (
            b64url(json.dumps(header, separators=(",", ":")).encode())
            + "."
            + b64url(json.dumps(claims, separators=(",", ":")).encode())
        )
        sig = subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", self.args.key],
            input=signing_input.encode(),
            stdout=subprocess.PIPE,
            check=True,
        ).stdout
        return signing_input + "." + b64url(sig)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None

    def log_message(self, fmt, *args):  # quiet: we keep our own log
        pass

    def reply(self, code, obj, extra=None):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        st = self.state
        url = urlsplit(self.path)
        user = None
        bad_auth = False
        auth = self.headers.get("Authorization", "")
        if auth[:6].lower() == "basic ":
            try:
                u, p = base64.b64decode(auth[6:].strip()).decode().split(":", 1)
            except Exception:
                u, p = None, None
            if u is not None and st.users.get(u) == p:
                user = u
            else:
                bad_auth = True
        st.log.write("GET %s user=%s\n" % (self.path, user or ("BAD" if bad_auth else "-")))
        if url.path != "/token":
            return self.reply(404, {"details": "not found"})
        if bad_auth:
            return self.reply(401, {"details": "incorrect username or password"})
        q = parse_qs(url.query)
        service = (q.get("service") or [""])[0]
        if service != st.args.service:
            return self.reply(400, {"details": "invalid service %r" % service})
        access = []
        names = []
        for scope in " ".join(q.get("scope", [])).split():
            parts = scope.split(":")
            if len(parts) < 3 or parts[0] != "repository":
                continue
            name, actions = ":".join(parts[1:-1]), parts[-1].split(",")
            names.append(name)
            if user == st.args.admin:
                granted = [a for a in actions if a in ("pull", "push", "*")]
            elif user is not None:
                granted = [a for a in actions if a == "pull"]
            elif name.startswith("private/"):
                granted = []
            else:
                granted = [a for a in actions if a == "pull"]
            access.append({"type": "repository", "name": name, "actions": granted})

        now = int(time.time())
        exp = now + 300
        if any(n.startswith("shortlived/") for n in names):
            with st.lock:
                key = " ".join(sorted(names))
                st.counters[key] = st.counters.get(key, 0) + 1
                if st.counters[key] % 2 == 1:
                    exp = now - LEEWAY - 30
        claims = {
            "iss": st.args.issuer,
            "sub": user or "",
            "aud": st.args.service,
            "exp": exp,
            "nbf": now - 10,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        token = st.sign(claims)
        key = "access_token" if any(n.startswith("oauth/") for n in names) else "token"
        issued = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
        return self.reply(200, {key: token, "expires_in": 300, "issued_at": issued})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--users", required=True, help="file of user:password lines")
    ap.add_argument("--admin", default="admin")
    ap.add_argument("--service", required=True)
    ap.add_argument("--issuer", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--ready", help="file written once listening")
    args = ap.parse_args()
    Handler.state = State(args)
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    if args.ready:
        with open(args.ready + ".tmp", "w") as f:
            f.write(str(os.getpid()))
        os.rename(args.ready + ".tmp", args.ready)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
