#!/usr/bin/env python3
"""A mirror that answers every HEAD with 200 after DELAY seconds.

Usage: slow-mirror.py PORT DELAY. For tests of requests whose mirror check is
still pending (client gone, server stopping). Loopback only.
"""
import http.server
import socketserver
import sys
import time

PORT, DELAY = int(sys.argv[1]), float(sys.argv[2])


class Handler(http.server.BaseHTTPRequestHandler):
    def do_HEAD(self):
        time.sleep(DELAY)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, fmt, *args):
        sys.stderr.write("HEAD %s\n" % self.path)
        sys.stderr.flush()


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


Server(("127.0.0.1", PORT), Handler).serve_forever()
