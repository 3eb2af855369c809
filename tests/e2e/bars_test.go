package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	mdv1 "marketdata/gateway/gen/marketdata/v1"
)

type barKey struct {
	symbol  string
	seconds int
	startUS int64
}

type barRow struct {
	open, high, low, close float64
	count                  int64
	volume                 *float64
}

func (b barRow) String() string {
	v := "null"
	if b.volume != nil {
		v = fmt.Sprint(*b.volume)
	}
	return fmt.Sprintf("o %v h %v l %v c %v n %d v %s", b.open, b.high, b.low, b.close, b.count, v)
}

func sameBar(a, b barRow) bool {
	if (a.volume == nil) != (b.volume == nil) || (a.volume != nil && *a.volume != *b.volume) {
		return false
	}
	return a.open == b.open && a.high == b.high && a.low == b.low && a.close == b.close && a.count == b.count
}

// barsQuery reads bars: the stored table, or the definition computed by PostgreSQL itself
// (date_bin over price_points, open and close by (ts, id)).
func barsQuery(t *testing.T, databaseURL, sql string) map[barKey]barRow {
	t.Helper()
	out := map[barKey]barRow{}
	dbDo(t, databaseURL, func(ctx context.Context, conn *pgx.Conn) error {
		rows, err := conn.Query(ctx, sql)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k barKey
			var r barRow
			if err := rows.Scan(&k.symbol, &k.seconds, &k.startUS, &r.open, &r.high, &r.low, &r.close, &r.count, &r.volume); err != nil {
				return err
			}
			out[k] = r
		}
		return rows.Err()
	})
	return out
}

const storedBarsSQL = `SELECT symbol, interval_seconds, CAST(extract(epoch FROM bucket_start) * 1000000 AS BIGINT),
	open, high, low, close, price_count, volume FROM bars`

func referenceBarsSQL(intervals string) string {
	return `SELECT p.symbol, s.secs, CAST(extract(epoch FROM date_bin(s.secs * interval '1 second', p.ts, timestamptz 'epoch')) * 1000000 AS BIGINT),
		(array_agg(p.price ORDER BY p.ts, p.id))[1], max(p.price), min(p.price),
		(array_agg(p.price ORDER BY p.ts DESC, p.id DESC))[1], count(*), sum(p.volume)
	FROM price_points p CROSS JOIN unnest(ARRAY[` + intervals + `]) AS s(secs)
	GROUP BY 1, 2, 3`
}

