package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
)

// requestState is what the layers of one request tell each other: the outer middleware creates
// it, grpc-gateway's router and error handlers fill it in.
type requestState struct {
	route             string // route pattern, a bounded metrics label
	maxBodyBytes      int64
	bodyTooLarge      bool
	badRequestID      bool   // the client's X-Request-Id cannot be forwarded: answer 400
	traceparent       string // the client's valid traceparent, or one made up here
	streamErrorStatus int

	mu     sync.Mutex // errors may be noted by concurrent backend calls (/ready)
	errors []string   // what went wrong behind a 5xx, for the log line only
}

func (s *requestState) noteError(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errors = append(s.errors, msg)
}

func (s *requestState) errorText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.errors, "; ")
}

// noteError puts an error that clients must not see (addresses, transport or database text) on
// the request's log line, or logs it on its own outside a request.
func noteError(ctx context.Context, logger *slog.Logger, msg string) {
	if state := requestStateFrom(ctx); state != nil {
		state.noteError(msg)
		return
	}
	if logger != nil {
		logger.LogAttrs(ctx, slog.LevelWarn, "backend call failed", slog.String("error", msg))
	}
}

type requestStateKey struct{}

func requestStateFrom(ctx context.Context) *requestState {
	s, _ := ctx.Value(requestStateKey{}).(*requestState)
	return s
}

const (
	routeUnmatched = "unmatched"
	routePreflight = "preflight"
)

// recordRoute is a grpc-gateway middleware: it runs after routing, where the matched pattern is
// known. Patterns render captures as {job_id=*}; the label drops the "=*".
func recordRoute(next runtime.HandlerFunc) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
		if pattern, ok := runtime.HTTPPattern(r.Context()); ok {
			if state := requestStateFrom(r.Context()); state != nil {
				state.route = strings.ReplaceAll(pattern.String(), "=*}", "}")
			}
		}
		next(w, r, params)
	}
}

// The request id: the client's X-Request-Id if it sends a usable one, else one made up here.
// It is echoed in the response, logged, and forwarded to the backends as x-request-id metadata,
// whose values gRPC limits to printable ASCII.
const (
	requestIDKey    = "x-request-id"
	maxRequestIDLen = 128
	requestIDRule   = "X-Request-Id must be 1-128 printable ASCII characters"
)

func validRequestID(id string) bool {
	return id != "" && len(id) <= maxRequestIDLen && printableASCII(id)
}

// The W3C trace context (https://www.w3.org/TR/trace-context/): the client's traceparent if it
// is valid, else a new trace; forwarded as traceparent metadata, and its trace id logged as
// trace_id by every process. An invalid one is replaced, not refused, as the specification asks.
const (
	traceparentKey = "traceparent"
	traceparentLen = 55 // 2 version + 32 trace id + 16 parent id + 2 flags, and 3 dashes
)

// validTraceparent checks version-traceid-parentid-flags: lower-case hex, ids not all zero,
// version not ff; version 00 has exactly these fields, a later one may append "-...".
func validTraceparent(s string) bool {
	if len(s) < traceparentLen || s[2] != '-' || s[35] != '-' || s[52] != '-' {
		return false
	}
	if !lowerHex(s[0:2], false) || s[0:2] == "ff" || !lowerHex(s[3:35], true) ||
		!lowerHex(s[36:52], true) || !lowerHex(s[53:55], false) {
		return false
	}
	if s[0:2] == "00" {
		return len(s) == traceparentLen
	}
	return len(s) == traceparentLen || s[traceparentLen] == '-'
}

func lowerHex(s string, nonZero bool) bool {
	zero := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
		zero = zero && c == '0'
	}
	return !(nonZero && zero)
}

// newTraceparent starts a trace: version 00, random ids, not sampled (the gateway records no
// spans; a tracer downstream may still decide to).
func newTraceparent() string {
	var ids [24]byte // 16 trace id, 8 parent id
	_, _ = rand.Read(ids[:])
	var b [traceparentLen]byte
	copy(b[:], "00-")
	hex.Encode(b[3:35], ids[:16])
	b[35] = '-'
	hex.Encode(b[36:52], ids[16:])
	copy(b[52:], "-00")
	return string(b[:])
}

// traceID is the 32 hex digits of a valid traceparent.
func traceID(traceparent string) string { return traceparent[3:35] }

// rejectBadRequestID is a grpc-gateway middleware (after routing, so the route label and CORS
// headers are set): a request whose X-Request-Id observe found unusable is answered 400 before
// any backend call.
func rejectBadRequestID(next runtime.HandlerFunc) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
		if state := requestStateFrom(r.Context()); state != nil && state.badRequestID {
			writeError(w, http.StatusBadRequest, codes.InvalidArgument, requestIDRule)
			return
		}
		next(w, r, params)
	}
}

// statusRecorder remembers the status for logs and metrics, and applies the contract's status to
// a stream that failed before its first message (see handleStreamError).
type statusRecorder struct {
	http.ResponseWriter
	state   *requestState
	status  int
	written int64
	// A stream refused before its first message answers like any other call: a plain
	// {"detail","code"} JSON body, not the NDJSON error line of a stream that had started.
	unwrapStreamError bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status != 0 {
		return
	}
	if s.state.streamErrorStatus != 0 && code >= 400 {
		code = s.state.streamErrorStatus
		s.unwrapStreamError = true
		s.Header().Set("Content-Type", "application/json")
	}
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.WriteHeader(http.StatusOK)
	}
	if s.unwrapStreamError {
		var line struct {
			Error json.RawMessage `json:"error"`
		}
		if json.Unmarshal(b, &line) == nil && len(line.Error) > 0 {
			n, err := s.ResponseWriter.Write(append(line.Error, '\n'))
			s.written += int64(n)
			return len(b), err
		}
	}
	n, err := s.ResponseWriter.Write(b)
	s.written += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach Flush on the real writer (streams flush per message).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_http_requests_total",
			Help: "HTTP requests answered by the gateway, by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gateway_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request (whole stream for streaming routes).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route", "method", "status"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// methodLabel keeps the label set bounded whatever method a client sends.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return method
	}
	return "OTHER"
}

