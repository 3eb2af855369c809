package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	mdv1 "marketdata/gateway/gen/marketdata/v1"
)

func TestRealProvidersThroughTheGateway(t *testing.T) {
	for _, c := range []struct {
		provider string
		price    float64
	}{{"yfinance", 189.5}, {"finnhub", 261.74}, {"alpha_vantage", 185.92}} {
		code, body, _ := get(t, "GET", "/api/v1/prices/latest?symbol=aapl&provider="+c.provider)
		if code != 200 || body["price"] != c.price || body["provider"] != c.provider || body["symbol"] != "AAPL" {
			t.Errorf("%s: %d %v", c.provider, code, body)
		}
	}
	var ids []int64
	if err := queryDB(t, `SELECT coalesce(array_agg(DISTINCT raw_response_id), '{}') FROM price_points
		WHERE provider <> 'test'`).Scan(&ids); err != nil {
		t.Fatal(err)
	}
	replies := storedReplies(t, shared.databaseURL, ids...)
	leaked := 0
	raw := ""
	for _, r := range replies {
		if strings.Contains(string(r.Reply), finnhubKey) || strings.Contains(string(r.Reply), alphaVantageKey) {
			leaked++
		}
		if r.Provider == "finnhub" && r.Symbol == "AAPL" {
			raw = string(r.Reply)
		}
	}
	if leaked != 0 {
		t.Errorf("%d stored raw replies contain an API key", leaked)
	}
	if !strings.Contains(raw, "261.74") {
		t.Errorf("finnhub raw reply not stored as received: %s", raw)
	}
}

func TestProviderFailuresMapToTheContract(t *testing.T) {
	cases := []struct {
		provider, symbol string
		status           int
		code             string
	}{
		{"yfinance", "NOPE", 404, "NOT_FOUND"},
		{"finnhub", "NOPE", 404, "NOT_FOUND"},
		{"alpha_vantage", "NOPE", 404, "NOT_FOUND"},
		{"yfinance", "LIMIT", 429, "RESOURCE_EXHAUSTED"},
		{"finnhub", "LIMIT", 429, "RESOURCE_EXHAUSTED"},
		{"alpha_vantage", "LIMIT", 429, "RESOURCE_EXHAUSTED"},
		{"alpha_vantage", "INFO", 429, "RESOURCE_EXHAUSTED"},
		{"yfinance", "DOWN", 503, ""},
		{"finnhub", "DOWN", 503, ""},
		{"yfinance", "SLOW", 503, ""},
		{"yfinance", "GARBAGE", 503, ""},
		{"alpha_vantage", "GARBAGE", 503, ""},
	}
	before := countRows(t, "price_points")
	for _, c := range cases {
		t.Run(c.provider+"/"+c.symbol, func(t *testing.T) {
			code, body, _ := get(t, "GET", fmt.Sprintf("/api/v1/prices/latest?symbol=%s&provider=%s", c.symbol, c.provider))
			if code != c.status {
				t.Fatalf("status %d, want %d: %v", code, c.status, body)
			}
			detail, _ := body["detail"].(string)
			if detail == "" || (c.code != "" && body["code"] != c.code) {
				t.Errorf("body %v", body)
			}
			if strings.Contains(detail, finnhubKey) || strings.Contains(detail, alphaVantageKey) {
				t.Errorf("detail leaks an API key: %s", detail)
			}
		})
	}
	if after := countRows(t, "price_points"); after != before {
		t.Errorf("failed fetches stored %d price points", after-before)
	}
}

func TestProvidersList(t *testing.T) {
	code, body, _ := get(t, "GET", "/api/v1/providers")
	if code != 200 {
		t.Fatalf("%d %v", code, body)
	}
	byName := map[string]map[string]any{}
	for _, p := range body["providers"].([]any) {
		m := p.(map[string]any)
		byName[m["name"].(string)] = m
	}
	for _, name := range []string{"test", "alpha_vantage", "finnhub", "yfinance"} {
		p, ok := byName[name]
		if !ok {
			t.Fatalf("provider %s missing from %v", name, body)
		}
		if p["configured"] != true {
			t.Errorf("%s not configured: %v", name, p)
		}
	}
	if byName["test"]["is_default"] != true || byName["finnhub"]["rate_limit_per_minute"] != float64(6000) {
		t.Errorf("providers: %v", body)
	}
	if n, _ := byName["yfinance"]["recent_requests"].(float64); n == 0 {
		t.Errorf("yfinance shows no recent requests: %v", byName["yfinance"])
	}

	client := mdv1.NewPriceServiceClient(grpcConn(t))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := client.ListProviders(ctx, &mdv1.ListProvidersRequest{})
	if err != nil || len(resp.Providers) != 4 {
		t.Errorf("gRPC ListProviders: %v %v", resp, err)
	}
}

func TestPollingRecordsProviderErrorsWithoutStopping(t *testing.T) {
	body := `{"symbols":["YF1","NOPE","YF2"],"interval":1,"provider":"yfinance"}`
	code, job := send(t, shared.restURL, "POST", "/api/v1/prices/poll", body)
	if code != http.StatusAccepted {
		t.Fatalf("%d %v", code, job)
	}
	id := job["job_id"].(string)
	waitFor(t, 15*time.Second, "two runs", func() bool { return runCount(t, shared.restURL, id) >= 2 })
	_, got := send(t, shared.restURL, "GET", "/api/v1/prices/poll/"+id, "")
	send(t, shared.restURL, "DELETE", "/api/v1/prices/poll/"+id, "")
	if got["status"] != "running" || got["error_count"].(float64) < 2 ||
		!strings.Contains(fmt.Sprint(got["last_error"]), "NOPE") {
		t.Errorf("job after failing fetches: %v", got)
	}
	if n := pricePoints(t, shared.databaseURL, "YF2"); n < 2 {
		t.Errorf("the good symbols stopped being polled: %d points", n)
	}
}