// TestBarsAreExactUnderDisorderRepeatsAndKills: 100,000 events over 100 symbols reach the
// consumer out of order and 2% of them twice, while it is SIGKILLed twice; every bar of every
// interval then equals PostgreSQL's own computation over price_points.
func TestBarsAreExactUnderDisorderRepeatsAndKills(t *testing.T) {
	const n, symbols = 100000, 100
	s := startFaultStack(t, faultStackOptions{prefix: "bars", env: []string{"BAR_INTERVALS=1m,5m,1h", "MOVING_AVERAGE_WINDOWS=5"}})
	at := pricePointSeries("BR", n, symbols)
	volume := func(i int) *float64 {
		if i%7 == 0 {
			return nil // a provider that reports none
		}
		v := float64(100 * (1 + i%50))
		return &v
	}
	dbDo(t, s.databaseURL, func(ctx context.Context, conn *pgx.Conn) error {
		i := 0
		_, err := conn.CopyFrom(ctx, pgx.Identifier{"price_points"}, []string{"id", "symbol", "price", "ts", "provider", "volume"},
			pgx.CopyFromFunc(func() ([]any, error) {
				if i == n {
					return nil, nil
				}
				p := at(i)
				v := volume(i)
				i++
				return []any{p.id, p.symbol, p.price, p.ts, "test", v}, nil
			}))
		if err != nil {
			return err
		}
		_, err = conn.Exec(ctx, fmt.Sprintf("SELECT setval('price_points_id_seq', %d)", n))
		return err
	})
	// Arrival order: blocks of 64 prices of each symbol reversed (late and early events within
	// each symbol's partition), and 2% of the events once more, later.
	order := make([]int, 0, n+n/50)
	const block = 64 * symbols
	for from := 0; from < n; from += block {
		to := min(n, from+block)
		for i := to - 1; i >= from; i-- {
			order = append(order, i)
		}
	}
	random := rand.New(rand.NewSource(11))
	for i := 0; i < n/50; i++ {
		pos := random.Intn(len(order))
		order = append(order, order[random.Intn(pos+1)])
	}
	client := kafkaClient(t, kgo.ProducerLinger(5*time.Millisecond))
	record := func(i int) *kgo.Record {
		p := at(i)
		value, _ := proto.Marshal(&mdv1.PriceEvent{Symbol: p.symbol, Price: p.price, Timestamp: timestamppb.New(p.ts),
			Provider: "test", PricePointId: p.id, Volume: volume(i)})
		return &kgo.Record{Topic: s.topic, Key: []byte(p.symbol), Value: value,
			Headers: []kgo.RecordHeader{{Key: "content-type", Value: []byte("application/x-protobuf")}}}
	}
	consumer := s.consumer()
	began := time.Now()
	for part := 0; part < 10; part++ {
		from, to := part*len(order)/10, (part+1)*len(order)/10
		var records []*kgo.Record
		for _, i := range order[from:to] {
			records = append(records, record(i))
		}
		produce(t, client, records)
		if part == 3 || part == 6 {
			waitFor(t, 60*time.Second, "bars to be written", func() bool {
				return dbInt(t, s.databaseURL, "SELECT count(*) FROM bars") > 0
			})
			consumer.kill()
			if err := consumer.start(); err != nil {
				t.Fatal(err)
			}
		}
	}
	awaitConsumed(t, s, 5*time.Minute)
	t.Logf("%d events (%d repeated) with two kills consumed in %v", len(order), len(order)-n, time.Since(began).Round(time.Millisecond))

	want := barsQuery(t, s.databaseURL, referenceBarsSQL("60, 300, 3600"))
	got := barsQuery(t, s.databaseURL, storedBarsSQL)
	wrong, missing := 0, 0
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			missing++
		case !sameBar(g, w):
			if wrong < 5 {
				t.Errorf("bar %v: stored %v, want %v", k, g, w)
			}
			wrong++
		}
	}
	t.Logf("%d bars expected, %d stored: %d missing, %d wrong, %d unexpected; %d recomputed",
		len(want), len(got), missing, wrong, len(got)-len(want)+missing, int(metricValue(s.consumerMetrics, "mds_consumer_bars_recomputed_total")))
	if missing != 0 || wrong != 0 || len(got) != len(want) || len(want) < 100*(17+4+1) {
		t.Errorf("%d bars expected, %d stored: %d missing, %d wrong", len(want), len(got), missing, wrong)
	}
}

