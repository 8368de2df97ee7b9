#!/usr/bin/env python3
"""A bounded SYN flood for tests: COUNT TCP SYNs from this namespace's address
to DST:PORT through a raw socket, each from another source port, as fast as
Python sends them, or until SECONDS (optional) have passed. No handshake
follows (the sender's kernel answers any SYN-ACK with a RST). Optional CPU:
pin the sender to that CPU. Prints the number sent.
Usage: syn_flood.py SRC DST PORT COUNT [SECONDS [CPU]]"""
import random
import socket
import os
import struct
import sys
import time


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def syn(src, dst, sport, dport):
    seq = random.getrandbits(32)
    header = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x02, 64240, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(header))
    return header[:16] + struct.pack("!H", checksum(pseudo + header)) + header[18:]


def main():
    src, dst, port, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    seconds = float(sys.argv[5]) if len(sys.argv) > 5 else 0
    if len(sys.argv) > 6:
        os.sched_setaffinity(0, {int(sys.argv[6])})
    deadline = time.monotonic() + seconds
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    sent = 0
    for i in range(min(count, 10000000)):
        if seconds and i % 256 == 0 and time.monotonic() > deadline:
            break
        sport = 10000 + i % 50000
        try:
            sock.sendto(syn(src, dst, sport, port), (dst, 0))
            sent += 1
        except BlockingIOError:
            pass
    print(sent)


if __name__ == "__main__":
    main()
