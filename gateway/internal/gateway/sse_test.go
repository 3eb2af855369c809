package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sseEvent is one block of an event stream: its fields, or the comment lines of a block that
// has nothing else.
type sseEvent struct {
	id, event, data, retry string
	comments               []string
}

// sseReader reads an event stream as EventSource does (fields up to a blank line).
type sseReader struct{ lines *bufio.Scanner }

func (s *sseReader) next() (sseEvent, bool) {
	var ev sseEvent
	seen := false
	for s.lines.Scan() {
		line := s.lines.Text()
		if line == "" {
			if seen {
				return ev, true
			}
			continue
		}
		seen = true
		if c, ok := strings.CutPrefix(line, ":"); ok {
			ev.comments = append(ev.comments, strings.TrimSpace(c))
			continue
		}
		name, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch name {
		case "id":
			ev.id = value
		case "event":
			ev.event = value
		case "data":
			ev.data += value
		case "retry":
			ev.retry = value
		}
	}
	return ev, false
}

// nextEvent skips the retry block and heartbeats.
func (s *sseReader) nextEvent(t *testing.T) sseEvent {
	t.Helper()
	for {
		ev, ok := s.next()
		if !ok {
			t.Fatalf("the event stream ended: %v", s.lines.Err())
		}
		if ev.event != "" || ev.data != "" {
			return ev
		}
	}
}

func (e *env) openEvents(t *testing.T, path string, header map[string]string) (*http.Response, *sseReader) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.http.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := e.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp, &sseReader{lines: bufio.NewScanner(resp.Body)}
}

var fakeTimeID = strconv.FormatInt(fakeTime.UnixMicro(), 10)

func TestEventStreamFramesWhatNDJSONCarries(t *testing.T) {
	e := newEnv(t, nil)
	resp, events := e.openEvents(t, "/api/v1/prices/stream?symbols=AAPL,MSFT&symbols=TSLA", nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" ||
		resp.Header.Get("Cache-Control") != "no-cache" || resp.Header.Get("Vary") != "Accept" {
		t.Fatalf("status %d, headers %v", resp.StatusCode, resp.Header)
	}
	first, ok := events.next()
	if !ok || first.retry != strconv.Itoa(sseRetryMillis) {
		t.Errorf("first block = %+v, want the retry delay", first)
	}
	for _, want := range []string{"AAPL,MSFT", "TSLA"} {
		ev := events.nextEvent(t)
		if ev.event != "price" || ev.id != fakeTimeID {
			t.Errorf("event %q id %q, want price %s", ev.event, ev.id, fakeTimeID)
		}
		var price map[string]any
		if err := json.Unmarshal([]byte(ev.data), &price); err != nil || price["symbol"] != want ||
			price["timestamp"] != "2024-01-02T15:04:05Z" || price["provider"] != "test" {
			t.Errorf("data = %s (%v)", ev.data, err)
		}
	}
	// Closing the response ends the backend stream (client disconnect).
	resp.Body.Close()
	select {
	case <-e.api.streamEnded:
	case <-time.After(10 * time.Second):
		t.Fatal("closing the event stream did not cancel the upstream gRPC stream")
	}
}

func TestEventDataIsTheNDJSONResult(t *testing.T) {
	e := newEnv(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.http.URL+"/api/v1/averages/stream?symbols=AAPL&window=5", nil)
	resp, err := e.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Type") != "application/x-ndjson" || resp.Header.Get("Vary") != "Accept" {
		t.Fatalf("NDJSON response: %v", resp.Header)
	}
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	var wrapped struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal([]byte(line), &wrapped); err != nil {
		t.Fatal(err)
	}

	_, events := e.openEvents(t, "/api/v1/averages/stream?symbols=AAPL&window=5", nil)
	ev := events.nextEvent(t)
	if ev.event != "average" || ev.id != fakeTimeID || ev.data != string(wrapped.Result) {
		t.Errorf("event %q id %q data %s; NDJSON result %s", ev.event, ev.id, ev.data, wrapped.Result)
	}
}

