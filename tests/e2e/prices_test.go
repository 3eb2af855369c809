package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	mdv1 "marketdata/gateway/gen/marketdata/v1"
)

func get(t *testing.T, method, path string) (int, map[string]any, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, shared.restURL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(body) > 0 && json.Unmarshal(body, &out) != nil {
		t.Fatalf("%s %s: body is not a JSON object: %q", method, path, body)
	}
	return resp.StatusCode, out, resp.Header
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func queryDB(t *testing.T, sql string, args ...any) pgx.Row {
	t.Helper()
	return queryDBAt(t, shared.databaseURL, sql, args...)
}

// queryDBAt runs a one-row query on a pool kept per database for the whole run.
func queryDBAt(t *testing.T, databaseURL, sql string, args ...any) pgx.Row {
	t.Helper()
	poolsMu.Lock()
	pool, ok := pools[databaseURL]
	if !ok {
		var err error
		pool, err = pgxpool.New(context.Background(), databaseURL)
		if err != nil {
			poolsMu.Unlock()
			t.Fatal(err)
		}
		pools[databaseURL] = pool
	}
	poolsMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return pool.QueryRow(ctx, sql, args...)
}

var (
	poolsMu sync.Mutex
	pools   = map[string]*pgxpool.Pool{}
)

// closePools ends every pool of `databaseURL` so the database can be dropped.
func closePool(databaseURL string) {
	poolsMu.Lock()
	defer poolsMu.Unlock()
	if pool, ok := pools[databaseURL]; ok {
		pool.Close()
		delete(pools, databaseURL)
	}
}

func countRows(t *testing.T, table string) int {
	var n int
	if err := queryDB(t, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// readEvent returns the first event on the stack's topic whose price point id is `id`.
func readEvent(t *testing.T, id int64) (*mdv1.PriceEvent, *kgo.Record) {
	t.Helper()
	client, err := kgo.NewClient(
		kgo.SeedBrokers(strings.Split(mustEnv(t, "MDS_TEST_KAFKA_BOOTSTRAP_SERVERS"), ",")...),
		kgo.ConsumeTopics(shared.topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		fetches := client.PollFetches(ctx)
		var found *kgo.Record
		var event *mdv1.PriceEvent
		fetches.EachRecord(func(r *kgo.Record) {
			e := &mdv1.PriceEvent{}
			if found == nil && proto.Unmarshal(r.Value, e) == nil && e.PricePointId == id {
				found = r
				event = e
			}
		})
		if found != nil {
			return event, found
		}
	}
	t.Fatalf("no event for price point %d on topic %s", id, shared.topic)
	return nil, nil
}

func mustEnv(t *testing.T, name string) string {
	v, err := requiredEnv(name)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestLatestPriceOverRESTIsStoredAndPublished(t *testing.T) {
	code, body, header := get(t, "GET", "/api/v1/prices/latest?symbol=aapl&provider=test")
	if code != http.StatusOK {
		t.Fatalf("status %d, body %v", code, body)
	}
	if !strings.HasPrefix(header.Get("Content-Type"), "application/json") {
		t.Errorf("Content-Type %q", header.Get("Content-Type"))
	}
	if got := strings.Join(keys(body), ","); got != "price,provider,symbol,timestamp" {
		t.Fatalf("fields %s, want exactly price,provider,symbol,timestamp (body %v)", got, body)
	}
	if body["symbol"] != "AAPL" || body["provider"] != "test" {
		t.Errorf("body %v", body)
	}
	price, ok := body["price"].(float64)
	if !ok || price < 180*0.98 || price > 180*1.02 {
		t.Errorf("price %v is not a JSON number within 2%% of 180", body["price"])
	}
	ts, _ := body["timestamp"].(string)
	parsed, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil || !strings.HasSuffix(ts, "Z") {
		t.Fatalf("timestamp %q is not RFC 3339 UTC with Z", ts)
	}
	if d := time.Since(parsed); d < -time.Minute || d > time.Minute {
		t.Errorf("timestamp %s is not now", ts)
	}

	// Stored: the price point and its raw reply, in one transaction.
	var id, rawID int64
	var storedPrice float64
	err = queryDB(t, `SELECT p.id, p.raw_response_id, p.price FROM price_points p
		WHERE p.symbol = 'AAPL' AND p.ts = $1`, parsed).Scan(&id, &rawID, &storedPrice)
	if err != nil {
		t.Fatalf("price point not stored: %v", err)
	}
	if storedPrice != price {
		t.Errorf("stored %v, answered %v", storedPrice, price)
	}
	// Its raw reply, among those of the write that stored it.
	found := false
	for _, r := range storedReplies(t, shared.databaseURL, rawID) {
		var reply struct{ Symbol string }
		at, _ := time.Parse(time.RFC3339Nano, r.QuoteTime)
		if json.Unmarshal(r.Reply, &reply) == nil && r.Symbol == "AAPL" && reply.Symbol == "AAPL" &&
			at.Equal(parsed) {
			found = true
		}
	}
	if !found {
		t.Errorf("no raw reply of AAPL at %s under %d: %v", ts, rawID,
			storedReplies(t, shared.databaseURL, rawID))
	}

	// Published: keyed by symbol, protobuf with a content-type header.
	event, record := readEvent(t, id)
	if string(record.Key) != "AAPL" {
		t.Errorf("record key %q, want AAPL", record.Key)
	}
	var contentType string
	for _, h := range record.Headers {
		if h.Key == "content-type" {
			contentType = string(h.Value)
		}
	}
	if contentType != "application/x-protobuf" {
		t.Errorf("content-type header %q", contentType)
	}
	if event.Symbol != "AAPL" || event.Price != price || event.Provider != "test" ||
		event.RawResponseId != rawID || !event.Timestamp.AsTime().Equal(parsed) {
		t.Errorf("event %v does not match the answer %v (raw id %d)", event, body, rawID)
	}

	// Acknowledged by the broker, so nothing is left to relay.
	_ = waitForErr(10*time.Second, "the outbox to empty", func() (bool, error) {
		return countRows(t, "price_event_outbox") == 0, nil
	})
	if n := countRows(t, "price_event_outbox"); n != 0 {
		t.Errorf("%d outbox entries left after delivery", n)
	}
}

func TestLatestPriceUsesTheDefaultProvider(t *testing.T) {
	code, body, _ := get(t, "GET", "/api/v1/prices/latest?symbol=MSFT")
	if code != http.StatusOK || body["provider"] != "test" || body["symbol"] != "MSFT" {
		t.Fatalf("status %d body %v", code, body)
	}
	if p := body["price"].(float64); p < 420*0.98 || p > 420*1.02 {
		t.Errorf("MSFT price %v not near 420", p)
	}
}

func TestContractErrors(t *testing.T) {
	cases := []struct {
		name, method, path string
		status             int
		code               string
		detail             string
	}{
		{"missing symbol", "GET", "/api/v1/prices/latest", 422, "INVALID_ARGUMENT", "symbol is required"},
		{"empty symbol", "GET", "/api/v1/prices/latest?symbol=", 422, "INVALID_ARGUMENT", "symbol is required"},
		{"blank symbol", "GET", "/api/v1/prices/latest?symbol=%20%20", 422, "INVALID_ARGUMENT", "symbol is required"},
		{"invalid symbol", "GET", "/api/v1/prices/latest?symbol=AA%20PL", 400, "INVALID_ARGUMENT", "invalid symbol"},
		{"symbol too long", "GET", "/api/v1/prices/latest?symbol=ABCDEFGHIJKLMNOPQ", 400, "INVALID_ARGUMENT", "invalid symbol"},
		{"injection", "GET", "/api/v1/prices/latest?symbol=A%27%3BDROP", 400, "INVALID_ARGUMENT", "invalid symbol"},
		{"unknown provider", "GET", "/api/v1/prices/latest?symbol=AAPL&provider=bloomberg", 400, "INVALID_ARGUMENT", "unknown provider"},
		{"wrong method", "POST", "/api/v1/prices/latest?symbol=AAPL", 405, "", ""},
		{"wrong method delete", "DELETE", "/api/v1/prices/latest", 405, "", ""},
		{"unknown path", "GET", "/api/v1/nothing-here", 404, "NOT_FOUND", ""},
		{"unknown root path", "GET", "/nope", 404, "NOT_FOUND", ""},
	}
	before := countRows(t, "price_points")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body, _ := get(t, c.method, c.path)
			if code != c.status {
				t.Fatalf("status %d, want %d (body %v)", code, c.status, body)
			}
			detail, ok := body["detail"].(string)
			if !ok || detail == "" {
				t.Fatalf("no detail in %v", body)
			}
			if _, ok := body["code"].(string); !ok {
				t.Fatalf("no code in %v", body)
			}
			if c.code != "" && body["code"] != c.code {
				t.Errorf("code %v, want %s", body["code"], c.code)
			}
			if !strings.Contains(detail, c.detail) {
				t.Errorf("detail %q does not mention %q", detail, c.detail)
			}
		})
	}
	if after := countRows(t, "price_points"); after != before {
		t.Errorf("rejected requests stored %d price points", after-before)
	}
}

func TestOperationalEndpoints(t *testing.T) {
	code, body, _ := get(t, "GET", "/health")
	if code != 200 || body["status"] != "ok" {
		t.Errorf("/health %d %v", code, body)
	}
	code, body, _ = get(t, "GET", "/ready")
	if code != 200 {
		t.Errorf("/ready %d %v", code, body)
	}
	code, body, _ = get(t, "GET", "/openapi.json")
	paths, _ := body["paths"].(map[string]any)
	if code != 200 || paths["/api/v1/prices/latest"] == nil {
		t.Errorf("/openapi.json %d has no /api/v1/prices/latest", code)
	}
}

func grpcConn(t *testing.T) *grpc.ClientConn {
	conn, err := grpc.NewClient(shared.apiAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func TestLatestPriceOverGRPC(t *testing.T) {
	client := mdv1.NewPriceServiceClient(grpcConn(t))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	price, err := client.GetLatestPrice(ctx, &mdv1.GetLatestPriceRequest{Symbol: "googl", Provider: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if price.Symbol != "GOOGL" || price.Provider != "test" || price.Price < 140*0.98 || price.Price > 140*1.02 {
		t.Errorf("got %v", price)
	}

	var trailer metadata.MD
	_, err = client.GetLatestPrice(ctx, &mdv1.GetLatestPriceRequest{}, grpc.Trailer(&trailer))
	if status.Code(err) != codes.InvalidArgument || status.Convert(err).Message() != "symbol is required" {
		t.Errorf("missing symbol: %v", err)
	}
	if got := trailer.Get("mds-error-reason"); len(got) != 1 || got[0] != "missing-field" {
		t.Errorf("mds-error-reason trailer %v", got)
	}
	_, err = client.GetLatestPrice(ctx, &mdv1.GetLatestPriceRequest{Symbol: "AAPL", Provider: "nope"})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("unknown provider: %v", err)
	}
}

func TestReflectionListsTheServices(t *testing.T) {
	client := reflectionpb.NewServerReflectionClient(grpcConn(t))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := client.ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{},
	}); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.Name)
	}
	got := strings.Join(names, " ")
	for _, want := range []string{"marketdata.v1.PriceService", "marketdata.v1.PollingService", "grpc.health.v1.Health"} {
		if !strings.Contains(got, want) {
			t.Errorf("reflection lists %q, missing %s", got, want)
		}
	}
}

func TestGracefulShutdownOnSIGTERM(t *testing.T) {
	s, cleanup, err := startStack("shutdown")
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	api := s.processes[0]
	if err := api.stop(15 * time.Second); err != nil {
		t.Fatalf("mds-api did not exit cleanly on SIGTERM: %v\n%s", err, s.logs())
	}
	s.processes = s.processes[1:]
}

func TestServiceMetrics(t *testing.T) {
	get(t, "GET", "/api/v1/prices/latest?symbol=METR")
	resp, err := http.Get("http://" + shared.apiMetrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	text := string(body)
	for _, want := range []string{"mds_prices_recorded_total", "mds_events_delivered_total",
		`mds_polling_tick_lag_seconds_bucket{le="+Inf"}`, `mds_provider_tokens_available{provider="finnhub"}`} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(text, "mds_prices_recorded_total 0\n") {
		t.Errorf("no recorded prices counted:\n%s", text)
	}
	// The conventional families: per-method gRPC counters (the REST call above is a
	// GetLatestPrice), the outbox and pool, the build and the process.
	if v := metricLine(text, "grpc_server_handled_total", `grpc_method="GetLatestPrice"`, `grpc_code="OK"`,
		`grpc_service="marketdata.v1.PriceService"`, `grpc_type="unary"`); v < 1 {
		t.Errorf("grpc_server_handled_total of GetLatestPrice with OK is %v", v)
	}
	if v := metricLine(text, "grpc_server_handling_seconds_count", `grpc_method="GetLatestPrice"`); v < 1 {
		t.Errorf("grpc_server_handling_seconds_count of GetLatestPrice is %v", v)
	}
	if v := metricLine(text, "mds_build_info", `service="mds-api"`); v != 1 {
		t.Errorf("mds_build_info of mds-api is %v", v)
	}
	if v := metricLine(text, "mds_db_pool_size"); v < 1 {
		t.Errorf("mds_db_pool_size is %v", v)
	}
	for _, want := range []string{`mds_db_pool_connections{state="idle"}`, "mds_db_pool_waits_total",
		`mds_provider_calls_total{outcome="ok",provider="test"}`, "process_cpu_seconds_total",
		"process_resident_memory_bytes", "process_open_fds", "process_start_time_seconds"} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// Read in the background every couple of seconds, so it may take a moment to appear.
	_ = waitForErr(10*time.Second, "mds_outbox_backlog_rows", func() (bool, error) {
		return metricLine(scrapeText(t, shared.apiMetrics), "mds_outbox_backlog_rows") >= 0, nil
	})
	if v := metricLine(scrapeText(t, shared.apiMetrics), "mds_outbox_backlog_rows"); v < 0 {
		t.Error("metrics lack mds_outbox_backlog_rows")
	}
	// The consumer reports the lag of the partitions it owns once it has fetched from them.
	_ = waitForErr(30*time.Second, "mds_consumer_lag_messages", func() (bool, error) {
		return metricLine(scrapeText(t, shared.consumerMetrics), "mds_consumer_lag_messages", `topic="`) >= 0, nil
	})
	consumerText := scrapeText(t, shared.consumerMetrics)
	if v := metricLine(consumerText, "mds_consumer_lag_messages", `topic="`, `partition="`); v < 0 {
		t.Errorf("consumer metrics lack mds_consumer_lag_messages:\n%s", consumerText)
	}
	if v := metricLine(consumerText, "mds_build_info", `service="mds-consumer"`); v != 1 {
		t.Errorf("mds_build_info of mds-consumer is %v", v)
	}
}

// scrapeText is the body of http://<addr>/metrics.
func scrapeText(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

// metricLine is the value of the first sample of `name` whose labels include every one of
// `labels` (each `key="value"`); -1 when there is none.
func metricLine(text, name string, labels ...string) float64 {
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, name+" ") && !strings.HasPrefix(line, name+"{") {
			continue
		}
		matches := true
		for _, l := range labels {
			if !strings.Contains(line, l) {
				matches = false
				break
			}
		}
		if !matches {
			continue
		}
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err == nil {
			return v
		}
	}
	return -1
}
