#!/usr/bin/env bash
# make bench: every benchmark, ours against a peer measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== start-up"
python3 scripts/bench_startup.py
echo "== dynamodb"
bash scripts/deps.sh bench
python3 scripts/bench_dynamodb.py
echo "== http api"
python3 scripts/bench_apigw.py
echo "== step functions"
python3 scripts/bench_stepfunctions.py
