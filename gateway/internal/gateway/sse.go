package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Server-Sent Events (text/event-stream) on the stream routes (streams, in streams.go). A GET of
// /api/v1/prices/stream, /api/v1/averages/stream or /api/v1/bars/stream whose Accept header asks
// for text/event-stream, as a browser's EventSource does, gets the same gRPC stream as the NDJSON
// response, framed as events:
//
//	id: 1704207845000000
//	event: price
//	data: {"symbol":"AAPL","price":180.1,"timestamp":"2024-01-02T15:04:05Z","provider":"test"}
//
// data is the object an NDJSON line carries in "result"; id is the event's time in Unix
// microseconds (a price's timestamp, the newest price of an average, the start of a bar). A
// reconnecting EventSource sends the last id it saw as Last-Event-ID; the route's resumed rule
// (resumeAfter, resumeFromBucket) says what is then skipped. A comment line (": keep-alive") is sent every sseHeartbeat, and a stream that
// fails after it started ends with an `event: error` whose data is {"detail","code"}.
//
// The same URL serves both formats (content negotiation) so that every stream has one address,
// one set of parameters and one entry in the OpenAPI document; both responses say Vary: Accept.

// sseHeartbeat is how often a quiet event stream gets a comment line, so that proxies and load
// balancers that cut idle connections (often after 30-60 s) leave it open. Tests lower it.
var sseHeartbeat = 15 * time.Second

// sseRetryMillis is the reconnection delay the stream asks EventSource to use (its `retry:`).
const sseRetryMillis = 2000

// sseAPIKeyParam is the query parameter that may carry the API key of an event stream, because
// EventSource cannot send headers. It is read only when the request has neither Authorization
// nor X-API-Key, and only on event streams.
const sseAPIKeyParam = "api_key"

const eventStreamContentType = "text/event-stream"

// eventFeed is a stream route bound to the connection of its service.
type eventFeed struct {
	streamRoute
	cc grpc.ClientConnInterface
}

// wantsEventStream reports whether the Accept header prefers text/event-stream to the NDJSON
// the route sends by default.
func wantsEventStream(accept string) bool {
	sse, ndjson := -1.0, -1.0
	for _, part := range strings.Split(accept, ",") {
		mediaType, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		switch mediaType {
		case eventStreamContentType:
			sse = max(sse, q)
		case streamContentType:
			ndjson = max(ndjson, q)
		}
	}
	return sse > 0 && sse >= ndjson
}

// serveEventStreams is a grpc-gateway middleware (innermost, after endStreamsOnDrain): on a
// stream route a request that asks for text/event-stream is served here, every other request by
// the generated handler.
func (g *Gateway) serveEventStreams(next runtime.HandlerFunc) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
		feed, ok := g.feedOf(r)
		if !ok {
			next(w, r, params)
			return
		}
		w.Header().Add("Vary", "Accept")
		if r.Method != http.MethodGet || !wantsEventStream(r.Header.Get("Accept")) {
			next(w, r, params)
			return
		}
		g.serveEvents(w, r, feed)
	}
}

// feedOf is the stream of the route r was routed to, if that is a stream route.
func (g *Gateway) feedOf(r *http.Request) (eventFeed, bool) {
	pattern, ok := runtime.HTTPPattern(r.Context())
	if !ok {
		return eventFeed{}, false
	}
	feed, ok := g.feeds[pattern.String()]
	return feed, ok
}

