//go:build bench

// Benchmarks of the whole service, each beside its baseline measured in the same run (absolute
// numbers drift between runs on shared machines; ratios much less). Run by ./deploy/dev bench,
// which writes the report to docs/reports/benchmarks.md.
package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	mdv1 "marketdata/gateway/gen/marketdata/v1"
)

// report collects the rows of docs/reports/benchmarks.md.
var report struct {
	sync.Mutex
	rows []string
}

func addRow(cells ...string) {
	report.Lock()
	defer report.Unlock()
	report.rows = append(report.rows, "| "+strings.Join(cells, " | ")+" |")
}

func envInt(name string, fallback int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return fallback
}

// scrape reads one counter or gauge from a Prometheus endpoint.
func scrape(addr, metric string) float64 {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	scanner := bufio.NewScanner(resp.Body)
	for scanner.Scan() {
		line := scanner.Text()
		if strings.HasPrefix(line, metric+" ") {
			v, _ := strconv.ParseFloat(strings.TrimPrefix(line, metric+" "), 64)
			return v
		}
	}
	return -1
}

// histogramBuckets reads the cumulative buckets of the unlabelled histogram `metric`: upper bound
// to count, +Inf included.
func histogramBuckets(addr, metric string) map[float64]float64 {
	out := map[float64]float64{}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	scanner := bufio.NewScanner(resp.Body)
	prefix := metric + `_bucket{le="`
	for scanner.Scan() {
		line := scanner.Text()
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		rest := strings.TrimPrefix(line, prefix)
		end := strings.Index(rest, `"} `)
		if end < 0 {
			continue
		}
		bound, err1 := strconv.ParseFloat(rest[:end], 64) // "+Inf" parses as +Inf
		count, err2 := strconv.ParseFloat(rest[end+3:], 64)
		if err1 == nil && err2 == nil {
			out[bound] = count
		}
	}
	return out
}

// histogramQuantile is Prometheus' histogram_quantile over the observations made between two
// readings of histogramBuckets: linear within the bucket the quantile falls in, the highest
// finite bound when it falls in +Inf. NaN without observations.
func histogramQuantile(q float64, before, after map[float64]float64) float64 {
	var bounds []float64
	for b := range after {
		bounds = append(bounds, b)
	}
	sort.Float64s(bounds)
	if len(bounds) == 0 {
		return math.NaN()
	}
	total := after[bounds[len(bounds)-1]] - before[bounds[len(bounds)-1]]
	if total <= 0 {
		return math.NaN()
	}
	rank := q * total
	lower, below := 0.0, 0.0
	for _, b := range bounds {
		count := after[b] - before[b]
		if count >= rank {
			if math.IsInf(b, 1) {
				return lower
			}
			if count == below {
				return b
			}
			return lower + (b-lower)*(rank-below)/(count-below)
		}
		lower, below = b, count
	}
	return lower
}

// psqlCopyRate loads n rows shaped like moving_averages with psql's \copy into a table with the
// same indexes: the database's own ceiling for the pipeline's writes.
func psqlCopyRate(t *testing.T, databaseURL string, n int) float64 {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "rows.csv")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	base := time.Now().UTC()
	for i := 0; i < n; i++ {
		fmt.Fprintf(w, "B%04d,5,%.6f,%s,%d\n", i%1000, 100+float64(i%997)/7, base.Add(time.Duration(i)*time.Microsecond).Format(time.RFC3339Nano), i+1)
	}
	w.Flush()
	f.Close()
	table := fmt.Sprintf("copy_baseline_%d", n)
	mustPsql(t, databaseURL, "CREATE TABLE "+table+" (LIKE moving_averages INCLUDING ALL)")
	start := time.Now()
	mustPsql(t, databaseURL, fmt.Sprintf(`\copy %s (symbol, window_size, value, ts, price_point_id) FROM '%s' CSV`, table, file))
	elapsed := time.Since(start)
	mustPsql(t, databaseURL, "DROP TABLE "+table)
	return float64(n) / elapsed.Seconds()
}

func mustPsql(t *testing.T, databaseURL, command string) {
	t.Helper()
	out, err := exec.Command("psql", databaseURL, "-v", "ON_ERROR_STOP=1", "-q", "-c", command).CombinedOutput()
	if err != nil {
		t.Fatalf("psql %s: %v\n%s", command, err, out)
	}
}

