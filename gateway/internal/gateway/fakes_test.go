package gateway

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	marketdatav1 "marketdata/gateway/gen/marketdata/v1"
)

// fakeTime is the timestamp every fake price carries.
var fakeTime = time.Date(2024, 1, 2, 15, 4, 5, 0, time.UTC)

// fakeAPI plays mds-api: PriceService and PollingService. The symbol of GetLatestPrice picks the
// answer, so tests need no shared set-up.
type fakeAPI struct {
	marketdatav1.UnimplementedPriceServiceServer
	marketdatav1.UnimplementedPollingServiceServer

	mu         sync.Mutex
	lastCreate *marketdatav1.CreatePollingJobRequest
	// What the last GetLatestPrice call came with, and how many there were.
	latestCalls   int
	lastRequestID []string      // x-request-id metadata
	lastMetadata  metadata.MD   // all of it
	lastDeadline  time.Duration // time left when it arrived; 0: no deadline
	// Whether the last StreamPrices call had a deadline, and its metadata.
	streamHadDeadline bool
	streamMetadata    metadata.MD

	// StreamPrices sends its messages, then waits for the client to go and closes streamEnded.
	streamEnded chan struct{}
	endOnce     sync.Once
	// A GetLatestPrice for "HOLD" closes holdArrived and waits for holdRelease.
	holdArrived chan struct{}
	holdRelease chan struct{}
}

func newFakeAPI() *fakeAPI {
	return &fakeAPI{
		streamEnded: make(chan struct{}),
		holdArrived: make(chan struct{}),
		holdRelease: make(chan struct{}),
	}
}

func (f *fakeAPI) GetLatestPrice(ctx context.Context, req *marketdatav1.GetLatestPriceRequest) (*marketdatav1.Price, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	f.mu.Lock()
	f.latestCalls++
	f.lastMetadata = md
	f.lastRequestID = md.Get("x-request-id")
	f.lastDeadline = 0
	if deadline, ok := ctx.Deadline(); ok {
		f.lastDeadline = time.Until(deadline)
	}
	f.mu.Unlock()
	switch req.GetSymbol() {
	case "":
		_ = grpc.SetTrailer(ctx, metadata.Pairs(errorReasonKey, reasonMissingField))
		return nil, status.Error(codes.InvalidArgument, "symbol is required")
	case "BAD!":
		return nil, status.Error(codes.InvalidArgument, "invalid symbol \"BAD!\"")
	case "NOPE":
		return nil, status.Error(codes.NotFound, "symbol NOPE not found at provider test")
	case "LIMIT":
		return nil, status.Error(codes.ResourceExhausted, "provider alpha_vantage rate limit reached")
	case "QUOTA": // a key over its requests a minute, with the retry advice the services send
		_ = grpc.SetTrailer(ctx, metadata.Pairs("retry-after", "7", "ratelimit-limit", "60",
			"ratelimit-remaining", "0", "ratelimit-reset", "7"))
		return nil, status.Error(codes.ResourceExhausted, "API key k used its 60 requests a minute")
	case "DOWN":
		return nil, status.Error(codes.Unavailable, "provider finnhub is unreachable")
	case "SLOW": // a DEADLINE_EXCEEDED of the backend's own, e.g. a database statement timeout
		return nil, status.Error(codes.DeadlineExceeded, "database too slow: reading prices")
	case "DBDOWN":
		return nil, status.Error(codes.Unavailable, "database unavailable: saving prices")
	case "OOPS":
		return nil, status.Error(codes.Internal, "database error: connection to 10.1.2.3:5432 lost")
	case "BROKEN": // a plain error: grpc-go sends UNKNOWN with its text
		return nil, errors.New("store returned nothing for 10.1.2.3")
	case "STALL": // answers only after the caller's deadline, when nobody listens any more
		<-ctx.Done()
		time.Sleep(50 * time.Millisecond)
		return nil, status.Error(codes.DeadlineExceeded, "too late")
	case "HOLD":
		close(f.holdArrived)
		<-f.holdRelease
	}
	return &marketdatav1.Price{
		Symbol:    req.GetSymbol(),
		Price:     180.25,
		Timestamp: timestamppb.New(fakeTime),
		Provider:  req.GetProvider(),
	}, nil
}

