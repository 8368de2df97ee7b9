#!/usr/bin/env python3
"""Raw-socket HTTP clients for tests/integration/test_http_edges.sh.

Usage: http_edges.py SCENARIO PORT [ARG...]. Each scenario prints one line
describing what the client saw (status codes, "eof", ...); the shell test
compares it. Every socket operation has a timeout, every loop a bound.
"""
import re
import select
import socket
import sys
import time

TIMEOUT = 5.0


def connect(port, host="127.0.0.1", rcvbuf=None):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(TIMEOUT)
    s.connect((host, int(port)))
    return s


def read_until_eof(s, limit=TIMEOUT):
    """All bytes until the server closes; 'timeout' marks a server that did not."""
    data = bytearray()  # appending to bytes would copy it all each time
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        s.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            return data, "timeout"
        except ConnectionResetError:
            return data, "reset"
        if not chunk:
            return data, "eof"
        data += chunk
    return data, "timeout"


def statuses(data):
    return [m.decode() for m in re.findall(rb"HTTP/1\.1 (\d{3}) ", data)]


def read_responses(s, count):
    """Exactly `count` responses (heads plus Content-Length bodies)."""
    data = b""
    out = []
    deadline = time.monotonic() + TIMEOUT
    while len(out) < count and time.monotonic() < deadline:
        m = re.match(rb"(HTTP/1\.1 (\d{3}) [^\r]*\r\n(.*?)\r\n\r\n)", data, re.S)
        if m:
            clen = re.search(rb"(?im)^content-length: *(\d+)", m.group(3))
            total = len(m.group(1)) + (int(clen.group(1)) if clen else 0)
            if len(data) >= total:
                out.append(data[:total])
                data = data[total:]
                continue
        s.settimeout(max(0.05, deadline - time.monotonic()))
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return out


def summary(data, how):
    return " ".join(statuses(data) + [how])


def slow_head(port):
    """Half a request head, then silence: the server answers 408 and closes."""
    s = connect(port)
    s.sendall(b"GET /v2/ HTTP/1.1\r\nHost: x\r\n")
    print(summary(*read_until_eof(s)))


def silent(port):
    """Connect and send nothing: closed after the header timeout, no bytes."""
    s = connect(port)
    data, how = read_until_eof(s)
    print(f"{len(data)} bytes {how}")


def idle_keepalive(port):
    """One keep-alive request answered, then the idle connection is closed."""
    s = connect(port)
    s.sendall(b"GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n")
    first = read_responses(s, 1)
    data, how = read_until_eof(s)
    print(" ".join(statuses(b"".join(first)) + [f"then {len(data)} bytes {how}"]))


def half_close(port, *targets):
    """Requests, then shutdown(SHUT_WR): every request is still answered."""
    s = connect(port)
    s.sendall(b"".join(f"GET {t} HTTP/1.1\r\nHost: x\r\n\r\n".encode() for t in targets))
    s.shutdown(socket.SHUT_WR)
    print(summary(*read_until_eof(s)))


def truncated(port):
    """Half a head, then EOF: 400, not a hang until the header timeout."""
    s = connect(port)
    s.sendall(b"GET /v2/ HTTP/1.1\r\nHost:")
    s.shutdown(socket.SHUT_WR)
    print(summary(*read_until_eof(s)))


def pipeline_unread(port, count):
    """Many pipelined requests sent before reading anything, with a tiny
    receive buffer so the server's sends would block: all are answered, in
    order, once the client reads."""
    count = int(count)
    s = connect(port, rcvbuf=4096)
    # Long redirects (~1.5 KB each) so the answers outgrow the socket buffers.
    long_path = "/v2/" + "abcdefgh/" * 20 + "manifests/" + "t" * 120
    targets = ["/v2/", long_path, "/nope", long_path]
    reqs = [f"GET {targets[i % 4]} HTTP/1.1\r\nHost: x\r\n\r\n" for i in range(count)]
    reqs[-1] = reqs[-1].replace("Host: x", "Host: x\r\nConnection: close")
    payload = "".join(reqs).encode()
    sent = 0
    s.setblocking(False)
    data = bytearray()
    deadline = time.monotonic() + 20
    # Send everything first (no reading) as far as the server lets us, then read.
    stalled_since = None
    while sent < len(payload) and time.monotonic() < deadline:
        try:
            sent += s.send(payload[sent:sent + 65536])
            stalled_since = None
        except BlockingIOError:
            # The server stopped reading (its output is queued): now read.
            if stalled_since is None:
                stalled_since = time.monotonic()
            if time.monotonic() - stalled_since > 0.5:
                # The server has queued answers by now; read them quickly.
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
                for _ in range(1000):  # drain what has arrived, then send on
                    try:
                        chunk = s.recv(65536)
                    except BlockingIOError:
                        break
                    if not chunk:
                        break
                    data += chunk
            select.select([s], [s], [], 0.05)
    s.setblocking(True)
    more, how = read_until_eof(s, 30)
    data += more
    got = statuses(data)
    want = [{"/v2/": "200", "/nope": "404", long_path: "307"}[targets[i % 4]]
            for i in range(count)]
    print(f"{len(got)} responses, in order: {got == want}, {how}")