func TestEventIDsAndResume(t *testing.T) {
	e := newEnv(t, nil)
	_, events := e.openEvents(t, "/api/v1/prices/stream?symbols=SEQ", nil)
	var ids []string
	for range 3 {
		ids = append(ids, events.nextEvent(t).id)
	}
	for i, id := range ids {
		if want := strconv.FormatInt(fakeTime.Add(time.Duration(i+1)*time.Second).UnixMicro(), 10); id != want {
			t.Errorf("id %d = %s, want %s (the price's timestamp in Unix microseconds)", i, id, want)
		}
	}
	// A reconnecting EventSource sends the last id it saw: what is at or before it is skipped.
	_, events = e.openEvents(t, "/api/v1/prices/stream?symbols=SEQ&symbols=AAPL", map[string]string{"Last-Event-ID": ids[1]})
	if ev := events.nextEvent(t); ev.id != ids[2] {
		t.Errorf("after Last-Event-ID %s the first event is %s, want %s", ids[1], ev.id, ids[2])
	}
	// AAPL's price (fakeTime) is older than the last id: skipped too. A bad id is ignored.
	_, events = e.openEvents(t, "/api/v1/prices/stream?symbols=AAPL", map[string]string{"Last-Event-ID": "not-ours"})
	if ev := events.nextEvent(t); ev.id != fakeTimeID {
		t.Errorf("with an id not of ours: %+v", ev)
	}
}

func TestBarEventsAndResume(t *testing.T) {
	e := newEnv(t, nil)
	open := strconv.FormatInt(fakeTime.Truncate(time.Minute).UnixMicro(), 10)
	closed := strconv.FormatInt(fakeTime.Truncate(time.Minute).Add(-time.Minute).UnixMicro(), 10)
	_, events := e.openEvents(t, "/api/v1/bars/stream?symbols=AAPL&interval=1m", nil)
	var got []string
	for range 3 {
		ev := events.nextEvent(t)
		var bar map[string]any
		if err := json.Unmarshal([]byte(ev.data), &bar); err != nil || ev.event != "bar" || bar["symbol"] != "AAPL" || bar["interval"] != "1m" {
			t.Errorf("event %q data %s", ev.event, ev.data)
		}
		got = append(got, fmt.Sprint(ev.id, "/", bar["price_count"]))
	}
	// price_count is an int64: protojson writes it as a string; the id is the bar's start.
	if want := []string{closed + "/3", open + "/1", open + "/2"}; !slices.Equal(got, want) {
		t.Errorf("bars (id/price_count) = %v, want %v", got, want)
	}
	// Resuming from the open bar: the closed one is skipped, the open one sent again (it may
	// have taken prices since).
	_, events = e.openEvents(t, "/api/v1/bars/stream?symbols=AAPL", map[string]string{"Last-Event-ID": open})
	if ev := events.nextEvent(t); ev.id != open {
		t.Errorf("after Last-Event-ID %s the first bar starts at %s", open, ev.id)
	}
	wantError(t, e.do(t, http.MethodGet, "/api/v1/bars/stream?symbols=AAPL&interval=2d", nil,
		map[string]string{"Accept": "text/event-stream"}), http.StatusBadRequest, "INVALID_ARGUMENT")
	down := newEnv(t, func(o *Options) { o.ConsumerAddr = "" })
	wantError(t, down.do(t, http.MethodGet, "/api/v1/bars/stream?symbols=AAPL", nil,
		map[string]string{"Accept": "text/event-stream"}), http.StatusServiceUnavailable, "UNAVAILABLE")
}

