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
	"reflect"
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
	mu      sync.Mutex
	buf     bytes.Buffer
	written chan struct{} // closed by the next Write; made by changed
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.written != nil {
		close(b.written)
		b.written = nil
	}
	return b.buf.Write(p)
}

// changed returns a channel that the next Write closes.
func (b *syncBuffer) changed() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.written == nil {
		b.written = make(chan struct{})
	}
	return b.written
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func defaultTestOptions() Options {
	return Options{
		MaxBodyBytes:    testMaxBody,
		ReadyTimeout:    time.Second,
		ShutdownTimeout: 5 * time.Second,
	}
}

// newEnv starts both fakes and a gateway; adjust may change the options (backend addresses are
// filled in before it runs); apiServerOpts configure the fake mds-api's gRPC server.
func newEnv(t testing.TB, adjust func(*Options), apiServerOpts ...grpc.ServerOption) *env {
	t.Helper()
	e := &env{api: newFakeAPI(), logs: &syncBuffer{}}
	e.apiSrv = startBackend(t, func(s *grpc.Server) {
		marketdatav1.RegisterPriceServiceServer(s, e.api)
		marketdatav1.RegisterPollingServiceServer(s, e.api)
	}, apiServerOpts...)
	e.consumer = startBackend(t, func(s *grpc.Server) {
		marketdatav1.RegisterMovingAverageServiceServer(s, fakeConsumer{})
		marketdatav1.RegisterBarServiceServer(s, fakeBars{})
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
		{"?symbol=DBDOWN", http.StatusServiceUnavailable, "UNAVAILABLE"},
		{"?symbol=SLOW", http.StatusGatewayTimeout, "DEADLINE_EXCEEDED"},
	}
	for _, c := range cases {
		t.Run(c.code+c.query, func(t *testing.T) {
			wantError(t, e.get(t, "/api/v1/prices/latest"+c.query), c.status, c.code)
		})
	}
	// Messages the backend sends with UNAVAILABLE and DEADLINE_EXCEEDED are written for clients.
	for query, want := range map[string]string{
		"?symbol=DOWN":   "provider finnhub is unreachable",
		"?symbol=DBDOWN": "database unavailable: saving prices",
		"?symbol=SLOW":   "database too slow: reading prices",
	} {
		if m := e.get(t, "/api/v1/prices/latest"+query).json(t); m["detail"] != want {
			t.Errorf("%s: detail = %v, want %q", query, m["detail"], want)
		}
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
	wantError(t, e.get(t, "/nothing"), http.StatusNotFound, "NOT_FOUND")
	wantError(t, e.do(t, http.MethodDelete, "/health", nil, nil), http.StatusMethodNotAllowed, "UNIMPLEMENTED")
}

// A 405 says which methods the path has (RFC 9110), as the OpenAPI document lists them.
func TestMethodNotAllowedCarriesAllow(t *testing.T) {
	e := newEnv(t, nil)
	for _, tc := range []struct{ method, path, allow string }{
		{http.MethodPost, "/api/v1/prices/latest", "GET"},
		{http.MethodPut, "/api/v1/prices/poll", "GET, POST"},
		{http.MethodPatch, "/api/v1/prices/poll/poll_0000abcd", "DELETE, GET"},
		{http.MethodPost, "/api/v1/prices/poll/anything", "DELETE, GET"},
		{http.MethodDelete, "/api/v1/averages", "GET"},
		{http.MethodOptions, "/api/v1/providers", "GET"},
		{http.MethodDelete, "/health", "GET"},
		{http.MethodPost, "/openapi.json", "GET"},
		{http.MethodPost, "/docs/init.js", "GET"},
	} {
		r := e.do(t, tc.method, tc.path, nil, nil)
		wantError(t, r, http.StatusMethodNotAllowed, "UNIMPLEMENTED")
		if got := r.header.Get("Allow"); got != tc.allow {
			t.Errorf("%s %s: Allow = %q, want %q", tc.method, tc.path, got, tc.allow)
		}
	}
	if r := e.get(t, "/api/v1/nothing/here"); r.header.Get("Allow") != "" {
		t.Errorf("a 404 has Allow %q", r.header.Get("Allow"))
	}
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
		if m["status"] != "ready" || backends["mds-api"] != "ok" || backends["mds-consumer"] != "ok" {
			t.Errorf("body = %s", r.body)
		}
	})
	t.Run("backend down", func(t *testing.T) {
		addr := closedAddr(t)
		e := newEnv(t, func(o *Options) { o.ConsumerAddr = addr })
		r := e.get(t, "/ready")
		if r.status != http.StatusServiceUnavailable {
			t.Fatalf("status = %d: %s", r.status, r.body)
		}
		m := r.json(t)
		backends, _ := m["backends"].(map[string]any)
		if backends["mds-api"] != "ok" || backends["mds-consumer"] != "unavailable" {
			t.Errorf("body = %s", r.body)
		}
		if d, _ := m["detail"].(string); d != "backend not ready: mds-consumer (unreachable)" {
			t.Errorf("detail = %q, want it to name mds-consumer only, without its address", d)
		}
		wantNoInternals(t, r, addr)
		// The operator finds the real error on the request's log line.
		if !strings.Contains(e.logs.String(), addr) {
			t.Errorf("the log does not show the failure: %s", e.logs.String())
		}
	})
	t.Run("backend not serving", func(t *testing.T) {
		e := newEnv(t, nil)
		e.apiSrv.health.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
		r := e.get(t, "/ready")
		if r.status != http.StatusServiceUnavailable || !strings.Contains(string(r.body), `"mds-api":"unavailable"`) ||
			r.json(t)["detail"] != "backend not ready: mds-api (not serving)" {
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
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi = %q, want 3.0.3", doc.OpenAPI)
	}
	for _, p := range []string{"/api/v1/prices/latest", "/api/v1/prices/poll", "/api/v1/prices/poll/{job_id}", "/api/v1/averages/stream"} {
		if _, ok := doc.Paths[p]; !ok {
			t.Errorf("OpenAPI document lacks %s", p)
		}
	}
	// The page and every file it loads come from the gateway itself.
	d := e.get(t, "/docs")
	if d.status != http.StatusOK || !strings.HasPrefix(d.header.Get("Content-Type"), "text/html") ||
		!strings.Contains(d.header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("/docs: %d %v", d.status, d.header)
	}
	for path, contentType := range map[string]string{
		"/docs/swagger-ui-bundle.js": "text/javascript",
		"/docs/swagger-ui.css":       "text/css",
		"/docs/init.js":              "text/javascript",
	} {
		if !bytes.Contains(d.body, []byte(`"`+path+`"`)) {
			t.Errorf("/docs does not load %s:\n%s", path, d.body)
		}
		a := e.get(t, path)
		if a.status != http.StatusOK || !strings.HasPrefix(a.header.Get("Content-Type"), contentType) || len(a.body) == 0 {
			t.Errorf("%s: %d %q, %d bytes", path, a.status, a.header.Get("Content-Type"), len(a.body))
		}
	}
	if cfg := e.get(t, "/docs/init.js"); !bytes.Contains(cfg.body, []byte(`url: "/openapi.json"`)) {
		t.Errorf("/docs/init.js does not load /openapi.json:\n%s", cfg.body)
	}
	if l := e.get(t, "/docs/LICENSE"); l.status != http.StatusOK || !bytes.Contains(l.body, []byte("Apache License")) {
		t.Errorf("/docs/LICENSE: %d", l.status)
	}
	wantError(t, e.get(t, "/docs/no-such-file.js"), http.StatusNotFound, "NOT_FOUND")
	wantError(t, e.get(t, "/docs/swagger-ui/index.html"), http.StatusNotFound, "NOT_FOUND")
	wantError(t, e.postJSON(t, "/docs/init.js", `{}`), http.StatusMethodNotAllowed, "UNIMPLEMENTED")
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
	// Failing before the first message: the contract's status and error body, as any call.
	r := e.get(t, "/api/v1/prices/stream?symbols=SLOW")
	if r.status != http.StatusGatewayTimeout || strings.TrimSpace(string(r.body)) != `{"detail":"provider timed out","code":"DEADLINE_EXCEEDED"}` ||
		r.header.Get("Content-Type") != "application/json" {
		t.Errorf("early failure: %d %s %q", r.status, r.body, r.header.Get("Content-Type"))
	}
	// Failing later: 200 was sent; the error is the last line.
	r = e.get(t, "/api/v1/prices/stream?symbols=AAPL&symbols=FAIL")
	lines := strings.Split(strings.TrimSpace(string(r.body)), "\n")
	if r.status != http.StatusOK || len(lines) != 2 || !strings.HasPrefix(lines[0], `{"result":{"symbol":"AAPL"`) ||
		lines[1] != `{"error":{"detail":"price feed lost","code":"UNAVAILABLE"}}` {
		t.Errorf("late failure: %d %q", r.status, lines)
	}
}

// corsHeaders returns the Access-Control-* headers of a response.
func corsHeaders(h http.Header) http.Header {
	out := http.Header{}
	for k, v := range h {
		if strings.HasPrefix(k, "Access-Control-") {
			out[k] = v
		}
	}
	return out
}

var preflightHeaders = map[string]string{
	"Origin":                         "https://app.example.com",
	"Access-Control-Request-Method":  "POST",
	"Access-Control-Request-Headers": "content-type, x-not-allowed",
}

func TestCORSIsOffByDefault(t *testing.T) {
	opts, err := LoadOptions(nil, func(string) (string, bool) { return "", false }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(o *Options) { o.CORSAllowedOrigins = opts.CORSAllowedOrigins })
	r := e.do(t, http.MethodOptions, "/api/v1/prices/poll", nil, preflightHeaders)
	if r.status == http.StatusNoContent || len(corsHeaders(r.header)) > 0 {
		t.Errorf("preflight with CORS off: %d %v", r.status, corsHeaders(r.header))
	}
	g := e.do(t, http.MethodGet, "/health", nil, map[string]string{"Origin": "https://app.example.com"})
	if g.status != http.StatusOK || len(corsHeaders(g.header)) > 0 || g.header.Get("Vary") != "" {
		t.Errorf("request with CORS off: %d %v", g.status, g.header)
	}
}

func TestCORS(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.CORSAllowedOrigins = []string{"*"} })
	r := e.do(t, http.MethodOptions, "/api/v1/prices/poll", nil, preflightHeaders)
	if r.status != http.StatusNoContent {
		t.Fatalf("preflight status = %d: %s", r.status, r.body)
	}
	// The allowed methods and headers are a fixed list, whatever the preflight asks for.
	want := http.Header{
		"Access-Control-Allow-Origin":   {"*"},
		"Access-Control-Allow-Methods":  {"GET, POST, DELETE, OPTIONS"},
		"Access-Control-Allow-Headers":  {"Content-Type, Authorization, X-API-Key, X-Request-Id, Traceparent"},
		"Access-Control-Expose-Headers": {"X-Request-Id"},
		"Access-Control-Max-Age":        {"600"},
	}
	if got := corsHeaders(r.header); !reflect.DeepEqual(got, want) {
		t.Errorf("preflight headers = %v, want %v", got, want)
	}
	g := e.do(t, http.MethodGet, "/health", nil, map[string]string{"Origin": "https://app.example.com"})
	if g.header.Get("Access-Control-Allow-Origin") != "*" || g.header.Get("Access-Control-Expose-Headers") != "X-Request-Id" ||
		g.header.Get("Access-Control-Allow-Methods") != "" {
		t.Errorf("actual request's CORS headers = %v", corsHeaders(g.header))
	}
	if n := e.get(t, "/health"); len(corsHeaders(n.header)) > 0 || n.header.Get("Vary") != "Origin" {
		t.Errorf("request without Origin: %v", n.header)
	}

	listed := newEnv(t, func(o *Options) { o.CORSAllowedOrigins = []string{"https://app.example.com"} })
	ok := listed.do(t, http.MethodGet, "/health", nil, map[string]string{"Origin": "https://app.example.com"})
	if ok.header.Get("Access-Control-Allow-Origin") != "https://app.example.com" || ok.header.Get("Vary") != "Origin" {
		t.Errorf("listed origin not allowed: %v", ok.header)
	}
	pre := listed.do(t, http.MethodOptions, "/api/v1/prices/poll/poll_0123abcd", nil, map[string]string{
		"Origin": "https://app.example.com", "Access-Control-Request-Method": "DELETE",
	})
	if pre.status != http.StatusNoContent || pre.header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		pre.header.Get("Access-Control-Allow-Methods") != "GET, POST, DELETE, OPTIONS" {
		t.Errorf("listed origin's preflight: %d %v", pre.status, corsHeaders(pre.header))
	}
	other := listed.do(t, http.MethodGet, "/health", nil, map[string]string{"Origin": "https://evil.example.com"})
	if len(corsHeaders(other.header)) > 0 {
		t.Errorf("unlisted origin allowed: %v", corsHeaders(other.header))
	}
	otherPre := listed.do(t, http.MethodOptions, "/api/v1/prices/poll", nil, map[string]string{
		"Origin": "https://evil.example.com", "Access-Control-Request-Method": "POST",
	})
	if otherPre.status == http.StatusNoContent || len(corsHeaders(otherPre.header)) > 0 {
		t.Errorf("unlisted origin's preflight: %d %v", otherPre.status, corsHeaders(otherPre.header))
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
		`mds_build_info{revision="unknown",service="gateway",version="` + Version + `"} 1`,
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
		if line == "" { // nothing logged yet
			continue
		}
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
	go func() { served <- e.gw.serve(ctx, lis, nil, 5*time.Second, slog.New(slog.DiscardHandler)) }()

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
	go func() { served <- e.gw.serve(ctx, lis, nil, 30*time.Second, slog.New(slog.DiscardHandler)) }()

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

// wantNoInternals checks that a response shows neither an address nor grpc-go's transport text.
func wantNoInternals(t *testing.T, r response, addr string) {
	t.Helper()
	for _, leak := range []string{addr, "127.0.0.1", "10.1.2.3", "dial", "transport", "connection error", "connection refused"} {
		if leak != "" && bytes.Contains(r.body, []byte(leak)) {
			t.Errorf("response shows %q: %s", leak, r.body)
		}
	}
}

// waitForLogLine returns the first request log line of path that match accepts, waiting for it
// (5 s at most): the line is written once the handler returns, which may be after the client
// has read the whole response.
func (e *env) waitForLogLine(t *testing.T, path string, match func(map[string]any) bool) map[string]any {
	t.Helper()
	timeout := time.NewTimer(5 * time.Second)
	defer timeout.Stop()
	for {
		written := e.logs.changed() // before reading, so that no line can slip in between
		for _, line := range e.logLines(t, path) {
			if match(line) {
				return line
			}
		}
		select {
		case <-written:
		case <-timeout.C:
			t.Fatalf("no such log line for %s in:\n%s", path, e.logs.String())
		}
	}
}

// logLines returns the request log lines of path.
func (e *env) logLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(e.logs.String()), "\n") {
		if line == "" { // nothing logged yet
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		if rec["msg"] == "request" && rec["path"] == path {
			out = append(out, rec)
		}
	}
	return out
}

func TestRequestID(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.CORSAllowedOrigins = []string{"*"} })
	for _, id := range []string{"req-123", "a b/c:d=e", strings.Repeat("x", 128)} {
		r := e.do(t, http.MethodGet, "/api/v1/prices/latest?symbol=AAPL", nil, map[string]string{"X-Request-Id": id})
		if r.status != http.StatusOK || r.header.Get("X-Request-Id") != id {
			t.Errorf("id %q: %d, echoed %q: %s", id, r.status, r.header.Get("X-Request-Id"), r.body)
		}
		if got := e.api.lastLatest().requestID; len(got) != 1 || got[0] != id {
			t.Errorf("id %q: backend got x-request-id %q", id, got)
		}
	}
	// None sent: one is made up, echoed and forwarded.
	r := e.get(t, "/api/v1/prices/latest?symbol=AAPL")
	made := r.header.Get("X-Request-Id")
	if got := e.api.lastLatest().requestID; made == "" || len(got) != 1 || got[0] != made {
		t.Errorf("made-up id %q, backend got %q", made, got)
	}

	calls := e.api.lastLatest().calls
	for name, id := range map[string]string{
		"tab":       "abc\tdef",
		"non-ASCII": "r\xc3\xa9q-1",
		"byte 0xff": "abc\xffdef",
		"too long":  strings.Repeat("x", 129),
	} {
		t.Run(name, func(t *testing.T) {
			r := e.do(t, http.MethodGet, "/api/v1/prices/latest?symbol=AAPL", nil,
				map[string]string{"X-Request-Id": id, "Origin": "https://app.example.com"})
			m := wantError(t, r, http.StatusBadRequest, "INVALID_ARGUMENT")
			if m["detail"] != "X-Request-Id must be 1-128 printable ASCII characters" {
				t.Errorf("detail = %v", m["detail"])
			}
			if echoed := r.header.Get("X-Request-Id"); echoed == id || !validRequestID(echoed) {
				t.Errorf("response X-Request-Id = %q, want a fresh one", echoed)
			}
			if r.header.Get("Access-Control-Allow-Origin") != "*" {
				t.Errorf("the 400 lacks CORS headers: %v", r.header)
			}
		})
	}
	// Streams and the other routes are refused the same way.
	req, err := http.NewRequest(http.MethodGet, e.http.URL+"/api/v1/prices/stream?symbols=AAPL", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Request-Id", "a\tb")
	resp, err := e.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close() // a stream that started would not end by itself
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("stream: status %d, want 400", resp.StatusCode)
	}
	wantError(t, e.do(t, http.MethodPost, "/api/v1/prices/poll", strings.NewReader(`{"symbols":["AAPL"]}`),
		map[string]string{"X-Request-Id": "a\tb", "Content-Type": "application/json"}), http.StatusBadRequest, "INVALID_ARGUMENT")
	if e.api.lastLatest().calls != calls || e.api.created() != nil {
		t.Error("a request with a bad X-Request-Id reached the backend")
	}
}

