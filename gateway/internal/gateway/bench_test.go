package gateway

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkLatestPriceREST: the gateway's own work for GET /api/v1/prices/latest — routing,
// middleware, the gRPC call to an in-process fake mds-api, JSON — without HTTP's network
// round trip. For a profile of the gateway alone:
//
//	go test -run '^$' -bench LatestPriceREST -cpuprofile cpu.out ./internal/gateway/
func BenchmarkLatestPriceREST(b *testing.B) {
	e := newEnv(b, nil)
	h := e.gw.Handler()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodGet, "/api/v1/prices/latest?symbol=AAPL&provider=test", nil)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
}
