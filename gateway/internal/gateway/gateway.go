// Package gateway is the REST front of the market data service: grpc-gateway handlers generated
// from proto/marketdata/v1, routed to mds-api and mds-consumer, with the REST contract's JSON
// and error format, CORS, body limits, health, readiness, OpenAPI, metrics and request logs.
package gateway

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/textproto"
	"strings"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	marketdatav1 "marketdata/gateway/gen/marketdata/v1"
	"marketdata/gateway/openapi"
)

// Gateway is the HTTP handler with the connections it owns.
type Gateway struct {
	handler  http.Handler
	backends []*backend
	// drain ends open streams when the server shuts down; Shutdown would otherwise wait for them.
	drain     context.Context
	drainDone context.CancelFunc
	// mux and feeds (the stream routes by route, each bound to its service's connection) serve
	// the stream routes as Server-Sent Events (sse.go).
	mux   *runtime.ServeMux
	feeds map[string]eventFeed
}

// The backends, by the name logs, /ready and services use.
const (
	mdsAPI      = "mds-api"
	mdsConsumer = "mds-consumer" // may be left out (MDS_CONSUMER_ADDR empty)
)

// service is a gRPC service the REST routes forward to.
type service struct {
	name    string // its full name, as in its methods' names
	backend string // mdsAPI or mdsConsumer
	what    string // what it serves, for the error its routes answer while its backend is not deployed
	// register adds the generated handlers of its routes to the mux, with a client on cc.
	register func(context.Context, *runtime.ServeMux, grpc.ClientConnInterface) error
}

var services = []service{
	{marketdatav1.PriceService_ServiceDesc.ServiceName, mdsAPI, "prices",
		handlers(marketdatav1.NewPriceServiceClient, marketdatav1.RegisterPriceServiceHandlerClient)},
	{marketdatav1.PollingService_ServiceDesc.ServiceName, mdsAPI, "polling jobs",
		handlers(marketdatav1.NewPollingServiceClient, marketdatav1.RegisterPollingServiceHandlerClient)},
	{marketdatav1.MovingAverageService_ServiceDesc.ServiceName, mdsConsumer, "moving averages",
		handlers(marketdatav1.NewMovingAverageServiceClient, marketdatav1.RegisterMovingAverageServiceHandlerClient)},
	{marketdatav1.BarService_ServiceDesc.ServiceName, mdsConsumer, "bars",
		handlers(marketdatav1.NewBarServiceClient, marketdatav1.RegisterBarServiceHandlerClient)},
}

// handlers makes a service's register from its generated client constructor and handler
// registration.
func handlers[C any](newClient func(grpc.ClientConnInterface) C, register func(context.Context, *runtime.ServeMux, C) error) func(context.Context, *runtime.ServeMux, grpc.ClientConnInterface) error {
	return func(ctx context.Context, mux *runtime.ServeMux, cc grpc.ClientConnInterface) error {
		return register(ctx, mux, newClient(cc))
	}
}

// serviceOf is the full name of the service of a method ("/marketdata.v1.PriceService/StreamPrices").
func serviceOf(method string) string {
	name, _, _ := strings.Cut(strings.TrimPrefix(method, "/"), "/")
	return name
}

// New connects (lazily) to the backends and builds the handler. logger may be nil.
func New(opts Options, logger *slog.Logger) (*Gateway, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxBodyBytes <= 0 {
		return nil, errors.New("MaxBodyBytes must be positive")
	}
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = time.Second
	}
	if opts.BackendTimeout <= 0 {
		opts.BackendTimeout = defaultBackendTimeout
	}
	g := &Gateway{}
	g.drain, g.drainDone = context.WithCancel(context.Background())
	if err := g.build(opts, logger); err != nil {
		g.Close()
		return nil, err
	}
	return g, nil
}

