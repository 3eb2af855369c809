//go:build bench

package e2e

import (
	"context"
	"fmt"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestBenchLifecycle: data over "days", one-minute partitions standing in for days.
//   - Disk: 1,000 prices a second from polling (20 jobs of 50 symbols every second, a fixed
//     rate) for 20 "days", prices and averages kept 8 "days" (LATE_PRICE_WINDOW 7), raw replies
//     4. Once the retention windows are full, the size of each table and of the whole database,
//     read at the same point of each "day" (its peak, which a removal then cuts back), stays
//     within ±10%.
//   - Stalls: then, on top, the latest-price load (wrk, 64 connections, in 10 s runs) and a report
//     reading raw_market_data in 5 s transactions, back to back: the p99 of the runs during which
//     a partition was removed stays near that of the runs without one (a plain DROP behind such
//     a report stalled writers for 2.97 s).
func TestBenchLifecycle(t *testing.T) {
	retention := envInt("MDS_BENCH_LIFECYCLE_RETENTION_MINUTES", 4)
	priceRetention := envInt("MDS_BENCH_LIFECYCLE_PRICE_RETENTION_MINUTES", 8)
	s, cleanup, err := startStack("bench_lifecycle", "PARTITION_INTERVAL=1m", "PARTITIONS_AHEAD=3",
		fmt.Sprintf("RAW_RETENTION=%dm", retention),
		fmt.Sprintf("LATE_PRICE_WINDOW=%dm", priceRetention-1),
		fmt.Sprintf("PRICE_RETENTION=%dm", priceRetention),
		"POLLING_RUNNERS=32", "DATABASE_POOL_SIZE=32")
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	tables := []string{"raw_market_data", "price_points", "moving_averages"}
	sizes := func() map[string]int64 {
		out := map[string]int64{}
		for _, table := range tables {
			var n int64
			if err := queryDBAt(t, s.databaseURL, `SELECT coalesce(sum(pg_total_relation_size(inhrelid)), 0)
				FROM pg_inherits WHERE inhparent = $1::regclass`, table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			out[table] = n
		}
		var n int64
		if err := queryDBAt(t, s.databaseURL, `SELECT pg_database_size(current_database())`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out["the whole database"] = n
		return out
	}

	// Disk at a fixed rate.
	createPollingScaleJobs(t, s.restURL, "L")
	fill := time.Duration(max(retention, priceRetention)+2) * time.Minute
	days := envInt("MDS_BENCH_LIFECYCLE_DAYS", 20)
	start := time.Now()
	peaks := map[string]map[int64]int64{} // what -> minute -> largest size read in it
	for time.Since(start) < time.Duration(days)*time.Minute {
		time.Sleep(5 * time.Second) // sampling period, not synchronisation
		if time.Since(start) < fill {
			continue
		}
		minute := time.Now().Unix() / 60
		for what, size := range sizes() {
			if peaks[what] == nil {
				peaks[what] = map[int64]int64{}
			}
			if size > peaks[what][minute] {
				peaks[what][minute] = size
			}
		}
	}
	var points int
	if err := queryDBAt(t, s.databaseURL, "SELECT count(*) FROM price_points WHERE ts > now() - interval '1 minute'").Scan(&points); err != nil {
		t.Fatal(err)
	}
	for _, what := range append(append([]string{}, tables...), "the whole database") {
		var minutes []int64
		for m := range peaks[what] {
			minutes = append(minutes, m)
		}
		sort.Slice(minutes, func(i, j int) bool { return minutes[i] < minutes[j] })
		if len(minutes) < 3 {
			t.Fatalf("sizes read in %d minutes only", len(minutes))
		}
		// Whole minutes only: the first and last may be partly sampled.
		lo, hi := int64(-1), int64(0)
		for _, m := range minutes[1 : len(minutes)-1] {
			fmt.Printf("  %s, \"day\" %d: peak size %d MB\n", what, m, peaks[what][m]>>20)
			if lo < 0 || peaks[what][m] < lo {
				lo = peaks[what][m]
			}
			if peaks[what][m] > hi {
				hi = peaks[what][m]
			}
		}
		mid := float64(lo+hi) / 2
		addRow(fmt.Sprintf("Lifecycle, disk: %s, 1,000 symbols polled every second for %d one-minute \"days\" (%d prices in the last one); prices and averages kept %d \"days\", raw replies %d",
			what, days, points, priceRetention, retention),
			fmt.Sprintf("peak size per \"day\" over %d whole \"days\" once the windows were full: %d–%d MB", len(minutes)-2, lo>>20, hi>>20),
			fmt.Sprintf("their middle, %.0f MB", mid/(1<<20)),
			fmt.Sprintf("±%.1f%%", 100*float64(hi-lo)/2/mid), "within ±10%")
	}

	// Stalls: the latest-price load and 5 s reports on top.
	url := s.restURL + "/api/v1/prices/latest?symbol=AAPL&provider=test"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var reports atomic.Int64
	reportDone := make(chan struct{})
	go func() {
		defer close(reportDone)
		conn, err := pgx.Connect(ctx, s.databaseURL)
		if err != nil {
			return
		}
		defer conn.Close(context.Background())
		for ctx.Err() == nil {
			tx, err := conn.Begin(ctx)
			if err != nil {
				return
			}
			var n int64
			_ = tx.QueryRow(ctx, "SELECT count(*) FROM raw_market_data").Scan(&n)
			_, _ = tx.Exec(ctx, "SELECT pg_sleep(5)")
			_ = tx.Commit(ctx)
			reports.Add(1)
		}
	}()
	dropped := `mds_partitions_dropped_total{table="raw_market_data"}`
	measure := time.Duration(envInt("MDS_BENCH_LIFECYCLE_MEASURE_MINUTES", 4)) * time.Minute
	var withDrop, without []time.Duration
	var requests int
	for begin := time.Now(); time.Since(begin) < measure; {
		before := metricValue(s.apiMetrics, dropped)
		r := wrk(t, url, 10)
		after := metricValue(s.apiMetrics, dropped)
		requests += r.requests
		if after > before {
			withDrop = append(withDrop, r.p99)
		} else {
			without = append(without, r.p99)
		}
		fmt.Printf("  run: %.0f/s p99 %v, removal %v\n", r.rps, r.p99, after > before)
	}
	cancel()
	<-reportDone
	if len(withDrop) == 0 || len(without) == 0 {
		t.Fatalf("runs with a removal: %d, without: %d; no comparison", len(withDrop), len(without))
	}
	median := func(d []time.Duration) time.Duration {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return d[len(d)/2]
	}
	addRow(fmt.Sprintf("Lifecycle, stalls: latest price (wrk, 64 connections, 10 s runs) beside the polling, with 5 s reports over the raw table (%d reports, %d requests)",
		reports.Load(), requests),
		fmt.Sprintf("p99 of runs with a partition removal %v (median of %d)", median(withDrop), len(withDrop)),
		fmt.Sprintf("runs without one: %v (median of %d)", median(without), len(without)),
		fmt.Sprintf("%.2f × p99", float64(median(withDrop))/float64(median(without))), "≤ 2×")
}
