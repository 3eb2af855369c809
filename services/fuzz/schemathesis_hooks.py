"""Schemathesis hooks for `./deploy/dev schemathesis` (loaded through SCHEMATHESIS_HOOKS).

Schemathesis generates only the parameters the OpenAPI document declares, and the gateway's
document declares one header, X-Request-Id (checked and forwarded to the backends; schemathesis
generates valid and invalid ones itself). The gateway reads several more all the same:
Grpc-Timeout and Grpc-Metadata-* (grpc-gateway turns them into a deadline and gRPC metadata),
Origin and Access-Control-Request-* (CORS), Accept, Content-Type and Authorization. `flatmap_case` adds a random selection of them, with random values, to every
request Hypothesis generates (the fuzzing and stateful phases), so they are fuzzed with the rest.

With API keys on (`./deploy/dev schemathesis --keys`: the run's key is in MDS_SCHEMATHESIS_KEY
and schemathesis sends it as `Authorization: Bearer`), no random Authorization is added, so that
the calls are made with the valid key.

Two more hooks keep the run on this machine and the dev stack usable, and record what was sent:
 - before_call: a `provider` of alpha_vantage, finnhub or yfinance (query or body) becomes `test`,
   since those would call the providers on the internet (or fail for a missing key); and a
   `start_time` after `end_time` is swapped with it, a rule between two parameters that the
   document states in words but no schema can (otherwise a valid pair of timestamps could make
   a request that is rightly refused with 400; start equal to end is the empty range, accepted);
   likewise the symbols of a new polling job are cut to the first 50 distinct ones
   (POLLING_MAX_SYMBOLS) and those of a snapshot to 100, counted after splitting at commas,
   upper-casing and de-duplicating, a rule the document states in words;
 - after_call: a polling job the run created is deleted at once (thousands of jobs polling every
   second would swamp the stack), and every request is counted by operation and status;
   each response with a status >= 500 is written whole to server-errors.jsonl, and the counts
   to requests.json, in $MDS_SCHEMATHESIS_OUT (default .).

Values stay within what an HTTP client can send (Latin-1, no CR, LF or NUL, no leading blank);
anything else would be refused by the client library before the gateway sees it.
"""

import atexit
import collections
import datetime
import json
import os
import string
import threading

import requests
import schemathesis
from hypothesis import strategies as st

# Printable Latin-1 and tabs: what a header value may carry on the wire.
_ANY_VALUE = st.text(
    alphabet=st.characters(
        min_codepoint=0x09, max_codepoint=0xFF,
        blacklist_characters="\n\r\x0b\x0c\x7f",
        blacklist_categories=("Cc",),
    ) | st.just("\t"),
    max_size=300,
).filter(lambda v: not v[:1].isspace())

_ASCII_VALUE = st.text(alphabet=string.printable.strip() + " ", min_size=1, max_size=200).filter(
    lambda v: not v[:1].isspace())

_VALUE = st.one_of(_ASCII_VALUE, _ANY_VALUE)

_TOKEN = st.text(alphabet=string.ascii_letters + string.digits + "-_.", min_size=1, max_size=24)

_GRPC_TIMEOUT = st.one_of(
    st.from_regex(r"\A[0-9]{1,12}[HMSmun]\Z"),  # well-formed, any size
    _VALUE,
)

_MEDIA_TYPES = st.sampled_from([
    "application/json", "application/json; charset=utf-8", "text/plain", "*/*",
    "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
    "application/x-protobuf", "application/grpc", "text/event-stream",
])

_KEY = os.environ.get("MDS_SCHEMATHESIS_KEY", "")

_EXTRA = st.fixed_dictionaries({}, optional={
    "Grpc-Timeout": _GRPC_TIMEOUT,
    "Origin": st.one_of(st.just("http://example.test"), _VALUE),
    "Access-Control-Request-Method": st.one_of(st.sampled_from(["GET", "POST", "DELETE"]),
                                               _VALUE),
    "Access-Control-Request-Headers": _VALUE,
    "Accept": st.one_of(_MEDIA_TYPES, _VALUE),
    "Content-Type": st.one_of(_MEDIA_TYPES, _VALUE),
    **({} if _KEY else {"Authorization": _VALUE}),
})

_METADATA = st.dictionaries(_TOKEN.map(lambda name: "Grpc-Metadata-" + name), _VALUE,
                            max_size=3)


def _with_headers(case, extra):
    headers = dict(case.headers or {})
    for name, value in extra.items():
        # Declared headers (X-Request-Id) keep their generated value.
        headers.setdefault(name, value)
    case.headers = headers
    return case


@schemathesis.hook
def flatmap_case(context, case):
    return st.tuples(_EXTRA, _METADATA).map(
        lambda parts: _with_headers(case, {**parts[0], **parts[1]}))


_NETWORK_PROVIDERS = {"alpha_vantage", "finnhub", "yfinance"}
_OUT = os.environ.get("MDS_SCHEMATHESIS_OUT", ".")
_lock = threading.Lock()
_counts = {
    "requests": 0,
    "with_extra_headers": 0,
    "by_status": collections.Counter(),
    "by_operation": collections.Counter(),
    "server_errors": 0,
    "jobs_deleted": 0,
}