// build dials the backends and assembles the handler; on an error New closes what it opened.
func (g *Gateway) build(opts Options, logger *slog.Logger) error {
	conns, err := g.dialBackends(opts, logger)
	if err != nil {
		return err
	}
	routes, err := newAllowTable(openapi.Document)
	if err != nil {
		return err
	}
	g.mux = runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, newMarshaler()),
		runtime.WithErrorHandler(handleError),
		runtime.WithStreamErrorHandler(handleStreamError),
		runtime.WithRoutingErrorHandler(routingErrorHandler(routes)),
		runtime.WithForwardResponseOption(setResponseStatus),
		runtime.WithMetadata(forwardRequestID),
		runtime.WithIncomingHeaderMatcher(incomingHeader),
		runtime.WithOutgoingHeaderMatcher(outgoingHeader),
		runtime.WithMiddlewares(recordRoute, rejectBadRequestID, g.endStreamsOnDrain, g.serveEventStreams),
	)
	if err := g.registerServices(conns); err != nil {
		return err
	}

	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newBuildInfo())
	if err := registerOperationalRoutes(g.mux, routes, g.backends, opts.ReadyTimeout, registry); err != nil {
		return err
	}

	var h http.Handler = g.mux
	h = limitBody(opts.MaxBodyBytes, h)
	h = cors(opts.CORSAllowedOrigins, h)
	h = observe(logger, newMetrics(registry), opts.MaxBodyBytes, h)
	g.handler = h
	return nil
}

// dialBackends connects (lazily) to mds-api and, unless it is not deployed, mds-consumer; it
// returns their connections by backend name.
func (g *Gateway) dialBackends(opts Options, logger *slog.Logger) (map[string]grpc.ClientConnInterface, error) {
	creds, err := backendCredentials(opts)
	if err != nil {
		return nil, err
	}
	conns := map[string]grpc.ClientConnInterface{}
	for _, b := range []struct{ name, service, addr string }{
		{mdsAPI, "the price service", opts.APIAddr},
		{mdsConsumer, "the moving average service", opts.ConsumerAddr},
	} {
		if b.name == mdsConsumer && b.addr == "" {
			continue // not deployed
		}
		dialed, err := dial(b.name, b.service, b.addr, creds, opts.BackendTimeout, logger)
		if err != nil {
			return nil, err
		}
		g.backends = append(g.backends, dialed)
		conns[b.name] = dialed.conn
	}
	return conns, nil
}

// registerServices adds every service's routes to the mux, each on its backend's connection or,
// when that backend is not deployed, on a stand-in that answers 503; and binds each stream
// route to the connection of its service.
func (g *Gateway) registerServices(conns map[string]grpc.ClientConnInterface) error {
	ctx := context.Background() // only used by the generated code to log; connections are ours
	byService := make(map[string]grpc.ClientConnInterface, len(services))
	for _, s := range services {
		cc, ok := conns[s.backend]
		if !ok {
			cc = notDeployed(s.what)
		}
		if err := s.register(ctx, g.mux, cc); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		byService[s.name] = cc
	}
	g.feeds = make(map[string]eventFeed, len(streams))
	for _, s := range streams {
		cc, ok := byService[serviceOf(s.method)]
		if !ok {
			return fmt.Errorf("stream %s: its service is not in services", s.route)
		}
		g.feeds[s.route] = eventFeed{streamRoute: s, cc: cc}
	}
	return nil
}

// Handler serves the whole HTTP surface.
func (g *Gateway) Handler() http.Handler { return g.handler }

// EndStreams ends every open stream response (each client sees the stream end) and makes new
// ones end at once; used when shutting down.
func (g *Gateway) EndStreams() { g.drainDone() }

// Close ends streams and closes the backend connections.
func (g *Gateway) Close() {
	g.drainDone()
	for _, b := range g.backends {
		_ = b.conn.Close()
	}
}

// endStreamsOnDrain ties server-streaming routes to the drain signal; unary calls are left to
// finish on their own during shutdown.
func (g *Gateway) endStreamsOnDrain(next runtime.HandlerFunc) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
		if _, ok := g.feedOf(r); !ok {
			next(w, r, params)
			return
		}
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		stop := context.AfterFunc(g.drain, cancel)
		defer stop()
		next(w, r.WithContext(ctx), params)
	}
}

// setResponseStatus: creating a polling job answers 202 Accepted, as the original did
// (grpc-gateway would write 200).
//
// It also starts a stream's response as soon as the backend has accepted the call (sent its
// response headers), so clients and proxies see 200 at once rather than when the first price
// arrives, which may take a while. A call refused at once carries no headers (trailers only):
// its error still gets its own HTTP status.
func setResponseStatus(ctx context.Context, w http.ResponseWriter, resp proto.Message) error {
	method, ok := runtime.RPCMethod(ctx)
	if !ok {
		return nil
	}
	if method == marketdatav1.PollingService_CreatePollingJob_FullMethodName {
		w.WriteHeader(http.StatusAccepted)
		return nil
	}
	if resp == nil && isStreamMethod(method) {
		if md, ok := runtime.ServerMetadataFromContext(ctx); ok && len(md.HeaderMD) > 0 {
			w.Header().Set("Content-Type", streamContentType)
			w.WriteHeader(http.StatusOK)
			_ = http.NewResponseController(w).Flush()
		}
	}
	return nil
}

