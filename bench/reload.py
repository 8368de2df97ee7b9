#!/usr/bin/env python3
"""SIGHUP reload of all three provider range files: its CPU time and the
latency of requests served meanwhile. Used by bench/reload.sh, which starts
the server (its PID and log file are the arguments) and wrk.

CPU: what the server logs for each reload ("reload loaded at nice N in X ms
of CPU": the loading thread's CLOCK_THREAD_CPUTIME_ID). A build without that
line (before the reload moved to its own thread) loaded on the main thread,
idle otherwise (the workers serve on their own threads), so there the main
thread's on-CPU time (/proc/PID/task/PID/schedstat) across the reload is
used. Each reload is waited for (its "reloaded" log line) before the next.

Latency: wrk for SECONDS with no reload, then SECONDS while the server is
reloaded back to back (SIGHUP, wait for "reloaded", PAUSE_MS, again),
alternating for ROUNDS; medians of wrk's p50 and p99.
Usage: reload.py PID LOG URL RELOADS SECONDS ROUNDS [WRK_ARGS...]"""
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time

pid, log, url = int(sys.argv[1]), sys.argv[2], sys.argv[3]
reloads, seconds, rounds = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
wrk_args = sys.argv[7:]
pause = float(os.environ.get("PAUSE_MS", "50")) / 1000


def main_thread_ns():
    with open(f"/proc/{pid}/task/{pid}/schedstat") as f:
        return int(f.read().split()[0])


def reloaded_count():
    with open(log, errors="replace") as f:
        return sum(1 for line in f if " reloaded " in line)


def logged_cpu_ms():
    """The CPU the last reload logged, or None."""
    with open(log, errors="replace") as f:
        found = re.findall(r"reload loaded at nice -?\d+ in ([\d.]+) ms of CPU", f.read())
    return float(found[-1]) if found else None


def reload_once(timeout=30):
    """Sends SIGHUP, waits for the next "reloaded" line; returns CPU ns and wall s."""
    before, cpu0, t0 = reloaded_count(), main_thread_ns(), time.monotonic()
    os.kill(pid, signal.SIGHUP)
    while reloaded_count() == before:
        if time.monotonic() - t0 > timeout:
            sys.exit("no 'reloaded' line within %d s (a failed reload?)" % timeout)
        time.sleep(0.001)
    # The log line is written after the swap: the thread is done but for
    # a few microseconds of logging.
    time.sleep(0.005)
    return main_thread_ns() - cpu0, time.monotonic() - t0


def ms(text):
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk():
    out = subprocess.run(["taskset", "-c", "1", "wrk", *wrk_args, "-d", f"{seconds}s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors", out)
    if errors:
        sys.exit("wrk saw errors:\n" + out)
    return ms(lat["50"]), ms(lat["99"]), rps


cpu = []
source = "logged by the loading thread"
for _ in range(reloads):
    ns, _wall = reload_once()
    logged = logged_cpu_ms()
    if logged is None:
        source = "main thread schedstat"
    cpu.append(logged if logged is not None else ns / 1e6)
cpu.sort()
print("reload CPU (%s), %d reloads: median %.1f ms, p90 %.1f ms, max %.1f ms"
      % (source, len(cpu), statistics.median(cpu), cpu[int(len(cpu) * 0.9) - 1], cpu[-1]))

results = {"idle": [], "reloading": []}
counts = []
for _ in range(rounds):
    results["idle"].append(run_wrk())
    stop = threading.Event()
    done = [0]

    def reloader():
        while not stop.is_set():
            reload_once()
            done[0] += 1
            time.sleep(pause)

    t = threading.Thread(target=reloader)
    t.start()
    results["reloading"].append(run_wrk())
    stop.set()
    t.join()
    counts.append(done[0])
for name, rows in results.items():
    p50 = statistics.median(r[0] for r in rows)
    p99 = statistics.median(r[1] for r in rows)
    rps = statistics.median(r[2] for r in rows)
    print("%-9s p50 %.3f ms  p99 %.3f ms  %.0f req/s  (p99 rounds: %s)"
          % (name, p50, p99, rps, " ".join("%.2f" % r[1] for r in rows)))
idle99 = statistics.median(r[1] for r in results["idle"])
busy99 = statistics.median(r[1] for r in results["reloading"])
print("p99 during reloads / idle: %.2fx (%s reloads per %d s round)"
      % (busy99 / idle99, "/".join(map(str, counts)), seconds))
