// The live dashboard: plain JavaScript over the gateway's REST API and Server-Sent Events.
// Prices, averages and bars arrive through EventSource on the stream routes
// (Accept: text/event-stream); jobs, providers and readiness are polled.
"use strict";

const $ = (id) => document.getElementById(id);
const { createChart, LineSeries, CandlestickSeries } = LightweightCharts;
const MAX_POINTS = 5000; // per symbol and series, oldest dropped first
const AVERAGE_COLORS = ["#ff9800", "#9c27b0", "#26a69a", "#e91e63"];

const state = {
  symbols: [], // followed, upper-case
  focus: "",
  prices: {}, // symbol -> [{time, value}]
  averages: {}, // symbol -> window -> [{time, value}]
  bars: {}, // symbol -> [{time, open, high, low, close}]
  sources: [],
  events: 0,
};

// --- REST -----------------------------------------------------------------------------------

function apiKey() { return $("api-key").value.trim(); }

async function call(method, path, body) {
  const headers = { Accept: "application/json" };
  if (apiKey()) headers["X-API-Key"] = apiKey();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const resp = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new Error(`${method} ${path}: ${resp.status} ${data.detail || resp.statusText}`);
  return data;
}

function say(text) { $("message").textContent = text || ""; }

const symbolList = (text) => [...new Set(text.split(/[\s,]+/).map((s) => s.trim().toUpperCase()).filter(Boolean))];
const seconds = (ts) => Math.floor(Date.parse(ts) / 1000);

// --- charts ---------------------------------------------------------------------------------

const chartOptions = { autoSize: true, layout: { attributionLogo: true }, timeScale: { timeVisible: true, secondsVisible: true } };
const priceChart = createChart($("price-chart"), chartOptions);
const priceSeries = priceChart.addSeries(LineSeries, { color: "#2962ff", lineWidth: 2 });
const averageSeries = {}; // window -> series
const barChart = createChart($("bar-chart"), chartOptions);
const barSeries = barChart.addSeries(CandlestickSeries, {});

function averageLine(window) {
  if (!averageSeries[window]) {
    const color = AVERAGE_COLORS[Object.keys(averageSeries).length % AVERAGE_COLORS.length];
    averageSeries[window] = priceChart.addSeries(LineSeries, { color, lineWidth: 1, title: `MA ${window}` });
  }
  return averageSeries[window];
}

// put adds a point to a series' data (same second: replaced; older than the last: dropped, as
// the chart needs ascending times) and reports whether it was kept.
function put(points, point) {
  const last = points[points.length - 1];
  if (last && point.time < last.time) return false;
  if (last && point.time === last.time) points[points.length - 1] = point;
  else points.push(point);
  if (points.length > MAX_POINTS) points.shift();
  return true;
}

function redraw() {
  const s = state.focus;
  $("focus").textContent = s || "—";
  priceSeries.setData(state.prices[s] || []);
  for (const [window, series] of Object.entries(averageSeries)) series.setData((state.averages[s] || {})[window] || []);
  barSeries.setData(state.bars[s] || []);
  priceChart.timeScale().fitContent();
  barChart.timeScale().fitContent();
  const last = (state.prices[s] || []).at(-1);
  $("last-price").textContent = last ? last.value.toFixed(2) : "";
  for (const chip of $("symbols").children) chip.classList.toggle("on", chip.dataset.symbol === s);
}

// --- live events ----------------------------------------------------------------------------

function onPrice(p) {
  const point = { time: seconds(p.timestamp), value: p.price };
  const points = (state.prices[p.symbol] ||= []);
  if (put(points, point) && p.symbol === state.focus) {
    priceSeries.update(point);
    if (points.length < 300) priceChart.timeScale().fitContent(); // few points: use the width
    $("last-price").textContent = p.price.toFixed(2);
  }
}

function onAverage(a) {
  const point = { time: seconds(a.timestamp), value: a.value };
  const byWindow = (state.averages[a.symbol] ||= {});
  if (!byWindow[a.window]) loadAverages(a.symbol, a.window); // a window seen for the first time
  const points = (byWindow[a.window] ||= []);
  const series = averageLine(a.window);
  if (put(points, point) && a.symbol === state.focus) series.update(point);
}

const candle = (b) => ({ time: seconds(b.start_time), open: b.open, high: b.high, low: b.low, close: b.close });