// serveEvents runs one event stream: the backend call is made as the generated handler makes it
// (same metadata, interceptors and errors), and a call refused before its first message answers
// like any other request, with the contract's status and JSON error body.
func (g *Gateway) serveEvents(w http.ResponseWriter, r *http.Request, feed eventFeed) {
	apiKeyFromQuery(r)
	ctx, err := runtime.AnnotateContext(r.Context(), g.mux, r, feed.method, runtime.WithHTTPPathPattern(feed.route))
	if err != nil {
		handleError(r.Context(), g.mux, nil, w, r, err)
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	stream, first, ok := g.startEvents(ctx, w, r, feed)
	if !ok {
		return
	}
	send := newEventSender(w, r, feed)
	if first != nil && send.send(*first) != nil {
		return
	}
	g.relayEvents(ctx, stream, send)
}

// apiKeyFromQuery takes the API key from the api_key parameter when the request has neither
// Authorization nor X-API-Key (EventSource cannot send headers).
func apiKeyFromQuery(r *http.Request) {
	if key := r.URL.Query().Get(sseAPIKeyParam); key != "" && r.Header.Get("Authorization") == "" && r.Header.Get("X-Api-Key") == "" {
		r.Header.Set("X-Api-Key", key)
	}
}

// startEvents makes the backend call and waits until the backend accepts it (sends its headers)
// or sends a first message, which it returns. A refusal is answered here, like any call's
// error (with the backend's metadata: rate limit headers), and ok is false.
func (g *Gateway) startEvents(ctx context.Context, w http.ResponseWriter, r *http.Request, feed eventFeed) (stream eventStream, first *streamed, ok bool) {
	var md runtime.ServerMetadata
	refuse := func(err error) (eventStream, *streamed, bool) {
		handleError(runtime.NewServerMetadataContext(ctx, md), g.mux, nil, w, r, err)
		return nil, nil, false
	}
	stream, err := feed.open(ctx, feed.cc, r.URL.Query())
	if err != nil {
		return refuse(err)
	}
	// The backend accepts a stream by sending its headers; it refuses one with trailers only
	// (no headers), and then the first read returns the error.
	if md.HeaderMD, err = stream.Header(); err != nil {
		md.TrailerMD = stream.Trailer()
		return refuse(err)
	}
	if len(md.HeaderMD) > 0 {
		return stream, nil, true
	}
	m, err := stream.next()
	if err != nil {
		md.TrailerMD = stream.Trailer()
		return refuse(err)
	}
	return stream, &m, true
}

// relayEvents sends what the backend streams, and a comment while it is quiet, until the client
// goes, the gateway drains or the backend ends the stream.
func (g *Gateway) relayEvents(ctx context.Context, stream eventStream, send *eventSender) {
	received := receive(ctx, stream)
	heartbeat := time.NewTicker(sseHeartbeat)
	defer heartbeat.Stop()
	for {
		select {
		case <-ctx.Done(): // the client went, or the gateway is draining
			return
		case <-heartbeat.C:
			send.out.printf(": keep-alive\n\n")
		case res := <-received:
			if res.err != nil {
				g.endEvents(ctx, send.out, res.err)
				return
			}
			if send.send(res.msg) != nil {
				return
			}
		}
		if send.out.err != nil {
			return
		}
	}
}

// received is one read of a backend stream.
type received struct {
	msg streamed
	err error
}

// receive reads the backend stream in a goroutine of its own, until it fails or ends or ctx is
// done; the caller alone writes, so writes never interleave.
func receive(ctx context.Context, stream eventStream) <-chan received {
	results := make(chan received)
	go func() {
		for {
			m, err := stream.next()
			select {
			case results <- received{m, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return results
}

// eventSender frames a stream's messages as events, skipping those a resuming client has seen.
type eventSender struct {
	out       *eventWriter
	event     string
	marshaler *streamMarshaler
	// resume: the client sent the id of the last event it saw (last); resumed is the route's rule.
	resume  bool
	last    int64
	resumed func(id, last int64) bool
}

// newEventSender starts the event stream response: its headers and the reconnection delay.
func newEventSender(w http.ResponseWriter, r *http.Request, feed eventFeed) *eventSender {
	last, resume := lastEventID(r)
	h := w.Header()
	h.Set("Content-Type", eventStreamContentType)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: pass events on at once
	w.WriteHeader(http.StatusOK)
	out := &eventWriter{w: w, rc: http.NewResponseController(w)}
	out.printf("retry: %d\n\n", sseRetryMillis)
	return &eventSender{out: out, event: feed.event, marshaler: newMarshaler(), resume: resume, last: last, resumed: feed.resumed}
}

func (s *eventSender) send(m streamed) error {
	if s.resume && !s.resumed(m.id, s.last) {
		return nil
	}
	data, err := s.marshaler.Marshal(m.msg)
	if err != nil {
		return err
	}
	s.out.printf("id: %d\nevent: %s\ndata: %s\n\n", m.id, s.event, data)
	return s.out.err
}

// endEvents ends a stream the backend closed: a clean end sends nothing more; a failure is the
// last event, with the error body of the contract. Its message is as public as any other error's.
func (g *Gateway) endEvents(ctx context.Context, out *eventWriter, err error) {
	if errors.Is(err, io.EOF) {
		return
	}
	st := status.Convert(err)
	if st.Code() == codes.OK || st.Code() == codes.Canceled || ctx.Err() != nil {
		return
	}
	st = publicStatus(ctx, st)
	data, _ := json.Marshal(errorBody{Detail: st.Message(), Code: codeName(st.Code())})
	out.printf("event: error\ndata: %s\n\n", data)
}

// lastEventID is the Last-Event-ID header a reconnecting EventSource sends, when it is an id of
// ours; anything else starts the stream afresh.
func lastEventID(r *http.Request) (int64, bool) {
	v := strings.TrimSpace(r.Header.Get("Last-Event-ID"))
	if v == "" {
		return 0, false
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 0 {
		return 0, false
	}
	return id, true
}

// eventWriter writes and flushes one event at a time and keeps the first error.
type eventWriter struct {
	w   http.ResponseWriter
	rc  *http.ResponseController
	err error
}

func (e *eventWriter) printf(format string, args ...any) {
	if e.err != nil {
		return
	}
	if _, e.err = fmt.Fprintf(e.w, format, args...); e.err == nil {
		e.err = e.rc.Flush()
	}
}
