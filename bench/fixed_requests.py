#!/usr/bin/env python3
"""Sends exactly N keep-alive GETs (a two-entry X-Forwarded-For, as a load balancer sends) to 127.0.0.1:PORT PATH
over one connection and checks every answer is a 3xx/200.
Usage: fixed_requests.py PORT PATH N"""
import re
import socket
import sys

port, path, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
req = (f"GET {path} HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.9, 15.230.221.1\r\n\r\n").encode()
s = socket.create_connection(("127.0.0.1", port), timeout=30)
buf = b""
done = 0
batch = 64
while done < n:
    k = min(batch, n - done)
    s.sendall(req * k)
    got = 0
    while got < k:
        data = s.recv(1 << 20)
        if not data:
            sys.exit("connection closed early")
        buf += data
        while True:
            m = re.search(rb"\r\nContent-Length: (\d+)\r\n", buf)
            end = buf.find(b"\r\n\r\n")
            if not m or end < 0:
                break
            total = end + 4 + int(m.group(1))
            if len(buf) < total:
                break
            status = int(buf[9:12])
            if status not in (200, 307):
                sys.exit(f"unexpected status {status}")
            buf = buf[total:]
            got += 1
    done += k
print(done)
