package e2e

// Data over time: mds-api makes time partitions ahead and removes those past RAW_RETENTION and
// PRICE_RETENTION, with minute partitions standing in for days; quotes older than
// LATE_PRICE_WINDOW are answered but not stored, and the consumer skips such events.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestRawRepliesArePartitionedAheadAndRemovedPastTheirRetention(t *testing.T) {
	s, cleanup, err := startStack("retention", "PARTITION_INTERVAL=1m", "PARTITIONS_AHEAD=3",
		"RAW_RETENTION=2m", "LATE_PRICE_WINDOW=5m", "PRICE_RETENTION=8m")
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	for _, table := range []string{"raw_market_data", "price_points", "moving_averages"} {
		ahead := `mds_partitions_ahead{table="` + table + `"}`
		waitFor(t, 30*time.Second, "three partitions ahead of "+table, func() bool {
			return metricValue(s.apiMetrics, ahead) >= 3
		})
	}

	// A reply is stored in the partition of the minute it was stored in.
	if code, body := send(t, s.restURL, "GET", "/api/v1/prices/latest?symbol=RET1", ""); code != 200 {
		t.Fatalf("latest price: %d %v", code, body)
	}
	var partition string
	if err := queryDBAt(t, s.databaseURL, `SELECT CAST(r.tableoid::regclass AS TEXT) FROM raw_market_data r
		JOIN price_points p ON r.id = p.raw_response_id
		WHERE p.symbol = 'RET1' AND r.fetched_at > now() - interval '1 minute'`).Scan(&partition); err != nil {
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
	waitFor(t, 60*time.Second, "the expired partition to be removed", func() bool {
		var n int
		if err := queryDBAt(t, s.databaseURL, `SELECT count(*) FROM pg_class WHERE relname = $1`,
			name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 0
	})
	// The run counts what it removed once it has listed the table again, just after the DROP.
	waitFor(t, 30*time.Second, "the removal to be counted", func() bool {
		return metricValue(s.apiMetrics, `mds_partitions_dropped_total{table="raw_market_data"}`) >= 1
	})
	if v := metricValue(s.apiMetrics, "mds_partition_maintenance_last_success_timestamp_seconds"); v < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("last successful maintenance at %v", v)
	}
	// The price itself is still served: only its raw reply ages out.
	if code, body := send(t, s.restURL, "GET", "/api/v1/prices/latest?symbol=RET1", ""); code != 200 {
		t.Fatalf("latest price after the removal: %d %v", code, body)
	}
}

