package gateway

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	marketdatav1 "marketdata/gateway/gen/marketdata/v1"
)

const testMaxBody = 4096

// env is one gateway in front of fake backends.
type env struct {
	api      *fakeAPI
	apiSrv   *grpcBackend
	consumer *grpcBackend
	gw       *Gateway
	http     *httptest.Server
	logs     *syncBuffer
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func defaultTestOptions() Options {
	return Options{
		CORSAllowedOrigins: []string{"*"},
		MaxBodyBytes:       testMaxBody,
		ReadyTimeout:       time.Second,
		ShutdownTimeout:    5 * time.Second,
	}
}

// newEnv starts both fakes and a gateway; adjust may change the options (backend addresses are
// filled in before it runs).
func newEnv(t *testing.T, adjust func(*Options)) *env {
	t.Helper()
	e := &env{api: newFakeAPI(), logs: &syncBuffer{}}
	e.apiSrv = startBackend(t, func(s *grpc.Server) {
		marketdatav1.RegisterPriceServiceServer(s, e.api)
		marketdatav1.RegisterPollingServiceServer(s, e.api)
	})
	e.consumer = startBackend(t, func(s *grpc.Server) {
		marketdatav1.RegisterMovingAverageServiceServer(s, fakeConsumer{})
	})
	opts := defaultTestOptions()
	opts.APIAddr = e.apiSrv.addr
	opts.ConsumerAddr = e.consumer.addr
	if adjust != nil {
		adjust(&opts)
	}
	gw, err := New(opts, slog.New(slog.NewJSONHandler(e.logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	e.gw = gw
	e.http = httptest.NewServer(gw.Handler())
	t.Cleanup(func() {
		gw.EndStreams()
		e.http.Close()
		gw.Close()
	})
	return e
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

func (e *env) do(t *testing.T, method, path string, body io.Reader, header map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, e.http.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := e.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func (e *env) get(t *testing.T, path string) response { return e.do(t, http.MethodGet, path, nil, nil) }

func (e *env) postJSON(t *testing.T, path, body string) response {
	return e.do(t, http.MethodPost, path, strings.NewReader(body), map[string]string{"Content-Type": "application/json"})
}

// wantError checks the contract's error body and status.
func wantError(t *testing.T, r response, status int, code string) map[string]any {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	m := r.json(t)
	if len(m) != 2 {
		t.Errorf("error body has keys other than detail and code: %s", r.body)
	}
	if m["code"] != code {
		t.Errorf("code = %v, want %s", m["code"], code)
	}
	if d, _ := m["detail"].(string); d == "" {
		t.Errorf("detail is empty: %s", r.body)
	}
	return m
}

func TestLatestPriceUsesSnakeCaseAndUTCTimestamps(t *testing.T) {
	e := newEnv(t, nil)
	r := e.get(t, "/api/v1/prices/latest?symbol=AAPL&provider=test")
	if r.status != http.StatusOK {
		t.Fatalf("status = %d: %s", r.status, r.body)
	}
	m := r.json(t)
	want := map[string]any{"symbol": "AAPL", "price": 180.25, "timestamp": "2024-01-02T15:04:05Z", "provider": "test"}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %#v, want %#v (body %s)", k, m[k], v, r.body)
		}
	}
	if len(m) != len(want) {
		t.Errorf("unexpected fields: %s", r.body)
	}
}

func TestZeroValuesAreRendered(t *testing.T) {
	e := newEnv(t, nil)
	// No provider: the fake echoes the empty string, which must still appear.
	m := e.get(t, "/api/v1/prices/latest?symbol=AAPL").json(t)
	if v, ok := m["provider"]; !ok || v != "" {
		t.Errorf("provider = %#v, present %v; want an empty string", v, ok)
	}
}

func TestBackendErrorsMapToContractStatuses(t *testing.T) {
	e := newEnv(t, nil)
	cases := []struct {
		query  string
		status int
		code   string
	}{
		{"", http.StatusUnprocessableEntity, "INVALID_ARGUMENT"}, // missing-field trailer
		{"?symbol=BAD!", http.StatusBadRequest, "INVALID_ARGUMENT"},
		{"?symbol=NOPE", http.StatusNotFound, "NOT_FOUND"},
		{"?symbol=LIMIT", http.StatusTooManyRequests, "RESOURCE_EXHAUSTED"},
		{"?symbol=DOWN", http.StatusServiceUnavailable, "UNAVAILABLE"},
		{"?symbol=SLOW", http.StatusServiceUnavailable, "DEADLINE_EXCEEDED"},
	}
	for _, c := range cases {
		t.Run(c.code+c.query, func(t *testing.T) {
			wantError(t, e.get(t, "/api/v1/prices/latest"+c.query), c.status, c.code)
		})
	}
	if m := wantError(t, e.get(t, "/api/v1/prices/latest"), 422, "INVALID_ARGUMENT"); m["detail"] != "symbol is required" {
		t.Errorf("detail = %v", m["detail"])
	}
}

func TestRoutingErrors(t *testing.T) {
	e := newEnv(t, nil)
	m := wantError(t, e.postJSON(t, "/api/v1/prices/latest", `{}`), http.StatusMethodNotAllowed, "UNIMPLEMENTED")
	if m["detail"] != "Method Not Allowed" {
		t.Errorf("detail = %v", m["detail"])
	}
	wantError(t, e.get(t, "/api/v1/nothing/here"), http.StatusNotFound, "NOT_FOUND")
	wantError(t, e.get(t, "/"), http.StatusNotFound, "NOT_FOUND")
	wantError(t, e.do(t, http.MethodDelete, "/health", nil, nil), http.StatusMethodNotAllowed, "UNIMPLEMENTED")
}

func TestCreatePollingJob(t *testing.T) {
	e := newEnv(t, nil)
	r := e.postJSON(t, "/api/v1/prices/poll", `{"symbols":["AAPL","MSFT"],"interval":30,"provider":"test","unknown_field":{"x":1}}`)
	if r.status != http.StatusAccepted {
		t.Fatalf("status = %d, want 202: %s", r.status, r.body)
	}
	got := e.api.created()
	if got == nil || strings.Join(got.GetSymbols(), ",") != "AAPL,MSFT" || got.GetInterval() != 30 || got.GetProvider() != "test" {
		t.Fatalf("backend received %v", got)
	}
	m := r.json(t)
	if m["job_id"] != "poll_0123abcd" || m["status"] != "accepted" {
		t.Errorf("body = %s", r.body)
	}
	cfg, _ := m["config"].(map[string]any)
	// int32 renders as a JSON number (int64 would be a string).
	if cfg["interval"] != float64(30) || cfg["provider"] != "test" {
		t.Errorf("config = %#v", cfg)
	}
	// Unset timestamps are present as null rather than dropped.
	if v, ok := m["last_run_at"]; !ok || v != nil {
		t.Errorf("last_run_at = %#v, present %v", v, ok)
	}
	if r.header.Get("Grpc-Metadata-Content-Type") != "" {
		t.Errorf("gRPC transport headers leak: %v", r.header)
	}
	if !strings.Contains(string(r.body), `"interval":30`) {
		t.Errorf("interval is not a bare number: %s", r.body)
	}
}

func TestCreatePollingJobBadBodies(t *testing.T) {
	e := newEnv(t, nil)
	cases := map[string]string{
		"malformed":  `{"symbols":["AAPL"],`,
		"wrong type": `{"symbols":["AAPL"],"interval":"abc"}`,
		"not object": `[1,2,3]`,
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			m := wantError(t, e.postJSON(t, "/api/v1/prices/poll", body), http.StatusBadRequest, "INVALID_ARGUMENT")
			if d, _ := m["detail"].(string); !strings.HasPrefix(d, "invalid JSON request body") {
				t.Errorf("detail = %q", d)
			}
		})
	}
	t.Run("rejected by backend", func(t *testing.T) {
		wantError(t, e.postJSON(t, "/api/v1/prices/poll", `{"symbols":[]}`), http.StatusBadRequest, "INVALID_ARGUMENT")
	})
}

func TestOversizeBodyIs413(t *testing.T) {
	e := newEnv(t, nil)
	big := `{"symbols":["` + strings.Repeat("A", testMaxBody) + `"],"interval":30}`
	t.Run("declared length", func(t *testing.T) {
		wantError(t, e.postJSON(t, "/api/v1/prices/poll", big), http.StatusRequestEntityTooLarge, "INVALID_ARGUMENT")
	})
	t.Run("chunked", func(t *testing.T) {
		// A reader of unknown length makes the client send the body chunked, with no length.
		body := io.MultiReader(strings.NewReader(big))
		r := e.do(t, http.MethodPost, "/api/v1/prices/poll", body, map[string]string{"Content-Type": "application/json"})
		wantError(t, r, http.StatusRequestEntityTooLarge, "INVALID_ARGUMENT")
	})
}

func TestPollingJobGetAndDelete(t *testing.T) {
	e := newEnv(t, nil)
	if r := e.get(t, "/api/v1/prices/poll/poll_0123abcd"); r.status != http.StatusOK || r.json(t)["status"] != "running" {
		t.Errorf("GET job: %d %s", r.status, r.body)
	}
	wantError(t, e.get(t, "/api/v1/prices/poll/poll_ffffffff"), http.StatusNotFound, "NOT_FOUND")

	r := e.do(t, http.MethodDelete, "/api/v1/prices/poll/poll_0123abcd", nil, nil)
	if r.status != http.StatusOK {
		t.Fatalf("DELETE status = %d: %s", r.status, r.body)
	}
	m := r.json(t)
	if m["status"] != "stopped" || m["message"] != "Polling job poll_0123abcd stopped" || m["job_id"] != "poll_0123abcd" {
		t.Errorf("DELETE body = %s", r.body)
	}
	wantError(t, e.do(t, http.MethodDelete, "/api/v1/prices/poll/poll_ffffffff", nil, nil), http.StatusNotFound, "NOT_FOUND")
}

func TestHealth(t *testing.T) {
	// Liveness does not depend on backends.
	e := newEnv(t, func(o *Options) { o.APIAddr = closedAddr(t) })
	r := e.get(t, "/health")
	if r.status != http.StatusOK || string(r.body) != `{"status":"ok"}` {
		t.Errorf("/health: %d %s", r.status, r.body)
	}
}

func TestReady(t *testing.T) {
	t.Run("all serving", func(t *testing.T) {
		e := newEnv(t, nil)
		r := e.get(t, "/ready")
		if r.status != http.StatusOK {
			t.Fatalf("status = %d: %s", r.status, r.body)
		}
		m := r.json(t)
		backends, _ := m["backends"].(map[string]any)
		if m["status"] != "ready" || backends["mds-api"] != "SERVING" || backends["mds-consumer"] != "SERVING" {
			t.Errorf("body = %s", r.body)
		}
	})
	t.Run("backend down", func(t *testing.T) {
		e := newEnv(t, func(o *Options) { o.ConsumerAddr = closedAddr(t) })
		r := e.get(t, "/ready")
		if r.status != http.StatusServiceUnavailable {
			t.Fatalf("status = %d: %s", r.status, r.body)
		}
		m := r.json(t)
		backends, _ := m["backends"].(map[string]any)
		if backends["mds-api"] != "SERVING" || backends["mds-consumer"] == "SERVING" {
			t.Errorf("body = %s", r.body)
		}
		if d, _ := m["detail"].(string); !strings.Contains(d, "mds-consumer") || strings.Contains(d, "mds-api") {
			t.Errorf("detail should name mds-consumer only: %q", d)
		}
	})
	t.Run("backend not serving", func(t *testing.T) {
		e := newEnv(t, nil)
		e.apiSrv.health.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
		r := e.get(t, "/ready")
		if r.status != http.StatusServiceUnavailable || !strings.Contains(string(r.body), `"mds-api":"NOT_SERVING"`) {
			t.Errorf("/ready: %d %s", r.status, r.body)
		}
	})
	t.Run("consumer not deployed", func(t *testing.T) {
		e := newEnv(t, func(o *Options) { o.ConsumerAddr = "" })
		r := e.get(t, "/ready")
		if r.status != http.StatusOK || strings.Contains(string(r.body), "mds-consumer") {
			t.Errorf("/ready: %d %s", r.status, r.body)
		}
	})
}

func TestMovingAverages(t *testing.T) {
	e := newEnv(t, nil)
	r := e.get(t, "/api/v1/averages/latest?symbol=AAPL&window=5")
	if r.status != http.StatusOK || r.json(t)["window"] != float64(5) {
		t.Errorf("averages: %d %s", r.status, r.body)
	}

	off := newEnv(t, func(o *Options) { o.ConsumerAddr = "" })
	for _, path := range []string{"/api/v1/averages/latest?symbol=AAPL", "/api/v1/averages?symbol=AAPL", "/api/v1/averages/stream?symbols=AAPL"} {
		wantError(t, off.get(t, path), http.StatusServiceUnavailable, "UNAVAILABLE")
	}
	wantError(t, off.postJSON(t, "/api/v1/averages/latest", `{}`), http.StatusMethodNotAllowed, "UNIMPLEMENTED")
}

func TestOpenAPIAndDocs(t *testing.T) {
	e := newEnv(t, nil)
	r := e.get(t, "/openapi.json")
	if r.status != http.StatusOK {
		t.Fatalf("status = %d", r.status)
	}
	var doc struct {
		Paths map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	for _, p := range []string{"/api/v1/prices/latest", "/api/v1/prices/poll", "/api/v1/prices/poll/{job_id}", "/api/v1/averages/stream"} {
		if _, ok := doc.Paths[p]; !ok {
			t.Errorf("OpenAPI document lacks %s", p)
		}
	}
	d := e.get(t, "/docs")
	if d.status != http.StatusOK || !strings.HasPrefix(d.header.Get("Content-Type"), "text/html") || !bytes.Contains(d.body, []byte("/openapi.json")) {
		t.Errorf("/docs: %d %s", d.status, d.header.Get("Content-Type"))
	}
}

func TestStreamIsNDJSONAndCancelsUpstream(t *testing.T) {
	e := newEnv(t, nil)
	resp, err := e.http.Client().Get(e.http.URL + "/api/v1/prices/stream?symbols=AAPL,MSFT&symbols=TSLA")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// The fake keeps the stream open after two messages: reading them proves per-message flushes.
	lines := bufio.NewScanner(resp.Body)
	for i, want := range []string{"AAPL,MSFT", "TSLA"} {
		if !lines.Scan() {
			t.Fatalf("stream ended after %d lines: %v", i, lines.Err())
		}
		var line struct {
			Result map[string]any `json:"result"`
		}
		if err := json.Unmarshal(lines.Bytes(), &line); err != nil {
			t.Fatalf("line %d is not JSON: %v: %s", i, err, lines.Bytes())
		}
		if line.Result["symbol"] != want || line.Result["timestamp"] != "2024-01-02T15:04:05Z" {
			t.Errorf("line %d = %s", i, lines.Bytes())
		}
	}
	resp.Body.Close()
	select {
	case <-e.api.streamEnded:
	case <-time.After(10 * time.Second):
		t.Fatal("closing the HTTP response did not cancel the upstream gRPC stream")
	}
}

func TestStreamStartsBeforeFirstMessage(t *testing.T) {
	e := newEnv(t, nil)
	// The fake accepts the call and sends nothing: the response headers must arrive anyway.
	resp, err := e.http.Client().Get(e.http.URL + "/api/v1/prices/stream?symbols=QUIET")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Errorf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

func TestStreamErrors(t *testing.T) {
	e := newEnv(t, nil)
	// Failing before the first message: the contract's status, the error as the only line.
	r := e.get(t, "/api/v1/prices/stream?symbols=SLOW")
	if r.status != http.StatusServiceUnavailable || strings.TrimSpace(string(r.body)) != `{"error":{"detail":"provider timed out","code":"DEADLINE_EXCEEDED"}}` {
		t.Errorf("early failure: %d %s", r.status, r.body)
	}
	// Failing later: 200 was sent; the error is the last line.
	r = e.get(t, "/api/v1/prices/stream?symbols=AAPL&symbols=FAIL")
	lines := strings.Split(strings.TrimSpace(string(r.body)), "\n")
	if r.status != http.StatusOK || len(lines) != 2 || !strings.HasPrefix(lines[0], `{"result":{"symbol":"AAPL"`) ||
		lines[1] != `{"error":{"detail":"price feed lost","code":"UNAVAILABLE"}}` {
		t.Errorf("late failure: %d %q", r.status, lines)
	}
}

func TestCORS(t *testing.T) {
	e := newEnv(t, nil)
	r := e.do(t, http.MethodOptions, "/api/v1/prices/poll", nil, map[string]string{
		"Origin":                         "https://app.example.com",
		"Access-Control-Request-Method":  "POST",
		"Access-Control-Request-Headers": "content-type",
	})
	if r.status != http.StatusNoContent {
		t.Fatalf("preflight status = %d: %s", r.status, r.body)
	}
	if r.header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(r.header.Get("Access-Control-Allow-Methods"), "POST") ||
		!strings.Contains(strings.ToLower(r.header.Get("Access-Control-Allow-Headers")), "content-type") {
		t.Errorf("preflight headers = %v", r.header)
	}
	g := e.do(t, http.MethodGet, "/health", nil, map[string]string{"Origin": "https://app.example.com"})
	if g.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("actual request lacks Access-Control-Allow-Origin: %v", g.header)
	}

	listed := newEnv(t, func(o *Options) { o.CORSAllowedOrigins = []string{"https://app.example.com"} })
	ok := listed.do(t, http.MethodGet, "/health", nil, map[string]string{"Origin": "https://app.example.com"})
	if ok.header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("listed origin not allowed: %v", ok.header)
	}
	other := listed.do(t, http.MethodGet, "/health", nil, map[string]string{"Origin": "https://evil.example.com"})
	if other.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("unlisted origin allowed: %v", other.header)
	}
}

func TestMetricsAndLogsUseRoutePatterns(t *testing.T) {
	e := newEnv(t, nil)
	e.get(t, "/api/v1/prices/poll/poll_0123abcd")
	e.get(t, "/api/v1/prices/poll/poll_ffffffff")
	e.get(t, "/no/such/path")
	r := e.get(t, "/metrics")
	if r.status != http.StatusOK {
		t.Fatalf("/metrics status %d", r.status)
	}
	for _, want := range []string{
		`gateway_http_requests_total{method="GET",route="/api/v1/prices/poll/{job_id}",status="200"} 1`,
		`gateway_http_requests_total{method="GET",route="/api/v1/prices/poll/{job_id}",status="404"} 1`,
		`gateway_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`gateway_http_request_duration_seconds_bucket{method="GET",route="/api/v1/prices/poll/{job_id}",status="200",le="+Inf"} 1`,
	} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(string(r.body), "poll_ffffffff") {
		t.Error("raw paths leak into metric labels")
	}

	var found bool
	for _, line := range strings.Split(strings.TrimSpace(e.logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		if rec["path"] == "/api/v1/prices/poll/poll_ffffffff" {
			found = true
			if rec["method"] != "GET" || rec["status"] != float64(404) || rec["duration_ms"] == nil {
				t.Errorf("log line = %s", line)
			}
		}
	}
	if !found {
		t.Errorf("no log line for the request: %s", e.logs.String())
	}
}

func TestShutdownFinishesInFlightRequests(t *testing.T) {
	e := newEnv(t, nil)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- e.gw.serve(ctx, lis, 5*time.Second, slog.New(slog.DiscardHandler)) }()

	got := make(chan response, 1)
	go func() {
		resp, err := http.Get("http://" + lis.Addr().String() + "/api/v1/prices/latest?symbol=HOLD")
		if err != nil {
			got <- response{status: -1, body: []byte(err.Error())}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- response{status: resp.StatusCode, body: b}
	}()
	<-e.api.holdArrived
	cancel()
	<-e.gw.drain.Done() // the server has begun shutting down
	close(e.api.holdRelease)
	if r := <-got; r.status != http.StatusOK {
		t.Errorf("in-flight request: %d %s", r.status, r.body)
	}
	if err := <-served; err != nil {
		t.Errorf("serve: %v", err)
	}
}

func TestShutdownEndsOpenStreams(t *testing.T) {
	e := newEnv(t, nil)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- e.gw.serve(ctx, lis, 30*time.Second, slog.New(slog.DiscardHandler)) }()

	resp, err := http.Get("http://" + lis.Addr().String() + "/api/v1/prices/stream?symbols=AAPL")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	if !lines.Scan() {
		t.Fatalf("no first line: %v", lines.Err())
	}
	cancel()
	// The stream must end (not hold shutdown for its 30 s) and the upstream call with it.
	for lines.Scan() {
	}
	<-e.api.streamEnded
	if err := <-served; err != nil {
		t.Errorf("serve: %v", err)
	}
}
