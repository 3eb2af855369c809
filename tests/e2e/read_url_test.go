package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	mdv1 "marketdata/gateway/gen/marketdata/v1"
)

// DATABASE_READ_URL: price history, snapshots, moving averages and bars are read through a pool
// of their own. With its server down, mds-api and mds-consumer start and serve everything else
// (latest prices are stored and answered 200), and only those reads fail: 503 at once, naming
// DATABASE_READ_URL but neither its address nor its credentials.
func TestReadURLDownFailsOnlyTheReadsThatUseIt(t *testing.T) {
	const password = "replica-secret-31"
	// Port 1 on the loopback interface refuses connections.
	s, cleanup, err := startStack("readurl", "DATABASE_READ_URL=postgresql://mds:"+password+"@127.0.0.1:1/marketdata")
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	const named = "cannot connect to the server of DATABASE_READ_URL"

	if code, body := send(t, s.restURL, "GET", "/api/v1/prices/latest?symbol=AAPL&provider=test", ""); code != 200 || body["symbol"] != "AAPL" {
		t.Fatalf("latest price: %d %v\n%s", code, body, s.logs())
	}
	for _, path := range []string{
		"/api/v1/prices/history?symbol=AAPL",
		"/api/v1/prices/snapshot?symbols=AAPL",
		"/api/v1/averages/latest?symbol=AAPL&window=2",
		"/api/v1/averages?symbol=AAPL&window=2",
		"/api/v1/bars?symbol=AAPL&interval=1m",
	} {
		start := time.Now()
		code, body := send(t, s.restURL, "GET", path, "")
		took := time.Since(start)
		detail, _ := body["detail"].(string)
		if code != 503 || body["code"] != "UNAVAILABLE" || !strings.Contains(detail, named) {
			t.Errorf("GET %s: %d %v, want 503 UNAVAILABLE naming %s", path, code, body, named)
		}
		if strings.Contains(detail, password) || strings.Contains(detail, "127.0.0.1") || strings.Contains(detail, "mds:") {
			t.Errorf("GET %s: the answer shows the server's address or credentials: %q", path, detail)
		}
		// A refused connection is known at once; nothing waits for a timeout.
		if took > 3*time.Second {
			t.Errorf("GET %s took %v", path, took)
		}
	}
	// Writes and the rest carry on.
	if code, body := send(t, s.restURL, "GET", "/api/v1/prices/latest?symbol=MSFT&provider=test", ""); code != 200 {
		t.Errorf("latest price after the failed reads: %d %v", code, body)
	}
	if code, body := send(t, s.restURL, "GET", "/ready", ""); code != 200 {
		t.Errorf("/ready: %d %v (the read pool is no part of readiness)", code, body)
	}
	for name, addr := range map[string]string{"mds-api": s.apiMetrics, "mds-consumer": s.consumerMetrics} {
		text := scrapeText(t, addr)
		if v := metricLine(text, "mds_db_pool_size", `pool="read"`); v != 8 {
			t.Errorf("%s: mds_db_pool_size{pool=\"read\"} is %v, want DATABASE_POOL_SIZE's 8", name, v)
		}
		if !strings.Contains(text, "\nmds_db_pool_size 8\n") {
			t.Errorf("%s: the primary pool's mds_db_pool_size lost its series", name)
		}
	}

	// Another mds-api whose read URL reaches the same database through sessions that refuse
	// every write, as a standby's do: its history and snapshots are served, with the price just
	// stored through its primary pool.
	apiBin, err := binary("MDS_API_BIN")
	if err != nil {
		t.Fatal(err)
	}
	sep := "?"
	if strings.Contains(s.databaseURL, "?") {
		sep = "&"
	}
	readOnly := s.databaseURL + sep + "options=-c%20default_transaction_read_only%3Don"
	addr := freeAddr()
	logDir := os.Getenv("TEST_UNDECLARED_OUTPUTS_DIR")
	if logDir == "" {
		logDir = os.TempDir()
	}
	p, err := startProcess("mds-api-read-only", apiBin,
		withEnv(s.apiEnv, "MDS_API_LISTEN="+addr, "MDS_API_METRICS_LISTEN=off", "DATABASE_READ_URL="+readOnly),
		filepath.Join(logDir, "readurl-mds-api-read-only.log"))
	if err != nil {
		t.Fatal(err)
	}
	s.processes = append(s.processes, p)
	if err := waitServing(addr, 60*time.Second); err != nil {
		t.Fatalf("mds-api with a read-only DATABASE_READ_URL: %v\n%s", err, s.logs())
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := mdv1.NewPriceServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	latest, err := client.GetLatestPrice(ctx, &mdv1.GetLatestPriceRequest{Symbol: "NVDA", Provider: "test"})
	if err != nil {
		t.Fatalf("latest price: %v", err)
	}
	history, err := client.ListPriceHistory(ctx, &mdv1.ListPriceHistoryRequest{Symbol: "NVDA"})
	if err != nil {
		t.Fatalf("history through read-only sessions: %v", err)
	}
	if len(history.Prices) != 1 || history.Prices[0].Price != latest.Price {
		t.Errorf("history %v, want the one price %v", history.Prices, latest.Price)
	}
	snapshot, err := client.GetSnapshot(ctx, &mdv1.GetSnapshotRequest{Symbols: []string{"NVDA", "AAPL"}})
	if err != nil {
		t.Fatalf("snapshot through read-only sessions: %v", err)
	}
	if len(snapshot.Symbols) != 2 {
		t.Errorf("snapshot of %d symbols, want NVDA and AAPL: %v", len(snapshot.Symbols), snapshot)
	}
}