def _offline(value):
    if isinstance(value, str) and value.strip().lower() in _NETWORK_PROVIDERS:
        return "test"
    return value


def _timestamp(value):
    if not isinstance(value, str):
        return None
    try:
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None


def _order_time_range(query):
    start, end = _timestamp(query.get("start_time")), _timestamp(query.get("end_time"))
    if start is None or end is None:
        return
    try:
        if start > end:
            query["start_time"], query["end_time"] = query["end_time"], query["start_time"]
    except TypeError:  # one has an offset, the other not
        return


# Distinct symbols a request may name, counted after splitting at commas, upper-casing and
# de-duplicating: a new polling job (POLLING_MAX_SYMBOLS, default 50) and a snapshot (100).
_MAX_JOB_SYMBOLS = 50
_MAX_SNAPSHOT_SYMBOLS = 100
_ASCII_BLANKS = " \t\n\v\f\r"


def _limit_symbols(symbols, limit):
    """The first `limit` distinct symbols of a list whose elements may be comma-separated lists."""
    if not isinstance(symbols, list) or not all(isinstance(s, str) for s in symbols):
        return symbols
    seen, kept = set(), []
    for item in symbols:
        parts = [p.strip(_ASCII_BLANKS).upper() for p in item.split(",")]
        if len(seen | set(parts)) <= limit:
            seen |= set(parts)
            kept.append(item)
            continue
        room = []  # the element cut at the symbol that would pass the limit
        for raw, part in zip(item.split(","), parts):
            if part not in seen and len(seen) == limit:
                break
            seen.add(part)
            room.append(raw)
        if room:
            kept.append(",".join(room))
        break
    return kept


@schemathesis.hook
def before_call(context, case, kwargs):
    if isinstance(case.query, dict):
        _order_time_range(case.query)
    if isinstance(case.body, dict) and "symbols" in case.body:
        case.body["symbols"] = _limit_symbols(case.body["symbols"], _MAX_JOB_SYMBOLS)
    if isinstance(case.query, dict) and "symbols" in case.query and case.path.endswith("/snapshot"):
        symbols = case.query["symbols"]
        case.query["symbols"] = _limit_symbols(
            symbols if isinstance(symbols, list) else [symbols], _MAX_SNAPSHOT_SYMBOLS)
    if isinstance(case.query, dict) and "provider" in case.query:
        case.query["provider"] = _offline(case.query["provider"])
    if isinstance(case.body, dict) and "provider" in case.body:
        case.body["provider"] = _offline(case.body["provider"])


def _base_url(case):
    return (case.operation.base_url or os.environ.get("SCHEMATHESIS_BASE_URL", "")).rstrip("/")


@schemathesis.hook
def after_call(context, case, response):
    status = response.status_code
    operation = f"{case.method.upper()} {case.path}"
    extra = any(name in (case.headers or {}) for name in _EXTRA_NAMES) or any(
        name.startswith("Grpc-Metadata-") for name in (case.headers or {}))
    with _lock:
        _counts["requests"] += 1
        _counts["with_extra_headers"] += int(extra)
        _counts["by_status"][str(status)] += 1
        _counts["by_operation"][operation] += 1
    if status >= 500:
        record = {
            "operation": operation,
            "method": case.method.upper(),
            "path": case.formatted_path if hasattr(case, "formatted_path") else case.path,
            "path_parameters": case.path_parameters,
            "query": case.query,
            "headers": case.headers,
            "body": None if type(case.body).__name__ == "NotSet" else case.body,
            "status": status,
            "response_headers": {k: v for k, v in response.headers.items()},
            "response": response.text[:2000],
            "curl": case.as_curl_command(),
        }
        with _lock:
            _counts["server_errors"] += 1
            os.makedirs(_OUT, exist_ok=True)
            with open(os.path.join(_OUT, "server-errors.jsonl"), "a", encoding="utf-8") as f:
                f.write(json.dumps(record, default=repr) + "\n")
    created = status in (200, 202)
    if case.method.upper() == "POST" and case.path == "/api/v1/prices/poll" and created:
        try:
            job_id = response.json().get("job_id") or response.json().get("id")
        except ValueError:
            job_id = None
        if job_id:
            headers = {"Authorization": f"Bearer {_KEY}"} if _KEY else {}
            requests.delete(f"{_base_url(case)}/api/v1/prices/poll/{job_id}", headers=headers,
                            timeout=30)
            with _lock:
                _counts["jobs_deleted"] += 1


# The headers only the flatmap_case hook sets (schemathesis may set Accept and Content-Type).
_EXTRA_NAMES = ("Grpc-Timeout", "Origin", "Access-Control-Request-Method",
                "Access-Control-Request-Headers") + (() if _KEY else ("Authorization",))


@atexit.register
def _write_counts():
    os.makedirs(_OUT, exist_ok=True)
    with open(os.path.join(_OUT, "requests.json"), "w", encoding="utf-8") as f:
        json.dump(_counts, f, indent=1, sort_keys=True)