// Prices are partitioned by their own time and kept PRICE_RETENTION; a quote older than the late
// window is answered but neither stored nor published; the consumer skips an event that old.
func TestPricesOverTimeAndTheLateWindow(t *testing.T) {
	s, cleanup, err := startStack("latewindow", "PARTITION_INTERVAL=1m", "PARTITIONS_AHEAD=3",
		"RAW_RETENTION=2m", "LATE_PRICE_WINDOW=2m", "PRICE_RETENTION=3m")
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	waitFor(t, 30*time.Second, "partitions of price_points ahead", func() bool {
		return metricValue(s.apiMetrics, `mds_partitions_ahead{table="price_points"}`) >= 3
	})
	// The partitions reach back over the late window (2 minutes and one more).
	var behind int
	if err := queryDBAt(t, s.databaseURL, `SELECT count(*) FROM pg_inherits
		WHERE inhparent = 'price_points'::regclass`).Scan(&behind); err != nil {
		t.Fatal(err)
	}
	if behind < 3+1+3 {
		t.Errorf("price_points has %d partitions, fewer than the late window's, now's and 3 ahead", behind)
	}

	// A price lands in the partition of its own minute.
	if code, body := send(t, s.restURL, "GET", "/api/v1/prices/latest?symbol=LATE1", ""); code != 200 {
		t.Fatalf("latest price: %d %v", code, body)
	}
	var partition string
	var ts time.Time
	if err := queryDBAt(t, s.databaseURL, `SELECT CAST(tableoid::regclass AS TEXT), ts FROM price_points
		WHERE symbol = 'LATE1'`).Scan(&partition, &ts); err != nil {
		t.Fatal(err)
	}
	if want := "price_points_p" + ts.UTC().Format("20060102_1504") + "00"; partition != want {
		t.Errorf("the price of %v is in %s, not %s", ts, partition, want)
	}

	// A delisted symbol's last quote, years old: answered, not stored, counted.
	code, body := send(t, s.restURL, "GET", "/api/v1/prices/latest?symbol=DELISTED&provider=alpha_vantage", "")
	if code != 200 || body["price"] != 185.92 {
		t.Fatalf("an old quote: %d %v", code, body)
	}
	var stored int
	if err := queryDBAt(t, s.databaseURL, `SELECT count(*) FROM price_points WHERE symbol = 'DELISTED'`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != 0 {
		t.Errorf("a quote older than the late window was stored (%d rows)", stored)
	}
	if v := metricValue(s.apiMetrics, `mds_prices_not_stored_total{reason="too_old"}`); v != 1 {
		t.Errorf("mds_prices_not_stored_total{reason=\"too_old\"} is %v, want 1", v)
	}
	if code, body := send(t, s.restURL, "GET", "/api/v1/prices/history?symbol=DELISTED", ""); code != 200 ||
		len(body["prices"].([]any)) != 0 {
		t.Errorf("history of an unstored quote: %d %v", code, body)
	}

	// An event older than the consumer's late window (a replay from long ago) is skipped and
	// counted; one inside it is averaged.
	client := kafkaClient(t)
	produce(t, client, []*kgo.Record{
		eventRecord(s.topic, point{id: 900000001, symbol: "SEALED", price: 5, ts: time.Now().Add(-time.Hour)}),
		eventRecord(s.topic, point{id: 900000002, symbol: "SEALED", price: 7, ts: time.Now().Add(-30 * time.Second)}),
	})
	waitFor(t, 60*time.Second, "the sealed event to be counted", func() bool {
		return metricValue(s.consumerMetrics, "mds_consumer_sealed_events_total") >= 1
	})
	waitFor(t, 60*time.Second, "the event inside the window to be averaged", func() bool {
		var n int
		if err := queryDBAt(t, s.databaseURL, `SELECT count(*) FROM moving_averages
			WHERE symbol = 'SEALED' AND price_point_id = 900000002`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n > 0 || metricValue(s.consumerMetrics, "mds_consumer_events_total") >= 2
	})
	var sealed int
	if err := queryDBAt(t, s.databaseURL, `SELECT count(*) FROM moving_averages
		WHERE price_point_id = 900000001`).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if sealed != 0 {
		t.Errorf("an event older than the late window was averaged")
	}
	if v := metricValue(s.consumerMetrics, "mds_consumer_dead_letters_total"); v > 0 {
		t.Errorf("%v events dead-lettered; a sealed one is skipped, not parked", v)
	}

	// A price partition past PRICE_RETENTION goes whole, its averages' partition too.
	var oldest string
	waitFor(t, 4*time.Minute, "a price partition to be removed", func() bool {
		return metricValue(s.apiMetrics, `mds_partitions_dropped_total{table="price_points"}`) >= 1 &&
			metricValue(s.apiMetrics, `mds_partitions_dropped_total{table="moving_averages"}`) >= 1
	})
	if err := queryDBAt(t, s.databaseURL, `SELECT min(c.relname) FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'price_points'::regclass`).Scan(&oldest); err != nil {
		t.Fatal(err)
	}
	limit := "price_points_p" + time.Now().UTC().Add(-4*time.Minute).Format("20060102_1504") + "00"
	if oldest < limit {
		t.Errorf("the oldest price partition %s is older than PRICE_RETENTION allows (%s)", oldest, limit)
	}
}
