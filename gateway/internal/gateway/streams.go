package gateway

import (
	"context"
	"net/url"
	"slices"

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

// streamRoute is one server-streaming route of the API. Each is declared once, in streams, and
// everything the gateway does with streams reads it from there:
//   - NDJSON (the generated handler): the response starts as soon as the backend accepts the
//     call, before the first message (setResponseStatus, by method);
//   - Server-Sent Events for a request that prefers text/event-stream (serveEventStreams, sse.go,
//     by route);
//   - open streams end when the gateway drains (endStreamsOnDrain, by route);
//   - while the backend of its service is not deployed it answers 503, as every route of the
//     service does (the service's notDeployedConn, bound in New).
//
// Adding a stream: its rpc and http rule in proto/marketdata/v1 (then gateway/generate.sh), its
// service in services if the service is new, and one entry here.
type streamRoute struct {
	route  string // the HTTP path pattern of its http rule
	method string // the gRPC method's full name; its service (in services) names the backend
	event  string // the SSE event name
	// open starts the call on cc, with the request message parsed from the query as the
	// generated handler parses it; see streamOf.
	open func(ctx context.Context, cc grpc.ClientConnInterface, query url.Values) (eventStream, error)
	// resumed reports whether an event with id is still to be sent to a client that had seen
	// the event with id last (a reconnecting EventSource's Last-Event-ID).
	resumed func(id, last int64) bool
}

var streams = []streamRoute{
	{
		route:  "/api/v1/prices/stream",
		method: marketdatav1.PriceService_StreamPrices_FullMethodName,
		event:  "price",
		open: streamOf(marketdatav1.NewPriceServiceClient, marketdatav1.PriceServiceClient.StreamPrices,
			(*marketdatav1.Price).GetTimestamp),
		resumed: resumeAfter,
	},
	{
		route:  "/api/v1/averages/stream",
		method: marketdatav1.MovingAverageService_StreamMovingAverages_FullMethodName,
		event:  "average",
		open: streamOf(marketdatav1.NewMovingAverageServiceClient, marketdatav1.MovingAverageServiceClient.StreamMovingAverages,
			(*marketdatav1.MovingAverage).GetTimestamp),
		resumed: resumeAfter,
	},
	{
		route:  "/api/v1/bars/stream",
		method: marketdatav1.BarService_StreamBars_FullMethodName,
		event:  "bar",
		open: streamOf(marketdatav1.NewBarServiceClient, marketdatav1.BarServiceClient.StreamBars,
			(*marketdatav1.Bar).GetStartTime),
		resumed: resumeFromBucket,
	},
}

// isStreamMethod reports whether method is that of a stream route.
func isStreamMethod(method string) bool {
	return slices.ContainsFunc(streams, func(s streamRoute) bool { return s.method == method })
}

// resumeAfter: an event at or before the last one seen is not sent again (prices, averages).
func resumeAfter(id, last int64) bool { return id > last }

// resumeFromBucket: a bar that starts before the last one seen is closed and not sent again; the
// bar the client last saw may have taken prices since, and is sent.
func resumeFromBucket(id, last int64) bool { return id >= last }

// streamOf makes a streamRoute's open from the generated client's constructor, its streaming
// method (as a method expression, e.g. marketdatav1.PriceServiceClient.StreamPrices) and the
// getter of the time that is an event's id; the types tie the three together.
func streamOf[C any, Req any, PReq interface {
	*Req
	proto.Message
}, Msg any, PMsg interface {
	*Msg
	proto.Message
}](
	newClient func(grpc.ClientConnInterface) C,
	call func(C, context.Context, PReq, ...grpc.CallOption) (grpc.ServerStreamingClient[Msg], error),
	eventTime func(PMsg) *timestamppb.Timestamp,
) func(context.Context, grpc.ClientConnInterface, url.Values) (eventStream, error) {
	return func(ctx context.Context, cc grpc.ClientConnInterface, query url.Values) (eventStream, error) {
		req := PReq(new(Req))
		if err := populate(req, query); err != nil {
			return nil, err
		}
		s, err := call(newClient(cc), ctx, req)
		if err != nil {
			return nil, err
		}
		return typedStream[Msg, PMsg]{s, eventTime}, nil
	}
}

// eventStream is a backend server stream whatever its message type.
type eventStream interface {
	Header() (metadata.MD, error)
	Trailer() metadata.MD
	next() (streamed, error)
}

// streamed is a message of a stream and its event id: its time in Unix microseconds.
type streamed struct {
	msg proto.Message
	id  int64
}

type typedStream[T any, PT interface {
	*T
	proto.Message
}] struct {
	grpc.ServerStreamingClient[T]
	eventTime func(PT) *timestamppb.Timestamp
}

func (s typedStream[T, PT]) next() (streamed, error) {
	m, err := s.Recv()
	if err != nil {
		return streamed{}, err
	}
	return streamed{msg: PT(m), id: micros(s.eventTime(m))}, nil
}

// populate fills a request message from the query string exactly as the generated handlers do
// (unknown parameters, api_key among them, are ignored).
func populate(msg proto.Message, query url.Values) error {
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
