package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	mdv1 "marketdata/gateway/gen/marketdata/v1"
)

type averageKey struct {
	symbol string
	window int
	id     int64
}

type point struct {
	id     int64
	symbol string
	price  float64
	ts     time.Time
}

// insertPricePoints stores `perSymbol` prices for each symbol, one second apart, and returns
// them in the order they were generated (interleaved across symbols).
func insertPricePoints(t *testing.T, databaseURL string, symbols []string, perSymbol int) []point {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	base := time.Now().UTC().Truncate(time.Second).Add(-time.Duration(perSymbol) * time.Second)
	var names []string
	var prices []float64
	var stamps []time.Time
	for i := 0; i < perSymbol; i++ {
		for k, s := range symbols {
			names = append(names, s)
			// Irregular values so averages differ in their last bits.
			prices = append(prices, 100+float64((i*7919+k*104729)%10007)/97.0)
			stamps = append(stamps, base.Add(time.Duration(i)*time.Second))
		}
	}
	rows, err := conn.Query(ctx, `INSERT INTO price_points (symbol, price, ts, provider)
		SELECT * FROM unnest($1::text[], $2::float8[], $3::timestamptz[], $4::text[])
		RETURNING id, symbol, price, ts`, names, prices, stamps, repeat("test", len(names)))
	if err != nil {
		t.Fatal(err)
	}
	var out []point
	for rows.Next() {
		var p point
		if err := rows.Scan(&p.id, &p.symbol, &p.price, &p.ts); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	if len(out) != len(names) {
		t.Fatalf("inserted %d of %d price points: %v", len(out), len(names), rows.Err())
	}
	return out
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// reference computes every expected average: the mean of the newest N prices up to each point,
// summed oldest first, exactly as the consumer must.
func reference(points []point, windows []int) map[averageKey]float64 {
	bySymbol := map[string][]point{}
	for _, p := range points {
		bySymbol[p.symbol] = append(bySymbol[p.symbol], p)
	}
	out := map[averageKey]float64{}
	for symbol, ps := range bySymbol {
		for i := range ps {
			for _, w := range windows {
				if i+1 < w {
					continue
				}
				sum := 0.0
				for j := i + 1 - w; j <= i; j++ {
					sum += ps[j].price
				}
				out[averageKey{symbol, w, ps[i].id}] = sum / float64(w)
			}
		}
	}
	return out
}

func kafkaClient(t *testing.T, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	client, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(strings.Split(mustEnv(t, "MDS_TEST_KAFKA_BOOTSTRAP_SERVERS"), ",")...),
		kgo.AllowAutoTopicCreation(),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	return client
}

func eventRecord(topic string, p point) *kgo.Record {
	value, _ := proto.Marshal(&mdv1.PriceEvent{
		Symbol: p.symbol, Price: p.price, Timestamp: timestamppb.New(p.ts), Provider: "test", PricePointId: p.id,
	})
	return &kgo.Record{Topic: topic, Key: []byte(p.symbol), Value: value,
		Headers: []kgo.RecordHeader{{Key: "content-type", Value: []byte("application/x-protobuf")}}}
}

func produce(t *testing.T, client *kgo.Client, records []*kgo.Record) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := client.ProduceSync(ctx, records...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

func storedAverages(t *testing.T, databaseURL string) map[averageKey]float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT symbol, window_size, price_point_id, value FROM moving_averages`)
	if err != nil {
		t.Fatal(err)
	}
	out := map[averageKey]float64{}
	for rows.Next() {
		var k averageKey
		var v float64
		if err := rows.Scan(&k.symbol, &k.window, &k.id, &v); err != nil {
			t.Fatal(err)
		}
		out[k] = v
	}
	return out
}

func compareAverages(t *testing.T, got, want map[averageKey]float64) {
	t.Helper()
	missing, wrong, extra := 0, 0, 0
	for k, v := range want {
		g, ok := got[k]
		switch {
		case !ok:
			missing++
		case g != v:
			if wrong < 5 {
				t.Errorf("%v: stored %.17g, reference %.17g", k, g, v)
			}
			wrong++
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			extra++
		}
	}
	if missing+wrong+extra > 0 {
		t.Errorf("%d expected averages missing, %d wrong, %d unexpected (of %d)", missing, wrong, extra, len(want))
	}
}

func countAverages(t *testing.T, databaseURL string) int {
	var n int
	if err := queryDBAt(t, databaseURL, "SELECT count(*) FROM moving_averages").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// 10,000 events over 50 symbols, the consumer SIGKILLed twice on the way: every expected
// average is stored exactly once with the reference's exact value, and nothing else is.
func TestConsumerSurvivesSIGKILLWithExactAverages(t *testing.T) {
	s, cleanup, err := startStack("pipeline", "MOVING_AVERAGE_WINDOWS=5,20")
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	consumer := s.processes[1]
	var symbols []string
	for i := 0; i < 50; i++ {
		symbols = append(symbols, fmt.Sprintf("MA%02d", i))
	}
	points := insertPricePoints(t, s.databaseURL, symbols, 200)
	want := reference(points, []int{5, 20})
	client := kafkaClient(t)
	start := time.Now()
	for chunk := 0; chunk < 10; chunk++ {
		var records []*kgo.Record
		for _, p := range points[chunk*1000 : (chunk+1)*1000] {
			records = append(records, eventRecord(s.topic, p))
		}
		produce(t, client, records)
		if chunk == 3 || chunk == 6 {
			waitFor(t, 60*time.Second, "averages to be written", func() bool { return countAverages(t, s.databaseURL) > 0 })
			consumer.kill()
			if err := consumer.start(); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitFor(t, 120*time.Second, fmt.Sprintf("%d averages", len(want)), func() bool {
		return countAverages(t, s.databaseURL) >= len(want)
	})
	t.Logf("10,000 events with two crashes: all %d averages committed %v after the first event was produced",
		len(want), time.Since(start).Round(time.Millisecond))
	compareAverages(t, storedAverages(t, s.databaseURL), want)
}

// Two consumers share the partitions; stopping one mid-stream loses and duplicates nothing.
// A record that is not a PriceEvent is parked on the dead-letter topic and does not stop them.
func TestTwoConsumersSplitPartitionsAndParkBadRecords(t *testing.T) {
	s, cleanup, err := startStack("group", "MOVING_AVERAGE_WINDOWS=3")
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	first := s.processes[1]
	second, err := startProcess("mds-consumer-2", first.bin, withEnv(first.env,
		"MDS_CONSUMER_LISTEN="+freeAddr(), "MDS_CONSUMER_METRICS_LISTEN="+freeAddr()), first.log+".second")
	if err != nil {
		t.Fatal(err)
	}
	s.processes = append(s.processes, second)
	// Both members hold partitions before anything is produced.
	waitFor(t, 60*time.Second, "both consumers to be assigned partitions", func() bool {
		a, _ := os.ReadFile(first.log)
		b, _ := os.ReadFile(second.log)
		return strings.Contains(string(a), "assigned") && strings.Contains(string(b), "assigned") &&
			!strings.Contains(lastAssignment(string(a)), "assigned 6 partitions") &&
			!strings.Contains(lastAssignment(string(b)), "assigned 6 partitions")
	})
	var symbols []string
	for i := 0; i < 20; i++ {
		symbols = append(symbols, fmt.Sprintf("GR%02d", i))
	}
	points := insertPricePoints(t, s.databaseURL, symbols, 100)
	want := reference(points, []int{3})
	client := kafkaClient(t)
	var records []*kgo.Record
	for i, p := range points {
		records = append(records, eventRecord(s.topic, p))
		if i == 500 {
			records = append(records, &kgo.Record{Topic: s.topic, Key: []byte("GR00"), Value: []byte("not a protobuf \xff\xfe"),
				Headers: []kgo.RecordHeader{{Key: "content-type", Value: []byte("application/x-protobuf")}}})
		}
	}
	produce(t, client, records[:1000])
	waitFor(t, 60*time.Second, "averages from both halves", func() bool { return countAverages(t, s.databaseURL) > 0 })
	if err := second.stop(15 * time.Second); err != nil {
		t.Errorf("second consumer: %v", err)
	}
	s.processes = s.processes[:len(s.processes)-1]
	produce(t, client, records[1000:])
	waitFor(t, 90*time.Second, fmt.Sprintf("%d averages", len(want)), func() bool {
		return countAverages(t, s.databaseURL) >= len(want)
	})
	compareAverages(t, storedAverages(t, s.databaseURL), want)

	// The bad record is on the dead-letter topic with its origin and the reason.
	dlq := kafkaClient(t, kgo.ConsumeTopics(s.deadLetters), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	fetches := dlq.PollFetches(ctx)
	var parked []*kgo.Record
	fetches.EachRecord(func(r *kgo.Record) { parked = append(parked, r) })
	if len(parked) != 1 {
		t.Fatalf("%d records on the dead-letter topic, want 1 (%v)", len(parked), fetches.Errors())
	}
	headers := map[string]string{}
	for _, h := range parked[0].Headers {
		headers[h.Key] = string(h.Value)
	}
	if string(parked[0].Value) != "not a protobuf \xff\xfe" || headers["x-original-topic"] != s.topic ||
		headers["x-dead-letter-reason"] == "" || headers["x-original-offset"] == "" {
		t.Errorf("dead letter %q headers %v", parked[0].Value, headers)
	}
}

func lastAssignment(log string) string {
	i := strings.LastIndex(log, "assigned")
	if i < 0 {
		return ""
	}
	return log[i:]
}

func TestAveragesOverRESTAndGRPC(t *testing.T) {
	// History the averages come from: STAT has 4 prices, ONE has a single price.
	for i := 0; i < 4; i++ {
		if code, body, _ := get(t, "GET", "/api/v1/prices/latest?symbol=STAT"); code != 200 {
			t.Fatalf("%d %v", code, body)
		}
	}
	get(t, "GET", "/api/v1/prices/latest?symbol=ONE")
	code, history, _ := get(t, "GET", "/api/v1/prices/history?symbol=STAT&limit=4")
	prices := history["prices"].([]any)
	if code != 200 || len(prices) != 4 {
		t.Fatalf("history %d %v", code, history)
	}
	p := func(i int) float64 { return prices[i].(map[string]any)["price"].(float64) }
	// Newest first; averages sum oldest first.
	want2 := (p(1) + p(0)) / 2
	want3 := (p(2) + p(1) + p(0)) / 3
	// Window 2 is stored by the consumer: wait until it has caught up with the newest price.
	waitFor(t, 30*time.Second, "the consumer to store three STAT averages", func() bool {
		_, body, _ := get(t, "GET", "/api/v1/averages?symbol=STAT&window=2")
		list, _ := body["moving_averages"].([]any)
		return len(list) == 3
	})
	code, body, _ := get(t, "GET", "/api/v1/averages/latest?symbol=STAT&window=2")
	if code != 200 || body["value"] != want2 {
		t.Errorf("window 2: %d %v (want %v)", code, body, want2)
	}
	code, body, _ = get(t, "GET", "/api/v1/averages/latest?symbol=stat&window=3") // on demand
	if code != 200 || body["value"] != want3 || body["window"] != float64(3) || body["symbol"] != "STAT" ||
		body["timestamp"] != prices[0].(map[string]any)["timestamp"] {
		t.Errorf("window 3: %d %v (want %v)", code, body, want3)
	}
	code, body, _ = get(t, "GET", "/api/v1/averages/latest?symbol=ONE&window=5")
	if code != 404 || !strings.Contains(body["detail"].(string), "1 price stored") {
		t.Errorf("insufficient data: %d %v", code, body)
	}
	code, body, _ = get(t, "GET", "/api/v1/averages?symbol=STAT&window=2&limit=2")
	if list, _ := body["moving_averages"].([]any); code != 200 || len(list) != 2 {
		t.Errorf("list: %d %v", code, body)
	}
	for _, bad := range []string{"/api/v1/averages/latest", "/api/v1/averages/latest?symbol=STAT&window=-1",
		"/api/v1/averages?symbol=STAT&window=7", "/api/v1/averages?symbol=STAT&window=2&page_token=x"} {
		if code, body, _ := get(t, "GET", bad); code != 400 && code != 422 {
			t.Errorf("%s: %d %v", bad, code, body)
		}
	}

	conn, err := grpc.NewClient(shared.consumerAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	avg, err := mdv1.NewMovingAverageServiceClient(conn).GetLatestMovingAverage(ctx,
		&mdv1.GetLatestMovingAverageRequest{Symbol: "STAT", Window: 2})
	if err != nil || avg.Value != want2 {
		t.Errorf("gRPC latest: %v %v", avg, err)
	}
}

// readLines reads NDJSON lines from a streaming response until `n` arrived.
func readLines(t *testing.T, body io.Reader, n int, timeout time.Duration) []map[string]any {
	t.Helper()
	lines := make(chan map[string]any)
	go func() {
		scanner := bufio.NewScanner(body)
		for scanner.Scan() {
			var m map[string]any
			if json.Unmarshal(scanner.Bytes(), &m) == nil {
				lines <- m
			}
		}
		close(lines)
	}()
	var out []map[string]any
	deadline := time.After(timeout)
	for len(out) < n {
		select {
		case m, ok := <-lines:
			if !ok {
				t.Fatalf("stream ended after %d lines", len(out))
			}
			out = append(out, m)
		case <-deadline:
			t.Fatalf("only %d of %d lines within %v", len(out), n, timeout)
		}
	}
	return out
}

func TestLiveStreamsWhileAJobPolls(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	open := func(path string) *http.Response {
		req, _ := http.NewRequestWithContext(ctx, "GET", shared.restURL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/x-ndjson") {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		return resp
	}
	averages := open("/api/v1/averages/stream?symbols=live1&window=2")
	defer averages.Body.Close()
	prices := open("/api/v1/prices/stream?symbols=LIVE1,LIVE2")
	defer prices.Body.Close()

	conn, err := grpc.NewClient(shared.consumerAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stream, err := mdv1.NewMovingAverageServiceClient(conn).StreamMovingAverages(ctx,
		&mdv1.StreamMovingAveragesRequest{Symbols: []string{"LIVE2"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Header(); err != nil {
		t.Fatal(err)
	}

	id := createJob(t, shared.restURL, []string{"LIVE1", "LIVE2"}, 1)
	defer send(t, shared.restURL, "DELETE", "/api/v1/prices/poll/"+id, "")

	for _, line := range readLines(t, prices.Body, 3, 20*time.Second) {
		r, _ := line["result"].(map[string]any)
		if r == nil || (r["symbol"] != "LIVE1" && r["symbol"] != "LIVE2") || r["provider"] != "test" {
			t.Errorf("price line %v", line)
		}
	}
	for _, line := range readLines(t, averages.Body, 2, 30*time.Second) {
		r, _ := line["result"].(map[string]any)
		if r == nil || r["symbol"] != "LIVE1" || r["window"] != float64(2) {
			t.Errorf("average line %v", line)
		}
	}
	got, err := stream.Recv()
	if err != nil || got.Symbol != "LIVE2" {
		t.Errorf("gRPC stream: %v %v", got, err)
	}
	// Refused streams answer with a status, not an empty stream.
	req, _ := http.NewRequestWithContext(ctx, "GET", shared.restURL+"/api/v1/averages/stream?symbols=bad%20symbol", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("bad stream request: %d", resp.StatusCode)
	}
}

// sqlReference computes, in SQL over price_points, every average the definition asks for: the
// mean of the newest N prices up to each point in (ts, id) order, for points with N-1
// predecessors. PostgreSQL's avg(float8) recomputes each frame summing oldest first, as the
// consumer must, so the values agree bit for bit.
func sqlReference(t *testing.T, databaseURL string, windows []int) map[averageKey]float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	out := map[averageKey]float64{}
	for _, w := range windows {
		rows, err := conn.Query(ctx, fmt.Sprintf(`
			SELECT symbol, id, value FROM (
			  SELECT symbol, id,
			         avg(price) OVER frame AS value, count(*) OVER frame AS n
			  FROM price_points
			  WINDOW frame AS (PARTITION BY symbol ORDER BY ts, id
			                   ROWS BETWEEN %d PRECEDING AND CURRENT ROW)) a
			WHERE n = %d`, w-1, w))
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			k := averageKey{window: w}
			var v float64
			if err := rows.Scan(&k.symbol, &k.id, &v); err != nil {
				t.Fatal(err)
			}
			out[k] = v
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// 5,000 events over 20 symbols reach the consumer out of order, as group commits, the outbox
// relay and restarts deliver them: ids drawn in another order than timestamps, most events a
// little out of place, one in twenty hundreds of events late, some twice, and the consumer
// SIGKILLed once on the way. The stored averages equal the SQL reference exactly, whatever the
// arrival order, and nothing else is stored.
func TestAveragesDoNotDependOnArrivalOrder(t *testing.T) {
	s, cleanup, err := startStack("order", "MOVING_AVERAGE_WINDOWS=3,5")
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	consumer := s.processes[1]
	rng := rand.New(rand.NewSource(7))
	var symbols []string
	for i := 0; i < 20; i++ {
		symbols = append(symbols, fmt.Sprintf("ORD%02d", i))
	}
	points := insertPricePoints(t, s.databaseURL, symbols, 250)
	// Ids in another order than timestamps: reassign each symbol's timestamps at random.
	points = shuffleTimestamps(t, s.databaseURL, points, rng)
	want := sqlReference(t, s.databaseURL, []int{3, 5})
	if len(want) != 20*(248+246) {
		t.Fatalf("reference has %d averages", len(want))
	}

	type arrival struct {
		at float64
		p  point
	}
	var arrivals []arrival
	for i, p := range points {
		at := float64(i) + float64(rng.Intn(40))
		if rng.Intn(20) == 0 {
			at += float64(500 + rng.Intn(1500))
		}
		arrivals = append(arrivals, arrival{at, p})
		if rng.Intn(25) == 0 {
			arrivals = append(arrivals, arrival{at + float64(rng.Intn(300)), p})
		}
	}
	sort.SliceStable(arrivals, func(i, j int) bool { return arrivals[i].at < arrivals[j].at })

	client := kafkaClient(t)
	const chunks = 5
	per := (len(arrivals) + chunks - 1) / chunks
	for c := 0; c < chunks; c++ {
		var records []*kgo.Record
		for _, a := range arrivals[c*per : min((c+1)*per, len(arrivals))] {
			records = append(records, eventRecord(s.topic, a.p))
		}
		produce(t, client, records)
		if c == 2 {
			waitFor(t, 60*time.Second, "averages to be written", func() bool { return countAverages(t, s.databaseURL) > 0 })
			consumer.kill()
			if err := consumer.start(); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Late events rewrite values already stored: wait for the values, not for the count.
	var got map[averageKey]float64
	waitFor(t, 120*time.Second, "the stored averages to equal the reference", func() bool {
		got = storedAverages(t, s.databaseURL)
		if len(got) != len(want) {
			return false
		}
		for k, v := range want {
			if got[k] != v {
				return false
			}
		}
		return true
	})
	compareAverages(t, got, want)
}

// shuffleTimestamps gives each symbol's points the same timestamps in a random order, so that
// (ts, id) order differs from id order, and returns the points as stored.
func shuffleTimestamps(t *testing.T, databaseURL string, points []point, rng *rand.Rand) []point {
	t.Helper()
	bySymbol := map[string][]int{}
	for i, p := range points {
		bySymbol[p.symbol] = append(bySymbol[p.symbol], i)
	}
	var ids []int64
	var stamps []time.Time
	for _, idx := range bySymbol {
		perm := rng.Perm(len(idx))
		for k, i := range idx {
			ids = append(ids, points[i].id)
			stamps = append(stamps, points[idx[perm[k]]].ts)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `UPDATE price_points p SET ts = u.ts
		FROM unnest($1::bigint[], $2::timestamptz[]) AS u(id, ts) WHERE p.id = u.id`, ids, stamps); err != nil {
		t.Fatal(err)
	}
	newTS := map[int64]time.Time{}
	for i, id := range ids {
		newTS[id] = stamps[i]
	}
	out := make([]point, len(points))
	for i, p := range points {
		p.ts = newTS[p.id]
		out[i] = p
	}
	return out
}

// MAX_OPEN_STREAMS caps each service's open streams: one more is refused with
// RESOURCE_EXHAUSTED over gRPC and 429 over REST, and a slot is free again once a stream closes.
func TestOpenStreamsAreCapped(t *testing.T) {
	s, cleanup, err := startStack("streamcap", "MAX_OPEN_STREAMS=2")
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	for _, c := range []struct{ name, path, addr string }{
		{"prices", "/api/v1/prices/stream?symbols=CAP1", s.apiAddr},
		{"averages", "/api/v1/averages/stream?symbols=CAP1", s.consumerAddr},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			openREST := func() *http.Response {
				req, _ := http.NewRequestWithContext(ctx, "GET", s.restURL+c.path, nil)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				return resp
			}
			first := openREST()
			defer first.Body.Close()
			conn, err := grpc.NewClient(c.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			openGRPC := func(ctx context.Context) (grpc.ClientStream, error) {
				var stream grpc.ClientStream
				var err error
				if c.name == "prices" {
					stream, err = mdv1.NewPriceServiceClient(conn).StreamPrices(ctx, &mdv1.StreamPricesRequest{Symbols: []string{"CAP1"}})
				} else {
					stream, err = mdv1.NewMovingAverageServiceClient(conn).StreamMovingAverages(ctx, &mdv1.StreamMovingAveragesRequest{Symbols: []string{"CAP1"}})
				}
				if err != nil {
					return nil, err
				}
				if _, err := stream.Header(); err != nil {
					return nil, err
				}
				return stream, nil
			}
			secondCtx, closeSecond := context.WithCancel(ctx)
			if _, err := openGRPC(secondCtx); err != nil || first.StatusCode != 200 {
				t.Fatalf("the first two streams: REST %d, gRPC %v", first.StatusCode, err)
			}
			// The third, over gRPC: its status comes with the end of the stream.
			third, err := openGRPC(ctx)
			if err == nil {
				var msg proto.Message = new(mdv1.Price)
				if c.name != "prices" {
					msg = new(mdv1.MovingAverage)
				}
				err = third.RecvMsg(msg)
			}
			if status.Code(err) != codes.ResourceExhausted || !strings.Contains(status.Convert(err).Message(), "too many open streams") {
				t.Errorf("gRPC stream beyond the cap: %v, want RESOURCE_EXHAUSTED", err)
			}
			refused := openREST()
			body, _ := io.ReadAll(refused.Body)
			refused.Body.Close()
			if refused.StatusCode != 429 || !strings.Contains(string(body), "too many open streams") {
				t.Errorf("REST stream beyond the cap: %d %s, want 429", refused.StatusCode, body)
			}
			closeSecond()
			waitFor(t, 10*time.Second, "a slot to free up", func() bool {
				resp := openREST()
				defer resp.Body.Close()
				return resp.StatusCode == 200
			})
		})
	}
}