// TestForwardedHeadersNeverFail: the fake mds-api limits metadata like a gRPC C++ server (which
// announces 16 KiB and refuses more than 8 KiB at random); request headers the gateway forwards
// as metadata must not make the call fail, whatever their size or bytes.
func TestForwardedHeadersNeverFail(t *testing.T) {
	e := newEnv(t, nil, grpc.MaxHeaderListSize(8<<10))
	big := strings.Repeat("x", 20<<10)
	for name, h := range map[string]map[string]string{
		"cookie":          {"Cookie": "session=" + big},
		"authorization":   {"Authorization": "Bearer " + big},
		"user agent":      {"User-Agent": big},
		"x-forwarded-for": {"X-Forwarded-For": strings.Repeat("10.0.0.1, ", 2<<10) + "10.0.0.2"},
		"many":            {"Cookie": big[:3000], "Authorization": big[:3000], "Referer": "https://x.example/" + big[:3000], "Accept-Language": big[:3000]},
		"non-ASCII":       {"User-Agent": "caf\xc3\xa9", "Referer": "https://x.example/\xff", "Cache-Control": "no\tcache"},
	} {
		t.Run(name, func(t *testing.T) {
			h["X-Request-Id"] = "req-" + strings.ReplaceAll(name, " ", "-")
			r := e.do(t, http.MethodGet, "/api/v1/prices/latest?symbol=AAPL", nil, h)
			if r.status != http.StatusOK {
				t.Fatalf("status = %d: %s", r.status, r.body)
			}
			got := e.api.lastLatest()
			if len(got.requestID) != 1 || got.requestID[0] != h["X-Request-Id"] {
				t.Errorf("backend got x-request-id %q", got.requestID)
			}
			size := 0
			for k, vs := range got.metadata {
				for _, v := range vs {
					size += len(k) + len(v) + 32
				}
			}
			if size > 8<<10 {
				t.Errorf("backend got %d bytes of metadata", size)
			}
		})
	}
	// Small standard headers are still forwarded as grpc-gateway does.
	e.do(t, http.MethodGet, "/api/v1/prices/latest?symbol=AAPL", nil, map[string]string{"User-Agent": "curl/8.5.0", "Authorization": "Bearer t"})
	if md := e.api.lastLatest().metadata; strings.Join(md.Get("grpcgateway-user-agent"), "") != "curl/8.5.0" ||
		strings.Join(md.Get("authorization"), "") != "Bearer t" {
		t.Errorf("forwarded metadata = %v", md)
	}
}

