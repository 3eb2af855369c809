#!/usr/bin/env bash
# The alerts are valid, behave as rules_test.yml says (each fires on its input series and stays
# quiet on the others), name only metrics and labels of metric_names.txt, and prometheus.yml
# loads with them. promtool comes from Debian's `prometheus` package, which the project's
# installer (deploy/lib/install.sh) installs; without it this test fails rather than skips.
#
# metric_names.txt itself must agree with the tables of what each process exports in
# docs/metrics-and-logs.md.
#
#   rules_test.sh <prometheus.yml> <alerts.yml> <rules_test.yml> <metric_names.txt> \
#                 <check_promql.py> <docs/metrics-and-logs.md>
set -euo pipefail

config="$1" alerts="$2" tests="$3" names="$4" checker="$5" metrics_doc="$6"

source deploy/prometheus/test_tools.sh
require_promtool
require_python_yaml

"$promtool" check rules "$alerts"
# promtool resolves rule_files relative to the configuration's folder, where alerts.yml lives.
"$promtool" check config "$config"
# Likewise rules_test.yml names alerts.yml beside it.
"$promtool" test rules "$tests"
"$python" "$checker" "$names" rules "$alerts"
"$python" "$checker" "$names" doc "$metrics_doc"
