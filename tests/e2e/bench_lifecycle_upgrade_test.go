//go:build bench

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestBenchLifecycleUpgrade: a database as the release before time partitions left it
// (`mds-api migrate --to 11`), holding 10,000,000 prices with an average and a bar each, is
// upgraded by `mds-api migrate` while four writers store prices as fast as they can, each price
// with its outbox row in one transaction, as the service does. The migrations that partition
// prices, averages and bars must each hold their locks well under 100 ms, and no write may fail.
func TestBenchLifecycleUpgrade(t *testing.T) {
	apiBin, err := binary("MDS_API_BIN")
	if err != nil {
		t.Fatal(err)
	}
	base, err := requiredEnv("MDS_TEST_DATABASE_URL")
	if err != nil {
		t.Fatal(err)
	}
	rows := envInt("MDS_BENCH_UPGRADE_PRICES", 10000000)
	name := fmt.Sprintf("bench_upgrade_%d", os.Getpid())
	if err := adminExec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	defer adminExec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
	url := withDatabase(base, name)
	migrate := func(args ...string) (string, time.Duration) {
		cmd := exec.Command(apiBin, append([]string{"migrate"}, args...)...)
		cmd.Env = []string{"DATABASE_URL=" + url, "LOG_FORMAT=text"}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		start := time.Now()
		if err := cmd.Run(); err != nil {
			t.Fatalf("mds-api migrate %v: %v\n%s", args, err, out.String())
		}
		return out.String(), time.Since(start)
	}
	migrate("--to", "11")

	dbDo(t, url, func(ctx context.Context, conn *pgx.Conn) error {
		for _, sql := range []string{
			fmt.Sprintf(`INSERT INTO price_points (symbol, price, ts, provider)
				SELECT 'S' || (g %% 1000), 100 + g %% 97, now() - g * interval '100 milliseconds', 'test'
				FROM generate_series(1, %d) g`, rows),
			`INSERT INTO moving_averages (symbol, window_size, value, ts, price_point_id)
				SELECT symbol, 5, price, ts, id FROM price_points`,
			`INSERT INTO bars SELECT symbol, 60, date_trunc('minute', ts), price, price, price, price, 1,
				NULL, ts, id, ts, id, id FROM price_points WHERE id % 600 = 0`,
			`VACUUM ANALYZE`,
		} {
			if _, err := conn.Exec(ctx, sql); err != nil {
				return fmt.Errorf("%s: %w", sql, err)
			}
		}
		return nil
	})

	// The writers: what SavePriceBatch does, one price a transaction.
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var latencies []time.Duration
	failures := 0
	var firstFailure error
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			conn, err := pgx.Connect(context.Background(), url)
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close(context.Background())
			for i := 0; ctx.Err() == nil; i++ {
				start := time.Now()
				_, err := conn.Exec(context.Background(), `WITH p AS (
					INSERT INTO price_points (symbol, price, ts, provider)
					VALUES ($1, 1, now() - interval '1 hour', 'test') RETURNING id, symbol, ts)
					INSERT INTO price_event_outbox (price_point_id, symbol, price_ts)
					SELECT id, symbol, ts FROM p`, fmt.Sprintf("W%d", w))
				mu.Lock()
				latencies = append(latencies, time.Since(start))
				if err != nil {
					failures++
					if firstFailure == nil {
						firstFailure = err
					}
				}
				mu.Unlock()
			}
		}(w)
	}
	log, took := migrate()
	time.Sleep(time.Second) // writes after the upgrade too: a sampling period, not synchronisation
	cancel()
	wg.Wait()

	transactions := map[string]string{}
	re := regexp.MustCompile(`applied migration (\d+_\w+) in (\S+)`)
	scanner := bufio.NewScanner(bytes.NewBufferString(log))
	var longest time.Duration
	for scanner.Scan() {
		if m := re.FindStringSubmatch(scanner.Text()); m != nil {
			transactions[m[1]] = m[2]
			if d, err := time.ParseDuration(m[2]); err == nil && d > longest {
				longest = d
			}
		}
	}
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	if len(latencies) == 0 {
		t.Fatal("no write ran")
	}
	p99 := latencies[len(latencies)*99/100]
	slowest := latencies[len(latencies)-1]
	fmt.Printf("  %s\n", log)
	if failures > 0 {
		t.Errorf("%d writes failed during the upgrade, the first: %v", failures, firstFailure)
	}
	if transactions["0012_price_time_partitions"] == "" || transactions["0013_bar_time_partitions"] == "" {
		t.Errorf("the upgrade applied %v, not 0012 and 0013 (and those after them):\n%s", transactions, log)
	}
	addRow(fmt.Sprintf("Lifecycle, upgrade: %d prices with an average each and their bars, partitioned by `mds-api migrate` (%s in all, preparation included) while 4 writers stored %d prices, %d of them failed",
		rows, took.Round(time.Second), len(latencies), failures),
		fmt.Sprintf("longest migration transaction %v (0012 prices and averages: %s; 0013 bars: %s)",
			longest, transactions["0012_price_time_partitions"], transactions["0013_bar_time_partitions"]),
		fmt.Sprintf("writes meanwhile: p99 %v, slowest %v", p99.Round(time.Microsecond), slowest.Round(time.Microsecond)),
		fmt.Sprintf("%.2f × 100 ms", float64(longest)/float64(100*time.Millisecond)), "< 100 ms held, no write fails")
}
