#!/usr/bin/env python3
"""A deliberately awkward OCI registry for tests, on loopback only.

usage: fake-registry.py PORTFILE LAYOUT [--corrupt DIGEST]... [--flaky] [--redirect]
                        [--fault NAME]... [--phantom-tag TAG]... [--missing DIGEST]...
                        [--log FILE] [--manifest-delay SECONDS] [--alias-tags N]
                        [--token-creds USER:PASS] [--refresh-token TOKEN]

Serves the images of an OCI layout (tags from index.json annotations) and:
  - demands bearer tokens: 401 + WWW-Authenticate: Bearer realm=.../token,
    service="fake",scope="repository:NAME:pull"; /token hands one out;
  - pages tags/list one tag per page with Link: <...>; rel="next";
  - with --corrupt D serves blob D with one byte flipped (same length);
  - with --flaky answers the first request for each blob with 503;
  - with --redirect answers blob requests with 307 to /storage/DIGEST (served
    without auth), as registries backed by object storage do.
  - with --manifest-delay S answers every manifest request S seconds late
    (a registry far away: a client walking one manifest at a time waits S each);
  - with --alias-tags N also serves tags alias-000 .. alias-N-1, each the
    first tag's image (many tags of small images, without generating them).
  - with --token-creds U:P /token hands out tokens only to Basic U:P
    (a private registry with a token service); with --refresh-token T also
    to a POST grant_type=refresh_token&refresh_token=T (docker's
    identitytoken), answered with {"access_token": ...}.
Binds 127.0.0.1 on a free port and writes the port to PORTFILE.
"""
import argparse
import base64
import hashlib
import http.server
import json
import os
import re
import threading
import time
import urllib.parse

TOKEN = "t0k3n"

