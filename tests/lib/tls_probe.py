#!/usr/bin/env python3
"""TLS client probes for tests/integration/test_tls.sh (Python's ssl module:
an independent client, not archeio's code).

  tls_probe.py keepalive HOST PORT CA SNI FILE N DELAY
      one TLS connection, N keep-alive requests for /v2/ DELAY s apart; prints
      the peer certificate's serial (hex) then one status per request.
  tls_probe.py serial HOST PORT CA SNI      prints the served certificate's serial
  tls_probe.py load HOST PORT CA SNI N      N new connections one after the other,
      one request each; prints "ok=K failed=F serials=S1,S2"
  tls_probe.py stall HOST PORT BYTES_HEX SECONDS
      connects, sends the bytes, then waits up to SECONDS for the server to
      close; prints "closed AFTER" or "open"
"""
import socket
import ssl
import sys
import time


def context(ca):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def connect(host, port, ca, sni):
    raw = socket.create_connection((host, int(port)), timeout=5)
    return context(ca).wrap_socket(raw, server_hostname=sni)


def serial_of(conn):
    return format(int(conn.getpeercert()["serialNumber"], 16), "x")


def read_response(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = conn.recv(4096)
        if not chunk:
            break
        rest += chunk
    status = head.split(b" ")[1].decode() if head else "-"
    return status


def request(conn, sni):
    conn.sendall(b"GET /v2/ HTTP/1.1\r\nHost: " + sni.encode() + b"\r\n\r\n")
    return read_response(conn)


def main():
    cmd = sys.argv[1]
    if cmd == "keepalive":
        host, port, ca, sni, n, delay = sys.argv[2:8]
        conn = connect(host, port, ca, sni)
        print(serial_of(conn), flush=True)
        for _ in range(int(n)):
            print(request(conn, sni), flush=True)
            time.sleep(float(delay))
    elif cmd == "serial":
        host, port, ca, sni = sys.argv[2:6]
        print(serial_of(connect(host, port, ca, sni)))
    elif cmd == "load":
        host, port, ca, sni, n = sys.argv[2:7]
        ok = failed = 0
        serials = []
        for _ in range(int(n)):
            try:
                conn = connect(host, port, ca, sni)
                s = serial_of(conn)
                if request(conn, sni) == "200":
                    ok += 1
                    if s not in serials:
                        serials.append(s)
                else:
                    failed += 1
                conn.close()
            except (OSError, ssl.SSLError) as e:
                print("error:", e, file=sys.stderr)
                failed += 1
        print(f"ok={ok} failed={failed} serials={','.join(serials)}")
    elif cmd == "stall":
        host, port, data, seconds = sys.argv[2:6]
        start = time.monotonic()
        sock = socket.create_connection((host, int(port)), timeout=float(seconds))
        sock.sendall(bytes.fromhex(data))
        try:
            while sock.recv(4096):
                pass
            print(f"closed {time.monotonic() - start:.2f}")
        except socket.timeout:
            print("open")
        except ConnectionResetError:
            print(f"closed {time.monotonic() - start:.2f}")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
