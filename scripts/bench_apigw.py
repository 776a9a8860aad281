#!/usr/bin/env python3
"""HTTP API throughput: a trivial route (GET /api/echo/1?action=pong -> tests/lambda/Echo.c, which
answers true)
through shoplocal's HTTP API and each Lambda host (in-process and process),
against the bare
libmicrohttpd ceiling (scripts/bench/ceiling.c), same machine, same wrk run."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_dynamodb as b  # noqa: E402  (shared helpers: free_port, wrk, ceiling)

FUNCTIONS = os.path.join(os.path.dirname(b.BIN), "tests", "functions")


def measure(host):
    import subprocess
    import tempfile
    import shutil
    data = tempfile.mkdtemp(prefix="bench-apigw-")
    aws, web, stripe = b.free_port(), b.free_port(), b.free_port()
    proc = subprocess.Popen([b.BIN, "serve", "--fresh", "--data", data, "--template",
                             "tests/lambda/template.yaml", "--functions", FUNCTIONS,
                             "--lambda-host", host,
                             # the process host waits on children: give it listener threads
                             "--threads", "8" if host == "process" else "2",
                             "--aws-port", str(aws), "--web-port", str(web), "--stripe-port", str(stripe),
                             "--log-level", "error"], cwd=b.ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        b.wait_port(web, proc)
        return {c: wrk_path(web, "/api/echo/1?action=pong", c) for c in (1, 16)}
    finally:
        b.stop(proc)
        shutil.rmtree(data, ignore_errors=True)


def main():
    results = {host: measure(host) for host in ("inprocess", "process")}
    cproc, cport = b.start_ceiling()
    try:
        ceiling = {c: wrk_path(cport, "/", c) for c in (1, 16)}
    finally:
        b.stop(cproc)
    print("\nHTTP API, trivial route (GET /api/echo/1?action=pong) vs the bare libmicrohttpd ceiling")
    for host, ours in results.items():
        for c in (1, 16):
            print("  %-9s %2d conns: %8.0f/s (p50 %7s)   ceiling %8.0f/s   -> %3.0f%% of the ceiling" %
                  (host, c, ours[c][0], ours[c][1], ceiling[c][0], 100.0 * ours[c][0] / ceiling[c][0]))


def wrk_path(port, path, conns):
    import re
    import subprocess
    out = subprocess.run(["wrk", "-t", "2" if conns > 1 else "1", "-c", str(conns), "-d", b.DURATION + "s",
                          "--latency", "http://127.0.0.1:%d%s" % (port, path)],
                         capture_output=True, text=True, check=True).stdout
    if re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        raise RuntimeError("non-2xx answers from %s" % path)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"50%\s+([\d.]+)(\w+)", out)
    return rps, (p50.group(1) + p50.group(2)) if p50 else "?"


if __name__ == "__main__":
    main()
