package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"marketdata/gateway/internal/dashboard"
	"marketdata/gateway/internal/docsui"
	"marketdata/gateway/openapi"
)

// registerOperationalRoutes adds the routes that are not RPCs to the grpc-gateway mux, so that
// they share its 404/405 handling and its route-pattern metrics label.
func registerOperationalRoutes(mux *runtime.ServeMux, allow *allowTable, backends []*backend, readyTimeout time.Duration, registry *prometheus.Registry) error {
	metricsHandler := promhttp.HandlerFor(registry, promhttp.HandlerOpts{})
	routes := []struct {
		path    string
		handler http.HandlerFunc
	}{
		{"/health", serveHealth},
		{"/ready", readyHandler(backends, readyTimeout)},
		{"/openapi.json", serveOpenAPI},
		{"/docs", docsui.ServeIndex},
		{"/metrics", metricsHandler.ServeHTTP},
		{"/", dashboard.ServeIndex},
	}
	for _, route := range routes {
		h := route.handler
		if err := mux.HandlePath(http.MethodGet, route.path, func(w http.ResponseWriter, r *http.Request, _ map[string]string) {
			h(w, r)
		}); err != nil {
			return fmt.Errorf("route %s: %w", route.path, err)
		}
		allow.add(http.MethodGet, route.path)
	}
	// The page's scripts and stylesheet, embedded in the binary (the page works offline).
	if err := mux.HandlePath(http.MethodGet, "/docs/{asset}", serveDocsAsset); err != nil {
		return fmt.Errorf("route /docs/{asset}: %w", err)
	}
	allow.add(http.MethodGet, "/docs/{asset}")
	// The dashboard's scripts, stylesheet and charting library, likewise embedded.
	if err := mux.HandlePath(http.MethodGet, "/dashboard/{asset}", serveDashboardAsset); err != nil {
		return fmt.Errorf("route /dashboard/{asset}: %w", err)
	}
	allow.add(http.MethodGet, "/dashboard/{asset}")
	return nil
}

func writeJSON(w http.ResponseWriter, httpStatus int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "cannot encode response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(httpStatus)
	_, _ = w.Write(body)
}

// serveHealth is liveness only: the process answers. Backends are /ready's business.
func serveHealth(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

type readiness struct {
	Status   string            `json:"status"`
	Backends map[string]string `json:"backends"` // backendReady or backendUnavailable
	Detail   string            `json:"detail,omitempty"`
}

const (
	backendReady       = "ok"
	backendUnavailable = "unavailable"
)

// readyHandler asks every configured backend's grpc.health.v1 service about the whole server
// (service ""), all at once, each within timeout. Ready means every one answers SERVING. The
// answer names backends and why they are not ready, never their addresses; the errors behind it
// go to the request's log line.
func readyHandler(backends []*backend, timeout time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		problems := make([]string, len(backends))
		var wg sync.WaitGroup
		for i, b := range backends {
			wg.Add(1)
			go func() {
				defer wg.Done()
				problems[i] = checkBackend(ctx, b, timeout)
			}()
		}
		wg.Wait()

		resp := readiness{Status: "ready", Backends: make(map[string]string, len(backends))}
		var failed []string
		for i, b := range backends {
			if problems[i] == "" {
				resp.Backends[b.name] = backendReady
				continue
			}
			resp.Backends[b.name] = backendUnavailable
			failed = append(failed, fmt.Sprintf("%s (%s)", b.name, problems[i]))
		}
		if len(failed) == 0 {
			writeJSON(w, http.StatusOK, resp)
			return
		}
		sort.Strings(failed)
		resp.Status = "not ready"
		resp.Detail = "backend not ready: " + strings.Join(failed, "; ")
		writeJSON(w, http.StatusServiceUnavailable, resp)
	}
}

// checkBackend returns "" for a backend that is SERVING, else a short reason fit for clients.
func checkBackend(ctx context.Context, b *backend, timeout time.Duration) string {
	resp, err := healthpb.NewHealthClient(b.conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err == nil {
		if resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return ""
		}
		return strings.ToLower(strings.ReplaceAll(resp.GetStatus().String(), "_", " ")) // not serving
	}
	switch code := status.Code(err); code {
	case codes.Unavailable:
		return "unreachable"
	case codes.DeadlineExceeded:
		return "no answer within " + timeout.String()
	default:
		return "health check failed: " + codeName(code)
	}
}

func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openapi.Document)
}

// serveDocsAsset serves the files of the /docs page (docsui), or the usual 404.
func serveDocsAsset(w http.ResponseWriter, r *http.Request, params map[string]string) {
	if !docsui.ServeAsset(w, r, params["asset"]) {
		writeError(w, http.StatusNotFound, codes.NotFound, "Not Found")
	}
}

// serveDashboardAsset serves the files of the dashboard at / (package dashboard), or the usual 404.
func serveDashboardAsset(w http.ResponseWriter, r *http.Request, params map[string]string) {
	if !dashboard.ServeAsset(w, r, params["asset"]) {
		writeError(w, http.StatusNotFound, codes.NotFound, "Not Found")
	}
}
