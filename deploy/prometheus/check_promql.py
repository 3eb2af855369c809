#!/usr/bin/env python3
"""Checks that PromQL expressions name only known metrics and labels.

The known ones are listed in metric_names.txt (name, type, labels). Expressions come from
Prometheus rule files or from a Grafana dashboard's panels:

  check_promql.py METRIC_NAMES rules FILE.yml...
  check_promql.py METRIC_NAMES dashboard FILE.json [--emit-rules OUT.yml] [--require NAME...]
  check_promql.py METRIC_NAMES doc docs/metrics-and-logs.md

The doc mode checks the list itself: each metric (but Prometheus' own `up`) has a row in the
tables of what each process exports (docs/metrics-and-logs.md), with the same type and labels.

For a dashboard, --emit-rules writes every panel expression as a recording rule (Grafana's
interval variables replaced by durations) so that `promtool check rules OUT.yml` checks their
syntax; --require names metrics some panel must use. Exits 1, listing every problem.
"""

import json
import re
import sys

import yaml

HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
# Labels every scraped series has, and the bucket bound of histogram series.
TARGET_LABELS = {"job", "instance"}
# Words that are operators or modifiers, not metric names.
KEYWORDS = {
    "and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
    "group_left", "group_right", "inf", "nan", "start", "end",
}
LABEL_LIST_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
# Aggregations may take their `by (...)` before their argument: `sum by (job) (x)`.
AGGREGATIONS = {
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
    "bottomk", "topk", "quantile",
}
# Grafana's built-in interval variables, given a duration so promtool can parse the expression.
GRAFANA_INTERVALS = {
    "$__rate_interval": "5m",
    "$__interval": "1m",
    "$__range": "1h",
}


def load_list(path):
    """[(name, type, labels)] as metric_names.txt lists them."""
    rows = []
    for line in open(path, encoding="utf-8"):
        fields = line.split("#", 1)[0].split()
        if fields:
            rows.append((fields[0], fields[1], set(fields[2:])))
    return rows


def load_known(path):
    """Returns ({metric series name: labels}, all label names)."""
    series = {}
    for name, kind, labels in load_list(path):
        if kind == "histogram":
            for suffix in HISTOGRAM_SUFFIXES:
                series[name + suffix] = labels | ({"le"} if suffix == "_bucket" else set())
        else:
            series[name] = labels
    all_labels = set(TARGET_LABELS)
    for labels in series.values():
        all_labels |= labels
    return series, all_labels