func TestBackendTimeout(t *testing.T) {
	t.Run("unary calls get the default", func(t *testing.T) {
		e := newEnv(t, nil) // BackendTimeout zero: the 30 s default
		if r := e.get(t, "/api/v1/prices/latest?symbol=AAPL"); r.status != http.StatusOK {
			t.Fatalf("status = %d: %s", r.status, r.body)
		}
		if d := e.api.lastLatest().deadline; d <= 25*time.Second || d > 30*time.Second {
			t.Errorf("backend call deadline in %v, want 30s", d)
		}
		// A REST client's Grpc-Timeout is not part of the API: ignored, however short.
		r := e.do(t, http.MethodGet, "/api/v1/prices/latest?symbol=AAPL", nil, map[string]string{"Grpc-Timeout": "7u"})
		if r.status != http.StatusOK {
			t.Fatalf("with Grpc-Timeout: 7u, status = %d: %s", r.status, r.body)
		}
		if d := e.api.lastLatest().deadline; d <= 25*time.Second || d > 30*time.Second {
			t.Errorf("backend call deadline in %v, want 30s whatever Grpc-Timeout says", d)
		}
	})
	t.Run("expired is 504", func(t *testing.T) {
		e := newEnv(t, func(o *Options) { o.BackendTimeout = 100 * time.Millisecond })
		r := e.get(t, "/api/v1/prices/latest?symbol=STALL")
		m := wantError(t, r, http.StatusGatewayTimeout, "DEADLINE_EXCEEDED")
		if m["detail"] != "the price service did not answer in time" {
			t.Errorf("detail = %v", m["detail"])
		}
		if d := e.api.lastLatest().deadline; d <= 0 || d > 100*time.Millisecond {
			t.Errorf("backend call deadline in %v, want 100ms", d)
		}
	})
	t.Run("streams get none", func(t *testing.T) {
		e := newEnv(t, func(o *Options) { o.BackendTimeout = 50 * time.Millisecond })
		resp, err := e.http.Client().Get(e.http.URL + "/api/v1/prices/stream?symbols=AAPL")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		lines := bufio.NewScanner(resp.Body)
		if !lines.Scan() {
			t.Fatalf("no first line: %v", lines.Err())
		}
		if e.api.streamDeadline() {
			t.Error("the stream call has a deadline")
		}
		select {
		case <-e.api.streamEnded:
			t.Error("the stream ended by itself")
		case <-time.After(200 * time.Millisecond):
		}
	})
}

