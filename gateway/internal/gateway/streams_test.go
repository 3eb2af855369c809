package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// The query every fake backend streams one message for, and then holds the stream open; and
// the one for which it accepts the call and sends nothing.
const (
	streamTestQuery  = "?symbols=AAPL"
	quietStreamQuery = "?symbols=QUIET"
)

// TestEveryStreamHasAllItsRoutes requests, for each entry of streams, everything the entry
// stands for: NDJSON (started before the first message), Server-Sent Events, the end of both on
// drain, and 503 while its backend is away (not deployed, or unreachable for mds-api, which is
// always deployed).
func TestEveryStreamHasAllItsRoutes(t *testing.T) {
	routes := map[string]bool{}
	for _, s := range streams {
		t.Run(strings.TrimPrefix(s.route, "/api/v1/"), func(t *testing.T) {
			if routes[s.route] {
				t.Fatalf("%s is declared twice", s.route)
			}
			routes[s.route] = true
			svc := wantStreamingMethod(t, s)
			t.Run("ndjson", func(t *testing.T) { wantNDJSONStream(t, newEnv(t, nil), s) })
			t.Run("ndjson starts at once", func(t *testing.T) { wantStreamStartsAtOnce(t, newEnv(t, nil), s) })
			t.Run("sse", func(t *testing.T) { wantEventStream(t, newEnv(t, nil), s) })
			t.Run("drain", func(t *testing.T) {
				for _, accept := range []string{"", eventStreamContentType} {
					wantStreamEndsOnDrain(t, newEnv(t, nil), s, accept)
				}
			})
			t.Run("unavailable", func(t *testing.T) { wantStreamUnavailable(t, s, svc) })
		})
	}
}

// wantStreamingMethod checks that the entry's method is a server-streaming rpc of a service in
// services, and returns the service.
func wantStreamingMethod(t *testing.T, s streamRoute) service {
	t.Helper()
	name := strings.Replace(strings.TrimPrefix(s.method, "/"), "/", ".", 1)
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
	if err != nil {
		t.Fatalf("method %s: %v", s.method, err)
	}
	if m, ok := d.(protoreflect.MethodDescriptor); !ok || !m.IsStreamingServer() || m.IsStreamingClient() {
		t.Errorf("method %s is not a server-streaming rpc", s.method)
	}
	i := slices.IndexFunc(services, func(svc service) bool { return svc.name == serviceOf(s.method) })
	if i < 0 {
		t.Fatalf("the service of %s is not in services", s.method)
	}
	return services[i]
}

// streamRequest starts a GET of the stream route with query; accept may be empty. The request
// ends with the test, or after 5 s.
func (e *env) streamRequest(t *testing.T, s streamRoute, query, accept string) *http.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.http.URL+s.route+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := e.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func wantNDJSONStream(t *testing.T, e *env, s streamRoute) {
	resp := e.streamRequest(t, s, streamTestQuery, "")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != streamContentType ||
		resp.Header.Get("Vary") != "Accept" {
		t.Fatalf("status %d, headers %v", resp.StatusCode, resp.Header)
	}
	line, err := bufio.NewReader(resp.Body).ReadBytes('\n')
	if err != nil {
		t.Fatalf("no first line: %v", err)
	}
	var m struct {
		Result map[string]any `json:"result"`
	}
	if err := json.Unmarshal(line, &m); err != nil || m.Result["symbol"] != "AAPL" {
		t.Errorf("first line %s (%v)", line, err)
	}
}

// wantStreamStartsAtOnce: the backend accepts the call and sends nothing; the response must
// start anyway (setResponseStatus knows the method as a stream's).
func wantStreamStartsAtOnce(t *testing.T, e *env, s streamRoute) {
	resp := e.streamRequest(t, s, quietStreamQuery, "")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != streamContentType {
		t.Errorf("status %d, headers %v", resp.StatusCode, resp.Header)
	}
}

func wantEventStream(t *testing.T, e *env, s streamRoute) {
	resp := e.streamRequest(t, s, streamTestQuery, eventStreamContentType)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != eventStreamContentType ||
		resp.Header.Get("Vary") != "Accept" {
		t.Fatalf("status %d, headers %v", resp.StatusCode, resp.Header)
	}
	ev := (&sseReader{lines: bufio.NewScanner(resp.Body)}).nextEvent(t)
	var data map[string]any
	if err := json.Unmarshal([]byte(ev.data), &data); err != nil || ev.event != s.event || ev.id == "" || data["symbol"] != "AAPL" {
		t.Errorf("event %q id %q data %s (%v), want a %s", ev.event, ev.id, ev.data, err, s.event)
	}
}

// wantStreamEndsOnDrain: the fakes hold a stream open after its messages, so only the drain
// can end it.
func wantStreamEndsOnDrain(t *testing.T, e *env, s streamRoute, accept string) {
	t.Helper()
	resp := e.streamRequest(t, s, streamTestQuery, accept)
	body := bufio.NewReader(resp.Body)
	if _, err := body.ReadBytes('\n'); resp.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("Accept %q: status %d, %v", accept, resp.StatusCode, err)
	}
	e.gw.EndStreams()
	ended := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, body)
		ended <- err
	}()
	select {
	case err := <-ended:
		if err != nil {
			t.Errorf("Accept %q: the stream broke off instead of ending: %v", accept, err)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("Accept %q: the stream did not end on drain", accept)
	}
}

func wantStreamUnavailable(t *testing.T, s streamRoute, svc service) {
	t.Helper()
	detail := "the price service is unavailable; retry later"
	away := func(o *Options) { o.APIAddr = closedAddr(t) }
	if svc.backend == mdsConsumer {
		detail = svc.what + " are not available: mds-consumer is not deployed (MDS_CONSUMER_ADDR is empty)"
		away = func(o *Options) { o.ConsumerAddr = "" }
	}
	e := newEnv(t, away)
	for _, accept := range []string{"", eventStreamContentType} {
		r := e.do(t, http.MethodGet, s.route+streamTestQuery, nil, map[string]string{"Accept": accept})
		if m := wantError(t, r, http.StatusServiceUnavailable, "UNAVAILABLE"); m["detail"] != detail {
			t.Errorf("Accept %q: detail %v, want %q", accept, m["detail"], detail)
		}
	}
}
