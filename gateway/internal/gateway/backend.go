package gateway

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
)

// backend is one gRPC server the gateway forwards to. Every call to it goes through its
// interceptors: they bound the metadata taken from the HTTP request, give unary calls a deadline,
// and replace the errors grpc-go makes up itself (transport failures, which name addresses) with
// ones a client can use.
type backend struct {
	name    string // mds-api, mds-consumer: logs and /ready
	service string // what clients are told about: "the price service"
	addr    string
	timeout time.Duration // deadline of a unary call whose context has none; 0: none
	logger  *slog.Logger
	conn    *grpc.ClientConn
}

// backendCredentials is TLS trusting opts.BackendCAFile (with a client certificate when one is
// configured), or plaintext when no CA is set.
func backendCredentials(opts Options) (credentials.TransportCredentials, error) {
	if opts.BackendCAFile == "" {
		return insecure.NewCredentials(), nil
	}
	pem, err := os.ReadFile(opts.BackendCAFile)
	if err != nil {
		return nil, fmt.Errorf("BACKEND_TLS_CA_FILE: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("BACKEND_TLS_CA_FILE: no PEM certificate in %s", opts.BackendCAFile)
	}
	cfg := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	if opts.BackendCertFile != "" {
		cert, err := tls.LoadX509KeyPair(opts.BackendCertFile, opts.BackendKeyFile)
		if err != nil {
			return nil, fmt.Errorf("BACKEND_TLS_CERT_FILE/BACKEND_TLS_KEY_FILE: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return credentials.NewTLS(cfg), nil
}

func dial(name, service, addr string, creds credentials.TransportCredentials, timeout time.Duration, logger *slog.Logger) (*backend, error) {
	b := &backend{name: name, service: service, addr: addr, timeout: timeout, logger: logger}
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(creds),
		grpc.WithStatsHandler(statusOriginTracker{}),
		grpc.WithUnaryInterceptor(b.interceptUnary),
		grpc.WithStreamInterceptor(b.interceptStream),
		// A name with several addresses (a headless Kubernetes Service) spreads calls over every
		// replica behind it, not only over the first address resolved. (More connections to one
		// address were measured too: they cost the gateway CPU, as each carries fewer calls per
		// write, and bought no throughput.)
		grpc.WithDefaultServiceConfig(`{"loadBalancingConfig":[{"round_robin":{}}]}`),
	)
	if err != nil {
		return nil, fmt.Errorf("%s at %q: %w", name, addr, err)
	}
	b.conn = conn
	return b, nil
}

// interceptUnary gives the call the backend deadline unless the gateway itself (e.g. /ready) has
// set one; a REST client's Grpc-Timeout header never reaches here (observe drops it).
func (b *backend) interceptUnary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if _, ok := ctx.Deadline(); !ok && b.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, b.timeout)
		defer cancel()
	}
	ctx = b.boundMetadata(ctx, method)
	origin := &statusOrigin{}
	ctx = context.WithValue(ctx, statusOriginKey{}, origin)
	return b.publicError(ctx, method, invoker(ctx, method, req, reply, cc, opts...), origin)
}

// interceptStream leaves streams without a deadline: they last as long as the client stays.
func (b *backend) interceptStream(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	ctx = b.boundMetadata(ctx, method)
	origin := &statusOrigin{}
	ctx = context.WithValue(ctx, statusOriginKey{}, origin)
	s, err := streamer(ctx, desc, cc, method, opts...)
	if err != nil {
		return nil, b.publicError(ctx, method, err, origin)
	}
	return &publicErrorStream{ClientStream: s, ctx: ctx, b: b, method: method, origin: origin}, nil
}

type publicErrorStream struct {
	grpc.ClientStream
	ctx    context.Context
	b      *backend
	method string
	origin *statusOrigin
}

func (s *publicErrorStream) Header() (metadata.MD, error) {
	md, err := s.ClientStream.Header()
	return md, s.b.publicError(s.ctx, s.method, err, s.origin)
}

func (s *publicErrorStream) SendMsg(m any) error {
	return s.b.publicError(s.ctx, s.method, s.ClientStream.SendMsg(m), s.origin)
}

func (s *publicErrorStream) RecvMsg(m any) error {
	return s.b.publicError(s.ctx, s.method, s.ClientStream.RecvMsg(m), s.origin)
}

// publicError passes on a status the backend sent (its messages are written for clients;
// handleError still hides INTERNAL and UNKNOWN ones) and replaces one that grpc-go produced
// itself, whose message is transport text such as "connection error: desc = \"transport: Error
// while dialing: dial tcp 10.0.0.5:50051: connect: connection refused\"". The real error goes to
// the request's log line.
//
// Which side produced a status is not in the status: grpc-go builds both kinds with the same
// codes and only the message text differs, and that text is not a stable interface. What is
// certain is whether the backend's trailers (grpc-status) arrived for the call: see
// statusOriginTracker.
func (b *backend) publicError(ctx context.Context, method string, err error, origin *statusOrigin) error {
	if err == nil || errors.Is(err, io.EOF) || origin.fromServer.Load() {
		return err
	}
	st := status.Convert(err)
	if st.Code() == codes.Canceled { // the HTTP client went away, or the gateway is stopping
		return err
	}
	noteError(ctx, b.logger, fmt.Sprintf("%s at %s, %s: %s: %s", b.name, b.addr, method, codeName(st.Code()), st.Message()))
	switch st.Code() {
	case codes.DeadlineExceeded:
		return status.Errorf(codes.DeadlineExceeded, "%s did not answer in time", b.service)
	case codes.Unavailable:
		return status.Errorf(codes.Unavailable, "%s is unavailable; retry later", b.service)
	}
	return status.Error(codes.Internal, internalErrorDetail)
}