# Ways a broken or hostile registry answers, each chosen by --fault NAME.
FAULTS = {
    "ping-500": "GET /v2/ answers 500",
    "tags-404": "tags/list answers 404 NAME_UNKNOWN",
    "tags-not-json": "tags/list answers 200 with an HTML page",
    "tags-not-list": 'tags/list answers {"tags": "v1"}',
    "tags-endless": "tags/list always links to a next page",
    "manifest-not-json": "manifests answer 200 with bytes that are not JSON",
    "manifest-wrong-type": "manifests answer with Content-Type text/html",
    "manifest-digest-lie": "Docker-Content-Digest names another digest",
    "blob-oversize": "blobs carry 16 extra bytes",
    "manifest-huge": "manifests carry 5 MiB of JSON padding",
    "manifest-size-lie": "image manifests declare every blob 1 byte longer",
    "token-expires": "a token is good for 3 requests, then 401 again",
    "token-500": "/token answers 500",
    "token-empty": "/token answers {} (no token)",
    "token-no-realm": "the bearer challenge has no realm",
    "basic-auth": "the challenge is Basic, not Bearer",
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("portfile")
    ap.add_argument("layout")
    ap.add_argument("--corrupt", action="append", default=[])
    ap.add_argument("--flaky", action="store_true")
    ap.add_argument("--redirect", action="store_true")
    ap.add_argument("--fault", action="append", default=[], choices=sorted(FAULTS))
    ap.add_argument("--phantom-tag", action="append", default=[])
    ap.add_argument("--missing", action="append", default=[])
    ap.add_argument("--log")
    ap.add_argument("--manifest-delay", type=float, default=0)
    ap.add_argument("--alias-tags", type=int, default=0)
    ap.add_argument("--token-creds")
    ap.add_argument("--refresh-token")
    args = ap.parse_args()
    faults = set(args.fault)
    with open(os.path.join(args.layout, "index.json")) as f:
        index = json.load(f)
    tags = {}
    for m in index["manifests"]:
        tags[m["annotations"]["org.opencontainers.image.ref.name"]] = (m["digest"], m["mediaType"])
    first = tags[sorted(tags)[0]]
    for n in range(args.alias_tags):
        tags["alias-%03d" % n] = first
    media_of = {}
    for digest, media in tags.values():
        media_of[digest] = media
    lock = threading.Lock()
    seen_blobs = set()
    token_state = {"serial": 0, "uses": {}}  # token -> requests it was used for
    log = open(args.log, "a", buffering=1) if args.log else None

    def blob_bytes(digest):
        if not re.fullmatch(r"sha256:[0-9a-f]{64}", digest) or digest in args.missing:
            return None
        path = os.path.join(args.layout, "blobs", "sha256", digest.split(":", 1)[1])
        if not os.path.exists(path):
            return None
        with open(path, "rb") as f:
            return f.read()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            if log:
                log.write("%s %s\n" % (self.command, self.path))

        def send(self, code, body=b"", headers=()):
            self.send_response(code)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def authorized(self, repo):
            given = self.headers.get("Authorization", "")
            if "token-expires" in faults:
                with lock:
                    uses = token_state["uses"]
                    token = given[len("Bearer "):]
                    if given.startswith("Bearer ") and token in uses and uses[token] < 3:
                        uses[token] += 1
                        return True
            elif given == "Bearer " + TOKEN:
                return True
            port = self.server.server_address[1]
            scope = f',scope="repository:{repo}:pull"' if repo else ""
            challenge = f'Bearer realm="http://127.0.0.1:{port}/token",service="fake"{scope}'
            if "basic-auth" in faults:
                challenge = 'Basic realm="fake"'
            elif "token-no-realm" in faults:
                challenge = f'Bearer service="fake"{scope}'
            self.send(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}',
                      [("WWW-Authenticate", challenge)])
            return False

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            form = urllib.parse.parse_qs(self.rfile.read(length).decode())
            good = (self.path == "/token" and args.refresh_token
                    and form.get("grant_type") == ["refresh_token"]
                    and form.get("refresh_token") == [args.refresh_token]
                    and form.get("service") == ["fake"])
            if not good:
                return self.send(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}')
            self.send(200, json.dumps({"access_token": TOKEN}).encode())

        def do_GET(self):
            path, _, query = self.path.partition("?")
            if path == "/token" and (args.token_creds or args.refresh_token):
                want = "Basic " + base64.b64encode((args.token_creds or "").encode()).decode()
                if not args.token_creds or self.headers.get("Authorization") != want:
                    return self.send(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}')
            if path == "/token":
                if "token-500" in faults:
                    return self.send(500, b"token service down")
                if "token-empty" in faults:
                    return self.send(200, b"{}", [("Content-Type", "application/json")])
                token = TOKEN
                if "token-expires" in faults:
                    with lock:
                        token_state["serial"] += 1
                        token = f"{TOKEN}-{token_state['serial']}"
                        token_state["uses"][token] = 0
                return self.send(200, json.dumps({"token": token, "expires_in": 300}).encode())
            if path.startswith("/storage/"):
                data = blob_bytes(path[len("/storage/"):])
                if data is None:
                    return self.send(404)
                return self.send(200, data, [("Content-Type", "application/octet-stream")])
            if path == "/v2/":
                if "ping-500" in faults:
                    return self.send(500, b"internal error")
                if self.authorized(""):
                    self.send(200, b"{}")
                return
            m = re.fullmatch(r"/v2/(.+)/(tags/list|manifests/[^/]+|blobs/[^/]+)", path)
            if not m:
                return self.send(404)
            repo, what = m.group(1), m.group(2)
            if not self.authorized(repo):
                return
            if what == "tags/list":
                if "tags-404" in faults:
                    return self.send(404, b'{"errors":[{"code":"NAME_UNKNOWN"}]}',
                                     [("Content-Type", "application/json")])
                if "tags-not-json" in faults:
                    return self.send(200, b"<html>maintenance</html>", [("Content-Type", "text/html")])
                if "tags-not-list" in faults:
                    return self.send(200, b'{"name":"x","tags":"v1"}', [("Content-Type", "application/json")])
                if "tags-endless" in faults:
                    return self.send(200, b'{"name":"x","tags":[]}', [
                        ("Content-Type", "application/json"),
                        ("Link", f'</v2/{repo}/tags/list?n=1&last=x>; rel="next"')])
                names = sorted(set(tags) | set(args.phantom_tag))
                last = dict(p.split("=", 1) for p in query.split("&") if "=" in p).get("last")
                rest = [t for t in names if last is None or t > last]
                page = rest[:1]
                headers = [("Content-Type", "application/json")]
                if len(rest) > 1:
                    headers.append(("Link", f'</v2/{repo}/tags/list?n=1&last={page[0]}>; rel="next"'))
                return self.send(200, json.dumps({"name": repo, "tags": page}).encode(), headers)
            kind, ref = what.split("/", 1)
            if kind == "manifests":
                if args.manifest_delay:
                    time.sleep(args.manifest_delay)
                digest, media = tags.get(ref, (ref, None))
                data = blob_bytes(digest)
                if data is None:
                    return self.send(404)
                if media is None:
                    media = json.loads(data).get("mediaType", "application/json")
                if "manifest-huge" in faults:
                    body = json.loads(data)
                    body["annotations"] = {"padding": "x" * (5 << 20)}
                    data = json.dumps(body).encode()
                    digest = "sha256:" + hashlib.sha256(data).hexdigest()
                if "manifest-size-lie" in faults and "layers" in json.loads(data):
                    body = json.loads(data)
                    for d in [body["config"]] + body["layers"]:
                        d["size"] += 1
                    data = json.dumps(body).encode()
                    digest = "sha256:" + hashlib.sha256(data).hexdigest()
                if "manifest-not-json" in faults:
                    data = b"\x00this is not a manifest"
                    digest = "sha256:" + hashlib.sha256(data).hexdigest()
                if "manifest-wrong-type" in faults:
                    media = "text/html"
                if "manifest-digest-lie" in faults:
                    digest = "sha256:" + "0" * 64
                return self.send(200, data, [("Content-Type", media), ("Docker-Content-Digest", digest)])
            data = blob_bytes(ref)
            if data is None:
                return self.send(404)
            with lock:
                first = ref not in seen_blobs
                seen_blobs.add(ref)
            if args.flaky and first:
                return self.send(503, b"try later", [("Retry-After", "0")])
            if args.redirect:
                return self.send(307, b"", [("Location", f"/storage/{ref}")])
            if ref in args.corrupt:
                data = bytes([data[0] ^ 0xFF]) + data[1:]
            if "blob-oversize" in faults:
                data += b"\0" * 16
            self.send(200, data, [("Content-Type", "application/octet-stream")])

        do_HEAD = do_GET

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(args.portfile + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(args.portfile + ".tmp", args.portfile)
    server.serve_forever()


if __name__ == "__main__":
    main()
