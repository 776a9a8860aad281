#!/usr/bin/env bash
# Install what shoplocal needs, and only what is missing: Debian packages with
# apt-get, then npm packages into build/peers (newman, the Postman runner of
# tests/compat/test_postman.py).
# apt-get knows no packages on a new machine until `apt-get update` has run, so
# update runs first whenever there is something to install.
set -eu
pkgs="build-essential pkg-config libmicrohttpd-dev libsqlite3-dev libcjson-dev \
libcurl4-openssl-dev libssl-dev libyaml-dev libcriterion-dev valgrind curl"
# `deps.sh bench` adds the load generator the benchmarks use.
[ "${1:-}" = bench ] && pkgs="$pkgs wrk"
missing=""
for p in $pkgs; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
# Node.js and npm: the machine's own when present, else Debian's.
command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"
if [ -n "$missing" ]; then
  echo "deps: installing$missing"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  # shellcheck disable=SC2086
  $sudo apt-get install -y -qq --no-install-recommends $missing
fi
if [ ! -x build/peers/node_modules/.bin/newman ]; then
  echo "deps: installing newman (npm) into build/peers"
  npm install --no-audit --no-fund --silent --prefix build/peers newman@6 >/dev/null
fi