// TestBarsOverRESTAndGRPC: the same bars through the gateway and BarService, newest first and
// paged, a live stream, and the bad requests.
func TestBarsOverRESTAndGRPC(t *testing.T) {
	// Prices through the real path: the test provider reports a volume with each.
	for i := 0; i < 5; i++ {
		if code, body, _ := get(t, "GET", "/api/v1/prices/latest?symbol=BARS1"); code != 200 {
			t.Fatalf("latest: %d %v", code, body)
		}
	}
	var rest map[string]any
	waitFor(t, 30*time.Second, "the bar of BARS1 to hold 5 prices", func() bool {
		code, body, _ := get(t, "GET", "/api/v1/bars?symbol=bars1&interval=1h")
		rest = body
		bars, _ := body["bars"].([]any)
		if code != 200 || len(bars) == 0 {
			return false
		}
		n, _ := bars[0].(map[string]any)["price_count"].(string)
		return n == "5"
	})
	bar := rest["bars"].([]any)[0].(map[string]any)
	for _, field := range []string{"symbol", "interval", "start_time", "end_time", "open", "high", "low", "close", "price_count", "volume"} {
		if _, ok := bar[field]; !ok {
			t.Errorf("bar lacks %s: %v", field, bar)
		}
	}
	if bar["symbol"] != "BARS1" || bar["interval"] != "1h" || bar["volume"] == nil {
		t.Errorf("bar = %v", bar)
	}

	conn, err := grpc.NewClient(shared.consumerAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := mdv1.NewBarServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	listed, err := client.ListBars(ctx, &mdv1.ListBarsRequest{Symbol: "BARS1", Interval: "1h"})
	if err != nil || len(listed.Bars) == 0 || listed.Bars[0].PriceCount != 5 || listed.Bars[0].Open != bar["open"] {
		t.Errorf("gRPC ListBars: %v %v (REST open %v)", listed, err, bar["open"])
	}
	// Default interval (the first of BAR_INTERVALS, 1m) and paging.
	page, err := client.ListBars(ctx, &mdv1.ListBarsRequest{Symbol: "BARS1", Limit: 1})
	if err != nil || len(page.Bars) != 1 || page.Bars[0].Interval != "1m" {
		t.Errorf("default interval: %v %v", page, err)
	}

	stream, err := client.StreamBars(ctx, &mdv1.StreamBarsRequest{Symbols: []string{"BARS1"}, Interval: "5m"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Header(); err != nil {
		t.Fatal(err)
	}
	get(t, "GET", "/api/v1/prices/latest?symbol=BARS1")
	live, err := stream.Recv()
	if err != nil || live.Symbol != "BARS1" || live.Interval != "5m" || live.PriceCount < 1 {
		t.Errorf("live bar: %v %v", live, err)
	}

	for _, c := range []struct {
		path   string
		status int
		detail string
	}{
		{"/api/v1/bars", 422, "symbol"},
		{"/api/v1/bars?symbol=BARS1&interval=2w", 400, "interval"},
		{"/api/v1/bars?symbol=BARS1&interval=2m", 400, "not computed"},
		{"/api/v1/bars?symbol=no%20way", 400, "invalid symbol"},
		{"/api/v1/bars?symbol=BARS1&limit=1001", 400, "limit"},
		{"/api/v1/bars?symbol=BARS1&page_token=x", 400, "page_token"},
		{"/api/v1/bars/stream?symbols=BARS1&interval=7m", 400, "interval"},
	} {
		req, _ := http.NewRequest("GET", shared.restURL+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		if resp.StatusCode != c.status || !strings.Contains(fmt.Sprint(body["detail"]), c.detail) {
			t.Errorf("%s: %d %s, want %d mentioning %q", c.path, resp.StatusCode, raw, c.status, c.detail)
		}
	}
}

// TestSnapshotOfManySymbols: the stored price, averages and bars of several symbols in one call
// (REST and gRPC), unknown symbols listed apart, and no provider called.
func TestSnapshotOfManySymbols(t *testing.T) {
	for i := 0; i < 5; i++ {
		get(t, "GET", "/api/v1/prices/latest?symbol=SNAP1")
	}
	get(t, "GET", "/api/v1/prices/latest?symbol=SNAP2")
	path := "/api/v1/prices/snapshot?symbols=snap1,NOSUCH1&symbols=SNAP2"
	var body map[string]any
	waitFor(t, 30*time.Second, "SNAP1's averages and bars", func() bool {
		var code int
		code, body, _ = get(t, "GET", path)
		syms, _ := body["symbols"].([]any)
		if code != 200 || len(syms) != 2 {
			return false
		}
		first := syms[0].(map[string]any)
		averages, _ := first["averages"].([]any)
		bars, _ := first["bars"].([]any)
		return len(averages) == 2 && len(bars) == 3
	})
	syms := body["symbols"].([]any)
	first, second := syms[0].(map[string]any), syms[1].(map[string]any)
	if first["symbol"] != "SNAP1" || second["symbol"] != "SNAP2" {
		t.Errorf("order: %v", body)
	}
	if price, _ := first["price"].(map[string]any); price == nil || price["symbol"] != "SNAP1" || price["provider"] != "test" {
		t.Errorf("price: %v", first["price"])
	}
	if unknown, _ := body["unknown_symbols"].([]any); len(unknown) != 1 || unknown[0] != "NOSUCH1" {
		t.Errorf("unknown_symbols: %v", body["unknown_symbols"])
	}
	stored := dbInt(t, shared.databaseURL, "SELECT count(*) FROM price_points WHERE symbol IN ('SNAP1', 'NOSUCH1')")
	conn, err := grpc.NewClient(shared.apiAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	snap, err := mdv1.NewPriceServiceClient(conn).GetSnapshot(ctx, &mdv1.GetSnapshotRequest{Symbols: []string{"SNAP1", "NOSUCH1"}})
	if err != nil || len(snap.Symbols) != 1 || len(snap.Symbols[0].Averages) != 2 || len(snap.Symbols[0].Bars) != 3 ||
		len(snap.UnknownSymbols) != 1 {
		t.Errorf("gRPC GetSnapshot: %v %v", snap, err)
	}
	if after := dbInt(t, shared.databaseURL, "SELECT count(*) FROM price_points WHERE symbol IN ('SNAP1', 'NOSUCH1')"); after != stored {
		t.Errorf("a snapshot stored prices: %d before, %d after", stored, after)
	}
	many := make([]string, 101)
	for i := range many {
		many[i] = fmt.Sprintf("S%d", i)
	}
	for _, c := range []struct {
		path   string
		status int
	}{
		{"/api/v1/prices/snapshot", 422},
		{"/api/v1/prices/snapshot?symbols=" + strings.Join(many, ","), 400},
		{"/api/v1/prices/snapshot?symbols=no%20way", 400},
	} {
		if code, body, _ := get(t, "GET", c.path); code != c.status {
			t.Errorf("%s: %d %v, want %d", c.path, code, body, c.status)
		}
	}
}