def flood_unread(port, seconds):
    """Pipelines requests for up to SECONDS without ever reading. The server
    must stop reading (its answers cannot be sent), so the client's sends
    stall once the socket buffers are full, instead of the server queueing
    answers without bound."""
    s = connect(port, rcvbuf=4096)
    one = b"GET /v2/nope/manifests/x HTTP/1.1\r\nHost: x\r\n\r\n"
    req = one * 1000
    s.settimeout(1.0)
    sent = 0
    deadline = time.monotonic() + float(seconds)
    while time.monotonic() < deadline:
        try:
            sent += s.send(req)
        except socket.timeout:
            break
        except OSError as e:
            print(f"error {e} after {sent // 1000000} MB")
            return
    else:
        print(f"never stalled: {sent // 1000000} MB sent")
        return
    # Then the client reads: the server must resume and answer every complete
    # request it had not read yet, in order, and 400 a cut-off last one.
    s.shutdown(socket.SHUT_WR)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    data, how = read_until_eof(s, 30)
    got = statuses(data)
    want = ["307"] * (sent // len(one)) + (["400"] if sent % len(one) else [])
    print(f"stalled after {sent // 1000000} MB, then all answered: {got == want}, {how}")


def with_body(port):
    """A request with a body: answered with Connection: close, then closed."""
    s = connect(port)
    s.sendall(b"GET /v2/ HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
    data, how = read_until_eof(s)
    close = b"\r\nConnection: close\r\n" in data
    print(f"{summary(data, how)} close-header={close}")


def close_unread(port, what):
    """A request asking to close, then bytes the server does not read: a
    pipelined request in the same segment ("pipelined"), or a body sent after
    the head ("late-body"). The client reads only 300 ms later, with a small
    receive buffer: the answer must be there whole, ending in a FIN. (Over
    loopback a Linux client keeps an answer it has received even when a RST
    follows, so this checks the answer end to end; that such connections
    linger rather than close at once is checked in tests/unit/test_connection.c.)"""
    s = connect(port, rcvbuf=1)
    path = "/v2/" + "abcdefgh/" * 20 + "manifests/" + "t" * 120
    head = f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    if what == "pipelined":
        s.sendall((head + "\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n").encode())
    else:
        s.sendall((head + "Content-Length: 5\r\n\r\n").encode())
        time.sleep(0.15)
        s.sendall(b"hello")
    time.sleep(0.3)
    data, how = read_until_eof(s)
    end = data.find(b"\r\n\r\n")
    m = re.search(rb"(?im)^content-length: *(\d+)", data[:end])
    whole = end > 0 and bool(m) and len(data) - end - 4 == int(m.group(1))
    print(f"{summary(data, how)} whole={whole}")


def expect_continue(port, body):
    """Expect: 100-continue, as nginx treats it. Without a body: answered as
    usual (no 100) and the connection kept, so a second request on it works.
    With a body archeio does not read: the final answer at once, no 100, and
    Connection: close (the client then never sends the body)."""
    s = connect(port)
    if body == "none":
        s.sendall(b"GET /v2/ HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n")
        first = b"".join(read_responses(s, 1))
        s.sendall(b"GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data, how = read_until_eof(s)
        print(" ".join(statuses(first + data) + [how]))
        return
    s.sendall(b"GET /v2/ HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
              b"Content-Length: 5\r\n\r\n")
    data, how = read_until_eof(s)
    close = b"\r\nConnection: close\r\n" in data
    print(f"{summary(data, how)} close-header={close} continue={b' 100 ' in data}")


def many_headers(port, count):
    """Host plus COUNT other header lines, then a second request on the same
    connection: the limit of 100 is on the client's own headers."""
    s = connect(port)
    extra = "".join(f"X-H{i}: v\r\n" for i in range(int(count)))
    s.sendall(f"GET /v2/ HTTP/1.1\r\nHost: x\r\n{extra}\r\n".encode())
    first = b"".join(read_responses(s, 1))
    if b"Connection: close" in first:
        print(" ".join(statuses(first) + ["closed"]))
        return
    s.sendall(b"GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data, how = read_until_eof(s)
    print(" ".join(statuses(first + data) + [how]))


def http10(port, keepalive):
    """HTTP/1.0 closes unless it asks for keep-alive; then a second request works."""
    s = connect(port)
    extra = "Connection: keep-alive\r\n" if keepalive == "keep-alive" else ""
    req = f"GET /v2/ HTTP/1.0\r\n{extra}\r\n".encode()
    s.sendall(req)
    if not extra:
        print(summary(*read_until_eof(s)))
        return
    first = read_responses(s, 1)
    s.sendall(b"GET /nope HTTP/1.0\r\n\r\n")
    data, how = read_until_eof(s)
    print(" ".join(statuses(b"".join(first)) + statuses(data) + [how]))


def blob_then_leave(port, path):
    """A blob request whose mirror check is slow; the client leaves at once."""
    s = connect(port)
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    time.sleep(0.2)
    s.close()
    print("left")


def blob(port, path, host="127.0.0.1"):
    """One blob request; prints status and Location."""
    s = connect(port, host)
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    data, how = read_until_eof(s, 10)
    loc = re.search(rb"\r\nLocation: ([^\r]*)", data)
    print(" ".join(statuses(data) + [loc.group(1).decode() if loc else "-", how]))


def hold(port, what, seconds):
    """Holds a connection open (idle after one request, or with a partial head)
    and reports how it ended."""
    s = connect(port)
    if what == "idle":
        s.sendall(b"GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n")
        read_responses(s, 1)
    else:
        s.sendall(b"GET /v2/ HTTP/1.1\r\n")
    print("holding", flush=True)
    data, how = read_until_eof(s, float(seconds))
    print(summary(data, how))


def exhaust_fds(port, count, seconds):
    """Holds COUNT connections for SECONDS (more than the server has
    descriptors for), closes them, then asks one request."""
    socks = [connect(port) for _ in range(int(count))]
    time.sleep(float(seconds))
    for s in socks:
        s.close()
    time.sleep(0.3)
    s = connect(port)
    s.sendall(b"GET /v2/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    print(summary(*read_until_eof(s)))


def main():
    scenario, port, *args = sys.argv[1:]
    globals()[scenario](port, *args)


if __name__ == "__main__":
    main()
