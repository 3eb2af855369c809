//go:build bench

package e2e

// Latency at low load: what one request costs when nothing queues, beside the floor a durable
// price cannot go below, one INSERT and its COMMIT over one connection to the same PostgreSQL.

import (
	"context"
	"fmt"
	"sort"
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
	for _, load := range []struct {
		threads, connections int
		what, target         string
	}{
		{1, 1, "1 connection", "p50 ≤ 1.5× the commit"},
		{2, 8, "8 connections", "beside the commit"},
	} {
		r := wrkWith(t, url, seconds, load.threads, load.connections)
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
	return loadResult{requests: len(latencies),
		p50: latencies[len(latencies)/2].Round(10 * time.Microsecond),
		p99: latencies[len(latencies)*99/100].Round(10 * time.Microsecond)}
}