func TestEventStreamHeartbeats(t *testing.T) {
	defer func(p time.Duration) { sseHeartbeat = p }(sseHeartbeat)
	sseHeartbeat = 20 * time.Millisecond
	e := newEnv(t, nil)
	resp, events := e.openEvents(t, "/api/v1/prices/stream?symbols=QUIET", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	beats := 0
	for beats < 3 {
		ev, ok := events.next()
		if !ok {
			t.Fatalf("stream ended after %d heartbeats", beats)
		}
		if ev.event != "" {
			t.Fatalf("unexpected event %+v", ev)
		}
		if len(ev.comments) == 1 && ev.comments[0] == "keep-alive" {
			beats++
		}
	}
}

func TestEventStreamRefusalsAreJSONErrors(t *testing.T) {
	e := newEnv(t, nil)
	sse := map[string]string{"Accept": "text/event-stream"}
	for _, c := range []struct {
		path   string
		status int
		code   string
	}{
		{"/api/v1/prices/stream?symbols=BAD!", http.StatusBadRequest, "INVALID_ARGUMENT"},
		{"/api/v1/prices/stream?symbols=UNAUTH", http.StatusUnauthorized, "UNAUTHENTICATED"},
		{"/api/v1/prices/stream?symbols=DENY", http.StatusForbidden, "PERMISSION_DENIED"},
		{"/api/v1/prices/stream?symbols=QUOTA", http.StatusTooManyRequests, "RESOURCE_EXHAUSTED"},
		{"/api/v1/prices/stream?symbols=SLOW", http.StatusGatewayTimeout, "DEADLINE_EXCEEDED"},
		{"/api/v1/averages/stream?symbols=AAPL&window=x", http.StatusBadRequest, "INVALID_ARGUMENT"},
		{"/api/v1/averages/stream?symbols=AAPL&window=20000", http.StatusBadRequest, "INVALID_ARGUMENT"},
	} {
		r := e.do(t, http.MethodGet, c.path, nil, sse)
		wantError(t, r, c.status, c.code)
		switch c.status {
		case http.StatusUnauthorized:
			if r.header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s: no WWW-Authenticate", c.path)
			}
		case http.StatusTooManyRequests:
			if r.header.Get("Retry-After") != "7" || r.header.Get("RateLimit-Limit") != "60" {
				t.Errorf("%s: headers %v", c.path, r.header)
			}
		}
	}
	// A backend that cannot be reached, or is not deployed: 503.
	down := newEnv(t, func(o *Options) { o.APIAddr = closedAddr(t); o.ConsumerAddr = "" })
	r := down.do(t, http.MethodGet, "/api/v1/prices/stream?symbols=AAPL", nil, sse)
	wantError(t, r, http.StatusServiceUnavailable, "UNAVAILABLE")
	wantNoInternals(t, r, down.gw.backends[0].addr)
	wantError(t, down.do(t, http.MethodGet, "/api/v1/averages/stream?symbols=AAPL", nil, sse), http.StatusServiceUnavailable, "UNAVAILABLE")
	// A bad request id is refused before any backend call, as on every route.
	wantError(t, e.do(t, http.MethodGet, "/api/v1/prices/stream?symbols=AAPL", nil,
		map[string]string{"Accept": "text/event-stream", "X-Request-Id": strings.Repeat("x", 129)}), http.StatusBadRequest, "INVALID_ARGUMENT")
}

func TestEventStreamFailingLaterEndsWithAnErrorEvent(t *testing.T) {
	e := newEnv(t, nil)
	r := e.do(t, http.MethodGet, "/api/v1/prices/stream?symbols=AAPL&symbols=FAIL", nil, map[string]string{"Accept": "text/event-stream"})
	body := string(r.body)
	if r.status != http.StatusOK || !strings.Contains(body, "event: price\ndata: {\"symbol\":\"AAPL\"") ||
		!strings.HasSuffix(body, "event: error\ndata: {\"detail\":\"price feed lost\",\"code\":\"UNAVAILABLE\"}\n\n") {
		t.Errorf("status %d, body %q", r.status, body)
	}
	// A stream the backend ends cleanly ends without an error event.
	r = e.do(t, http.MethodGet, "/api/v1/prices/stream?symbols=AAPL&symbols=END", nil, map[string]string{"Accept": "text/event-stream"})
	if body := string(r.body); r.status != http.StatusOK || strings.Contains(body, "event: error") ||
		!strings.HasSuffix(body, "\"provider\":\"test\"}\n\n") {
		t.Errorf("clean end: status %d, body %q", r.status, body)
	}
}