STRING = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`')
MATCHERS = re.compile(r"\{([^{}]*)\}")
MATCHER_LABEL = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)")
RANGE = re.compile(r"\[[^\[\]]*\]")
TOKEN = re.compile(r"(?<![0-9A-Za-z_:.$])([A-Za-z_:][A-Za-z0-9_:]*)|(\()|(\))")


def names_in(expr):
    """Returns (metric names, label names) an expression uses."""
    # Strings first (they may hold braces), then matchers (their label names kept), then ranges.
    text = STRING.sub('""', expr)
    labels = set()
    for block in MATCHERS.findall(text):
        labels.update(MATCHER_LABEL.findall(block))
    text = MATCHERS.sub(" ", text)
    text = RANGE.sub(" ", text)
    tokens = [m for m in TOKEN.finditer(text)]
    metrics = set()
    i = 0
    while i < len(tokens):
        word = tokens[i].group(1)
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        opens = following is not None and following.group(2) is not None
        if word is None:
            i += 1
            continue
        if word.lower() in LABEL_LIST_KEYWORDS and opens:
            i += 2
            while i < len(tokens) and tokens[i].group(3) is None:
                if tokens[i].group(1):
                    labels.add(tokens[i].group(1))
                i += 1
            i += 1
            continue
        grouped = (following is not None and (following.group(1) or "").lower() in ("by", "without"))
        if opens or word.lower() in KEYWORDS or (word in AGGREGATIONS and grouped):
            i += 1  # a function or aggregation, or an operator
            continue
        metrics.add(word)
        i += 1
    return metrics, labels


def check_expr(where, expr, known, all_labels, problems):
    metrics, labels = names_in(expr)
    if not metrics:
        problems.append(f"{where}: no metric in {expr!r}")
    for name in sorted(metrics - set(known)):
        problems.append(f"{where}: unknown metric {name}")
    for label in sorted(labels - all_labels):
        problems.append(f"{where}: unknown label {label}")
    return metrics


def rule_exprs(path):
    doc = yaml.safe_load(open(path, encoding="utf-8"))
    for group in doc.get("groups", []):
        for rule in group.get("rules", []):
            name = rule.get("alert") or rule.get("record")
            yield f"{path}: {name}", rule["expr"]


def panels_of(dashboard):
    """Every panel, those inside collapsed rows included."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def dashboard_exprs(path, problems):
    with open(path, encoding="utf-8") as f:
        try:
            dashboard = json.load(f)
        except json.JSONDecodeError as e:
            problems.append(f"{path}: not JSON: {e}")
            return
    if not dashboard.get("uid") or not dashboard.get("title"):
        problems.append(f"{path}: a dashboard needs a uid and a title")
    graphs = 0
    for panel in panels_of(dashboard):
        if panel.get("type") == "row":
            continue
        graphs += 1
        where = f"{path}: panel {panel.get('title')!r}"
        targets = panel.get("targets") or []
        if not targets:
            problems.append(f"{where}: no queries")
        for target in targets:
            expr = target.get("expr", "")
            if not expr.strip():
                problems.append(f"{where}: a query without an expression")
                continue
            yield where, expr
    if graphs == 0:
        problems.append(f"{path}: no panels")


def promtool_ready(expr):
    for variable, duration in GRAFANA_INTERVALS.items():
        expr = expr.replace(variable, duration)
    if "$" in expr:
        raise ValueError(f"a template variable promtool cannot read: {expr!r}")
    return expr


DOC_ROW = re.compile(r"^\|\s*`([a-z_:][a-z0-9_:]*)`\s*\|\s*(counter|gauge|histogram)\s*\|([^|]*)\|")


def doc_metrics(path):
    """{name: (type, labels)} from the document's metric tables: | `name` | type | labels | meaning |.
    A labels cell may list values in parentheses, and "the same" takes the row above's labels."""
    rows, previous = {}, set()
    for line in open(path, encoding="utf-8"):
        m = DOC_ROW.match(line)
        if not m:
            continue
        cell = re.sub(r"\([^()]*\)", "", m.group(3))
        labels = set(re.findall(r"`([a-z_][a-z0-9_]*)`", cell))
        if "the same" in cell:
            labels |= previous
        rows[m.group(1)] = (m.group(2), labels)
        previous = labels
    return rows


def check_doc(names_path, doc_path):
    documented = doc_metrics(doc_path)
    problems = []
    if not documented:
        problems.append(f"{doc_path}: no metric tables found")
    for name, kind, labels in load_list(names_path):
        if name == "up":
            continue  # Prometheus' own
        if name not in documented:
            problems.append(f"{name} is in {names_path} but no process exports it ({doc_path})")
            continue
        want_kind, want_labels = documented[name]
        if kind != want_kind:
            problems.append(f"{name}: {names_path} says {kind}, {doc_path} {want_kind}")
        if labels != want_labels:
            problems.append(f"{name}: labels {sorted(labels)} in {names_path}, "
                            f"{sorted(want_labels)} in {doc_path}")
    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    print(f"{len(load_list(names_path))} listed metrics checked against "
          f"{len(documented)} documented in {doc_path}")
    return 1 if problems else 0


def main(argv):
    if len(argv) < 4 or argv[2] not in ("rules", "dashboard", "doc"):
        print(__doc__, file=sys.stderr)
        return 2
    if argv[2] == "doc":
        return check_doc(argv[1], argv[3])
    known, all_labels = load_known(argv[1])
    mode, rest = argv[2], argv[3:]
    problems, used, exprs = [], set(), []
    emit, require, files = None, [], []
    while rest:
        arg = rest.pop(0)
        if arg == "--emit-rules":
            emit = rest.pop(0)
        elif arg == "--require":
            while rest and not rest[0].startswith("--"):
                require.append(rest.pop(0))
        else:
            files.append(arg)
    for path in files:
        found = rule_exprs(path) if mode == "rules" else dashboard_exprs(path, problems)
        for where, expr in found:
            used |= check_expr(where, expr, known, all_labels, problems)
            exprs.append((where, expr))
    for name in require:
        if name not in used:
            problems.append(f"no expression uses {name}")
    if emit:
        rules = []
        for i, (where, expr) in enumerate(exprs):
            try:
                rules.append({"record": f"dashboard:expr_{i}", "expr": promtool_ready(expr)})
            except ValueError as e:
                problems.append(f"{where}: {e}")
        with open(emit, "w", encoding="utf-8") as f:
            yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, f)
    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    print(f"{len(exprs)} expressions checked, {len(used)} metrics used")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
