#!/usr/bin/env python3
"""A mirror that misbehaves, the way chosen by the first path segment.

Usage: bad-mirror.py PORT REDIRECT_TO. A mirror rule's base URL names the
mode: http://127.0.0.1:PORT/<mode>, so the check for a blob asks for
/<mode>/containers/images/<digest>. Modes:
  hang      accepts, reads the request, never answers
  slow      answers 200, one header byte every 50 ms (never finishes in time)
  hugebody  503 with Content-Length 1 TB, then body bytes until the peer goes
            (a 200 to a HEAD means "present" whatever follows it)
  headers   200, then header lines without end
  reset     reads the request, then resets the connection (RST)
  redirect  307 to REDIRECT_TO (a host no rule names: it must not be followed)
  ok        200 at once (the control)
Every connection is its own thread with a bounded life (60 s); loopback only.
Each request is logged to stderr as "MODE PATH".
"""
import socket
import struct
import sys
import threading
import time

PORT, REDIRECT_TO = int(sys.argv[1]), sys.argv[2]
LIFE = 60.0


def read_head(conn):
    data = b""
    deadline = time.monotonic() + 5
    while b"\r\n\r\n" not in data and time.monotonic() < deadline and len(data) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
    return data


def send_for_life(conn, head, chunk, pause):
    """The head, then chunk after chunk until the peer goes or LIFE ends."""
    conn.sendall(head)
    end = time.monotonic() + LIFE
    while time.monotonic() < end:
        conn.sendall(chunk)
        if pause:
            time.sleep(pause)


def serve(conn):
    conn.settimeout(LIFE)
    try:
        head = read_head(conn)
        if head is None:
            return
        path = head.split(b" ")[1].decode(errors="replace")
        mode = path.split("/")[1]
        sys.stderr.write(f"{mode} {path}\n")
        sys.stderr.flush()
        if mode == "hang":
            time.sleep(LIFE)
        elif mode == "slow":
            send_for_life(conn, b"", b"H", 0.05)
        elif mode == "hugebody":
            send_for_life(conn, b"HTTP/1.1 503 Busy\r\nContent-Length: 1000000000000\r\n\r\n",
                          b"x" * 65536, 0)
        elif mode == "headers":
            send_for_life(conn, b"HTTP/1.1 200 OK\r\n", b"X-Filler: " + b"y" * 1000 + b"\r\n", 0)
        elif mode == "reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif mode == "redirect":
            conn.sendall(b"HTTP/1.1 307 Temporary Redirect\r\nLocation: " + REDIRECT_TO.encode() +
                         path.encode() + b"\r\nContent-Length: 0\r\n\r\n")
        else:
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    except OSError:
        pass
    finally:
        conn.close()


def accept_forever(listener):
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def main():
    # 127.0.0.1 and, when asked, more loopback addresses on the same port: one
    # mirror origin per fault mode, so that one origin marked failing does not
    # keep archeio from checking the next mode's.
    for addr in ["127.0.0.1"] + sys.argv[3:]:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((addr, PORT))
        listener.listen(256)
        threading.Thread(target=accept_forever, args=(listener,), daemon=True).start()
    while True:
        time.sleep(3600)


main()