function onBar(b) {
  const bar = candle(b);
  const points = (state.bars[b.symbol] ||= []);
  if (put(points, bar) && b.symbol === state.focus) {
    barSeries.update(bar);
    if (points.length < 100) barChart.timeScale().fitContent();
  }
}

function streamURL(path, params) {
  const q = new URLSearchParams(params);
  if (apiKey()) q.set("api_key", apiKey()); // EventSource cannot send headers
  return `${path}?${q}`;
}

// open follows one stream; EventSource reconnects by itself (sending Last-Event-ID) when the
// stream ends, e.g. when the gateway restarts, but not after a refusal (an HTTP error).
function open(name, path, params, event, handle) {
  const source = new EventSource(streamURL(path, params));
  const show = (text) => { $("sse-status").dataset[name] = text; renderStatus(); };
  source.addEventListener("open", () => show("live"));
  source.addEventListener(event, (e) => {
    state.events++;
    $("event-count").textContent = `${state.events} events`;
    handle(JSON.parse(e.data));
  });
  source.addEventListener("error", (e) => {
    if (e.data) say(`${name} stream: ${JSON.parse(e.data).detail}`); // the stream's last event
    show(source.readyState === EventSource.CLOSED ? "closed" : "reconnecting");
  });
  state.sources.push(source);
  return source;
}

function renderStatus() {
  const d = $("sse-status").dataset;
  $("sse-status").textContent = ["prices", "averages", "bars"].filter((n) => d[n]).map((n) => `${n}: ${d[n]}`).join(" · ");
  $("bar-state").textContent = d.bars === "closed" ? "bars are not available" : "OHLCV bars";
}

async function follow(symbols) {
  for (const s of state.sources) s.close();
  state.sources = [];
  state.symbols = symbols;
  if (!symbols.includes(state.focus)) state.focus = symbols[0] || "";
  $("symbols").replaceChildren(...symbols.map((s) => {
    const chip = document.createElement("button");
    chip.type = "button";
    chip.textContent = s;
    chip.dataset.symbol = s;
    chip.addEventListener("click", () => { state.focus = s; redraw(); });
    return chip;
  }));
  const url = new URL(location.href);
  url.searchParams.set("symbols", symbols.join(","));
  history.replaceState(null, "", url);
  if (!symbols.length) { redraw(); return; }
  const list = symbols.join(",");
  open("prices", "/api/v1/prices/stream", { symbols: list }, "price", onPrice);
  open("averages", "/api/v1/averages/stream", { symbols: list }, "average", onAverage);
  open("bars", "/api/v1/bars/stream", { symbols: list, interval: $("bar-interval").value }, "bar", onBar);
  await Promise.all(symbols.map(loadHistory));
  redraw();
}

// loadHistory puts the stored prices and bars of a symbol before the live ones.
async function loadHistory(symbol) {
  const s = encodeURIComponent(symbol);
  const before = (stored, live) => {
    const merged = [];
    for (const p of stored.reverse().concat(live || [])) put(merged, p); // stored: newest first
    return merged;
  };
  try {
    const { prices } = await call("GET", `/api/v1/prices/history?symbol=${s}&limit=200`);
    state.prices[symbol] = before(prices.map((p) => ({ time: seconds(p.timestamp), value: p.price })), state.prices[symbol]);
    const { bars } = await call("GET", `/api/v1/bars?symbol=${s}&interval=${$("bar-interval").value}&limit=100`);
    state.bars[symbol] = before(bars.map(candle), state.bars[symbol]);
  } catch (err) {
    say(err.message);
  }
}

// loadAverages puts the stored averages of a symbol and window before the live ones.
async function loadAverages(symbol, window) {
  try {
    const page = await call("GET", `/api/v1/averages?symbol=${encodeURIComponent(symbol)}&window=${window}&limit=200`);
    const merged = [];
    const stored = page.moving_averages.reverse().map((a) => ({ time: seconds(a.timestamp), value: a.value }));
    for (const p of stored.concat(state.averages[symbol][window])) put(merged, p);
    state.averages[symbol][window] = merged;
    if (symbol === state.focus) averageLine(window).setData(merged);
  } catch (err) {
    say(err.message);
  }
}

// --- jobs, providers, readiness -------------------------------------------------------------

