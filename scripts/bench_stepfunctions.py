#!/usr/bin/env python3
"""Step Functions throughput: executions per second of the order-processing saga
(state-machines/order-processing.asl.json, every task mocked to succeed: the happy
path, 5 Lambda tasks and a Succeed), shoplocal against aws-local-stepfunctions (npm),
same machine, same run.

shoplocal: an EXPRESS copy of the template's machine, driven over HTTP by wrk with
StartSyncExecution on "<arn>#HappyPath" (mock config in Step Functions Local's format):
each request is one whole execution (StartSyncExecution stores nothing, as on AWS), answered
when it ends; a bare libmicrohttpd server answering a fixed body gets the same requests (the
HTTP ceiling: the round trip alone).
aws-local-stepfunctions: the same definition run in-process by Node with local task
handlers answering the same mocked result ({"StatusCode": 200, "Payload": ...}), one
execution after another (1) and 16 at a time (16). Over HTTP our figure includes a round
trip per execution; theirs has none. So the interpreters are also compared alone, both
in-process, one execution after another (scripts/bench/sfn_inproc.c), on the same input
document: ours as an Express run (nothing stored, like theirs; the machine's compiled
definition held as the emulator's wire holds it per machine) called as the peer is called,
on values (the comparable mode: the input parsed once, the output a tree; the peer's
sm.run takes and answers objects), the same with JSON text in and out, and as a
Standard one (persisted to SQLite with its history, which theirs never does); the Express run
also on 2 threads at once, as the emulator's HTTP threads (one per core) run concurrent
StartSyncExecution requests (Node runs the peer on one thread)."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_dynamodb as b  # noqa: E402  (free_port, wait_port, stop, DURATION, PEERS)

DEFINITION = os.path.join(b.ROOT, "state-machines", "order-processing.asl.json")
STATES = ["ValidateInventory", "ReserveInventory", "ProcessPayment", "CreateOrder", "NotifyCustomer"]
INPUT = {"orderId": "o-bench", "userId": "u1", "email": "a@example.com",
         "items": [{"productId": "p1", "quantity": 1, "priceCents": 1999}], "total": 1999,
         "currency": "usd", "paymentMethod": "pm_card_visa"}
ARN = "arn:aws:states:us-east-1:000000000000:stateMachine:bench-order"


def definition():
    text = open(DEFINITION).read()
    return re.sub(r"\$\{(\w+)\}", lambda m: "arn:aws:lambda:us-east-1:000000000000:function:" + m.group(1),
                  text)


def sfn(port, target, body):
    req = urllib.request.Request("http://127.0.0.1:%d/" % port, json.dumps(body).encode(), {
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AWSStepFunctions." + target})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def wrk(port, lua, conns):
    out = subprocess.run(["wrk", "-t", "2" if conns > 1 else "1", "-c", str(conns), "-d", b.DURATION + "s",
                          "--latency", "-s", lua, "http://127.0.0.1:%d/" % port],
                         capture_output=True, text=True, check=True).stdout
    if re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        raise RuntimeError("non-2xx answers:\n" + out)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)
    return rps, p50


def ours():
    data = tempfile.mkdtemp(prefix="bench-sfn-")
    mock = os.path.join(data, "mock.json")
    ok = {"Return": {"StatusCode": 200, "Payload": {"ok": True}}}
    with open(mock, "w") as f:
        json.dump({"StateMachines": {"bench-order": {"TestCases": {"HappyPath": {s: "Ok" for s in STATES}}}},
                   "MockedResponses": {"Ok": {"0": ok}}}, f)
    aws, web, stripe = b.free_port(), b.free_port(), b.free_port()
    proc = subprocess.Popen([b.BIN, "serve", "--fresh", "--data", os.path.join(data, "d"),
                             "--time", "virtual", "--mock-config", mock, "--threads", "4",
                             "--aws-port", str(aws), "--web-port", str(web), "--stripe-port", str(stripe),
                             "--log-level", "error"], cwd=b.ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        b.wait_port(aws, proc)
        sfn(aws, "CreateStateMachine", {"name": "bench-order", "definition": definition(),
                                        "roleArn": "arn:aws:iam::000000000000:role/bench", "type": "EXPRESS"})
        body = {"stateMachineArn": ARN + "#HappyPath", "input": json.dumps(INPUT)}
        first = sfn(aws, "StartSyncExecution", body)
        if first["status"] != "SUCCEEDED":
            raise RuntimeError("the saga did not succeed: %s" % first)
        lua = os.path.join(data, "sync.lua")
        with open(lua, "w") as f:
            f.write('wrk.method = "POST"\n'
                    'wrk.headers["Content-Type"] = "application/x-amz-json-1.0"\n'
                    'wrk.headers["X-Amz-Target"] = "AWSStepFunctions.StartSyncExecution"\n'
                    'wrk.body = %s\n' % json.dumps(json.dumps(body)))
        res = {c: wrk(aws, lua, c) for c in (1, 16)}
        # The HTTP round trip alone, same requests: a bare libmicrohttpd server
        # answering a fixed body (scripts/bench/ceiling.c), what no server beats.
        ceil, port = b.start_ceiling()
        try:
            res["ceiling"] = {c: wrk(port, lua, c) for c in (1, 16)}
        finally:
            b.stop(ceil)
        return res
    finally:
        b.stop(proc)
        shutil.rmtree(data, ignore_errors=True)


NODE_BENCH = r"""
if (!Promise.withResolvers) Promise.withResolvers = () => { let resolve, reject; const promise = new Promise((a, b) => { resolve = a; reject = b; }); return { promise, resolve, reject }; };
const { StateMachine } = await import('aws-local-stepfunctions');
const fs = await import('fs');
const [defPath, inputJson, seconds, conc] = process.argv.slice(2);
const definition = JSON.parse(fs.readFileSync(defPath, 'utf8'));
const sm = new StateMachine(definition, { validationOptions: { checkArn: false } });
const ok = async () => ({ StatusCode: 200, Payload: { ok: true } });
const handlers = {}, zero = {};
for (const s of ['ValidateInventory', 'ReserveInventory', 'ProcessPayment', 'CreateOrder', 'NotifyCustomer']) { handlers[s] = ok; zero[s] = 0; }
const input = JSON.parse(inputJson);
const once = async () => {
  const ex = sm.run(input, { overrides: { taskResourceLocalHandlers: handlers, retryIntervalOverrides: zero } });
  const out = await ex.result;
  if (!out.notification) throw new Error('unexpected output ' + JSON.stringify(out));
};
await once();
const end = Date.now() + Number(seconds) * 1000;
let n = 0;
const worker = async () => { while (Date.now() < end) { await once(); n++; } };
const t0 = Date.now();
await Promise.all(Array.from({ length: Number(conc) }, worker));
console.log(JSON.stringify({ rps: n / ((Date.now() - t0) / 1000) }));
"""


def theirs():
    pkg = os.path.join(b.PEERS, "node_modules", "aws-local-stepfunctions")
    if not os.path.exists(pkg):
        r = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", b.PEERS,
                            "aws-local-stepfunctions@3.0.0"], capture_output=True, text=True)
        if r.returncode != 0 or not os.path.exists(pkg):
            return None
    script = os.path.join(b.PEERS, "bench_sfn.mjs")
    with open(script, "w") as f:
        f.write(NODE_BENCH)
    tmp = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    tmp.write(definition())
    tmp.close()
    try:
        res = {}
        for c in (1, 16):
            out = subprocess.run(["node", script, tmp.name, json.dumps(INPUT), b.DURATION, str(c)],
                                 cwd=b.PEERS, capture_output=True, text=True, check=True).stdout
            res[c] = json.loads(out.strip().splitlines()[-1])["rps"]
        return res
    finally:
        os.unlink(tmp.name)


def inproc():
    exe = os.path.join(b.ROOT, "build", "sfn_inproc")
    src = os.path.join(b.ROOT, "scripts", "bench", "sfn_inproc.c")
    lib = os.path.join(b.ROOT, "build", "libshoplocal.a")
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libmicrohttpd", "sqlite3", "libcjson",
                            "libcurl", "openssl", "yaml-0.1"], capture_output=True, text=True,
                           check=True).stdout.split()
    subprocess.run(["cc", "-std=c11", "-O2", "-D_GNU_SOURCE", "-Iemulator", "-Ibackend", "-o", exe, src, lib]
                   + flags + ["-lpthread", "-lm", "-ldl"], cwd=b.ROOT, check=True)
    tmp = tempfile.mkdtemp(prefix="bench-sfn-inproc-")
    try:
        with open(os.path.join(tmp, "def.json"), "w") as f:
            f.write(definition())
        ok = {"Return": {"StatusCode": 200, "Payload": {"ok": True}}}
        with open(os.path.join(tmp, "mock.json"), "w") as f:
            json.dump({"StateMachines": {"bench": {"TestCases": {"HappyPath": {s: "Ok" for s in STATES}}}},
                       "MockedResponses": {"Ok": {"0": ok}}}, f)
        res = {}
        for mode in ("value", "sync", "sync2", "standard"):
            data = os.path.join(tmp, "data-" + mode)
            extra = {"value": ["value"], "sync": ["sync"], "sync2": ["sync", "2"], "standard": []}[mode]
            # the same input document as the peer's and the HTTP runs'
            out = subprocess.run([exe, "--input", json.dumps(INPUT), os.path.join(tmp, "def.json"),
                                  os.path.join(tmp, "mock.json"), "bench", "HappyPath", b.DURATION, data]
                                 + extra,
                                 capture_output=True, text=True, check=True).stdout
            res[mode] = json.loads(out)["rps"]
        return res
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    us = ours()
    alone = inproc()
    peer = theirs()
    print("\nStep Functions, the order saga with mocked tasks (executions/s)")
    for c in (1, 16):
        line = "  %2d at a time: shoplocal %8.0f/s (p50 %7s)" % (c, us[c][0], us[c][1])
        if peer:
            line += "   aws-local-stepfunctions %8.0f/s   -> %5.1fx" % (peer[c], us[c][0] / peer[c])
        else:
            line += "   aws-local-stepfunctions: not available (npm could not install it)"
        print(line)
    print("  HTTP ceiling (bare libmicrohttpd, fixed answer, same requests): %8.0f/s at 1, %8.0f/s at 16;"
          " shoplocal at %.0f%% and %.0f%% of it" % (us["ceiling"][1][0], us["ceiling"][16][0],
                                                    100.0 * us[1][0] / us["ceiling"][1][0],
                                                    100.0 * us[16][0] / us["ceiling"][16][0]))
    # The comparable row: both interpreters in-process on one thread, called as
    # the peer's API is (sm.run(object) -> object: the input parsed once, the
    # output checked as a value), so neither side parses or prints JSON text.
    print("  in-process, one at a time, values in and out (the peer's API): shoplocal Express %8.0f/s" %
          alone["value"], end="")
    if peer:
        print("   aws-local-stepfunctions %8.0f/s   -> %5.1fx" % (peer[1], alone["value"] / peer[1]))
    else:
        print()
    # The same with JSON text in and out (StartSyncExecution's work: cJSON parses
    # the input and prints the output), and Standard (persisted with its history).
    print("  in-process, one at a time, JSON text in and out: shoplocal Express %8.0f/s, Standard (persisted) %6.0f/s" %
          (alone["sync"], alone["standard"]), end="")
    if peer:
        print("   -> %5.1fx (Express), %5.2fx (Standard)" %
              (alone["sync"] / peer[1], alone["standard"] / peer[1]))
    else:
        print()
    # The emulator runs StartSyncExecution on its HTTP threads (--threads: one per
    # core, at least 2), so two clients' Express executions run at once; Node runs
    # the peer's on one thread whatever its concurrency: against its better figure.
    print("  in-process, 2 threads (as the emulator's 2 HTTP threads): shoplocal Express %8.0f/s" %
          alone["sync2"], end="")
    if peer:
        best = max(peer.values())
        print("   aws-local-stepfunctions (1 thread, best of 1/16 at a time) %8.0f/s   -> %5.1fx" %
              (best, alone["sync2"] / best))
    else:
        print()


if __name__ == "__main__":
    main()
