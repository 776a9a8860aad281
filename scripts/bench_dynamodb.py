#!/usr/bin/env python3
"""DynamoDB throughput: shoplocal against moto_server (and dynalite when npm can
install it), same machine, same wrk run parameters, same request bodies.

For each server: create table `bench` (pk S, sk S), load 1,000 items in
partition p1, then wrk GetItem, PutItem and a 20-item Query at 1 and 16
connections. Then Query latency on shoplocal with 1,000 vs 1,000,000 items.
Prints a table of requests/s and the ratios.
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("SHOPLOCAL_BIN", os.path.join(ROOT, "build", "shoplocal"))
LUA = os.path.join(ROOT, "scripts", "bench")
DURATION = os.environ.get("BENCH_SECONDS", "5")
PEERS = os.path.join(ROOT, "build", "peers")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def call(port, target, body, conn=None):
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("POST", "/", json.dumps(body), {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "DynamoDB_20120810." + target,
        "X-Amz-Date": "20250101T000000Z",
        "Authorization": "AWS4-HMAC-SHA256 Credential=x/20250101/us-east-1/dynamodb/aws4_request, "
                         "SignedHeaders=host;x-amz-date, Signature=0000"})
    r = c.getresponse()
    data = r.read()
    if r.status != 200:
        raise RuntimeError("%s: %s %s" % (target, r.status, data[:300]))
    return json.loads(data)


def wait_port(port, proc, deadline=60):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError("server exited")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.01)
    raise RuntimeError("server did not listen")


def setup_table(port, items=1000, partition="p1"):
    call(port, "CreateTable", {
        "TableName": "bench", "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                 {"AttributeName": "sk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                      {"AttributeName": "sk", "KeyType": "RANGE"}]})
    # dynalite (like AWS) creates tables asynchronously: wait until ACTIVE
    end = time.monotonic() + 60
    while call(port, "DescribeTable", {"TableName": "bench"})["Table"]["TableStatus"] != "ACTIVE":
        if time.monotonic() > end:
            raise RuntimeError("table never became ACTIVE")
        time.sleep(0.05)
    load(port, partition, 0, items)


def load(port, partition, start, count, threads=1):
    errors = []

    def worker(lo, hi):
        try:
            load_range(lo, hi)
        except Exception as e:  # surfaced below: a failed load must fail the benchmark
            errors.append(e)

    def load_range(lo, hi):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        for b in range(lo, hi, 25):
            reqs = [{"PutRequest": {"Item": {
                "pk": {"S": partition}, "sk": {"S": "s%06d" % i}, "name": {"S": "Widget %d" % i},
                "priceCents": {"N": str(100 + i % 5000)}, "stock": {"N": "7"}}}}
                for i in range(b, min(b + 25, hi))]
            call(port, "BatchWriteItem", {"RequestItems": {"bench": reqs}}, conn)
    step = (count + threads - 1) // threads
    ts = [threading.Thread(target=worker, args=(start + k * step, min(start + (k + 1) * step, start + count)))
          for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise errors[0]


def wrk(port, script, conns):
    out = subprocess.run(["wrk", "-t", "2" if conns > 1 else "1", "-c", str(conns), "-d", DURATION + "s",
                          "--latency", "-s", os.path.join(LUA, script), "http://127.0.0.1:%d/" % port],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError("%s: %s non-2xx answers" % (script, errors.group(1)))
    p50 = re.search(r"50%\s+([\d.]+)(\w+)", out)
    return rps, (p50.group(1) + p50.group(2)) if p50 else "?"


def start_shoplocal(data):
    aws, web, stripe = free_port(), free_port(), free_port()
    proc = subprocess.Popen([BIN, "serve", "--fresh", "--data", data, "--aws-port", str(aws),
                             "--web-port", str(web), "--stripe-port", str(stripe), "--log-level", "error"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(aws, proc)
    return proc, aws


def start_moto():
    port = free_port()
    proc = subprocess.Popen(["moto_server", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    wait_port(port, proc)
    return proc, port


def start_dynalite():
    cli = os.path.join(PEERS, "node_modules", "dynalite", "cli.js")
    if not os.path.exists(cli):
        r = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", PEERS, "dynalite@4"],
                           capture_output=True, text=True)
        if r.returncode != 0 or not os.path.exists(cli):
            return None, None
    port = free_port()
    proc = subprocess.Popen(["node", cli, "--port", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    wait_port(port, proc)
    return proc, port


def start_ceiling():
    exe = os.path.join(ROOT, "build", "ceiling")
    src = os.path.join(LUA, "ceiling.c")
    if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(src):
        subprocess.run(["cc", "-O2", "-o", exe, src, "-lmicrohttpd"], check=True)
    port = free_port()
    proc = subprocess.Popen([exe, str(port)])
    wait_port(port, proc)
    return proc, port


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


WORKLOADS = [("GetItem", "ddb_get.lua"), ("PutItem", "ddb_put.lua"), ("Query 20", "ddb_query.lua")]


def measure(name, start):
    proc, port = start()
    if not proc:
        print("  %s: not available (npm could not install it)" % name)
        return None
    try:
        setup_table(port)
        res = {}
        for label, script in WORKLOADS:
            for conns in (1, 16):
                res[(label, conns)] = wrk(port, script, conns)
        return res
    finally:
        stop(proc)


def query_latency(port, rounds=2000):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    body = {"TableName": "bench", "KeyConditionExpression": "pk = :p AND sk >= :s",
            "ExpressionAttributeValues": {":p": {"S": "p1"}, ":s": {"S": "s000500"}}, "Limit": 20}
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        r = call(port, "Query", body, conn)
        samples.append(time.perf_counter() - t0)
        assert r["Count"] == 20
    samples.sort()
    return samples[len(samples) // 2] * 1e6


def main():
    data = tempfile.mkdtemp(prefix="bench-ddb-")
    try:
        results = {"shoplocal": measure("shoplocal", lambda: start_shoplocal(data))}
        if shutil.which("moto_server"):
            results["moto_server"] = measure("moto_server", start_moto)
        proc, port = start_ceiling()
        try:
            ceiling = {c: wrk(port, "ddb_get.lua", c) for c in (1, 16)}
        finally:
            stop(proc)
        dyn = measure("dynalite", start_dynalite)
        if dyn:
            results["dynalite"] = dyn
        print("\nDynamoDB requests/s (wrk, %ss per cell, 1,000 items in the partition; p50 latency)" % DURATION)
        names = list(results)
        print("  %-14s %5s " % ("operation", "conns") + "".join("%24s" % n for n in names) +
              "".join("%16s" % ("vs " + n) for n in names[1:]))
        for label, _ in WORKLOADS:
            for conns in (1, 16):
                ours = results["shoplocal"][(label, conns)][0]
                row = "  %-14s %5d " % (label, conns)
                row += "".join("%16.0f (%6s)" % results[n][(label, conns)] for n in names)
                row += "".join("%15.1fx" % (ours / results[n][(label, conns)][0]) for n in names[1:])
                print(row)
        print("  %-14s %5s " % ("HTTP ceiling", "") + "  bare libmicrohttpd, fixed answer: %.0f/s at 1 conn, "
              "%.0f/s at 16" % (ceiling[1][0], ceiling[16][0]))
        for conns in (1, 16):
            best = max(results["shoplocal"][(label, conns)][0] for label, _ in WORKLOADS)
            print("  %-14s %5d   shoplocal's best route is at %.0f%% of the ceiling" %
                  ("", conns, 100.0 * best / ceiling[conns][0]))

        # Query latency as the table grows: 1,000 then 1,000,000 items in other partitions.
        shutil.rmtree(data, ignore_errors=True)
        proc, port = start_shoplocal(data)
        try:
            setup_table(port)
            small = query_latency(port)
            t0 = time.time()
            extra = int(os.environ.get("BENCH_BIG_ITEMS", "999000"))
            load(port, "other", 0, extra, threads=4)
            big = query_latency(port)
            print("\nQuery (20 items) p50 latency, shoplocal: %.0f us with 1,000 items, %.0f us with "
                  "{:,} items (ratio %.2f; loading took %.0f s)".format(1000 + extra)
                  % (small, big, big / small, time.time() - t0))
        finally:
            stop(proc)
    finally:
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