func (f *fakeAPI) StreamPrices(req *marketdatav1.StreamPricesRequest, stream grpc.ServerStreamingServer[marketdatav1.Price]) error {
	_, hasDeadline := stream.Context().Deadline()
	md, _ := metadata.FromIncomingContext(stream.Context())
	f.mu.Lock()
	f.streamHadDeadline = hasDeadline
	f.streamMetadata = md
	f.mu.Unlock()
	for i, sym := range req.GetSymbols() {
		switch sym {
		case "BAD!":
			return status.Error(codes.InvalidArgument, "invalid symbol \"BAD!\"")
		case "UNAUTH":
			return status.Error(codes.Unauthenticated, "an API key is required")
		case "DENY":
			return status.Error(codes.PermissionDenied, "the API key lacks the read scope")
		case "QUOTA":
			stream.SetTrailer(metadata.Pairs("retry-after", "7", "ratelimit-limit", "60",
				"ratelimit-remaining", "0", "ratelimit-reset", "7"))
			return status.Error(codes.ResourceExhausted, "API key k used its 60 requests a minute")
		case "SEQ": // three prices a second apart
			for s := 1; s <= 3; s++ {
				p := &marketdatav1.Price{Symbol: sym, Price: float64(s), Timestamp: timestamppb.New(fakeTime.Add(time.Duration(s) * time.Second)), Provider: "test"}
				if err := stream.Send(p); err != nil {
					return err
				}
			}
			continue
		case "END": // the backend ends the stream cleanly
			return nil
		case "SLOW":
			return status.Error(codes.DeadlineExceeded, "provider timed out")
		case "FAIL":
			return status.Error(codes.Unavailable, "price feed lost")
		case "QUIET": // accepted, but no price yet
			if err := stream.SendHeader(metadata.MD{}); err != nil {
				return err
			}
			continue
		}
		p := &marketdatav1.Price{Symbol: sym, Price: 100 + float64(i), Timestamp: timestamppb.New(fakeTime), Provider: "test"}
		if err := stream.Send(p); err != nil {
			return err
		}
	}
	<-stream.Context().Done()
	f.endOnce.Do(func() { close(f.streamEnded) })
	return stream.Context().Err()
}

func (f *fakeAPI) lastStreamMetadata() metadata.MD {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.streamMetadata
}

func (f *fakeAPI) CreatePollingJob(_ context.Context, req *marketdatav1.CreatePollingJobRequest) (*marketdatav1.PollingJob, error) {
	f.mu.Lock()
	f.lastCreate = req
	f.mu.Unlock()
	if len(req.GetSymbols()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "symbols must not be empty")
	}
	return &marketdatav1.PollingJob{
		JobId:     "poll_0123abcd",
		Status:    "accepted",
		Config:    &marketdatav1.PollingConfig{Symbols: req.GetSymbols(), Interval: req.GetInterval(), Provider: req.GetProvider()},
		CreatedAt: timestamppb.New(fakeTime),
	}, nil
}

// latestCall is what the last GetLatestPrice call came with.
type latestCall struct {
	calls     int
	requestID []string
	metadata  metadata.MD
	deadline  time.Duration
}

func (f *fakeAPI) lastLatest() latestCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return latestCall{calls: f.latestCalls, requestID: f.lastRequestID, metadata: f.lastMetadata, deadline: f.lastDeadline}
}

func (f *fakeAPI) streamDeadline() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.streamHadDeadline
}

func (f *fakeAPI) created() *marketdatav1.CreatePollingJobRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastCreate
}

func (f *fakeAPI) GetPollingJob(_ context.Context, req *marketdatav1.GetPollingJobRequest) (*marketdatav1.PollingJob, error) {
	if req.GetJobId() != "poll_0123abcd" {
		return nil, status.Errorf(codes.NotFound, "polling job %s not found", req.GetJobId())
	}
	return &marketdatav1.PollingJob{JobId: req.GetJobId(), Status: "running",
		Config: &marketdatav1.PollingConfig{Symbols: []string{"AAPL"}, Interval: 60, Provider: "test"}}, nil
}

func (f *fakeAPI) DeletePollingJob(_ context.Context, req *marketdatav1.DeletePollingJobRequest) (*marketdatav1.DeletePollingJobResponse, error) {
	if req.GetJobId() != "poll_0123abcd" {
		return nil, status.Errorf(codes.NotFound, "polling job %s not found", req.GetJobId())
	}
	return &marketdatav1.DeletePollingJobResponse{
		JobId:   req.GetJobId(),
		Status:  "stopped",
		Config:  &marketdatav1.PollingConfig{Symbols: []string{"AAPL"}, Interval: 60, Provider: "test"},
		Message: fmt.Sprintf("Polling job %s stopped", req.GetJobId()),
	}, nil
}

