package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sseMessage is one event of a text/event-stream response.
type sseMessage struct {
	id, event string
	data      map[string]any
}

// openSSE opens a stream route as a browser's EventSource does (Accept: text/event-stream) and
// returns its events on a channel that closes when the stream ends.
func openSSE(ctx context.Context, t *testing.T, path string, header map[string]string) (*http.Response, <-chan sseMessage) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", shared.restURL+path, nil)
	req.Header.Set("Accept", "text/event-stream")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	events := make(chan sseMessage, 64)
	go readSSE(resp.Body, events)
	return resp, events
}

func readSSE(body io.Reader, out chan<- sseMessage) {
	defer close(out)
	lines := bufio.NewScanner(body)
	var ev sseMessage
	for lines.Scan() {
		line := lines.Text()
		if line == "" {
			if ev.event != "" {
				out <- ev
			}
			ev = sseMessage{}
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
			_ = json.Unmarshal([]byte(value), &ev.data)
		}
	}
}

// nextSSE returns the next event, failing the test after timeout.
func nextSSE(t *testing.T, events <-chan sseMessage, timeout time.Duration) sseMessage {
	t.Helper()
	select {
	case ev, ok := <-events:
		if !ok {
			t.Fatal("the event stream ended")
		}
		return ev
	case <-time.After(timeout):
		t.Fatalf("no event within %v", timeout)
	}
	return sseMessage{}
}

// microsID is what the gateway makes an event's id of: an RFC 3339 time in Unix microseconds.
func microsID(t *testing.T, ts any) string {
	t.Helper()
	s, _ := ts.(string)
	parsed, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("timestamp %v: %v", ts, err)
	}
	return strconv.FormatInt(parsed.UnixMicro(), 10)
}

// Prices, averages and bars reach event-stream clients of the real services while a job polls;
// a reconnect with Last-Event-ID gets only newer prices; refusals keep their status.
func TestSSEStreamsWhileAJobPolls(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	prices, priceEvents := openSSE(ctx, t, "/api/v1/prices/stream?symbols=SSE1,SSE2", nil)
	_, averageEvents := openSSE(ctx, t, "/api/v1/averages/stream?symbols=sse1", nil)
	_, barEvents := openSSE(ctx, t, "/api/v1/bars/stream?symbols=SSE1,SSE2&interval=1m", nil)
	if prices.StatusCode != 200 || prices.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("prices: %d %s", prices.StatusCode, prices.Header.Get("Content-Type"))
	}

	id := createJob(t, shared.restURL, []string{"SSE1", "SSE2"}, 1)
	defer send(t, shared.restURL, "DELETE", "/api/v1/prices/poll/"+id, "")

	last := map[string]int64{}
	var lastID string
	for range 4 {
		ev := nextSSE(t, priceEvents, 20*time.Second)
		sym, _ := ev.data["symbol"].(string)
		if ev.event != "price" || (sym != "SSE1" && sym != "SSE2") || ev.data["provider"] != "test" {
			t.Errorf("price event %+v", ev)
		}
		if want := microsID(t, ev.data["timestamp"]); ev.id != want {
			t.Errorf("price id %s, want its timestamp %s", ev.id, want)
		}
		n, _ := strconv.ParseInt(ev.id, 10, 64)
		if n <= last[sym] {
			t.Errorf("%s: id %d after %d", sym, n, last[sym])
		}
		last[sym], lastID = n, ev.id
	}
	for range 2 {
		ev := nextSSE(t, averageEvents, 30*time.Second)
		if ev.event != "average" || ev.data["symbol"] != "SSE1" || ev.id != microsID(t, ev.data["timestamp"]) {
			t.Errorf("average event %+v", ev)
		}
	}
	ev := nextSSE(t, barEvents, 30*time.Second)
	if ev.event != "bar" || ev.data["interval"] != "1m" || ev.id != microsID(t, ev.data["start_time"]) ||
		(ev.data["symbol"] != "SSE1" && ev.data["symbol"] != "SSE2") {
		t.Errorf("bar event %+v", ev)
	}

	// What a reconnecting EventSource does: the last id it saw comes back as Last-Event-ID.
	_, resumed := openSSE(ctx, t, "/api/v1/prices/stream?symbols=SSE1,SSE2", map[string]string{"Last-Event-ID": lastID})
	after, _ := strconv.ParseInt(lastID, 10, 64)
	for range 2 {
		ev := nextSSE(t, resumed, 20*time.Second)
		if n, _ := strconv.ParseInt(ev.id, 10, 64); n <= after {
			t.Errorf("resumed after %d, got %d", after, n)
		}
	}

	// Refused before it starts: the usual status and JSON error, not an event stream.
	req, _ := http.NewRequestWithContext(ctx, "GET", shared.restURL+"/api/v1/prices/stream?symbols=bad%20symbol", nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || resp.Header.Get("Content-Type") != "application/json" || !strings.Contains(string(body), `"code":"INVALID_ARGUMENT"`) {
		t.Errorf("bad symbol: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}
