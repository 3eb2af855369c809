package e2e

// Raw replies over time: mds-api makes time partitions ahead and removes those past
// RAW_RETENTION, with minute partitions standing in for days.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestRawRepliesArePartitionedAheadAndRemovedPastTheirRetention(t *testing.T) {
	s, cleanup, err := startStack("retention", "PARTITION_INTERVAL=1m", "PARTITIONS_AHEAD=3",
		"RAW_RETENTION=2m")
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	ahead := `mds_partitions_ahead{table="raw_market_data"}`
	waitUntil(t, 30*time.Second, "three partitions ahead", func() bool {
		return metricValue(s.apiMetrics, ahead) >= 3
	})

	// A reply is stored in the partition of the minute it was stored in.
	if code, body := send(t, s.restURL, "GET", "/api/v1/prices/latest?symbol=RET1", ""); code != 200 {
		t.Fatalf("latest price: %d %v", code, body)
	}
	var partition string
	if err := queryDBAt(t, s.databaseURL, `SELECT CAST(tableoid::regclass AS TEXT) FROM raw_market_data
		WHERE symbol = 'RET1' AND fetched_at > now() - interval '1 minute'`).Scan(&partition); err != nil {
		t.Fatal(err)
	}
	want := "raw_market_data_p" + time.Now().UTC().Format("20060102_1504")
	prev := "raw_market_data_p" + time.Now().UTC().Add(-time.Minute).Format("20060102_1504")
	if partition != want+"00" && partition != prev+"00" {
		t.Errorf("the reply is in %s, not in the partition of its minute (%s00)", partition, want)
	}

	// A partition an hour old, holding a reply, is removed by the next maintenance run.
	old := time.Now().UTC().Add(-time.Hour).Truncate(time.Minute)
	name := "raw_market_data_p" + old.Format("20060102_150405")
	bound := func(t time.Time) string { return t.Format("2006-01-02 15:04:05+00") }
	dbDo(t, s.databaseURL, func(ctx context.Context, conn *pgx.Conn) error {
		tx, err := conn.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		for _, sql := range []string{
			fmt.Sprintf("CREATE TABLE %s (LIKE raw_market_data INCLUDING DEFAULTS)", name),
			fmt.Sprintf("ALTER TABLE raw_market_data ATTACH PARTITION %s FOR VALUES FROM ('%s') TO ('%s')",
				name, bound(old), bound(old.Add(time.Minute))),
			fmt.Sprintf("INSERT INTO raw_market_data (symbol, provider, response, fetched_at) "+
				"VALUES ('OLD1', 'test', '{}', '%s')", bound(old.Add(time.Second))),
		} {
			if _, err := tx.Exec(ctx, sql); err != nil {
				return fmt.Errorf("%s: %w", sql, err)
			}
		}
		return tx.Commit(ctx)
	})
	waitUntil(t, 60*time.Second, "the expired partition to be removed", func() bool {
		var n int
		if err := queryDBAt(t, s.databaseURL, `SELECT count(*) FROM pg_class WHERE relname = $1`,
			name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 0
	})
	if v := metricValue(s.apiMetrics, `mds_partitions_dropped_total{table="raw_market_data"}`); v < 1 {
		t.Errorf("mds_partitions_dropped_total is %v after a removal", v)
	}
	if v := metricValue(s.apiMetrics, "mds_partition_maintenance_last_success_timestamp_seconds"); v < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("last successful maintenance at %v", v)
	}
	// The price itself is still served: only its raw reply ages out.
	if code, body := send(t, s.restURL, "GET", "/api/v1/prices/latest?symbol=RET1", ""); code != 200 {
		t.Fatalf("latest price after the removal: %d %v", code, body)
	}
}
