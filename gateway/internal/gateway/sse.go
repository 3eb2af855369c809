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
	"github.com/grpc-ecosystem/grpc-gateway/v2/utilities"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	marketdatav1 "marketdata/gateway/gen/marketdata/v1"
)

// Server-Sent Events (text/event-stream) on the stream routes. A GET of /api/v1/prices/stream,
// /api/v1/averages/stream (or /api/v1/bars/stream) whose Accept header asks for
// text/event-stream, as a browser's EventSource does, gets the same gRPC stream as the NDJSON
// response, framed as events:
//
//	id: 1704207845000000
//	event: price
//	data: {"symbol":"AAPL","price":180.1,"timestamp":"2024-01-02T15:04:05Z","provider":"test"}
//
// data is the object an NDJSON line carries in "result"; id is the event's time in Unix
// microseconds (a price's timestamp, the newest price of an average, the start of a bar). A
// reconnecting EventSource sends the last id it saw as Last-Event-ID; see resumeFilter for what
// is then skipped. A comment line (": keep-alive") is sent every sseHeartbeat, and a stream that
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

// eventFeed is one stream route's event stream.
type eventFeed struct {
	event  string // the SSE event name
	method string // the gRPC method, for the metadata grpc-gateway forwards
	// open parses the query into the request message (as the generated handler does) and starts
	// the backend stream.
	open func(ctx context.Context, query map[string][]string) (eventStream, error)
	// id is the event's time in Unix microseconds.
	id func(proto.Message) int64
	// resumed reports whether an event is still to be sent to a client that had seen the event
	// with id last.
	resumed func(id, last int64) bool
}

// eventStream is a backend server stream whatever its message type.
type eventStream interface {
	Header() (metadata.MD, error)
	Trailer() metadata.MD
	next() (proto.Message, error)
}

type typedStream[T any, PT interface {
	*T
	proto.Message
}] struct {
	grpc.ServerStreamingClient[T]
}

func (s typedStream[T, PT]) next() (proto.Message, error) {
	m, err := s.Recv()
	if err != nil {
		return nil, err
	}
	return PT(m), nil
}

func openStream[T any, PT interface {
	*T
	proto.Message
}](s grpc.ServerStreamingClient[T], err error) (eventStream, error) {
	if err != nil {
		return nil, err
	}
	return typedStream[T, PT]{s}, nil
}

// populate fills a request message from the query string exactly as the generated handlers do
// (unknown parameters, api_key among them, are ignored).
func populate(msg proto.Message, query map[string][]string) error {
	if err := runtime.PopulateQueryParameters(msg, query, &utilities.DoubleArray{Encoding: map[string]int{}}); err != nil {
		return status.Errorf(codes.InvalidArgument, "%v", err)
	}
	return nil
}

func micros(ts *timestamppb.Timestamp) int64 {
	if ts == nil {
		return 0
	}
	return ts.GetSeconds()*1_000_000 + int64(ts.GetNanos())/1000
}

// resumeAfter: an event at or before the last one seen is not sent again (prices, averages).
func resumeAfter(id, last int64) bool { return id > last }

// resumeFromBucket: a bar that starts before the last one seen is closed and not sent again; the
// bar the client last saw may have taken prices since, and is sent.
func resumeFromBucket(id, last int64) bool { return id >= last }

func priceFeed(client marketdatav1.PriceServiceClient) eventFeed {
	return eventFeed{
		event:  "price",
		method: marketdatav1.PriceService_StreamPrices_FullMethodName,
		open: func(ctx context.Context, q map[string][]string) (eventStream, error) {
			req := &marketdatav1.StreamPricesRequest{}
			if err := populate(req, q); err != nil {
				return nil, err
			}
			return openStream[marketdatav1.Price](client.StreamPrices(ctx, req))
		},
		id:      func(m proto.Message) int64 { return micros(m.(*marketdatav1.Price).GetTimestamp()) },
		resumed: resumeAfter,
	}
}

func averageFeed(client marketdatav1.MovingAverageServiceClient) eventFeed {
	return eventFeed{
		event:  "average",
		method: marketdatav1.MovingAverageService_StreamMovingAverages_FullMethodName,
		open: func(ctx context.Context, q map[string][]string) (eventStream, error) {
			req := &marketdatav1.StreamMovingAveragesRequest{}
			if err := populate(req, q); err != nil {
				return nil, err
			}
			return openStream[marketdatav1.MovingAverage](client.StreamMovingAverages(ctx, req))
		},
		id:      func(m proto.Message) int64 { return micros(m.(*marketdatav1.MovingAverage).GetTimestamp()) },
		resumed: resumeAfter,
	}
}

