package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"syscall"
	"testing"
	"time"
)

// A polling replica frozen (SIGSTOP, as a long GC pause or a starved VM would) while it holds a
// tick and fetches one of its symbols; its lease runs out, another replica completes the tick
// with only the symbols still missing; then the frozen replica wakes up and its fetch returns.
// The database must refuse that late price: exactly one price per (job, tick, symbol).
func TestFrozenPollingReplicasLateWritesAreRefused(t *testing.T) {
	r := freezePollingReplica(t, "fence")
	for _, v := range r.violations {
		t.Error(v)
	}
	t.Log(r)
}

// frozenReplica is what freezePollingReplica saw.
type frozenReplica struct {
	symbols, callsAtFreeze, calls int
	refused                       float64
	frozenFor, takeover           time.Duration
	violations                    []string
}

func (r frozenReplica) String() string {
	return fmt.Sprintf("%d symbols; frozen %s with %d provider calls made; the other replica completed the tick %s after the freeze, %d calls in all; late writes refused: %v",
		r.symbols, r.frozenFor.Round(time.Millisecond), r.callsAtFreeze, r.takeover.Round(time.Millisecond), r.calls, r.refused)
}

// freezePollingReplica runs the scenario on a stack of its own and returns what held and what
// did not.
func freezePollingReplica(t *testing.T, prefix string) frozenReplica {
	t.Helper()
	var r frozenReplica
	const lease = 2 * time.Second
	s := startLimitedStack(t, prefix, map[string]fakeLimits{},
		fmt.Sprintf("POLLING_LEASE_SECONDS=%d", int(lease.Seconds())),
		// The frozen replica's call must come back, not time out, once it runs again.
		"PROVIDER_TIMEOUT_MS=120000", "PROVIDER_MAX_RETRIES=0", "LOG_LEVEL=debug")
	frozen := s.processes[0]
	// Every reply takes 3 s, so the replica is frozen while a call is in flight.
	s.fakes.setDelay(3 * time.Second)
	symbols := []string{"YFZA", "YFZB", "YFZC", "YFZD", "YFZE", "YFZF"}
	body, _ := json.Marshal(map[string]any{"symbols": symbols, "interval": 3600, "provider": "yfinance"})
	code, out := send(t, s.restURL, "POST", "/api/v1/prices/poll", string(body))
	if code != http.StatusAccepted {
		t.Fatalf("create: %d %v", code, out)
	}
	job := out["job_id"].(string)

	// The only replica runs the first tick: its second call is in flight, the first stored.
	waitFor(t, 30*time.Second, "the run's second provider call", func() bool { return s.fakes.calls("yfinance") >= 2 })
	if err := frozen.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	frozeAt := time.Now()
	stopped := true
	defer func() {
		if stopped {
			_ = frozen.cmd.Process.Signal(syscall.SIGCONT)
		}
	}()
	inFlight := s.fakes.calls("yfinance")
	s.fakes.setDelay(0)

	// Another replica takes the job once the lease has run out and completes the tick.
	if _, _, err := s.addAPIReplica("mds-api-2"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "the other replica to complete the tick", func() bool {
		return dbInt(t, s.databaseURL, fmt.Sprintf("SELECT run_count FROM polling_jobs WHERE job_id = '%s'", job)) >= 1
	})
	completedCalls := s.fakes.calls("yfinance")
	r.takeover = time.Since(frozeAt)

	// The frozen replica wakes up: the call it was making returns, and its price is refused.
	if err := frozen.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	stopped = false
	r.frozenFor = time.Since(frozeAt)
	waitFor(t, 30*time.Second, "the woken replica's late write to be refused", func() bool {
		return metricValue(s.apiMetrics, "mds_polling_tick_writes_refused_total") >= 1
	})

	for _, symbol := range symbols {
		if n := dbInt(t, s.databaseURL, fmt.Sprintf("SELECT count(*) FROM price_points WHERE symbol = '%s'", symbol)); n != 1 {
			r.violations = append(r.violations, fmt.Sprintf("%s: %d price points for the one tick, want exactly 1", symbol, n))
		}
	}
	// The other replica fetched only what the tick was missing: every symbol once, plus the one
	// the frozen replica was fetching (its call was made, its price refused).
	if completedCalls != len(symbols)+1 {
		r.violations = append(r.violations, fmt.Sprintf("%d provider calls for %d symbols (frozen with %d calls made), want %d: the completing run fetched symbols the tick already had",
			completedCalls, len(symbols), inFlight, len(symbols)+1))
	}
	if n := dbInt(t, s.databaseURL, fmt.Sprintf("SELECT error_count FROM polling_jobs WHERE job_id = '%s'", job)); n != 0 {
		r.violations = append(r.violations, fmt.Sprintf("the tick recorded %d errors", n))
	}
	select {
	case err := <-frozen.done:
		r.violations = append(r.violations, fmt.Sprintf("the woken replica exited: %v", err))
	default:
	}
	r.symbols, r.callsAtFreeze, r.calls = len(symbols), inFlight, completedCalls
	r.refused = metricValue(s.apiMetrics, "mds_polling_tick_writes_refused_total")
	return r
}
