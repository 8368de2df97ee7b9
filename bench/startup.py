#!/usr/bin/env python3
"""Start-up to the first answered request: starts a server command, then
connects and sends GET /v2/ over 127.0.0.1 every millisecond until an HTTP
answer arrives; prints the milliseconds from exec to that answer, then stops
the server (SIGTERM, its whole process group).
Usage: startup.py PORT COMMAND...   (used by bench/startup.sh)"""
import os
import signal
import socket
import subprocess
import sys
import time

port, cmd = int(sys.argv[1]), sys.argv[2:]
start = time.monotonic()
proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
elapsed = None
try:
    while time.monotonic() - start < 30:
        if proc.poll() is not None:
            sys.exit(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /v2/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if s.recv(64).startswith(b"HTTP/1."):
                    elapsed = time.monotonic() - start
                    break
        except OSError:
            time.sleep(0.001)
finally:
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait()
if elapsed is None:
    sys.exit("no answer within 30 s")
print(f"{elapsed * 1000:.1f}")
