#!/usr/bin/env bash
# Run Criterion suites and keep count across the stages of `make test`.
#
#   run-tests.sh unit|integration|sanitize BIN...   run each suite
#   run-tests.sh valgrind BIN...                    run each suite under memcheck
#   run-tests.sh compat|sanitize SCRIPT.py...       Python suites (real AWS clients); their
#                                                   closing line is "N passed, N failed"
#   run-tests.sh --summary                          print the totals and reset them
#
# Criterion forks a worker per test, and memcheck's verdict in a worker does not
# reach the runner's exit code, so under valgrind every process writes its own
# log and this script reads them: any error, or any byte definitely lost, fails.
set -uo pipefail
summary="${TEST_SUMMARY:-build/test-summary.txt}"
mkdir -p "$(dirname "$summary")"

if [ "${1:-}" = "--summary" ]; then
  [ -f "$summary" ] || { echo "no tests ran"; exit 1; }
  awk '{t+=$2; p+=$3; f+=$4} END {
         printf "\nsuite runs: %d (unit, valgrind, integration, sanitize)\n", NR;
         printf "tests: %d passed, %d failed\n", p, f; exit (f > 0 || t == 0) }' "$summary"
  rc=$?
  rm -f "$summary"
  exit $rc
fi

mode="$1"; shift
failed=0
for bin in "$@"; do
  name="$(basename "$bin")"
  log="$(mktemp)"
  echo "== $mode: $name"
  if [ "$mode" = valgrind ]; then
    vdir="build/valgrind/$name"
    rm -rf "$vdir"; mkdir -p "$vdir"
    valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
      --show-leak-kinds=definite --trace-children=yes --track-fds=no \
      --log-file="$vdir/%p.log" "$bin" --jobs 2 >"$log" 2>&1
    rc=$?
    bad=$(grep -L "ERROR SUMMARY: 0 errors" "$vdir"/*.log 2>/dev/null)
    if [ -n "$bad" ]; then
      echo "   memcheck found errors:"
      for f in $bad; do sed -n '/Invalid\|uninitialised\|definitely lost\|ERROR SUMMARY/,+12p' "$f" | head -60; done
      rc=1
    else
      echo "   memcheck: 0 errors, 0 bytes definitely lost in $(ls "$vdir" | wc -l) processes"
    fi
  elif [[ "$bin" == *.py ]]; then
    python3 "$bin" >"$log" 2>&1
    rc=$?
  else
    "$bin" >"$log" 2>&1
    rc=$?
  fi
  if [[ "$bin" == *.py ]]; then
    line=$(grep -aE "^[0-9]+ passed, [0-9]+ failed" "$log" | tail -1)
    passing=$(sed -n 's/^\([0-9]*\) passed.*/\1/p' <<<"$line"); passing=${passing:-0}
    failing=$(sed -n 's/.* \([0-9]*\) failed.*/\1/p' <<<"$line"); failing=${failing:-0}
    tested=$((passing + failing))
  else
    line=$(grep -a "Synthesis:" "$log" | tail -1)
    tested=$(sed -n 's/.*Tested: \([0-9]*\).*/\1/p' <<<"$line"); tested=${tested:-0}
    passing=$(sed -n 's/.*Passing: \([0-9]*\).*/\1/p' <<<"$line"); passing=${passing:-0}
    failing=$((tested - passing))
  fi
  if [ "$rc" -ne 0 ] || [ "$tested" -eq 0 ] || [ "$failing" -ne 0 ]; then
    cat "$log"
    [ "$failing" -eq 0 ] && failing=1
    failed=1
  else
    echo "   $line"
  fi
  echo "$mode:$name $tested $passing $failing" >>"$summary"
  rm -f "$log"
done
exit $failed
