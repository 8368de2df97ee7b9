#!/usr/bin/env python3
"""A MOCK S3 endpoint for tests (loopback only): path-style HEAD/PUT/GET of
objects kept in a directory. It is not S3: it exists to check what
archeio-mirror sends. Every request's AWS SigV4 Authorization header is
verified with this file's own SigV4 implementation (hashlib/hmac, written
independently of the C signer), and a PUT must carry an x-amz-content-sha256
and an x-amz-checksum-sha256 that match the body. Anything wrong -> 403/400,
and the reason is logged. As S3 does, it keeps the x-amz-checksum-sha256 a
PUT carried and returns it on HEAD/GET with x-amz-checksum-mode: ENABLED
(not for an object changed on disk behind its back: that one was "written"
without a checksum), and a HEAD carries the object's Content-Length.

Multipart uploads as S3 does them: CreateMultipartUpload (POST ?uploads),
UploadPart (PUT ?partNumber&uploadId, each with a matching
x-amz-checksum-sha256), CompleteMultipartUpload (POST ?uploadId, whose
ETags and ChecksumSHA256s must match the parts) and AbortMultipartUpload
(DELETE ?uploadId). Uploads in progress live in DATADIR/.uploads/ID, so a
test sees what an interrupted client left; the log says INITIATE, PART,
COMPLETE and ABORT.

usage: fake-s3.py PORTFILE DATADIR ACCESS_KEY SECRET_KEY REGION [--log FILE]
                  [--fail-puts N] [--deny PATH-PREFIX] [--slow-parts SECONDS]
                  [--oracle botocore]
  --fail-puts N  answer the first N (correctly signed) PUTs with 500, as S3
                 does under load ("InternalError, please retry")
  --deny P       answer 403 AccessDenied to HEAD and PUT of paths starting
                 with P (e.g. /bucket/locked), as a bucket policy would
  --slow-parts S  wait S seconds before answering each UploadPart, so a test
                 can interrupt a client in the middle of a multipart upload
  --oracle botocore  compute the expected signatures with botocore's
                 S3SigV4Auth (Debian's python3-botocore) instead of this
                 file's own signer: an independent implementation
"""
import argparse
import base64
import re
import shutil
import time
import uuid
import hashlib
import hmac
import http.server
import os
import threading
import urllib.parse


def sign(secret, region, method, path, query, headers, signed, payload_hash, amz_date):
    canonical_headers = "".join(
        f"{h}:{' '.join(headers[h].strip().split())}\n" for h in signed)
    pairs = sorted(p if "=" in p else p + "=" for p in query.split("&") if p)
    canonical = "\n".join([method, path, "&".join(pairs), canonical_headers,
                           ";".join(signed), payload_hash])
    scope = f"{amz_date[:8]}/{region}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in (amz_date[:8], region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def botocore_sign(access, secret, region, method, path, query, headers, signed, amz_date):
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    url = "http://" + headers["host"] + path + ("?" + query if query else "")
    req = AWSRequest(method=method, url=url, headers={h: headers[h] for h in signed})
    req.context["timestamp"] = amz_date
    auth = S3SigV4Auth(Credentials(access, secret), "s3", region)
    canonical = auth.canonical_request(req)
    return auth.signature(auth.string_to_sign(req, canonical), req)


