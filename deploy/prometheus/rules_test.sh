#!/usr/bin/env bash
# The alerts are valid, behave as rules_test.yml says (each fires on its input series and stays
# quiet on the others), name only metrics and labels of metric_names.txt, and prometheus.yml
# loads with them. promtool comes from Debian's `prometheus` package, which the project's
# installer (deploy/lib/install.sh) installs; without it this test fails rather than skips.
#
# metric_names.txt itself must agree with README's tables of what each process exports.
#
#   rules_test.sh <prometheus.yml> <alerts.yml> <rules_test.yml> <metric_names.txt> \
#                 <check_promql.py> <README.md>
set -euo pipefail

config="$1" alerts="$2" tests="$3" names="$4" checker="$5" readme="$6"

promtool="$(command -v promtool || true)"
[[ -n "$promtool" ]] || promtool=/usr/bin/promtool
if [[ ! -x "$promtool" ]]; then
  echo "FAIL: promtool not found (Debian package 'prometheus'; ./deploy/dev install installs it)" >&2
  exit 1
fi
# Debian's python3 with python3-yaml, both installed by the installer; not a virtualenv's.
python=/usr/bin/python3
if ! "$python" -c 'import yaml' 2>/dev/null; then
  echo "FAIL: $python with PyYAML is needed (Debian packages python3 python3-yaml)" >&2
  exit 1
fi

"$promtool" check rules "$alerts"
# promtool resolves rule_files relative to the configuration's folder, where alerts.yml lives.
"$promtool" check config "$config"
# Likewise rules_test.yml names alerts.yml beside it.
"$promtool" test rules "$tests"
"$python" "$checker" "$names" rules "$alerts"
"$python" "$checker" "$names" readme "$readme"