func TestInternalErrorsAreHidden(t *testing.T) {
	e := newEnv(t, nil)
	for symbol, code := range map[string]string{"OOPS": "INTERNAL", "BROKEN": "UNKNOWN"} {
		r := e.get(t, "/api/v1/prices/latest?symbol="+symbol)
		if m := wantError(t, r, http.StatusInternalServerError, code); m["detail"] != "internal error" {
			t.Errorf("%s: detail = %v", symbol, m["detail"])
		}
		wantNoInternals(t, r, "")
	}
	// The log has the real errors.
	for _, logged := range []string{"INTERNAL: database error: connection to 10.1.2.3:5432 lost", "UNKNOWN: store returned nothing for 10.1.2.3"} {
		e.waitForLogLine(t, "/api/v1/prices/latest", func(line map[string]any) bool {
			msg, _ := line["error"].(string)
			return strings.Contains(msg, logged)
		})
	}
}

func TestUnreachableBackendIs503WithoutAddresses(t *testing.T) {
	apiAddr, consumerAddr := closedAddr(t), closedAddr(t)
	e := newEnv(t, func(o *Options) { o.APIAddr, o.ConsumerAddr = apiAddr, consumerAddr })
	for path, want := range map[string]string{
		"/api/v1/prices/latest?symbol=AAPL":   "the price service is unavailable; retry later",
		"/api/v1/prices/poll/poll_0123abcd":   "the price service is unavailable; retry later",
		"/api/v1/averages/latest?symbol=AAPL": "the moving average service is unavailable; retry later",
	} {
		r := e.get(t, path)
		if m := wantError(t, r, http.StatusServiceUnavailable, "UNAVAILABLE"); m["detail"] != want {
			t.Errorf("%s: detail = %v, want %q", path, m["detail"], want)
		}
		wantNoInternals(t, r, apiAddr)
		wantNoInternals(t, r, consumerAddr)
	}
	// A stream that cannot start.
	r := e.get(t, "/api/v1/prices/stream?symbols=AAPL")
	if m := wantError(t, r, http.StatusServiceUnavailable, "UNAVAILABLE"); m["detail"] != "the price service is unavailable; retry later" {
		t.Errorf("stream: detail = %v", m["detail"])
	}
	// The request's log line has the real error.
	recs := e.logLines(t, "/api/v1/prices/latest")
	if len(recs) != 1 {
		t.Fatalf("%d log lines", len(recs))
	}
	if msg, _ := recs[0]["error"].(string); !strings.Contains(msg, "mds-api at "+apiAddr) || !strings.Contains(msg, "connection refused") ||
		!strings.Contains(msg, "/marketdata.v1.PriceService/GetLatestPrice") {
		t.Errorf("log line error = %q", msg)
	}
}

