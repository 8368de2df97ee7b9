#!/usr/bin/env python3
"""Load for tests/integration/test_faults.sh, on loopback, every loop bounded.

  fault_load.py latency PORT COUNT
      COUNT manifest requests, one at a time on one keep-alive connection;
      prints "p50_us p99_us".
  fault_load.py blobs PORT CLIENT COUNT TAG
      COUNT blob requests at once (one connection each), each for its own
      digest, from X-Forwarded-For CLIENT (the server trusts 127.0.0.1);
      prints "STATUS LOCATION_PREFIX..." counts and the slowest answer in ms:
      e.g. "10x307 upstream=10 max_ms=1012".
"""
import hashlib
import re
import socket
import sys
import threading
import time

TIMEOUT = 10.0


def read_response(s, buf):
    """One response (head plus Content-Length body) from s; returns (head, rest)."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            head = buf[:end + 4]
            m = re.search(rb"(?im)^content-length: *(\d+)", head)
            total = end + 4 + (int(m.group(1)) if m else 0)
            if len(buf) >= total:
                return head, buf[total:]
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    raise TimeoutError("no response")


def latency(port, count):
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=TIMEOUT)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    req = b"GET /v2/pause/manifests/3.9 HTTP/1.1\r\nHost: x\r\n\r\n"
    times = []
    buf = b""
    for _ in range(int(count)):
        t = time.perf_counter()
        s.sendall(req)
        head, buf = read_response(s, buf)
        times.append((time.perf_counter() - t) * 1e6)
        assert head.startswith(b"HTTP/1.1 307 "), head
    times.sort()
    print(f"{int(times[len(times) // 2])} {int(times[int(len(times) * 0.99)])}")


def blobs(port, client, count, tag):
    results = []
    lock = threading.Lock()

    def one(i):
        digest = "sha256:" + hashlib.sha256(f"{tag}-{i}".encode()).hexdigest()
        req = (f"GET /v2/pause/blobs/{digest} HTTP/1.1\r\nHost: x\r\n"
               f"X-Forwarded-For: {client}\r\nConnection: close\r\n\r\n").encode()
        t = time.perf_counter()
        try:
            s = socket.create_connection(("127.0.0.1", int(port)), timeout=TIMEOUT)
            s.sendall(req)
            head, _ = read_response(s, b"")
            s.close()
            status = head.split(b" ")[1].decode()
            loc = re.search(rb"(?im)^location: *(\S+)", head)
            where = "none"
            if loc:
                where = "upstream" if b"/v2/" in loc.group(1) else "mirror"
        except (OSError, TimeoutError, ConnectionError) as e:
            status, where = "error", type(e).__name__
        with lock:
            results.append((status, where, (time.perf_counter() - t) * 1000))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(int(count))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT + 5)
    kinds = {}
    for status, where, _ in results:
        kinds[f"{status}:{where}"] = kinds.get(f"{status}:{where}", 0) + 1
    slowest = max((ms for _, _, ms in results), default=0)
    print(" ".join(f"{k}={v}" for k, v in sorted(kinds.items())) + f" max_ms={int(slowest)}")


if __name__ == "__main__":
    {"latency": latency, "blobs": blobs}[sys.argv[1]](*sys.argv[2:])
