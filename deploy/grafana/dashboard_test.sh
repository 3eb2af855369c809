#!/usr/bin/env bash
# The Grafana dashboards parse, every panel has queries on the provisioned Prometheus data
# source, every query is valid PromQL (promtool) and names only metrics and labels of
# deploy/prometheus/metric_names.txt, and the overview shows what it promises: requests,
# 5xx, latency, pipeline throughput, consumer lag and the outbox.
#
#   dashboard_test.sh <check_promql.py> <metric_names.txt> <datasource.yml> <dashboard.json>...
set -euo pipefail

checker="$1" names="$2" datasource="$3"
shift 3

source deploy/prometheus/test_tools.sh
require_promtool
require_python_yaml

tmp="${TEST_TMPDIR:-$(mktemp -d)}"
"$python" "$checker" "$names" dashboard "$@" --emit-rules "$tmp/dashboard_rules.yml" \
  --require gateway_http_requests_total gateway_http_request_duration_seconds_bucket \
            mds_prices_recorded_total mds_consumer_events_total mds_consumer_lag_messages \
            mds_outbox_backlog_rows mds_outbox_oldest_age_seconds
"$promtool" check rules "$tmp/dashboard_rules.yml"

# Every panel and query uses the provisioned data source, by uid.
"$python" - "$datasource" "$@" <<'PY'
import json, sys, yaml
uids = {d["uid"] for d in yaml.safe_load(open(sys.argv[1]))["datasources"]}
bad = []
for path in sys.argv[2:]:
    dashboard = json.load(open(path))
    panels = []
    for p in dashboard["panels"]:
        panels.append(p)
        panels.extend(p.get("panels", []))
    for p in panels:
        if p.get("type") == "row":
            continue
        for ds in [p.get("datasource")] + [t.get("datasource") for t in p.get("targets", [])]:
            if not isinstance(ds, dict) or ds.get("uid") not in uids:
                bad.append(f"{path}: panel {p.get('title')!r} uses data source {ds!r}, not one of {sorted(uids)}")
    quantiles = json.dumps(dashboard)
    for q in ("histogram_quantile(0.5,", "histogram_quantile(0.99,"):
        if q not in quantiles:
            bad.append(f"{path}: no {q}...) latency")
for b in bad:
    print("FAIL:", b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
echo "dashboards checked: $*"