func TestEventStreamAPIKey(t *testing.T) {
	e := newEnv(t, nil)
	key := func(path string, header map[string]string) []string {
		t.Helper()
		_, events := e.openEvents(t, path, header)
		events.nextEvent(t)
		md := e.api.lastStreamMetadata()
		return append(md.Get("x-api-key"), md.Get("authorization")...)
	}
	// EventSource cannot send headers: the key may come as a query parameter.
	if got := key("/api/v1/prices/stream?symbols=AAPL&api_key=mds_q", nil); strings.Join(got, ",") != "mds_q" {
		t.Errorf("api_key parameter forwarded as %v", got)
	}
	// Headers win: the parameter is then ignored.
	if got := key("/api/v1/prices/stream?symbols=AAPL&api_key=mds_q", map[string]string{"Authorization": "Bearer mds_h"}); strings.Join(got, ",") != "Bearer mds_h" {
		t.Errorf("with Authorization: forwarded %v", got)
	}
	if got := key("/api/v1/prices/stream?symbols=AAPL", map[string]string{"X-API-Key": "mds_x"}); strings.Join(got, ",") != "mds_x" {
		t.Errorf("X-API-Key forwarded as %v", got)
	}
	// The request id is forwarded as on every route.
	key("/api/v1/prices/stream?symbols=AAPL", map[string]string{"X-Request-Id": "sse-1"})
	if got := e.api.lastStreamMetadata().Get("x-request-id"); strings.Join(got, "") != "sse-1" {
		t.Errorf("x-request-id = %v", got)
	}
	// NDJSON streams take no key from the query.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.http.URL+"/api/v1/prices/stream?symbols=AAPL&api_key=mds_q", nil)
	resp, err := e.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	if got := e.api.lastStreamMetadata().Get("x-api-key"); len(got) != 0 {
		t.Errorf("NDJSON stream forwarded api_key as %v", got)
	}
}

func TestEventStreamEndsOnDrain(t *testing.T) {
	e := newEnv(t, nil)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- e.gw.serve(ctx, lis, nil, 30*time.Second, slog.New(slog.DiscardHandler)) }()

	req, _ := http.NewRequest(http.MethodGet, "http://"+lis.Addr().String()+"/api/v1/prices/stream?symbols=AAPL", nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	events := &sseReader{lines: bufio.NewScanner(resp.Body)}
	events.nextEvent(t)
	cancel()
	// The stream ends cleanly (no error event), the upstream call with it, and shutdown does
	// not wait its 30 s.
	rest, _ := io.ReadAll(resp.Body)
	if strings.Contains(string(rest), "event: error") {
		t.Errorf("drain sent %q", rest)
	}
	<-e.api.streamEnded
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("shutdown waited for the event stream")
	}
}

func TestWantsEventStream(t *testing.T) {
	for accept, want := range map[string]bool{
		"":                                    false,
		"*/*":                                 false,
		"application/x-ndjson":                false,
		"text/event-stream":                   true,
		"text/event-stream; charset=utf-8":    true,
		"application/json, text/event-stream": true,
		"text/event-stream;q=0":               false,
		"application/x-ndjson, text/event-stream;q=0.5": false,
		"application/x-ndjson;q=0.1, text/event-stream": true,
	} {
		if got := wantsEventStream(accept); got != want {
			t.Errorf("wantsEventStream(%q) = %v, want %v", accept, got, want)
		}
	}
}

// The dashboard is at / with its files under /dashboard/; the other routes are unchanged.
func TestDashboardRoutes(t *testing.T) {
	e := newEnv(t, nil)
	r := e.get(t, "/")
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "text/html; charset=utf-8" ||
		!strings.Contains(string(r.body), "/dashboard/app.js") || r.header.Get("Content-Security-Policy") == "" {
		t.Errorf("/: %d %v", r.status, r.header)
	}
	for _, path := range []string{"/dashboard/app.js", "/dashboard/app.css", "/dashboard/lightweight-charts.js", "/dashboard/lightweight-charts.LICENSE"} {
		if r := e.get(t, path); r.status != http.StatusOK || len(r.body) == 0 {
			t.Errorf("%s: %d", path, r.status)
		}
	}
	wantError(t, e.get(t, "/dashboard/nothing.js"), http.StatusNotFound, "NOT_FOUND")
	wantError(t, e.get(t, "/nothing"), http.StatusNotFound, "NOT_FOUND")
	wantError(t, e.postJSON(t, "/", `{}`), http.StatusMethodNotAllowed, "UNIMPLEMENTED")
	if r := e.get(t, "/docs"); r.status != http.StatusOK || !strings.Contains(string(r.body), "swagger-ui") {
		t.Errorf("/docs: %d", r.status)
	}
	if r := e.get(t, "/health"); r.status != http.StatusOK {
		t.Errorf("/health: %d", r.status)
	}
}
