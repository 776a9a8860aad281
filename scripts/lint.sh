#!/usr/bin/env bash
# Static checks: cfn-lint on the SAM template, cppcheck on every C source.
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v cfn-lint >/dev/null 2>&1; then
  echo "== cfn-lint template.yaml"
  cfn-lint template.yaml
  echo "   clean"
else
  # cfn-lint comes with the machine image's Python (PyPI is not reachable here to
  # install it): say so loudly rather than pretend the template was checked.
  echo "== cfn-lint: NOT RUN (cfn-lint is not installed on this machine)"
fi

echo "== cppcheck"
cppcheck -q --std=c11 --enable=warning,performance,portability --error-exitcode=1 \
  --inline-suppr -Iemulator -Ibackend -Itests -D_GNU_SOURCE -DSHOPLOCAL_VERSION='"lint"' \
  emulator backend tests/support
echo "   clean"