// fakeConsumer plays mds-consumer: MovingAverageService.
type fakeConsumer struct {
	marketdatav1.UnimplementedMovingAverageServiceServer
}

func (fakeConsumer) GetLatestMovingAverage(_ context.Context, req *marketdatav1.GetLatestMovingAverageRequest) (*marketdatav1.MovingAverage, error) {
	return &marketdatav1.MovingAverage{Symbol: req.GetSymbol(), Window: req.GetWindow(), Value: 181.5, Timestamp: timestamppb.New(fakeTime)}, nil
}

// StreamMovingAverages sends one average per symbol for the requested window (5 when 0), then
// waits for the client to go; for QUIET it only accepts the call.
func (fakeConsumer) StreamMovingAverages(req *marketdatav1.StreamMovingAveragesRequest, stream grpc.ServerStreamingServer[marketdatav1.MovingAverage]) error {
	window := req.GetWindow()
	if window == 0 {
		window = 5
	}
	if window > 10000 {
		return status.Error(codes.InvalidArgument, "window must be 1..10000")
	}
	for _, sym := range req.GetSymbols() {
		if sym == "QUIET" {
			if err := stream.SendHeader(metadata.MD{}); err != nil {
				return err
			}
			continue
		}
		if err := stream.Send(&marketdatav1.MovingAverage{Symbol: sym, Window: window, Value: 181.5, Timestamp: timestamppb.New(fakeTime)}); err != nil {
			return err
		}
	}
	<-stream.Context().Done()
	return stream.Context().Err()
}

// grpcBackend is a fake gRPC server on a loopback port, with the standard health service.
type grpcBackend struct {
	addr   string
	health *health.Server
	server *grpc.Server
}

func startBackend(t testing.TB, register func(*grpc.Server), opts ...grpc.ServerOption) *grpcBackend {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &grpcBackend{addr: lis.Addr().String(), health: health.NewServer(), server: grpc.NewServer(opts...)}
	healthpb.RegisterHealthServer(b.server, b.health)
	register(b.server)
	go func() { _ = b.server.Serve(lis) }()
	t.Cleanup(b.server.Stop)
	return b
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	// A socket bound but never listening: connections to it are refused, and, unlike a closed
	// listener's port, no other test or process can take the port meanwhile.
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
}

// fakeBars plays mds-consumer's BarService: StreamBars sends, per symbol, a closed bar of the
// minute before fakeTime's and the open bar of fakeTime's minute twice (it took a second price),
// then waits for the client to go; for QUIET it only accepts the call.
type fakeBars struct {
	marketdatav1.UnimplementedBarServiceServer
}

func (fakeBars) StreamBars(req *marketdatav1.StreamBarsRequest, stream grpc.ServerStreamingServer[marketdatav1.Bar]) error {
	interval := req.GetInterval()
	if interval == "" {
		interval = "1m"
	}
	if interval != "1m" {
		return status.Errorf(codes.InvalidArgument, "interval %q is not computed", interval)
	}
	open := fakeTime.Truncate(time.Minute)
	for _, sym := range req.GetSymbols() {
		if sym == "QUIET" {
			if err := stream.SendHeader(metadata.MD{}); err != nil {
				return err
			}
			continue
		}
		for _, b := range []*marketdatav1.Bar{
			{Symbol: sym, Interval: interval, StartTime: timestamppb.New(open.Add(-time.Minute)), EndTime: timestamppb.New(open),
				Open: 99, High: 101, Low: 98, Close: 100, PriceCount: 3},
			{Symbol: sym, Interval: interval, StartTime: timestamppb.New(open), EndTime: timestamppb.New(open.Add(time.Minute)),
				Open: 100, High: 100, Low: 100, Close: 100, PriceCount: 1},
			{Symbol: sym, Interval: interval, StartTime: timestamppb.New(open), EndTime: timestamppb.New(open.Add(time.Minute)),
				Open: 100, High: 102, Low: 100, Close: 102, PriceCount: 2},
		} {
			if err := stream.Send(b); err != nil {
				return err
			}
		}
	}
	<-stream.Context().Done()
	return stream.Context().Err()
}