// forwardRequestID passes the request id (the client's, checked by observe, or one it made up)
// to the backend as x-request-id, and the trace context as traceparent.
func forwardRequestID(_ context.Context, r *http.Request) metadata.MD {
	md := make(metadata.MD, 2)
	if id := r.Header.Get("X-Request-Id"); validRequestID(id) {
		md[requestIDKey] = []string{id}
	}
	if state := requestStateFrom(r.Context()); state != nil && state.traceparent != "" {
		md[traceparentKey] = []string{state.traceparent}
	}
	return md
}

// incomingHeader forwards X-API-Key to the backends as x-api-key metadata, next to what
// grpc-gateway forwards by default (Authorization among it, as authorization).
func incomingHeader(key string) (string, bool) {
	if textproto.CanonicalMIMEHeaderKey(key) == "X-Api-Key" {
		return "x-api-key", true
	}
	return runtime.DefaultHeaderMatcher(key)
}

// rateLimitHeaders are the backends' metadata that become HTTP headers of the same name: when to
// retry after a 429 (RFC 9110) and the limit that was reached (the IETF RateLimit fields).
var rateLimitHeaders = map[string]string{
	"retry-after":         "Retry-After",
	"ratelimit-limit":     "RateLimit-Limit",
	"ratelimit-remaining": "RateLimit-Remaining",
	"ratelimit-reset":     "RateLimit-Reset",
}

// outgoingHeader passes the backends' response metadata on as Grpc-Metadata-* headers, as
// grpc-gateway does by default, minus gRPC's own transport headers; rate limit metadata becomes
// the standard headers, and `age` (how old a latest price is, in seconds) HTTP's Age.
func outgoingHeader(key string) (string, bool) {
	if name, ok := rateLimitHeaders[key]; ok {
		return name, true
	}
	if key == "age" {
		return "Age", true
	}
	if key == "content-type" || strings.HasPrefix(key, "grpc-") {
		return "", false
	}
	return runtime.MetadataHeaderPrefix + key, true
}

// Run serves until ctx is cancelled, then stops accepting connections, ends open streams and
// lets in-flight requests finish within opts.ShutdownTimeout.
func Run(ctx context.Context, opts Options, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	g, err := New(opts, logger)
	if err != nil {
		return err
	}
	defer g.Close()

	var tlsConfig *tls.Config
	if opts.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(opts.TLSCertFile, opts.TLSKeyFile)
		if err != nil {
			return fmt.Errorf("GATEWAY_TLS_CERT_FILE/GATEWAY_TLS_KEY_FILE: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	lis, err := net.Listen("tcp", opts.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen on %s (GATEWAY_LISTEN): %w", opts.ListenAddr, err)
	}
	logger.Info("gateway listening", "addr", lis.Addr().String(), "tls", tlsConfig != nil,
		"backend_tls", opts.BackendCAFile != "", "mds_api", opts.APIAddr,
		"mds_consumer", cmp.Or(opts.ConsumerAddr, "not deployed"))
	return g.serve(ctx, lis, tlsConfig, opts.ShutdownTimeout, logger)
}

// serve serves HTTP on lis, or HTTPS (HTTP/2 included) when tlsConfig is set.
func (g *Gateway) serve(ctx context.Context, lis net.Listener, tlsConfig *tls.Config, shutdownTimeout time.Duration, logger *slog.Logger) error {
	srv := &http.Server{
		TLSConfig:         tlsConfig,
		Handler:           g.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		// No WriteTimeout: stream responses last as long as the client stays.
	}
	srv.RegisterOnShutdown(g.EndStreams)

	served := make(chan error, 1)
	go func() {
		if tlsConfig != nil {
			served <- srv.ServeTLS(lis, "", "")
			return
		}
		served <- srv.Serve(lis)
	}()

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", shutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	logger.Info("stopped")
	return nil
}