func TestBackendLostMidStream(t *testing.T) {
	e := newEnv(t, nil)
	resp, err := e.http.Client().Get(e.http.URL + "/api/v1/prices/stream?symbols=AAPL")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	if !lines.Scan() {
		t.Fatalf("no first line: %v", lines.Err())
	}
	e.apiSrv.server.Stop() // the connection drops; no status from the server
	var last string
	for lines.Scan() {
		last = lines.Text()
	}
	if last != `{"error":{"detail":"the price service is unavailable; retry later","code":"UNAVAILABLE"}}` {
		t.Errorf("last line = %s", last)
	}
}

func TestQuotaErrorsCarryRetryAfterAndRateLimitHeaders(t *testing.T) {
	e := newEnv(t, nil)
	r := e.do(t, http.MethodGet, "/api/v1/prices/latest?symbol=QUOTA", nil, nil)
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("status = %d: %s", r.status, r.body)
	}
	for name, want := range map[string]string{"Retry-After": "7", "RateLimit-Limit": "60", "RateLimit-Remaining": "0", "RateLimit-Reset": "7"} {
		if got := r.header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if r.header.Get("Grpc-Metadata-Retry-After") != "" {
		t.Error("retry-after also went out as Grpc-Metadata-Retry-After")
	}
}

func TestAPIKeyHeadersReachTheBackend(t *testing.T) {
	e := newEnv(t, nil)
	e.do(t, http.MethodGet, "/api/v1/prices/latest?symbol=AAPL", nil, map[string]string{"X-API-Key": "mds_k"})
	if md := e.api.lastLatest().metadata; strings.Join(md.Get("x-api-key"), "") != "mds_k" {
		t.Errorf("forwarded metadata = %v", md)
	}
}

