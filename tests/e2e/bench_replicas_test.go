//go:build bench

package e2e

// ReplicasSameWork: the same polling work (MDS_BENCH_REPLICAS_SYMBOLS symbols every second, below
// one deployment's capacity) done by one mds-api and one mds-consumer, then, on a fresh stack, by
// two of each sharing the jobs (leases) and the topic's partitions (one consumer group). Both run
// on this machine's cores, so two replicas cannot be faster; what the run shows is what the
// coordination costs: the CPU per polled price of each process, summed over its replicas, against
// one of each measured in the same run.

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

type replicasRun struct {
	replicas int
	rate     float64
	lagP99   float64 // seconds, over every replica's histogram
	cpu      cpuCost
}

func TestBenchReplicasSameWork(t *testing.T) {
	symbols := envInt("MDS_BENCH_REPLICAS_SYMBOLS", 4000)
	window := time.Duration(envInt("MDS_BENCH_CAPACITY_SECONDS", 15)) * time.Second
	one := runReplicas(t, "bench_one", 1, symbols, window)
	two := runReplicas(t, "bench_two", 2, symbols, window)
	describe := func(r replicasRun) string {
		return fmt.Sprintf("%.0f prices/s, tick lag p99 %.0f ms; CPU per polled price, µs (each process summed over its replicas): %s",
			r.rate, r.lagP99*1000, r.cpu)
	}
	ratio := 0.0
	if one.cpu.total > 0 {
		ratio = float64(two.cpu.total) / float64(one.cpu.total)
	}
	addRow(fmt.Sprintf("Replicas: %d symbols polled every second by two mds-api and two mds-consumer replicas (jobs shared through leases, partitions through the group)", symbols),
		describe(two), "one of each, same work: "+describe(one),
		fmt.Sprintf("%.2f × the CPU per price", ratio), "the cost of coordination, reported")
}

// runReplicas starts a stack with `replicas` mds-api and mds-consumer processes, has them poll
// `symbols` symbols every second, and measures a window once they have settled.
func runReplicas(t *testing.T, prefix string, replicas, symbols int, window time.Duration) replicasRun {
	t.Helper()
	env := []string{"POLLING_RUNNERS=64", "DATABASE_POOL_SIZE=32", "POLLING_MAX_SYMBOLS=50", "MOVING_AVERAGE_WINDOWS=5"}
	s, cleanup, err := startStack(prefix, env...)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	in, err := lookupStackInputs()
	if err != nil {
		t.Fatal(err)
	}
	logDir := os.Getenv("TEST_UNDECLARED_OUTPUTS_DIR")
	if logDir == "" {
		logDir = os.TempDir()
	}
	metrics := []string{s.apiMetrics}
	for i := 2; i <= replicas; i++ {
		apiAddr, apiMetrics, consumerAddr := freeAddr(), freeAddr(), freeAddr()
		// Named as the first ones, so that cpuTime sums each process over its replicas.
		api, err := startProcess("mds-api", in.apiBin,
			withEnv(s.apiEnv, "MDS_API_LISTEN="+apiAddr, "MDS_API_METRICS_LISTEN="+apiMetrics),
			filepath.Join(logDir, fmt.Sprintf("%s-mds-api-%d.log", prefix, i)))
		if err != nil {
			t.Fatal(err)
		}
		s.processes = append(s.processes, api)
		consumer, err := startProcess("mds-consumer", in.consumerBin,
			withEnv(s.apiEnv, "MDS_CONSUMER_LISTEN="+consumerAddr, "MDS_CONSUMER_METRICS_LISTEN=off"),
			filepath.Join(logDir, fmt.Sprintf("%s-mds-consumer-%d.log", prefix, i)))
		if err != nil {
			t.Fatal(err)
		}
		s.processes = append(s.processes, consumer)
		for _, addr := range []string{apiAddr, consumerAddr} {
			if err := waitServing(addr, 90*time.Second); err != nil {
				t.Fatalf("replica %d not serving: %v\n%s", i, err, s.logs())
			}
		}
		metrics = append(metrics, apiMetrics)
	}
	createJobs(t, s.restURL, fmt.Sprintf("R%d", replicas), symbols/50, 50, 1)
	time.Sleep(10 * time.Second) // benchmark settling window (leases spread, group balanced)
	lag := func() map[float64]float64 {
		sum := map[float64]float64{}
		for _, addr := range metrics {
			for bound, n := range histogramBuckets(addr, "mds_polling_tick_lag_seconds") {
				sum[bound] += n
			}
		}
		return sum
	}
	lagBefore, cpuBefore := lag(), cpuTime(s)
	from := time.Now()
	time.Sleep(window) // benchmark window
	to := time.Now()
	cpuAfter, lagAfter := cpuTime(s), lag()
	var points int
	if err := queryDBAt(t, s.databaseURL, "SELECT count(*) FROM price_points WHERE ts >= $1 AND ts < $2",
		from, to).Scan(&points); err != nil {
		t.Fatal(err)
	}
	r := replicasRun{replicas: replicas, rate: float64(points) / to.Sub(from).Seconds(),
		lagP99: histogramQuantile(0.99, lagBefore, lagAfter)}
	r.cpu = costPer(cpuBefore, cpuAfter, []string{"mds-api", "PostgreSQL", "Kafka", "mds-consumer"}, points)
	t.Logf("%d of each: %.0f prices/s, tick lag p99 %.0f ms, CPU %s", replicas, r.rate, r.lagP99*1000, r.cpu)
	return r
}