// pipeline produces n PriceEvents over `symbols` symbols and measures the time until the consumer
// committed all of them. Returns events per second end to end.
func pipeline(t *testing.T, n, symbols int) (float64, cpuCost) {
	s, cleanup, err := startStack(fmt.Sprintf("bench_pipe_%d", n), "MOVING_AVERAGE_WINDOWS=5", "DATABASE_POOL_SIZE=4")
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	client := kafkaClient(t, kgo.ProducerLinger(5*time.Millisecond), kgo.ProducerBatchMaxBytes(1<<20),
		kgo.MaxBufferedRecords(200000))
	base := time.Now().UTC()
	cpuBefore := cpuTime(s)
	start := time.Now()
	var wg sync.WaitGroup
	var produceErr error
	var mu sync.Mutex
	for i := 0; i < n; i++ {
		sym := fmt.Sprintf("P%04d", i%symbols)
		value, _ := proto.Marshal(&mdv1.PriceEvent{Symbol: sym, Price: 100 + float64(i%997)/7,
			Timestamp: timestamppb.New(base.Add(time.Duration(i) * time.Microsecond)), Provider: "test",
			PricePointId: int64(i + 1)})
		wg.Add(1)
		client.Produce(context.Background(), &kgo.Record{Topic: s.topic, Key: []byte(sym), Value: value,
			Headers: []kgo.RecordHeader{{Key: "content-type", Value: []byte("application/x-protobuf")}}},
			func(_ *kgo.Record, err error) {
				if err != nil {
					mu.Lock()
					produceErr = err
					mu.Unlock()
				}
				wg.Done()
			})
	}
	wg.Wait()
	if produceErr != nil {
		t.Fatal(produceErr)
	}
	produced := time.Since(start)
	waitFor(t, 15*time.Minute, fmt.Sprintf("the consumer to finish %d events", n), func() bool {
		return scrape(s.consumerMetrics, "mds_consumer_events_total") >= float64(n)
	})
	elapsed := time.Since(start)
	cpu := costPer(cpuBefore, cpuTime(s), []string{"mds-consumer", "PostgreSQL", "Kafka", "mds-api", "bench"}, n)
	want := n - 4*symbols
	if got := countAverages(t, s.databaseURL); got != want {
		t.Errorf("%d averages stored, want %d", got, want)
	}
	t.Logf("%d events: produced in %v, all averages committed after %v; CPU per event: %s", n, produced, elapsed, cpu)
	return float64(n) / elapsed.Seconds(), cpu
}

// warmUpOnce runs a short pipeline before the first measured one: the broker's JIT compiler
// otherwise spends the first measured seconds compiling (10% of the CPU in profiles).
var warmUpOnce sync.Once

func warmUp(t *testing.T) {
	warmUpOnce.Do(func() { pipeline(t, envInt("MDS_BENCH_WARMUP_EVENTS", 200000), 1000) })
}

func TestBenchPipeline(t *testing.T) {
	n := envInt("MDS_BENCH_PIPELINE_EVENTS", 1000000)
	warmUp(t)
	// The median of three runs: single runs on a shared 2-core machine vary by a third.
	type run struct {
		rate float64
		cpu  cpuCost
	}
	var runs []run
	for i := 0; i < envInt("MDS_BENCH_RUNS", 3); i++ {
		rate, cpu := pipeline(t, n, 1000)
		runs = append(runs, run{rate, cpu})
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].rate < runs[j].rate })
	rate, cpu := runs[len(runs)/2].rate, runs[len(runs)/2].cpu
	copyRate := psqlCopyRate(t, shared.databaseURL, n)
	addRow(fmt.Sprintf("Pipeline: %d PriceEvents over 1,000 symbols, broker to committed averages and bars (1m, 5m, 1h; median of %d runs)", n, len(runs)),
		fmt.Sprintf("%.0f events/s", rate), fmt.Sprintf("psql \\copy of %d rows: %.0f rows/s", n, copyRate),
		fmt.Sprintf("%.2f of \\copy", rate/copyRate), "≥ 100,000 events/s and ≥ 0.33 of \\copy")
	addRow("CPU per pipeline event, µs by process (same run; bench is the producer)", cpu.String(),
		fmt.Sprintf("%d cores", numCPU()), "all cores busy at "+cpu.ceiling("events/s"), "where the time goes")
}

func TestBenchPipelineGrowth(t *testing.T) {
	sizes := strings.Split(envString("MDS_BENCH_GROWTH_EVENTS", "100000,1000000,5000000"), ",")
	var base float64
	warmUp(t)
	for i, size := range sizes {
		n, _ := strconv.Atoi(size)
		rate, _ := pipeline(t, n, 1000)
		if i == 0 {
			base = rate
		}
		addRow(fmt.Sprintf("Cost growth: pipeline at %d events", n), fmt.Sprintf("%.0f events/s", rate),
			fmt.Sprintf("pipeline at %s events: %.0f events/s", sizes[0], base), fmt.Sprintf("%.2f", rate/base), "≈ 1 (no growth with size)")
	}
}