function cell(row, text, cls) {
  const td = row.insertCell();
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

const clock = (ts) => (ts ? new Date(ts).toLocaleTimeString() : "—");

async function refreshJobs() {
  try {
    const { jobs } = await call("GET", "/api/v1/prices/poll?limit=100");
    const ended = (job) => job.status === "stopped" || job.status === "failed";
    const shown = jobs.filter((job) => $("show-stopped").checked || !ended(job));
    $("jobs").replaceChildren(...shown.map((job) => {
      const row = document.createElement("tr");
      row.dataset.jobId = job.job_id;
      row.dataset.status = job.status;
      cell(row, job.job_id);
      const symbols = job.config.symbols;
      const more = symbols.length > 4 ? ` +${symbols.length - 4} more` : "";
      cell(row, symbols.slice(0, 4).join(", ") + more, "symbols").title = symbols.join(", ");
      cell(row, job.config.interval);
      cell(row, job.status);
      cell(row, job.run_count);
      cell(row, job.error_count).title = job.last_error || "";
      cell(row, clock(job.last_run_at));
      if (!ended(job)) {
        const stop = document.createElement("button");
        stop.textContent = "Stop";
        stop.className = "stop";
        stop.addEventListener("click", () => stopJob(job.job_id));
        row.insertCell().append(stop);
      } else {
        row.insertCell();
      }
      return row;
    }));
  } catch (err) {
    say(err.message);
  }
}

async function startJob(event) {
  event.preventDefault();
  const symbols = symbolList($("job-symbols").value);
  try {
    const job = await call("POST", "/api/v1/prices/poll", {
      symbols, interval: Number($("job-interval").value), provider: $("job-provider").value,
    });
    say("");
    const missing = job.config.symbols.filter((s) => !state.symbols.includes(s));
    if (missing.length) {
      $("symbols-input").value = state.symbols.concat(missing).join(",");
      follow(state.symbols.concat(missing));
    }
  } catch (err) {
    say(err.message);
  }
  refreshJobs();
}

async function stopJob(id) {
  try {
    await call("DELETE", `/api/v1/prices/poll/${encodeURIComponent(id)}`);
  } catch (err) {
    say(err.message);
  }
  refreshJobs();
}

async function refreshProviders() {
  try {
    const { providers } = await call("GET", "/api/v1/providers");
    $("providers").replaceChildren(...providers.map((p) => {
      const row = document.createElement("tr");
      cell(row, p.name + (p.is_default ? " (default)" : ""));
      cell(row, p.configured ? "yes" : "no");
      cell(row, p.rate_limit_per_minute);
      cell(row, p.tokens_available.toFixed(0));
      cell(row, p.rate_limit_per_day > 0 ? `${p.calls_left_today} of ${p.rate_limit_per_day}` : "—");
      cell(row, p.circuit ? p.circuit.replace("_", "-") +
        (p.circuit === "closed" ? "" : ` (probe in ${p.next_probe_in_seconds.toFixed(0)} s)`) : "—");
      cell(row, `${(100 * p.recent_error_rate).toFixed(0)}% of ${p.recent_requests}`);
      return row;
    }));
    const select = $("job-provider");
    if (select.options.length === 1) {
      for (const p of providers.filter((p) => p.configured)) select.add(new Option(p.name, p.name));
    }
  } catch (err) {
    say(err.message);
  }
}

async function refreshHealth() {
  const badge = $("health");
  try {
    const resp = await fetch("/ready");
    const ready = await resp.json();
    badge.textContent = `${ready.status}: ` + Object.entries(ready.backends).map(([k, v]) => `${k} ${v}`).join(", ");
    badge.className = "badge " + (resp.ok ? "ok" : "bad");
  } catch (err) {
    badge.textContent = "gateway unreachable";
    badge.className = "badge bad";
  }
}

// --- start ----------------------------------------------------------------------------------

$("follow-form").addEventListener("submit", (e) => { e.preventDefault(); follow(symbolList($("symbols-input").value)); });
$("bar-interval").addEventListener("change", () => { state.bars = {}; follow(state.symbols); });
$("job-form").addEventListener("submit", startJob);
$("show-stopped").addEventListener("change", refreshJobs);
$("api-key").value = sessionStorage.getItem("mds-api-key") || "";
$("api-key").addEventListener("change", () => { sessionStorage.setItem("mds-api-key", apiKey()); follow(state.symbols); });

const fromURL = new URLSearchParams(location.search).get("symbols");
if (fromURL) $("symbols-input").value = fromURL;
follow(symbolList($("symbols-input").value));
for (const [refresh, every] of [[refreshHealth, 5000], [refreshJobs, 2000], [refreshProviders, 10000]]) {
  refresh();
  setInterval(refresh, every);
}
