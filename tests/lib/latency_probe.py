#!/usr/bin/env python3
"""Latency of new connections, measured from one long-lived process: for each
sample a new TCP connection, one HTTP/1.1 request (Connection: close), and
the answer's head read; only connect + request + answer are timed, so process
start-up (a curl per request in a namespace costs milliseconds) is not in the
numbers. A sample starts every INTERVAL milliseconds (a normal client, not
a flood of its own: under a SYN limit it must stay below the limit) until
COUNT are taken or SECONDS pass.
Prints one "STATUS MICROSECONDS" line per sample (status 0: the connection
failed or timed out after 5 s). Optional CPU: pin this process to that CPU.
Usage: latency_probe.py HOST PORT PATH COUNT SECONDS INTERVAL_MS [CPU]"""
import os
import socket
import sys
import time


def sample(host, port, request):
    start = time.perf_counter_ns()
    try:
        with socket.create_connection((host, port), timeout=5) as sock:
            sock.sendall(request)
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 65536:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                head += chunk
    except OSError:
        return 0, (time.perf_counter_ns() - start) // 1000
    elapsed = (time.perf_counter_ns() - start) // 1000
    parts = head.split(b" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    return status, elapsed


def main():
    host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    count, seconds = min(int(sys.argv[4]), 100000), float(sys.argv[5])
    interval = float(sys.argv[6]) / 1000
    if len(sys.argv) > 7:
        os.sched_setaffinity(0, {int(sys.argv[7])})
    request = ("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % (path, host)).encode()
    start = time.monotonic()
    lines = []
    for i in range(count):
        due = start + i * interval
        if due > start + seconds:
            break
        if due > time.monotonic():
            time.sleep(due - time.monotonic())
        status, us = sample(host, port, request)
        lines.append("%d %d" % (status, us))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