func envString(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

type loadResult struct {
	rps       float64
	p50, p99  time.Duration
	mean      time.Duration // wrk's average latency
	requests  int
	clientCPU time.Duration // the load generator's own CPU time
	cpu       cpuCost       // CPU per request by process, when measured (withCPU)
}

// medianRun runs load `runs` times and keeps the run with the median p99: a single 10 s run's
// p99 swings by 2x on a shared 2-core machine.
func medianRun(runs int, load func() loadResult) loadResult {
	var results []loadResult
	for i := 0; i < runs; i++ {
		r := load()
		fmt.Printf("  run %d of %d: %.0f/s, p99 %v\n", i+1, runs, r.rps, r.p99)
		results = append(results, r)
	}
	sort.Slice(results, func(i, j int) bool { return results[i].p99 < results[j].p99 })
	return results[len(results)/2]
}

// runLoad runs a load generator and records its CPU time.
func runLoad(t *testing.T, r *loadResult, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
	r.clientCPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return out
}

var (
	wrkRPS     = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkLatency = regexp.MustCompile(`(?m)^\s+(50|99)(?:\.000)?%\s+([0-9.]+)(us|ms|s)`)
	wrkCount   = regexp.MustCompile(`(\d+) requests in`)
	wrkMean    = regexp.MustCompile(`Latency\s+([0-9.]+)(us|ms|s)`)
)

// wrk runs 64 connections for `seconds` against url.
func wrk(t *testing.T, url string, seconds int) loadResult {
	t.Helper()
	return wrkWith(t, url, seconds, 2, 64)
}

// wrkSymbols is wrk (64 connections) asking for the latest price of `symbols` distinct symbols in
// turn (S0000, S0001, ...) from the test provider at baseURL (scheme and host).
func wrkSymbols(t *testing.T, baseURL string, symbols, seconds int) loadResult {
	t.Helper()
	script := filepath.Join(t.TempDir(), "symbols.lua")
	lua := fmt.Sprintf(`local n = %d
local i = 0
init = function() i = math.random(n) end
request = function()
  i = (i + 1) %% n
  return wrk.format("GET", string.format("/api/v1/prices/latest?symbol=S%%04d&provider=test", i))
end
`, symbols)
	if err := os.WriteFile(script, []byte(lua), 0o644); err != nil {
		t.Fatal(err)
	}
	return wrkWith(t, baseURL, seconds, 2, 64, "-s", script)
}

// wrkWith is wrk with `threads` threads and `connections` connections (and `extra` arguments).
func wrkWith(t *testing.T, url string, seconds, threads, connections int, extra ...string) loadResult {
	t.Helper()
	var r loadResult
	args := append([]string{fmt.Sprintf("-t%d", threads), fmt.Sprintf("-c%d", connections),
		fmt.Sprintf("-d%ds", seconds), "--latency"}, extra...)
	out := runLoad(t, &r, "wrk", append(args, url)...)
	if m := wrkRPS.FindSubmatch(out); m != nil {
		r.rps, _ = strconv.ParseFloat(string(m[1]), 64)
	}
	if m := wrkCount.FindSubmatch(out); m != nil {
		r.requests, _ = strconv.Atoi(string(m[1]))
	}
	if m := wrkMean.FindSubmatch(out); m != nil {
		r.mean = parseDuration(string(m[1]), string(m[2]))
	}
	for _, m := range wrkLatency.FindAllSubmatch(out, -1) {
		d := parseDuration(string(m[2]), string(m[3]))
		if string(m[1]) == "50" {
			r.p50 = d
		} else {
			r.p99 = d
		}
	}
	if strings.Contains(string(out), "Non-2xx") {
		t.Errorf("wrk saw errors:\n%s", out)
	}
	return r
}

func parseDuration(v, unit string) time.Duration {
	f, _ := strconv.ParseFloat(v, 64)
	switch unit {
	case "us":
		return time.Duration(f * float64(time.Microsecond))
	case "ms":
		return time.Duration(f * float64(time.Millisecond))
	}
	return time.Duration(f * float64(time.Second))
}

// grpcRequestBody is GetLatestPriceRequest{symbol: "AAPL", provider: "test"} in gRPC's framing
// (uncompressed flag, big-endian length, message).
func grpcRequestBody(t *testing.T) string {
	t.Helper()
	msg, err := proto.Marshal(&mdv1.GetLatestPriceRequest{Symbol: "AAPL", Provider: "test"})
	if err != nil {
		t.Fatal(err)
	}
	frame := append([]byte{0, 0, 0, 0, byte(len(msg))}, msg...)
	path := filepath.Join(t.TempDir(), "request.bin")
	if err := os.WriteFile(path, frame, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

var h2loadRPS = regexp.MustCompile(`finished in [0-9.]+s, ([0-9.]+) req/s`)

// h2loadGRPC calls GetLatestPrice with 64 calls in flight (4 connections × 16 streams) for
// `seconds`. h2load is a C client light enough not to be the bottleneck (ghz took as much CPU
// per call as the service). It only sees HTTP statuses, so the service's own counters check that
// every call succeeded.
func h2loadGRPC(t *testing.T, addr, metricsAddr string, seconds int) loadResult {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "h2load.log")
	failedBefore := scrape(metricsAddr, "mds_price_failures_total")
	var r loadResult
	out := runLoad(t, &r, "h2load", "-D", strconv.Itoa(seconds), "-c", "4", "-m", "16", "-t", "1",
		"-H", "content-type: application/grpc", "-H", "te: trailers", "-d", grpcRequestBody(t),
		"--log-file="+logPath, "http://"+addr+"/marketdata.v1.PriceService/GetLatestPrice")
	if failed := scrape(metricsAddr, "mds_price_failures_total") - failedBefore; failed != 0 {
		t.Errorf("%.0f calls failed", failed)
	}
	if m := h2loadRPS.FindSubmatch(out); m != nil {
		r.rps, _ = strconv.ParseFloat(string(m[1]), 64)
	}
	// Log lines: start (µs since epoch), HTTP status, duration (µs).
	data, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	var durations []time.Duration
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		fields := strings.Fields(line)
		if len(fields) != 3 {
			continue
		}
		if fields[1] != "200" {
			t.Errorf("h2load saw HTTP %s", fields[1])
			break
		}
		us, _ := strconv.ParseInt(fields[2], 10, 64)
		durations = append(durations, time.Duration(us)*time.Microsecond)
	}
	if len(durations) == 0 {
		t.Fatalf("h2load completed no calls:\n%s", out)
	}
	sort.Slice(durations, func(i, j int) bool { return durations[i] < durations[j] })
	r.requests = len(durations)
	r.p50 = durations[len(durations)/2].Round(10 * time.Microsecond)
	r.p99 = durations[len(durations)*99/100].Round(10 * time.Microsecond)
	return r
}

// distinctSymbols: the symbols REST requests of LatestPrice ask for in turn, each a price of its
// own (gRPC's h2load sends one request body, so its calls ask for one symbol, and concurrent
// calls for one symbol share a provider call and its stored price: TestBenchHotSymbol logs how
// many, 26 calls each in the run of 2026-12-06 08:54 UTC).
const distinctSymbols = 1000

// trivial is the run's trivial-handler baseline, measured once (see trivialBaseline).
var trivial struct {
	sync.Mutex
	measured bool
	result   loadResult
}

// trivialBaseline is wrk (64 connections) against a Go handler that only writes a constant, the
// ceiling of any Go HTTP front on this machine (median of `runs`). It is measured by the first
// benchmark of a run that needs it and shared by the others, so every REST row of one run
// stands beside the same baseline.
func trivialBaseline(t *testing.T, seconds, runs int) loadResult {
	t.Helper()
	trivial.Lock()
	defer trivial.Unlock()
	if trivial.measured {
		return trivial.result
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	server := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"symbol":"AAPL","price":180.1,"timestamp":"2026-01-01T00:00:00Z","provider":"test"}`)
	})}
	go server.Serve(l)
	defer server.Close()
	trivial.result = medianRun(runs, func() loadResult {
		// The handler runs in this process: its CPU is this process's.
		before := selfCPU()
		r := wrk(t, "http://"+l.Addr().String()+"/", seconds)
		r.cpu = costPer(map[string]time.Duration{"Go handler": before},
			map[string]time.Duration{"Go handler": selfCPU()}, []string{"Go handler"}, r.requests)
		return r
	})
	trivial.measured = true
	return trivial.result
}

func TestBenchLatestPrice(t *testing.T) {
	seconds := envInt("MDS_BENCH_SECONDS", 10)
	runs := envInt("MDS_BENCH_RUNS", 3)
	base := trivialBaseline(t, seconds, runs)
	// The ceilings of this architecture: a C++ callback gRPC server that answers a constant, loaded
	// directly (gRPC) and through the gateway (REST).
	ceiling := startCeilings(t)
	defer ceiling.stop()
	ceilingURL := ceiling.restURL + "/api/v1/prices/latest?symbol=AAPL&provider=test"
	warmUpUntilSteady(t, ceilingURL)
	restCeiling := medianRun(runs, func() loadResult {
		return withCPU(ceiling.stack, []string{"gateway", "constant server", "client"},
			func() loadResult { return wrkSymbols(t, ceiling.restURL, distinctSymbols, seconds) })
	})
	grpcCeiling := medianRun(runs, func() loadResult {
		return withCPU(ceiling.stack, []string{"constant server", "client"},
			func() loadResult { return h2loadGRPC(t, ceiling.grpcAddr, "", seconds) })
	})
	ceiling.stop()
	// Start from a settled machine: earlier benchmarks leave gigabytes of dirty pages and WAL.
	mustPsql(t, shared.databaseURL, "CHECKPOINT")
	_ = exec.Command("sync").Run()
	url := shared.restURL + "/api/v1/prices/latest?symbol=AAPL&provider=test"
	warmUpUntilSteady(t, url)
	rest := medianRun(runs, func() loadResult {
		return withCPU(shared, []string{"gateway", "mds-api", "PostgreSQL", "Kafka", "mds-consumer", "client"},
			func() loadResult { return wrkSymbols(t, shared.restURL, distinctSymbols, seconds) })
	})
	grpcDirect := medianRun(runs, func() loadResult {
		return withCPU(shared, []string{"mds-api", "PostgreSQL", "Kafka", "mds-consumer", "client"},
			func() loadResult { return h2loadGRPC(t, shared.apiAddr, shared.apiMetrics, seconds) })
	})
	goClient := medianRun(runs, func() loadResult { return goGRPCLoad(t, shared.apiAddr, seconds) })
	median := fmt.Sprintf("median of %d runs", runs)
	addRow(fmt.Sprintf("Latest price over REST (wrk, 64 connections, %d distinct symbols in turn; each request stores and publishes; ", distinctSymbols)+median+")",
		fmt.Sprintf("%.0f req/s, p50 %v, p99 %v", rest.rps, rest.p50, rest.p99),
		fmt.Sprintf("trivial Go handler: %.0f req/s, p99 %v", base.rps, base.p99),
		fmt.Sprintf("%.2f of trivial", rest.rps/base.rps), "≥ 10,000 req/s, p99 < 20 ms")
	addRow("Latest price over gRPC direct (h2load, 64 calls in flight on one symbol, which share provider calls and stored prices; "+median+")",
		fmt.Sprintf("%.0f req/s, p50 %v, p99 %v", grpcDirect.rps, grpcDirect.p50, grpcDirect.p99),
		fmt.Sprintf("REST through the gateway: %.0f req/s", rest.rps),
		fmt.Sprintf("%.2f of REST", grpcDirect.rps/rest.rps), "≥ 25,000 req/s")
	addRow(fmt.Sprintf("Latest price over REST against its ceiling (the gateway in front of a gRPC server that answers a constant; both over %d distinct symbols; ", distinctSymbols)+median+")",
		fmt.Sprintf("%.0f req/s, p99 %v", rest.rps, rest.p99),
		fmt.Sprintf("ceiling: %.0f req/s, p99 %v; CPU %s", restCeiling.rps, restCeiling.p99, restCeiling.cpu),
		fmt.Sprintf("%.2f of ceiling", rest.rps/restCeiling.rps), "≥ 0.6 of ceiling")
	addRow("Latest price over gRPC against its ceiling (a C++ callback gRPC server that answers a constant; "+median+")",
		fmt.Sprintf("%.0f calls/s, p99 %v", grpcDirect.rps, grpcDirect.p99),
		fmt.Sprintf("ceiling: %.0f calls/s, p99 %v; CPU %s", grpcCeiling.rps, grpcCeiling.p99, grpcCeiling.cpu),
		fmt.Sprintf("%.2f of ceiling", grpcDirect.rps/grpcCeiling.rps), "≥ 0.5 of ceiling")
	addRow("CPU per latest price over REST, µs by process (same runs)", rest.cpu.String(),
		fmt.Sprintf("%d cores", numCPU()), "all cores busy at "+rest.cpu.ceiling("req/s"), "where the time goes")
	addRow("CPU per latest price over gRPC, µs by process (same runs)", grpcDirect.cpu.String(),
		fmt.Sprintf("%d cores", numCPU()), "all cores busy at "+grpcDirect.cpu.ceiling("req/s"), "where the time goes")
	goals := []struct {
		name string
		met  bool
		text string
	}{
		{"REST rate", rest.rps >= 10000, fmt.Sprintf("REST %.0f req/s (≥ 10,000)", rest.rps)},
		{"REST p99", rest.p99 < 20*time.Millisecond, fmt.Sprintf("REST p99 %v (< 20 ms)", rest.p99)},
		{"gRPC rate", grpcDirect.rps >= 25000, fmt.Sprintf("gRPC %.0f calls/s (≥ 25,000)", grpcDirect.rps)},
		{"REST of ceiling", rest.rps >= 0.6*restCeiling.rps,
			fmt.Sprintf("REST %.2f of its ceiling (≥ 0.6)", rest.rps/restCeiling.rps)},
		{"gRPC of ceiling", grpcDirect.rps >= 0.5*grpcCeiling.rps,
			fmt.Sprintf("gRPC %.2f of its ceiling (≥ 0.5)", grpcDirect.rps/grpcCeiling.rps)},
		{"gateway CPU", rest.cpu.per["gateway"] <= 40*time.Microsecond,
			fmt.Sprintf("gateway %s µs a request (≤ 40)", micros(rest.cpu.per["gateway"]))},
		{"PostgreSQL CPU", rest.cpu.per["PostgreSQL"] <= 35*time.Microsecond,
			fmt.Sprintf("PostgreSQL %s µs a new price (≤ 35)", micros(rest.cpu.per["PostgreSQL"]))},
	}
	var cells, missed []string
	for _, g := range goals {
		mark := "met"
		if !g.met {
			mark = "missed"
			missed = append(missed, g.name)
		}
		cells = append(cells, g.text+" "+mark)
	}
	verdict := fmt.Sprintf("%d of %d met", len(goals)-len(missed), len(goals))
	if len(missed) > 0 {
		verdict += "; missed: " + strings.Join(missed, ", ")
	}
	addRow("Latest price goals (same runs)", strings.Join(cells, "; "),
		fmt.Sprintf("bare Go handler %s µs a request; grpc-go client alone %s µs a call (%.0f calls/s)",
			micros(base.cpu.per["Go handler"]), micros(goClient.cpu.per["Go client"]), goClient.rps),
		verdict, "every goal met")
}

// ceilings: the constant price server and a gateway in front of it.
type ceilings struct {
	stack    *stack
	grpcAddr string
	restURL  string
}

func startCeilings(t *testing.T) *ceilings {
	t.Helper()
	bin := os.Getenv("MDS_CEILING_BIN")
	if bin == "" {
		t.Fatal("MDS_CEILING_BIN must name //tests/bench:constant-price-server (./deploy/dev bench builds it)")
	}
	in, err := lookupStackInputs()
	if err != nil {
		t.Fatal(err)
	}
	c := &ceilings{stack: &stack{}, grpcAddr: freeAddr()}
	restAddr := freeAddr()
	c.restURL = "http://" + restAddr
	logDir := t.TempDir()
	server, err := startProcess("constant server", bin, []string{"CONSTANT_PRICE_LISTEN=" + c.grpcAddr},
		filepath.Join(logDir, "constant-server.log"))
	if err != nil {
		t.Fatal(err)
	}
	c.stack.processes = append(c.stack.processes, server)
	if err := waitServingWith(c.grpcAddr, insecure.NewCredentials(), 30*time.Second); err != nil {
		c.stop()
		t.Fatalf("constant server not serving: %v", err)
	}
	gateway, err := startProcess("gateway", in.gatewayBin, []string{"GATEWAY_LISTEN=" + restAddr,
		"MDS_API_ADDR=" + c.grpcAddr, "MDS_CONSUMER_ADDR=127.0.0.1:1", "LOG_LEVEL=warn"},
		filepath.Join(logDir, "gateway.log"))
	if err != nil {
		c.stop()
		t.Fatal(err)
	}
	c.stack.processes = append(c.stack.processes, gateway)
	waitFor(t, 30*time.Second, "the ceiling's gateway to answer", func() bool {
		resp, err := http.Get(c.restURL + "/api/v1/prices/latest?symbol=AAPL")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return c
}

// stop ends both processes; a second call does nothing.
func (c *ceilings) stop() {
	for i := len(c.stack.processes) - 1; i >= 0; i-- {
		c.stack.processes[i].stop(10 * time.Second)
	}
	c.stack.processes = nil
}

// warmUpUntilSteady loads url in 3 s runs until two in a row agree within 5% (at most 90 s).
// A broker and services just started need about a minute of load before their rate stops
// climbing (the JVM's compilers, caches, connection pools): measured earlier, the first runs
// would count that warm-up against the service, and did, by up to half.
func warmUpUntilSteady(t *testing.T, url string) {
	t.Helper()
	previous := 0.0
	// Not steady after 90 s is no failure: the measurement starts anyway.
	_ = waitForErr(90*time.Second, "a steady rate", func() (bool, error) {
		r := wrk(t, url, 3)
		t.Logf("warm-up: %.0f req/s", r.rps)
		steady := previous > 0 && math.Abs(r.rps-previous) <= 0.05*previous
		previous = r.rps
		return steady, nil
	})
}

// goGRPCLoad calls GetLatestPrice from 64 goroutines over one connection, as the gateway does,
// for `seconds`, and measures this process's CPU per call: what grpc-go's client costs, which
// the gateway pays on top of serving HTTP.
func goGRPCLoad(t *testing.T, addr string, seconds int) loadResult {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := mdv1.NewPriceServiceClient(conn)
	req := &mdv1.GetLatestPriceRequest{Symbol: "AAPL", Provider: "test"}
	// Calls get their own deadline, not the run's: a call cut off by the end of the run is not a
	// failure, and a failed call is one.
	var stop atomic.Bool
	time.AfterFunc(time.Duration(seconds)*time.Second, func() { stop.Store(true) })
	var calls, failures atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	before := selfCPU()
	began := time.Now()
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				_, err := client.GetLatestPrice(ctx, req)
				cancel()
				if err != nil {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				calls.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(began)
	if failures.Load() > 0 {
		t.Errorf("grpc-go load: %d calls failed, the first with: %v", failures.Load(), firstErr.Load())
	}
	r := loadResult{rps: float64(calls.Load()) / elapsed.Seconds(), requests: int(calls.Load())}
	r.cpu = costPer(map[string]time.Duration{"Go client": before},
		map[string]time.Duration{"Go client": selfCPU()}, []string{"Go client"}, r.requests)
	return r
}

// selfCPU is this process's CPU time so far (user and system).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestBenchPollingScale(t *testing.T) {
	s, cleanup, err := startStack("bench_poll", "POLLING_RUNNERS=32", "DATABASE_POOL_SIZE=32")
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	createPollingScaleJobs(t, s.restURL, "Q")
	warmup := 5 * time.Second
	measure := time.Duration(envInt("MDS_BENCH_POLL_SECONDS", 30)) * time.Second
	time.Sleep(warmup) // benchmark window, not synchronisation
	lagBefore := histogramBuckets(s.apiMetrics, "mds_polling_tick_lag_seconds")
	from := time.Now()
	time.Sleep(measure)
	to := time.Now()
	lagAfter := histogramBuckets(s.apiMetrics, "mds_polling_tick_lag_seconds")
	var points int
	if err := queryDBAt(t, s.databaseURL, "SELECT count(*) FROM price_points WHERE ts >= $1 AND ts < $2", from, to).Scan(&points); err != nil {
		t.Fatal(err)
	}
	rate := float64(points) / to.Sub(from).Seconds()
	// From the histogram's buckets over the measured window, so within a bucket's width.
	lagP99 := histogramQuantile(0.99, lagBefore, lagAfter)
	addRow("Polling: 1,000 symbols at 1 s (20 jobs × 50, test provider)",
		fmt.Sprintf("%.0f points/s, tick lag p99 %.1f ms", rate, lagP99*1000),
		"schedule: 1,000 points/s", fmt.Sprintf("%.3f of schedule", rate/1000), "≥ 990 points/s, lag p99 < 250 ms")
}

// createPollingScaleJobs creates the polling load of the Polling benchmark: 20 jobs of 50
// symbols (prefix and a number) on the test provider, each polled every second, so 1,000 prices
// a second.
func createPollingScaleJobs(t *testing.T, base, prefix string) {
	t.Helper()
	createJobs(t, base, prefix, 20, 50, 1)
}

func TestBenchStreamFanOut(t *testing.T) {
	s, cleanup, err := startStack("bench_fan", "MOVING_AVERAGE_WINDOWS=5")
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	const subscribers, symbols = 1000, 1000
	consumerPid := s.processes[1].cmd.Process.Pid
	before := vmRSSKiB(consumerPid)
	conn, err := grpc.NewClient(s.consumerAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := mdv1.NewMovingAverageServiceClient(conn)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var latencies []time.Duration
	var ready sync.WaitGroup
	for i := 0; i < subscribers; i++ {
		stream, err := client.StreamMovingAverages(ctx, &mdv1.StreamMovingAveragesRequest{Symbols: []string{fmt.Sprintf("F%04d", i%symbols)}})
		if err != nil {
			t.Fatal(err)
		}
		ready.Add(1)
		go func() {
			stream.Header()
			ready.Done()
			for {
				m, err := stream.Recv()
				if err != nil {
					return
				}
				d := time.Since(m.Timestamp.AsTime())
				mu.Lock()
				latencies = append(latencies, d)
				mu.Unlock()
			}
		}()
	}
	ready.Wait()
	after := vmRSSKiB(consumerPid)
	// A steady stream: 20,000 events/s for 10 s, each stamped with its production time.
	producer := kafkaClient(t, kgo.ProducerLinger(time.Millisecond))
	const rate, seconds = 20000, 10
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	id := int64(0)
	for step := 0; step < seconds*100; step++ {
		<-tick.C
		for k := 0; k < rate/100; k++ {
			id++
			sym := fmt.Sprintf("F%04d", id%symbols)
			value, _ := proto.Marshal(&mdv1.PriceEvent{Symbol: sym, Price: 100 + float64(id%97), Timestamp: timestamppb.Now(),
				Provider: "test", PricePointId: id})
			producer.Produce(ctx, &kgo.Record{Topic: s.topic, Key: []byte(sym), Value: value}, nil)
		}
	}
	producer.Flush(ctx)
	// Averages not all delivered after a minute are no failure: the latencies are of those that were.
	_ = waitForErr(60*time.Second, "the consumer to take every event", func() (bool, error) {
		return scrape(s.consumerMetrics, "mds_consumer_events_total") >= float64(id), nil
	})
	mu.Lock()
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	n := len(latencies)
	mu.Unlock()
	if n == 0 {
		t.Fatal("no averages delivered")
	}
	p50, p99 := latencies[n/2], latencies[n*99/100]
	perSub := (after - before) / subscribers
	addRow(fmt.Sprintf("Stream fan-out: %d StreamMovingAverages subscribers, 20,000 events/s", subscribers),
		fmt.Sprintf("event to receipt p50 %v, p99 %v (%d deliveries); %.1f KiB per subscriber", p50.Round(time.Microsecond), p99.Round(time.Microsecond), n, perSub),
		fmt.Sprintf("consumer RSS %.0f MiB before subscribers", before/1024), fmt.Sprintf("%.1f%% RSS growth", 100*(after-before)/before),
		"p99 < 50 ms")
}

func TestBenchHistoryGrowth(t *testing.T) {
	s, cleanup, err := startStack("bench_history")
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	seconds := envInt("MDS_BENCH_SECONDS", 10)
	url := s.restURL + "/api/v1/prices/latest?symbol=AAPL&provider=test"
	// A fresh stack's first seconds are slower (connections, the broker's JIT compiler): they
	// would be charged to the smallest history.
	warmUpUntilSteady(t, url)
	rows := 0
	var base loadResult
	for i, size := range strings.Split(envString("MDS_BENCH_HISTORY_ROWS", "1000000,50000000"), ",") {
		target, _ := strconv.Atoi(size)
		// History of 1,000 other symbols, as a long-running service would have.
		mustPsql(t, s.databaseURL, fmt.Sprintf(`INSERT INTO price_points (symbol, price, ts, provider)
			SELECT 'H' || lpad((i %% 1000)::text, 4, '0'), 100 + (i %% 97), now() - i * interval '1 millisecond', 'test'
			FROM generate_series(%d, %d) AS i`, rows+1, target))
		// Measure the steady state, not the clean-up after a bulk import.
		mustPsql(t, s.databaseURL, "VACUUM (ANALYZE) price_points")
		mustPsql(t, s.databaseURL, "CHECKPOINT")
		rows = target
		r := medianRun(3, func() loadResult {
			return withCPU(s, []string{"gateway", "mds-api", "PostgreSQL", "Kafka", "mds-consumer", "client"},
				func() loadResult { return wrk(t, url, seconds) })
		})
		if i == 0 {
			base = r
		}
		addRow(fmt.Sprintf("Cost growth: latest price over REST with %d rows in price_points (median of 3 runs)", rows),
			fmt.Sprintf("%.0f req/s, p99 %v; CPU per request, µs: %s", r.rps, r.p99, r.cpu.String()),
			fmt.Sprintf("with %s rows: p99 %v", strings.Split(envString("MDS_BENCH_HISTORY_ROWS", "1000000"), ",")[0], base.p99),
			fmt.Sprintf("%.2f × p99", float64(r.p99)/float64(base.p99)), "≈ 1 (p99 independent of history)")
	}
}

// TestBenchRefusal: a request far over the limits (a polling job of 40,000 symbols, 400 KB) is
// refused in about the time of any small bad request: the symbol count is checked while reading,
// before any work per symbol.
func TestBenchRefusal(t *testing.T) {
	s, cleanup, err := startStack("bench_refusal")
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	symbols := make([]string, 40000)
	for i := range symbols {
		symbols[i] = fmt.Sprintf("X%d", i)
	}
	huge, _ := json.Marshal(map[string]any{"symbols": symbols, "interval": 5})
	small := `{"symbols":["no way"],"interval":5}`
	runs := envInt("MDS_BENCH_REFUSALS", 200)
	post := func(body string) []time.Duration {
		var took []time.Duration
		for i := 0; i < runs+20; i++ {
			began := time.Now()
			resp, err := http.Post(s.restURL+"/api/v1/prices/poll", "application/json", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 400 {
				t.Fatalf("status %d, want 400", resp.StatusCode)
			}
			if i >= 20 { // after a warm-up
				took = append(took, time.Since(began))
			}
		}
		sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
		return took
	}
	quantile := func(d []time.Duration, q float64) time.Duration { return d[int(q*float64(len(d)-1))] }
	hugeTook, smallTook := post(string(huge)), post(small)
	conn, err := grpc.NewClient(s.apiAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	polling := mdv1.NewPollingServiceClient(conn)
	var grpcTook []time.Duration
	for i := 0; i < runs+20; i++ {
		began := time.Now()
		_, err := polling.CreatePollingJob(context.Background(), &mdv1.CreatePollingJobRequest{Symbols: symbols, Interval: 5})
		if err == nil {
			t.Fatal("40,000 symbols accepted over gRPC")
		}
		if i >= 20 {
			grpcTook = append(grpcTook, time.Since(began))
		}
	}
	sort.Slice(grpcTook, func(i, j int) bool { return grpcTook[i] < grpcTook[j] })
	addRow(fmt.Sprintf("Refusal: POST /api/v1/prices/poll with 40,000 symbols (%d KB), answered 400 (%d sequential requests)", len(huge)/1024, runs),
		fmt.Sprintf("REST p50 %v, p99 %v; gRPC CreatePollingJob p50 %v, p99 %v",
			quantile(hugeTook, 0.5).Round(10*time.Microsecond), quantile(hugeTook, 0.99).Round(10*time.Microsecond),
			quantile(grpcTook, 0.5).Round(10*time.Microsecond), quantile(grpcTook, 0.99).Round(10*time.Microsecond)),
		fmt.Sprintf("a one-symbol bad request: p50 %v, p99 %v", quantile(smallTook, 0.5).Round(10*time.Microsecond), quantile(smallTook, 0.99).Round(10*time.Microsecond)),
		fmt.Sprintf("%.1f × p50", float64(quantile(hugeTook, 0.5))/float64(quantile(smallTook, 0.5))), "< 10 ms")
}

// firstCell is a table row's first cell: the benchmark, which recognises its row across runs
// (as long as the sizes in its name are the same).
func firstCell(row string) string {
	cell, _, _ := strings.Cut(strings.TrimPrefix(row, "| "), " |")
	return strings.TrimSpace(cell)
}

func init() {
	testReports = append(testReports, testReport{env: "MDS_BENCH_REPORT", text: benchReport})
}

// benchReport is docs/reports/benchmarks.md: the rows measured now, then those of the report at
// `path` whose benchmarks did not run.
func benchReport(path string) string {
	report.Lock()
	defer report.Unlock()
	if len(report.rows) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmarks\n\n%s.\n"+
		"Command: `./deploy/dev bench` (every figure beside its baseline from the same run).\n\n", measuredOn())
	if pg := postgresSetup(shared.databaseURL); pg != "" {
		fmt.Fprintf(&b, "%s; one Kafka broker.\n\n", pg)
	}
	// A run of some benchmarks keeps the other rows of the previous report, each with the time of
	// the run that measured it (its last cell), so a kept figure is never read as a new one.
	stamp := time.Now().UTC().Format(reportTime)
	now := map[string]bool{}
	for _, r := range report.rows {
		now[firstCell(r)] = true
	}
	var kept []string
	if old, err := os.ReadFile(path); err == nil {
		keptFrom := measuredWhen(string(old))
		for _, line := range strings.Split(string(old), "\n") {
			if cell := firstCell(line); strings.HasPrefix(line, "| ") && cell != "Benchmark" && cell != "---" && !now[cell] {
				if strings.Count(line, "|") == 6 { // a row of a report without the run column
					line += " on or before " + keptFrom + " |"
				}
				kept = append(kept, line)
			}
		}
	}
	if len(kept) > 0 {
		fmt.Fprintf(&b, "The last %d rows did not run this time: they are kept from earlier runs, whose times they give.\n\n", len(kept))
	}
	b.WriteString("| Benchmark | Measured | Baseline (same run) | Ratio | Target | Run |\n|---|---|---|---|---|---|\n")
	for _, r := range report.rows {
		b.WriteString(r + " " + stamp + " |\n")
	}
	for _, r := range kept {
		b.WriteString(r + "\n")
	}
	b.WriteString("\nClients, servers, PostgreSQL and Kafka share the same cores, so every figure includes the " +
		"load generator's own cost.\n")
	return b.String()
}
