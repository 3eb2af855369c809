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
	// mux and feeds serve the stream routes as Server-Sent Events (sse.go).
	mux   *runtime.ServeMux
	feeds map[string]eventFeed
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

	creds, err := backendCredentials(opts)
	if err != nil {
		return nil, err
	}
	api, err := dial("mds-api", "the price service", opts.APIAddr, creds, opts.BackendTimeout, logger)
	if err != nil {
		return nil, err
	}
	g.backends = append(g.backends, api)
	var consumer *backend
	if opts.ConsumerAddr != "" {
		if consumer, err = dial("mds-consumer", "the moving average service", opts.ConsumerAddr, creds, opts.BackendTimeout, logger); err != nil {
			g.Close()
			return nil, err
		}
		g.backends = append(g.backends, consumer)
	}

	routes, err := newAllowTable(openapi.Document)
	if err != nil {
		g.Close()
		return nil, err
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
	mux := g.mux
	ctx := context.Background() // only used by the generated code to log; connections are ours
	prices := marketdatav1.NewPriceServiceClient(api.conn)
	if err := marketdatav1.RegisterPriceServiceHandlerClient(ctx, mux, prices); err != nil {
		g.Close()
		return nil, err
	}
	if err := marketdatav1.RegisterPollingServiceHandlerClient(ctx, mux, marketdatav1.NewPollingServiceClient(api.conn)); err != nil {
		g.Close()
		return nil, err
	}
	var averages marketdatav1.MovingAverageServiceClient = notDeployedAverages{}
	if consumer != nil {
		averages = marketdatav1.NewMovingAverageServiceClient(consumer.conn)
	}
	if err := marketdatav1.RegisterMovingAverageServiceHandlerClient(ctx, mux, averages); err != nil {
		g.Close()
		return nil, err
	}
	var bars marketdatav1.BarServiceClient = notDeployedBars{}
	if consumer != nil {
		bars = marketdatav1.NewBarServiceClient(consumer.conn)
	}
	if err := marketdatav1.RegisterBarServiceHandlerClient(ctx, mux, bars); err != nil {
		g.Close()
		return nil, err
	}

	g.feeds = map[string]eventFeed{
		"/api/v1/prices/stream":   priceFeed(prices),
		"/api/v1/averages/stream": averageFeed(averages),
		"/api/v1/bars/stream":     barFeed(bars),
	}

	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newBuildInfo())
	if err := registerOperationalRoutes(mux, routes, g.backends, opts.ReadyTimeout, registry); err != nil {
		g.Close()
		return nil, err
	}

	var h http.Handler = mux
	h = limitBody(opts.MaxBodyBytes, h)
	h = cors(opts.CORSAllowedOrigins, h)
	h = observe(logger, newMetrics(registry), opts.MaxBodyBytes, h)
	g.handler = h
	return g, nil
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
		if pattern, ok := runtime.HTTPPattern(r.Context()); !ok || !streamRoutes[pattern.String()] {
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

var streamRoutes = map[string]bool{
	"/api/v1/prices/stream":   true,
	"/api/v1/averages/stream": true,
	"/api/v1/bars/stream":     true,
}

var streamMethods = map[string]bool{
	marketdatav1.PriceService_StreamPrices_FullMethodName:                 true,
	marketdatav1.MovingAverageService_StreamMovingAverages_FullMethodName: true,
	marketdatav1.BarService_StreamBars_FullMethodName:                     true,
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
	if resp == nil && streamMethods[method] {
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
// the standard headers.
func outgoingHeader(key string) (string, bool) {
	if name, ok := rateLimitHeaders[key]; ok {
		return name, true
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
