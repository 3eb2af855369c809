//go:build bench

package e2e

// PollingCapacity: how many symbols one deployment (one mds-api, one mds-consumer, the shared
// PostgreSQL and broker, all on this machine) polls every second, the figure a deployment is
// sized by. The number of symbols rises step by step (jobs of 50, test provider, 1 s) until the
// tick lag p99 passes 250 ms or the stored rate falls below 99% of the schedule (ticks missed)
// in two windows in a row; every price is stored, published, averaged and put into bars.

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	mdv1 "marketdata/gateway/gen/marketdata/v1"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

type capacityStep struct {
	symbols  int
	rate     float64       // stored prices a second over the window
	lagP99   float64       // seconds, from the histogram's buckets
	freshP99 time.Duration // price time to its average delivered on a live stream
	cpu      cpuCost
	passed   bool
}

func TestBenchPollingCapacity(t *testing.T) {
	runners := envInt("MDS_BENCH_CAPACITY_RUNNERS", 64)
	s, cleanup, err := startStack("bench_capacity", fmt.Sprintf("POLLING_RUNNERS=%d", runners),
		"DATABASE_POOL_SIZE=32", "POLLING_MAX_SYMBOLS=50", "MOVING_AVERAGE_WINDOWS=5")
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	fresh := followAverages(t, s.consumerAddr)
	defer fresh.stop()
	window := time.Duration(envInt("MDS_BENCH_CAPACITY_SECONDS", 15)) * time.Second
	var steps []capacityStep
	jobs := 0
	measure := func(symbols int) capacityStep {
		lagBefore := histogramBuckets(s.apiMetrics, "mds_polling_tick_lag_seconds")
		cpuBefore := cpuTime(s)
		fresh.reset()
		from := time.Now()
		time.Sleep(window) // benchmark window
		to := time.Now()
		cpuAfter := cpuTime(s)
		lagAfter := histogramBuckets(s.apiMetrics, "mds_polling_tick_lag_seconds")
		var points int
		if err := queryDBAt(t, s.databaseURL, "SELECT count(*) FROM price_points WHERE ts >= $1 AND ts < $2",
			from, to).Scan(&points); err != nil {
			t.Fatal(err)
		}
		step := capacityStep{symbols: symbols, rate: float64(points) / to.Sub(from).Seconds(),
			lagP99: histogramQuantile(0.99, lagBefore, lagAfter), freshP99: fresh.p99()}
		step.cpu = costPer(cpuBefore, cpuAfter, []string{"mds-api", "PostgreSQL", "Kafka", "mds-consumer"}, points)
		step.passed = step.lagP99 <= 0.25 && step.rate >= 0.99*float64(symbols)
		t.Logf("%d symbols: %.0f prices/s, tick lag p99 %.0f ms, freshness p99 %v, CPU %s, passed %v",
			symbols, step.rate, step.lagP99*1000, step.freshP99, step.cpu, step.passed)
		return step
	}
	for i, symbols := range []int{1000, 2000, 4000, 6000, 8000, 10000, 12000, 16000, 20000} {
		createJobs(t, s.restURL, fmt.Sprintf("C%03d", symbols/1000), symbols/50-jobs, 50, 1)
		jobs = symbols / 50
		// Benchmark settling windows, not synchronisation: the first one also lets the freshly
		// started broker's JVM compile its hot paths, which costs seconds of CPU.
		settle := 5 * time.Second
		if i == 0 {
			settle = 20 * time.Second
		}
		time.Sleep(settle)
		step := measure(symbols)
		if !step.passed {
			// One more window before giving up: a step fails on a moment of other load too.
			step = measure(symbols)
		}
		steps = append(steps, step)
		if !step.passed {
			break
		}
	}
	// best: the most symbols whose ticks kept time; freshest: the most whose averages also reached a
	// live stream within a second of their prices.
	best, freshest := capacityStep{}, capacityStep{}
	for _, st := range steps {
		if st.passed {
			best = st
			if st.freshP99 < time.Second {
				freshest = st
			}
		}
	}
	last := steps[len(steps)-1]
	stopped := "every step passed"
	if !last.passed {
		stopped = fmt.Sprintf("%d symbols failed: %.0f prices/s, tick lag p99 %.0f ms", last.symbols, last.rate, last.lagP99*1000)
	}
	addRow("Polling capacity: symbols polled every second by one deployment (jobs of 50, test provider; each price stored, published, averaged, put into bars)",
		fmt.Sprintf("%d symbols: %.0f prices/s, tick lag p99 %.0f ms, freshness p99 %v (price to its average on a live stream)",
			best.symbols, best.rate, best.lagP99*1000, best.freshP99),
		"schedule: 1 price per symbol a second; next step: "+stopped,
		fmt.Sprintf("%.2f of target", float64(best.symbols)/10000), "≥ 10,000 symbols, freshness p99 < 1 s")
	addRow("Polling capacity with fresh averages: the most symbols whose averages reach a live stream within 1 s (p99) of their prices",
		fmt.Sprintf("%d symbols: %.0f prices/s, freshness p99 %v", freshest.symbols, freshest.rate, freshest.freshP99),
		fmt.Sprintf("polling capacity: %d symbols", best.symbols),
		fmt.Sprintf("%.2f of it", float64(freshest.symbols)/float64(max(best.symbols, 1))), "≥ 10,000 symbols")
	addRow("CPU per polled price at the polling capacity, µs by process", best.cpu.String(),
		fmt.Sprintf("%d cores", numCPU()), "all cores busy at "+best.cpu.ceiling("prices/s"), "where the time goes")
}

// averageFollower receives every average the consumer publishes and records how long after the
// price's own time each arrived.
type averageFollower struct {
	cancel context.CancelFunc
	conn   *grpc.ClientConn
	mu     sync.Mutex
	delays []time.Duration
	done   chan struct{}
}

func followAverages(t *testing.T, addr string) *averageFollower {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := mdv1.NewMovingAverageServiceClient(conn).StreamMovingAverages(ctx, &mdv1.StreamMovingAveragesRequest{})
	if err != nil {
		cancel()
		conn.Close()
		t.Fatal(err)
	}
	f := &averageFollower{cancel: cancel, conn: conn, done: make(chan struct{})}
	go func() {
		defer close(f.done)
		for {
			m, err := stream.Recv()
			if err != nil {
				return
			}
			delay := time.Since(m.GetTimestamp().AsTime())
			f.mu.Lock()
			f.delays = append(f.delays, delay)
			f.mu.Unlock()
		}
	}()
	return f
}

func (f *averageFollower) reset() {
	f.mu.Lock()
	f.delays = f.delays[:0]
	f.mu.Unlock()
}

func (f *averageFollower) p99() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.delays) == 0 {
		return 0
	}
	d := append([]time.Duration(nil), f.delays...)
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[len(d)*99/100].Round(time.Millisecond)
}

func (f *averageFollower) stop() {
	f.cancel()
	<-f.done
	f.conn.Close()
}