// observe is the outermost middleware: request id, panic recovery, one log line and the metrics
// of every request.
func observe(logger *slog.Logger, m *metrics, maxBodyBytes int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		state := &requestState{route: routeUnmatched, maxBodyBytes: maxBodyBytes}
		r = r.WithContext(context.WithValue(r.Context(), requestStateKey{}, state))
		// Grpc-Timeout is grpc-gateway's way for a client to set the backend deadline. It is not
		// part of this REST API: a client sets its own HTTP timeout, and the backend deadline is
		// GATEWAY_BACKEND_TIMEOUT, so a client cannot turn its own haste into a 504.
		r.Header.Del("Grpc-Timeout")
		requestID := r.Header.Get("X-Request-Id")
		if requestID != "" && !validRequestID(requestID) {
			// Neither echoed nor logged nor forwarded; rejectBadRequestID answers 400.
			state.badRequestID = true
			requestID = ""
		}
		if requestID == "" {
			requestID = newRequestID()
			r.Header.Set("X-Request-Id", requestID)
		}
		w.Header().Set("X-Request-Id", requestID)
		state.traceparent = r.Header.Get("Traceparent")
		if !validTraceparent(state.traceparent) {
			state.traceparent = newTraceparent()
		}
		rec := &statusRecorder{ResponseWriter: w, state: state}

		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				logger.Error("panic serving request", "path", r.URL.Path, "panic", fmt.Sprint(p))
				if rec.status == 0 {
					writeError(rec, http.StatusInternalServerError, codes.Internal, internalErrorDetail)
				}
			}
			if rec.status == 0 {
				rec.status = http.StatusOK
			}
			elapsed := time.Since(start)
			code := strconv.Itoa(rec.status)
			m.requests.WithLabelValues(state.route, methodLabel(r.Method), code).Inc()
			m.duration.WithLabelValues(state.route, methodLabel(r.Method), code).Observe(elapsed.Seconds())
			level := slog.LevelInfo
			if rec.status >= 500 {
				level = slog.LevelWarn
			}
			attrs := []slog.Attr{
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.String("route", state.route),
				slog.Int("status", rec.status),
				slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
				slog.Int64("bytes", rec.written),
				slog.String("request_id", requestID),
				slog.String("trace_id", traceID(state.traceparent)),
				slog.String("remote", r.RemoteAddr),
			}
			if text := state.errorText(); text != "" {
				attrs = append(attrs, slog.String("error", text))
			}
			logger.LogAttrs(r.Context(), level, "request", attrs...)
		}()
		next.ServeHTTP(rec, r)
	})
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// limitBody answers 413 for a declared oversize body at once, and caps an undeclared (chunked)
// one; reading past the cap marks the request so the error handler answers 413, not 400. Arrays
// longer than any request may hold are cut before decoding (see capJSONArrays).
func limitBody(maxBytes int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > maxBytes {
			if state := requestStateFrom(r.Context()); state != nil {
				state.bodyTooLarge = true
			}
			writeError(w, http.StatusRequestEntityTooLarge, codes.InvalidArgument,
				fmt.Sprintf("request body is larger than %d bytes", maxBytes))
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &arrayCappedBody{src: &cappedBody{ReadCloser: http.MaxBytesReader(w, r.Body, maxBytes), state: requestStateFrom(r.Context())}}
		}
		next.ServeHTTP(w, r)
	})
}

type cappedBody struct {
	io.ReadCloser
	state *requestState
}

func (b *cappedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	var tooLarge *http.MaxBytesError
	if err != nil && errors.As(err, &tooLarge) && b.state != nil {
		b.state.bodyTooLarge = true
	}
	return n, err
}

// CORS answers: the methods the API has and the request headers a client may send (body type,
// credentials, request id, trace context), listed rather than echoed from the preflight, so a browser lets a
// cross-origin page send no other header.
const (
	corsAllowMethods  = "GET, POST, DELETE, OPTIONS"
	corsAllowHeaders  = "Content-Type, Authorization, X-API-Key, X-Request-Id, Traceparent"
	corsExposeHeaders = "X-Request-Id"
	corsMaxAge        = "600"
)

// cors answers preflight requests (204) from allowed origins and adds the allow-origin header to
// their actual requests. An empty allowed list turns CORS off (no Access-Control-* headers at
// all: browsers then refuse cross-origin calls); "*" allows every origin.
func cors(allowed []string, next http.Handler) http.Handler {
	if len(allowed) == 0 {
		return next
	}
	allowAll := false
	set := make(map[string]bool, len(allowed))
	for _, o := range allowed {
		if o == "*" {
			allowAll = true
		}
		set[o] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Add("Vary", "Origin") // a cache must not serve one origin's answer to another
		origin := r.Header.Get("Origin")
		if origin == "" || (!allowAll && !set[origin]) {
			next.ServeHTTP(w, r)
			return
		}
		if allowAll {
			h.Set("Access-Control-Allow-Origin", "*")
		} else {
			h.Set("Access-Control-Allow-Origin", origin)
		}
		h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			if state := requestStateFrom(r.Context()); state != nil {
				state.route = routePreflight
			}
			h.Set("Access-Control-Allow-Methods", corsAllowMethods)
			h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
			h.Set("Access-Control-Max-Age", corsMaxAge)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}
