#!/usr/bin/env bash
# Run Criterion suites and keep count across the stages of `make test`.
#
#   run-tests.sh unit|integration|sanitize BIN...   run each suite
#   run-tests.sh valgrind BIN...                    run each suite under memcheck
#   run-tests.sh valgrind-selfcheck BIN...          each planted fault (tests/vgcheck) must
#                                                   fail the valgrind mode, for the reason its
#                                                   source names on a "vgcheck-expect:" line
#   run-tests.sh compat|sanitize SCRIPT.py...       Python suites (real AWS clients); their
#                                                   closing line is "N passed, N failed"
#   run-tests.sh --summary                          print the totals and reset them
#
# Under valgrind the suites are the build/tests/unit-vg/ copies (tests/support/
# forkrun.c): one fork() per test instead of Criterion's exec'd workers, so
# valgrind starts once per suite, not once per test.  Each test is still its own
# process with its own memcheck log, and this script reads every log: any error,
# or any byte definitely lost, in any process fails the suite.
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

if [ "$mode" = valgrind-selfcheck ]; then
  for bin in "$@"; do
    name="$(basename "$bin")"
    want=$(sed -n 's/.*vgcheck-expect: \(.*\) \*\/.*/\1/p' "tests/vgcheck/$name.c" | head -1)
    scratch="$(mktemp)"
    out="$(TEST_SUMMARY="$scratch" "$0" valgrind "$bin" 2>&1)"
    rc=$?
    rm -f "$scratch"
    if [ $rc -ne 0 ] && [ -n "$want" ] && grep -qF -- "$want" <<<"$out"; then
      echo "== valgrind self-check: $name failed the stage, as planted ($want)"
    else
      echo "== valgrind self-check: $name was NOT caught (expected: ${want:-?})"
      echo "$out"
      failed=1
    fi
  done
  exit $failed
fi
for bin in "$@"; do
  name="$(basename "$bin")"
  log="$(mktemp)"
  echo "== $mode: $name"
  if [ "$mode" = valgrind ]; then
    vdir="build/valgrind/$name"
    rm -rf "$vdir"; mkdir -p "$vdir"
    valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
      --show-leak-kinds=definite --trace-children=yes --track-fds=no \
      --log-file="$vdir/%p.log" "$bin" --jobs "${VALGRIND_JOBS:-2}" >"$log" 2>&1
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
