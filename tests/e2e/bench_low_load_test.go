//go:build bench

package e2e

// Latency at low load: what one request costs when nothing queues, beside the floor a durable
// price cannot go below, one INSERT and its COMMIT over one connection to the same PostgreSQL.

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestBenchLatencyAtLowLoad(t *testing.T) {
	seconds := envInt("MDS_BENCH_SECONDS", 10)
	commit := bareCommits(t, shared.databaseURL, seconds)
	url := shared.restURL + "/api/v1/prices/latest?symbol=LOWLOAD&provider=test"
	warmUpUntilSteady(t, url)
	floor := fmt.Sprintf("bare durable commit (one INSERT and COMMIT over one connection): p50 %v, p99 %v",
		commit.p50, commit.p99)
	gatewayMetrics := strings.TrimPrefix(shared.restURL, "http://")
	for _, load := range []struct {
		threads, connections int
		what, target         string
	}{
		{1, 1, "1 connection", "p50 ≤ 1.5× the commit"},
		{2, 8, "8 connections", "beside the commit"},
	} {
		gatewayBefore := scrapeMean(gatewayMetrics, "gateway_http_request_duration_seconds", `route="/api/v1/prices/latest",status="200"`)
		apiBefore := scrapeMean(shared.apiMetrics, "grpc_server_handling_seconds", `grpc_method="GetLatestPrice"`)
		r := wrkWith(t, url, seconds, load.threads, load.connections)
		gateway := scrapeMean(gatewayMetrics, "gateway_http_request_duration_seconds", `route="/api/v1/prices/latest",status="200"`).since(gatewayBefore)
		api := scrapeMean(shared.apiMetrics, "grpc_server_handling_seconds", `grpc_method="GetLatestPrice"`).since(apiBefore)
		if load.connections == 1 {
			// Where one request's time goes, from the means each hop measures: the client's view,
			// the gateway's (from its request to its response), mds-api's (from the call's start
			// to its status, the commit included).
			addRow("Where a request's time goes at 1 connection (means over the same run)",
				fmt.Sprintf("client %v = network and HTTP %v + gateway and its gRPC hop %v + mds-api %v",
					r.mean.Round(time.Microsecond), (r.mean-gateway).Round(time.Microsecond),
					(gateway-api).Round(time.Microsecond), api.Round(time.Microsecond)),
				fmt.Sprintf("bare durable commit: mean %v", commit.mean.Round(time.Microsecond)),
				fmt.Sprintf("mds-api %.1f× the commit", float64(api)/float64(commit.mean)), "where the time goes")
		}
		addRow("Latest price over REST at low load (wrk, "+load.what+"; each request stores and publishes)",
			fmt.Sprintf("%.0f req/s, p50 %v, p99 %v", r.rps, r.p50, r.p99), floor,
			fmt.Sprintf("p50 %.1f× the commit", float64(r.p50)/float64(commit.p50)), load.target)
	}
}

// bareCommits inserts one row at a time, each its own transaction, into a table of its own for
// `seconds`, and gives the latency of each INSERT and COMMIT.
func bareCommits(t *testing.T, databaseURL string, seconds int) loadResult {
	t.Helper()
	var latencies []time.Duration
	dbDo(t, databaseURL, func(ctx context.Context, conn *pgx.Conn) error {
		latencies = latencies[:0]
		if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS bench_bare_commit
			(id BIGSERIAL PRIMARY KEY, symbol TEXT NOT NULL, price DOUBLE PRECISION NOT NULL,
			 ts TIMESTAMPTZ NOT NULL)`); err != nil {
			return err
		}
		defer conn.Exec(context.Background(), "DROP TABLE IF EXISTS bench_bare_commit")
		deadline := time.Now().Add(time.Duration(seconds) * time.Second)
		for time.Now().Before(deadline) {
			began := time.Now()
			if _, err := conn.Exec(ctx, "INSERT INTO bench_bare_commit (symbol, price, ts) VALUES ($1, $2, now())",
				"LOWLOAD", 180.1); err != nil {
				return err
			}
			latencies = append(latencies, time.Since(began))
		}
		return nil
	})
	if len(latencies) == 0 {
		t.Fatal("no commit measured")
	}
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	var total time.Duration
	for _, l := range latencies {
		total += l
	}
	return loadResult{requests: len(latencies), mean: total / time.Duration(len(latencies)),
		p50: latencies[len(latencies)/2].Round(10 * time.Microsecond),
		p99: latencies[len(latencies)*99/100].Round(10 * time.Microsecond)}
}

// histogramTotals: a histogram's _sum and _count over the series whose labels contain a text.
type histogramTotals struct{ sum, count float64 }

func scrapeMean(addr, metric, labels string) histogramTotals {
	var h histogramTotals
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return h
	}
	defer resp.Body.Close()
	scanner := bufio.NewScanner(resp.Body)
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for scanner.Scan() {
		line := scanner.Text()
		if !strings.Contains(line, labels) {
			continue
		}
		value := func() float64 {
			v, _ := strconv.ParseFloat(line[strings.LastIndex(line, " ")+1:], 64)
			return v
		}
		switch {
		case strings.HasPrefix(line, metric+"_sum{"):
			h.sum += value()
		case strings.HasPrefix(line, metric+"_count{"):
			h.count += value()
		}
	}
	return h
}

// since: the mean of what was observed after `before`.
func (h histogramTotals) since(before histogramTotals) time.Duration {
	n := h.count - before.count
	if n <= 0 {
		return 0
	}
	return time.Duration((h.sum - before.sum) / n * float64(time.Second))
}