func barFeed(client marketdatav1.BarServiceClient) eventFeed {
	return eventFeed{
		event:  "bar",
		method: marketdatav1.BarService_StreamBars_FullMethodName,
		open: func(ctx context.Context, q map[string][]string) (eventStream, error) {
			req := &marketdatav1.StreamBarsRequest{}
			if err := populate(req, q); err != nil {
				return nil, err
			}
			return openStream[marketdatav1.Bar](client.StreamBars(ctx, req))
		},
		id:      func(m proto.Message) int64 { return micros(m.(*marketdatav1.Bar).GetStartTime()) },
		resumed: resumeFromBucket,
	}
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
		pattern, ok := runtime.HTTPPattern(r.Context())
		if !ok {
			next(w, r, params)
			return
		}
		feed, ok := g.feeds[pattern.String()]
		if !ok {
			next(w, r, params)
			return
		}
		w.Header().Add("Vary", "Accept")
		if r.Method != http.MethodGet || !wantsEventStream(r.Header.Get("Accept")) {
			next(w, r, params)
			return
		}
		g.serveEvents(w, r, pattern.String(), feed)
	}
}

// serveEvents runs one event stream: the backend call is made as the generated handler makes it
// (same metadata, interceptors and errors), and a call refused before its first message answers
// like any other request, with the contract's status and JSON error body.
func (g *Gateway) serveEvents(w http.ResponseWriter, r *http.Request, route string, feed eventFeed) {
	query := r.URL.Query()
	if key := query.Get(sseAPIKeyParam); key != "" && r.Header.Get("Authorization") == "" && r.Header.Get("X-Api-Key") == "" {
		r.Header.Set("X-Api-Key", key)
	}
	ctx, err := runtime.AnnotateContext(r.Context(), g.mux, r, feed.method, runtime.WithHTTPPathPattern(route))
	if err != nil {
		handleError(r.Context(), g.mux, nil, w, r, err)
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var md runtime.ServerMetadata
	refuse := func(err error) {
		handleError(runtime.NewServerMetadataContext(ctx, md), g.mux, nil, w, r, err)
	}
	stream, err := feed.open(ctx, query)
	if err != nil {
		refuse(err)
		return
	}
	// The backend accepts a stream by sending its headers; it refuses one with trailers only
	// (no headers), and then the first read returns the error.
	md.HeaderMD, err = stream.Header()
	if err != nil {
		md.TrailerMD = stream.Trailer()
		refuse(err)
		return
	}
	var first proto.Message
	if len(md.HeaderMD) == 0 {
		if first, err = stream.next(); err != nil {
			md.TrailerMD = stream.Trailer()
			refuse(err)
			return
		}
	}

	last, resuming := lastEventID(r)
	h := w.Header()
	h.Set("Content-Type", eventStreamContentType)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: pass events on at once
	w.WriteHeader(http.StatusOK)
	out := &eventWriter{w: w, rc: http.NewResponseController(w)}
	out.printf("retry: %d\n\n", sseRetryMillis)

	marshaler := newMarshaler()
	send := func(m proto.Message) error {
		id := feed.id(m)
		if resuming && !feed.resumed(id, last) {
			return nil
		}
		data, err := marshaler.Marshal(m)
		if err != nil {
			return err
		}
		out.printf("id: %d\nevent: %s\ndata: %s\n\n", id, feed.event, data)
		return out.err
	}
	if first != nil {
		if err := send(first); err != nil {
			return
		}
	}

	// One goroutine reads the backend; this one writes, so writes never interleave.
	type result struct {
		msg proto.Message
		err error
	}
	results := make(chan result)
	go func() {
		for {
			m, err := stream.next()
			select {
			case results <- result{m, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	heartbeat := time.NewTicker(sseHeartbeat)
	defer heartbeat.Stop()
	for {
		select {
		case <-ctx.Done(): // the client went, or the gateway is draining
			return
		case <-heartbeat.C:
			out.printf(": keep-alive\n\n")
		case res := <-results:
			if res.err != nil {
				g.endEvents(ctx, out, res.err)
				return
			}
			if send(res.msg) != nil {
				return
			}
		}
		if out.err != nil {
			return
		}
	}
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