def main():
    ap = argparse.ArgumentParser()
    for name in ("portfile", "datadir", "access", "secret", "region"):
        ap.add_argument(name)
    ap.add_argument("--log")
    ap.add_argument("--fail-puts", type=int, default=0)
    ap.add_argument("--deny")
    ap.add_argument("--slow-parts", type=float, default=0)
    ap.add_argument("--oracle", choices=["own", "botocore"], default="own")
    args = ap.parse_args()
    portfile, datadir, access, secret, region = (
        args.portfile, args.datadir, args.access, args.secret, args.region)
    log = open(args.log, "a", buffering=1) if args.log else None
    lock = threading.Lock()
    puts_to_fail = [args.fail_puts]
    checksums = {}  # object path -> (checksum, mtime_ns when stored)

    def note(msg):
        if log:
            log.write(msg + "\n")

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            note("%s %s" % (self.command, self.path))

        def send(self, code, body=b"", headers=(), length=None):
            self.send_response(code)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body) if length is None else length))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def check_signature(self, payload_hash):
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("AWS4-HMAC-SHA256 "):
                return "no SigV4 Authorization"
            fields = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(","))
            cred = fields.get("Credential", "").split("/")
            if len(cred) != 5 or cred[0] != access or cred[2] != region or cred[3] != "s3":
                return "bad credential scope " + fields.get("Credential", "")
            signed = fields.get("SignedHeaders", "").split(";")
            if "host" not in signed or "x-amz-date" not in signed or "x-amz-content-sha256" not in signed:
                return "host/x-amz-date/x-amz-content-sha256 not signed"
            headers = {k.lower(): v for k, v in self.headers.items()}
            if any(h not in headers for h in signed):
                return "a signed header is missing"
            if headers["x-amz-content-sha256"] != payload_hash:
                return "x-amz-content-sha256 does not match the body"
            path, _, query = self.path.partition("?")
            if args.oracle == "botocore":
                want = botocore_sign(access, secret, region, self.command, path, query,
                                     headers, signed, headers["x-amz-date"])
            else:
                want = sign(secret, region, self.command, path, query, headers, signed,
                            payload_hash, headers["x-amz-date"])
            if not hmac.compare_digest(want, fields.get("Signature", "")):
                return "signature mismatch"
            if "x-amz-security-token" in headers:
                note("SESSION %s signed=%s" % (headers["x-amz-security-token"],
                                               "x-amz-security-token" in signed))
            return None

        def denied(self):
            if args.deny and self.path.startswith(args.deny):
                note("DENY " + self.path)
                self.send(403, b"<Error><Code>AccessDenied</Code></Error>")
                return True
            return False

        def object_path(self):
            path = urllib.parse.unquote(self.path.partition("?")[0])
            parts = path.lstrip("/").split("/", 1)
            if len(parts) != 2 or not parts[1] or ".." in parts[1].split("/"):
                return None
            return os.path.join(datadir, parts[0], parts[1])

        def do_HEAD(self):
            problem = self.check_signature(hashlib.sha256(b"").hexdigest())
            if problem:
                note("REJECT " + problem)
                return self.send(403)
            if self.denied():
                return
            p = self.object_path()
            if not p or not os.path.isfile(p):
                return self.send(404)
            st = os.stat(p)
            headers = []
            with lock:
                stored = checksums.get(p)
            if (self.headers.get("x-amz-checksum-mode", "").upper() == "ENABLED" and stored
                    and stored[1] == st.st_mtime_ns):
                headers.append(("x-amz-checksum-sha256", stored[0]))
            if self.command == "HEAD":
                return self.send(200, b"", headers, length=st.st_size)
            with open(p, "rb") as f:
                self.send(200, f.read(), headers)

        do_GET = do_HEAD

        def query(self):
            return urllib.parse.parse_qs(self.path.partition("?")[2], keep_blank_values=True)

        def upload_dir(self, upload_id):
            if not re.fullmatch(r"[0-9a-f]{32}", upload_id or ""):
                return None
            d = os.path.join(datadir, ".uploads", upload_id)
            return d if os.path.isdir(d) else None

        def read_signed_body(self):
            """The body, or None after answering a request that fails the checks."""
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            problem = self.check_signature(hashlib.sha256(body).hexdigest())
            if problem:
                note("REJECT " + problem)
                self.send(403, problem.encode())
                return None
            return body

        def upload_part(self, q):
            body = self.read_signed_body()
            if body is None:
                return
            want_checksum = base64.b64encode(hashlib.sha256(body).digest()).decode()
            if self.headers.get("x-amz-checksum-sha256") != want_checksum:
                note("REJECT part checksum missing or wrong")
                return self.send(400, b"<Error><Code>BadDigest</Code></Error>")
            d = self.upload_dir(q["uploadId"][0])
            number = int(q["partNumber"][0])
            if not d or not 1 <= number <= 10000:
                return self.send(404, b"<Error><Code>NoSuchUpload</Code></Error>")
            if args.slow_parts:
                time.sleep(args.slow_parts)
            with open(os.path.join(d, "%05d" % number), "wb") as f:
                f.write(body)
            note("PART %s %d %d" % (q["uploadId"][0], number, len(body)))
            self.send_response(200)
            self.send_header("ETag", '"%s"' % hashlib.md5(body).hexdigest())
            self.send_header("x-amz-checksum-sha256", want_checksum)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self):
            q = self.query()
            body = self.read_signed_body()
            if body is None or self.denied():
                return
            p = self.object_path()
            if not p:
                return self.send(400)
            if "uploads" in q:
                upload_id = uuid.uuid4().hex
                d = os.path.join(datadir, ".uploads", upload_id)
                os.makedirs(d)
                with open(os.path.join(d, "key"), "w") as f:
                    f.write(p)
                note("INITIATE %s %s" % (upload_id, self.path.partition("?")[0]))
                return self.send(200, ("<InitiateMultipartUploadResult><UploadId>%s</UploadId>"
                                       "</InitiateMultipartUploadResult>" % upload_id).encode())
            d = self.upload_dir(q.get("uploadId", [""])[0])
            if not d:
                return self.send(404, b"<Error><Code>NoSuchUpload</Code></Error>")
            parts = re.findall(r"<Part><PartNumber>(\d+)</PartNumber><ETag>([^<]*)</ETag>"
                               r"<ChecksumSHA256>([^<]*)</ChecksumSHA256></Part>", body.decode())
            data = b""
            for i, (number, etag, checksum) in enumerate(parts):
                path = os.path.join(d, "%05d" % int(number))
                if int(number) != i + 1 or not os.path.isfile(path):
                    note("REJECT complete: part %s missing or out of order" % number)
                    return self.send(400, b"<Error><Code>InvalidPart</Code></Error>")
                part = open(path, "rb").read()
                if (etag.replace("&quot;", '"') != '"%s"' % hashlib.md5(part).hexdigest() or
                        checksum != base64.b64encode(hashlib.sha256(part).digest()).decode()):
                    note("REJECT complete: ETag or checksum of part %s" % number)
                    return self.send(400, b"<Error><Code>InvalidPart</Code></Error>")
                data += part
            if not parts:
                note("REJECT complete: no parts")
                return self.send(400, b"<Error><Code>MalformedXML</Code></Error>")
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p + ".part", "wb") as f:
                f.write(data)
            os.rename(p + ".part", p)
            shutil.rmtree(d)
            note("COMPLETE %s %d parts" % (p, len(parts)))
            self.send(200, b"<CompleteMultipartUploadResult></CompleteMultipartUploadResult>")

        def do_DELETE(self):
            q = self.query()
            if self.read_signed_body() is None:
                return
            d = self.upload_dir(q.get("uploadId", [""])[0])
            if not d:
                return self.send(404, b"<Error><Code>NoSuchUpload</Code></Error>")
            shutil.rmtree(d)
            note("ABORT %s" % q["uploadId"][0])
            self.send(204)

        def do_PUT(self):
            q = self.query()
            if "uploadId" in q and "partNumber" in q:
                return self.upload_part(q)
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            problem = self.check_signature(hashlib.sha256(body).hexdigest())
            want_checksum = base64.b64encode(hashlib.sha256(body).digest()).decode()
            if not problem and self.headers.get("x-amz-checksum-sha256") != want_checksum:
                problem = "x-amz-checksum-sha256 missing or wrong"
            if problem:
                note("REJECT " + problem)
                return self.send(400 if "checksum" in problem else 403, problem.encode())
            if self.denied():
                return
            with lock:
                fail = puts_to_fail[0] > 0
                puts_to_fail[0] -= fail
            if fail:
                note("FAIL500 " + self.path)
                return self.send(500, b"<Error><Code>InternalError</Code></Error>")
            p = self.object_path()
            if not p:
                return self.send(400)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p + ".part", "wb") as f:
                f.write(body)
            os.rename(p + ".part", p)
            with lock:
                checksums[p] = (want_checksum, os.stat(p).st_mtime_ns)
            note("STORED " + p)
            self.send(200)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(portfile + ".tmp", portfile)
    server.serve_forever()


if __name__ == "__main__":
    main()