// statusOrigin records whether the backend sent the call's status.
type statusOrigin struct{ fromServer atomic.Bool }

type statusOriginKey struct{}

// statusOriginTracker is a grpc-go stats handler: grpc-go reports InTrailer when it has parsed
// the trailers (or trailers-only response) that carry the server's grpc-status, and only then.
// A call that fails without them (no connection, connection lost, RST_STREAM, a reply that is
// not gRPC, the deadline or cancellation on the gateway's side) got its status from grpc-go.
type statusOriginTracker struct{}

func (statusOriginTracker) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context {
	return ctx
}

func (statusOriginTracker) HandleRPC(ctx context.Context, s stats.RPCStats) {
	if _, ok := s.(*stats.InTrailer); ok {
		if origin, ok := ctx.Value(statusOriginKey{}).(*statusOrigin); ok {
			origin.fromServer.Store(true)
		}
	}
}

func (statusOriginTracker) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context {
	return ctx
}

func (statusOriginTracker) HandleConn(context.Context, stats.ConnStats) {}

// maxForwardedMetadata bounds the metadata a call takes from the HTTP request (request id,
// X-Forwarded-*, Authorization and the other standard headers grpc-gateway forwards), counted as
// HTTP/2 does (name + value + 32 per entry). A gRPC C++ server refuses metadata over 8 KiB at
// random and over 16 KiB always; it announces the latter, and grpc-go then fails the call itself
// with INTERNAL. HTTP requests may carry far more (net/http accepts 1 MiB of headers), e.g. a
// large Cookie. The backends read none of these headers, so what does not fit is dropped.
const maxForwardedMetadata = 4 << 10

// forwardFirst are the keys the gateway sets itself, kept ahead of client headers.
var forwardFirst = map[string]int{requestIDKey: 0, traceparentKey: 1, "authorization": 2, "x-api-key": 3, "x-forwarded-for": 4, "x-forwarded-host": 5}

// boundMetadata drops metadata grpc-go would refuse (so that no header value turns into a 500)
// and whatever goes beyond maxForwardedMetadata: the gateway's own keys first, then the rest in
// name order, each value kept if it still fits.
// pairSize is what a metadata pair costs of the budget, as HTTP/2 header list size counts it.
func pairSize(k, v string) int {
	if strings.HasSuffix(k, "-bin") {
		return len(k) + base64.RawStdEncoding.EncodedLen(len(v)) + 32
	}
	return len(k) + len(v) + 32
}

// withinBounds: every pair is valid and all fit the budget, so nothing is dropped (the common
// case, checked without allocating).
func withinBounds(md metadata.MD) bool {
	budget := maxForwardedMetadata
	for k, vs := range md {
		for _, v := range vs {
			size := pairSize(k, v)
			if !validMetadata(k, v) || size > budget {
				return false
			}
			budget -= size
		}
	}
	return true
}

func (b *backend) boundMetadata(ctx context.Context, method string) context.Context {
	md, ok := metadata.FromOutgoingContext(ctx)
	if !ok || len(md) == 0 || withinBounds(md) {
		return ctx
	}
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		pi, iFirst := forwardFirst[keys[i]]
		pj, jFirst := forwardFirst[keys[j]]
		if iFirst || jFirst {
			return iFirst && (!jFirst || pi < pj)
		}
		return keys[i] < keys[j]
	})
	budget := maxForwardedMetadata
	kept := make(metadata.MD, len(md))
	var dropped []string
	for _, k := range keys {
		for _, v := range md[k] {
			size := pairSize(k, v)
			if !validMetadata(k, v) || size > budget {
				dropped = append(dropped, k)
				continue
			}
			budget -= size
			kept[k] = append(kept[k], v)
		}
	}
	if len(dropped) == 0 {
		return ctx
	}
	b.logger.LogAttrs(ctx, slog.LevelDebug, "request metadata dropped", slog.String("backend", b.name),
		slog.String("method", method), slog.String("keys", strings.Join(dropped, ",")))
	return metadata.NewOutgoingContext(ctx, kept)
}

// validMetadata applies grpc-go's own check (internal/metadata.ValidatePair), which fails the
// call with INTERNAL: a key of [0-9a-z-_.], and a value of printable ASCII unless the key ends in
// -bin.
func validMetadata(key, value string) bool {
	if key == "" || key[0] == ':' {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') && c != '.' && c != '-' && c != '_' {
			return false
		}
	}
	return strings.HasSuffix(key, "-bin") || printableASCII(value)
}

// printableASCII reports whether every byte of s is from space to ~, what gRPC accepts in a
// metadata value.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
