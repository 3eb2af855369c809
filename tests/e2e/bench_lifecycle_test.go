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

// TestBenchLifecycle: raw replies over "days", one-minute partitions standing in for days, kept
// RAW_RETENTION "days". Under the latest-price load (wrk, 64 connections, in 10 s runs) and a
// report that reads raw_market_data in 5 s transactions, back to back:
//   - the raw table's size levels off once the retention window is full (read at the same point
//     of each "day", its peak, which a removal then cuts back);
//   - the p99 of the runs during which a partition was removed stays near that of the runs
//     without one (a plain DROP behind such a report stalled writers for 2.97 s).
func TestBenchLifecycle(t *testing.T) {
	retention := envInt("MDS_BENCH_LIFECYCLE_RETENTION_MINUTES", 4)
	s, cleanup, err := startStack("bench_lifecycle", "PARTITION_INTERVAL=1m", "PARTITIONS_AHEAD=3",
		fmt.Sprintf("RAW_RETENTION=%dm", retention))
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	url := s.restURL + "/api/v1/prices/latest?symbol=AAPL&provider=test"
	warmUpUntilSteady(t, url)

	// The report: 5 s transactions over the whole table, one after the other.
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
	rawBytes := func() int64 {
		var n int64
		if err := queryDBAt(t, s.databaseURL, `SELECT coalesce(sum(pg_total_relation_size(inhrelid)), 0)
			FROM pg_inherits WHERE inhparent = 'raw_market_data'::regclass`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Runs until the window has filled and then as many "days" again.
	fill := time.Duration(retention+2) * time.Minute
	measure := time.Duration(envInt("MDS_BENCH_LIFECYCLE_MEASURE_MINUTES", 5)) * time.Minute
	start := time.Now()
	peaks := map[int64]int64{} // minute -> largest size read in it
	var withDrop, without []time.Duration
	var requests int
	for time.Since(start) < fill+measure {
		before := metricValue(s.apiMetrics, dropped)
		r := wrk(t, url, 10)
		after := metricValue(s.apiMetrics, dropped)
		size := rawBytes()
		if time.Since(start) < fill {
			continue
		}
		requests += r.requests
		minute := time.Now().Unix() / 60
		if size > peaks[minute] {
			peaks[minute] = size
		}
		if after > before {
			withDrop = append(withDrop, r.p99)
		} else {
			without = append(without, r.p99)
		}
		fmt.Printf("  run: %.0f/s p99 %v, raw %d MB, dropped %v\n", r.rps, r.p99, size>>20, after > before)
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
	// Whole minutes only: the first and last may be partly measured.
	var minutes []int64
	for m := range peaks {
		minutes = append(minutes, m)
	}
	sort.Slice(minutes, func(i, j int) bool { return minutes[i] < minutes[j] })
	if len(minutes) < 3 {
		t.Fatalf("sizes read in %d minutes only", len(minutes))
	}
	lo, hi := int64(-1), int64(0)
	for _, m := range minutes[1 : len(minutes)-1] {
		if lo < 0 || peaks[m] < lo {
			lo = peaks[m]
		}
		if peaks[m] > hi {
			hi = peaks[m]
		}
	}
	mid := float64(lo+hi) / 2
	addRow(fmt.Sprintf("Lifecycle: raw replies kept %d one-minute \"days\" under latest-price load and 5 s reports (%d reports, %d requests measured)",
		retention, reports.Load(), requests),
		fmt.Sprintf("peak raw size per \"day\" over %d whole \"days\": %d–%d MB (±%.1f%%); p99 of runs with a removal %v (median of %d)",
			len(minutes)-2, lo>>20, hi>>20, 100*float64(hi-lo)/2/mid, median(withDrop), len(withDrop)),
		fmt.Sprintf("p99 of runs without one %v (median of %d)", median(without), len(without)),
		fmt.Sprintf("%.2f × p99", float64(median(withDrop))/float64(median(without))),
		"disk within ±10%; p99 ≤ 2×")
}
