#!/usr/bin/env python3
"""Start-up benchmark: process start to first good answer, shoplocal vs moto_server.

Each run starts a fresh process, polls its health URL with a 1 ms cadence (a
benchmark, not a test: polling is how a client would wait), records the time
to the first 200, then stops it. Reports the median and the ratio.
"""
import os, shutil, signal, socket, statistics, subprocess, sys, tempfile, time, urllib.request

# Loopback only: never let an environment's proxy settings stand in between.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
RUNS = int(os.environ.get("BENCH_RUNS", "15"))
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("SHOPLOCAL_BIN", os.path.join(ROOT, "build", "shoplocal"))


def free_ports(n):
    """n distinct free ports (all held open until all are chosen)."""
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def time_to_first_answer(argv, url, deadline_s=30.0):
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    try:
        while time.perf_counter() - t0 < deadline_s:
            if proc.poll() is not None:
                raise RuntimeError("%s exited with %d" % (argv[0], proc.returncode))
            try:
                with OPENER.open(url, timeout=1) as r:
                    if r.status == 200:
                        return (time.perf_counter() - t0) * 1000.0
            except OSError:
                time.sleep(0.001)
        raise RuntimeError("no answer from %s" % argv[0])
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def shoplocal_once():
    data = tempfile.mkdtemp(prefix="bench-shoplocal-")
    try:
        aws, web, stripe = free_ports(3)
        argv = [BIN, "serve", "--fresh", "--data", data, "--aws-port", str(aws),
                "--web-port", str(web), "--stripe-port", str(stripe), "--log-level", "warn"]
        return time_to_first_answer(argv, "http://127.0.0.1:%d/_shoplocal/health" % aws)
    finally:
        shutil.rmtree(data, ignore_errors=True)


def moto_once():
    (port,) = free_ports(1)
    return time_to_first_answer(["moto_server", "-p", str(port)],
                                "http://127.0.0.1:%d/moto-api/" % port)


def main():
    ours = [shoplocal_once() for _ in range(RUNS)]
    ours_med = statistics.median(ours)
    print("start-up to first health answer (median of %d runs, same machine, same poller)" % RUNS)
    print("  shoplocal serve   %8.1f ms   (min %.1f, max %.1f)" % (ours_med, min(ours), max(ours)))
    if shutil.which("moto_server"):
        theirs = [moto_once() for _ in range(max(3, RUNS // 3))]
        theirs_med = statistics.median(theirs)
        print("  moto_server       %8.1f ms   (min %.1f, max %.1f)" %
              (theirs_med, min(theirs), max(theirs)))
        print("  ratio             %8.1fx faster than moto_server" % (theirs_med / ours_med))
    else:
        print("  moto_server: not installed, no ratio")


if __name__ == "__main__":
    sys.exit(main())