// TestTraceparent: a valid traceparent is forwarded as it came, an invalid or missing one is
// replaced by a new trace; the request's log line names the trace id either way.
func TestTraceparent(t *testing.T) {
	e := newEnv(t, nil)
	const sent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	forwarded := func() string {
		got := e.api.lastLatest().metadata.Get(traceparentKey)
		if len(got) != 1 {
			t.Fatalf("backend got traceparent %q, want one", got)
		}
		return got[0]
	}
	r := e.do(t, http.MethodGet, "/api/v1/prices/latest?symbol=AAPL", nil,
		map[string]string{"Traceparent": sent, "X-Request-Id": "trace-1"})
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if got := forwarded(); got != sent {
		t.Errorf("forwarded %q, want %q", got, sent)
	}
	seen := map[string]bool{}
	for _, bad := range []string{"", "garbage", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01"} {
		e.do(t, http.MethodGet, "/api/v1/prices/latest?symbol=AAPL", nil, map[string]string{"Traceparent": bad})
		got := forwarded()
		if !validTraceparent(got) || got == bad || seen[got] {
			t.Errorf("for %q forwarded %q, want a new valid traceparent", bad, got)
		}
		seen[got] = true
	}
	line := e.waitForLogLine(t, "/api/v1/prices/latest", func(line map[string]any) bool { return line["request_id"] == "trace-1" })
	if line["trace_id"] != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("trace_id = %v", line["trace_id"])
	}
}

func TestValidTraceparent(t *testing.T) {
	for s, want := range map[string]bool{
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01":       true,
		"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-later": true,
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-later": false,
		"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01":       false,
		"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01":       false,
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7":          false,
		"00-4bf92f3577b34da6a3ce929d0e0e473-x00f067aa0ba902b7-01":       false,
		"": false,
	} {
		if got := validTraceparent(s); got != want {
			t.Errorf("validTraceparent(%q) = %v, want %v", s, got, want)
		}
	}
	if tp := newTraceparent(); !validTraceparent(tp) || len(tp) != traceparentLen {
		t.Errorf("newTraceparent() = %q", tp)
	}
	if n := testing.AllocsPerRun(100, func() { _ = newTraceparent() }); n > 1 {
		t.Errorf("newTraceparent allocates %v times, want at most 1 (the string)", n)
	}
}
