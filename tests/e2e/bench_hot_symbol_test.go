//go:build bench

package e2e

// A hot symbol: every client asks for the same price and accepts one fetched up to a second ago
// (max_age=1). Such requests are answered from memory, without a provider call and without a new
// stored price, so the provider is asked about once a second whatever the request rate: providers
// are scarce (a few calls a minute on free plans), requests are not.

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"
)

// answers is a reading of mds-api's counters of how latest prices were answered, and of the
// prices stored for one symbol and provider.
type answers struct {
	call, shared, recent, failed float64
	stored                       int64
	at                           time.Time
}

func readAnswers(t *testing.T, s *stack, symbol, provider string) answers {
	t.Helper()
	a := answers{
		call:   scrape(s.apiMetrics, `mds_price_answers_total{by="call"}`),
		shared: scrape(s.apiMetrics, `mds_price_answers_total{by="shared"}`),
		recent: scrape(s.apiMetrics, `mds_price_answers_total{by="recent"}`),
		failed: scrape(s.apiMetrics, "mds_price_failures_total"),
		at:     time.Now(),
	}
	if a.call < 0 || a.shared < 0 || a.recent < 0 {
		t.Fatalf("mds_price_answers_total not found on %s/metrics", s.apiMetrics)
	}
	if err := queryDBAt(t, s.databaseURL, "SELECT count(*) FROM price_points WHERE symbol = $1 AND provider = $2",
		symbol, provider).Scan(&a.stored); err != nil {
		t.Fatal(err)
	}
	return a
}

// since is what happened between two readings.
func (a answers) since(before answers) answers {
	return answers{call: a.call - before.call, shared: a.shared - before.shared, recent: a.recent - before.recent,
		failed: a.failed - before.failed, stored: a.stored - before.stored, at: a.at}
}

func TestBenchHotSymbol(t *testing.T) {
	seconds := envInt("MDS_BENCH_SECONDS", 10)
	runs := envInt("MDS_BENCH_RUNS", 3)
	base := trivialBaseline(t, seconds, runs)
	const symbol, provider = "AAPL", "test"
	url := shared.restURL + "/api/v1/prices/latest?symbol=" + symbol + "&provider=" + provider + "&max_age=1"
	// The answer says how old it is, in the body and in HTTP's Age header.
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Age") == "" || !strings.Contains(string(body), `"age_seconds"`) {
		t.Fatalf("GET %s: status %d, Age %q, body %s; want 200 with an Age header and age_seconds",
			url, resp.StatusCode, resp.Header.Get("Age"), body)
	}
	// Start from a settled machine, as LatestPrice does.
	mustPsql(t, shared.databaseURL, "CHECKPOINT")
	warmUpUntilSteady(t, url)
	type hotRun struct {
		load    loadResult
		answers answers
		elapsed time.Duration
	}
	var results []hotRun
	for i := 0; i < runs; i++ {
		before := readAnswers(t, shared, symbol, provider)
		r := withCPU(shared, []string{"gateway", "mds-api", "PostgreSQL", "Kafka", "mds-consumer", "client"},
			func() loadResult { return wrk(t, url, seconds) })
		after := readAnswers(t, shared, symbol, provider)
		a := after.since(before)
		if a.failed != 0 {
			t.Errorf("%.0f requests failed", a.failed)
		}
		elapsed := after.at.Sub(before.at)
		t.Logf("run %d of %d: %.0f req/s, p50 %v, p99 %v; %d requests: %.0f provider calls, %.0f shared, %.0f from memory; %d prices stored in %v",
			i+1, runs, r.rps, r.p50, r.p99, r.requests, a.call, a.shared, a.recent, a.stored, elapsed.Round(time.Millisecond))
		results = append(results, hotRun{r, a, elapsed})
	}
	// The run with the median p99, as medianRun keeps.
	sort.Slice(results, func(i, j int) bool { return results[i].load.p99 < results[j].load.p99 })
	hot := results[len(results)/2]
	r, a := hot.load, hot.answers
	addRow(fmt.Sprintf("Hot symbol over REST with max_age=1 (wrk, 64 connections, one symbol; median of %d runs)", runs),
		fmt.Sprintf("%.0f req/s, p50 %v, p99 %v; %d requests in %.1f s made %.0f provider calls (%.2f a second) and stored %d prices; "+
			"answered %.0f from memory, %.0f by sharing a call; CPU per request, µs: %s",
			r.rps, r.p50, r.p99, r.requests, hot.elapsed.Seconds(), a.call, a.call/hot.elapsed.Seconds(), a.stored,
			a.recent, a.shared, r.cpu.String()),
		fmt.Sprintf("trivial Go handler: %.0f req/s, p99 %v", base.rps, base.p99),
		fmt.Sprintf("%.2f of trivial", r.rps/base.rps), "≤ 1 provider call and 1 stored price a second")
	if perSecond := a.call / hot.elapsed.Seconds(); perSecond > 1.2 {
		t.Errorf("%.0f provider calls in %v (%.2f a second) for one symbol with max_age=1", a.call, hot.elapsed, perSecond)
	}

	// The load of LatestPrice's gRPC row (h2load, 64 calls in flight, the one request body of
	// AAPL without max_age): how many of its calls reach the provider and store a price.
	before := readAnswers(t, shared, symbol, provider)
	g := h2loadGRPC(t, shared.apiAddr, shared.apiMetrics, seconds)
	ga := readAnswers(t, shared, symbol, provider).since(before)
	t.Logf("LatestPrice's gRPC load on %s without max_age: %.0f calls/s, p99 %v; %d calls made %.0f provider calls "+
		"(%.1f calls each) and stored %d prices; %.0f shared a call, %.0f from memory",
		symbol, g.rps, g.p99, g.requests, ga.call, float64(g.requests)/ga.call, ga.stored, ga.shared, ga.recent)
}
