// A short subset of the fault-injection suite (./deploy/dev faults) that runs under `bazel test`
// against the shared test stack: one of each fault with small numbers. It never kills the shared
// PostgreSQL or broker: PostgreSQL is cut off through a TCP proxy, and the Kafka outage happens
// to a private broker of the test's own.
package e2e

import (
	"fmt"
	"testing"
	"time"
)

// settle stops the load and the polling jobs, waits until nothing more is stored and every
// committed price was acknowledged by the broker.
func settle(t *testing.T, s *faultStack, l *load, jobIDs []string) {
	t.Helper()
	l.Stop()
	stopJobs(t, s.restURL, jobIDs)
	awaitQuiet(t, s.databaseURL, 2*time.Second, time.Minute)
	if waited, ok := awaitOutboxEmpty(t, s.databaseURL, 90*time.Second); !ok {
		t.Errorf("prices committed but not acknowledged by the broker %v after the load stopped", waited)
	}
}

// checkNothingLost: every committed price on the topic, every average exact, no price point
// stored twice, every price answered 200 stored.
func checkNothingLost(t *testing.T, s *faultStack, windows []int, loads ...*load) {
	t.Helper()
	if p := checkPublication(t, s); p.missing != 0 || p.unknown != 0 || p.points == 0 {
		t.Errorf("topic vs price_points: %s", p)
	}
	if a := awaitAverages(t, s, windows, 2*time.Minute); !a.ok() {
		t.Errorf("averages vs the SQL reference: %s", a)
	}
	if groups, rows := duplicatePoints(t, s.databaseURL); groups != 0 {
		t.Errorf("%d price points stored twice (%d rows)", groups, rows)
	}
	if answered, missing, example := answersStored(t, s.databaseURL, loads...); missing != 0 || answered == 0 {
		t.Errorf("%d of %d prices answered 200 are not stored%s", missing, answered, example)
	}
	if alive, dead := s.aliveCount(); alive != len(s.processes) {
		t.Errorf("processes exited: %v", dead)
	}
}

// mds-api SIGKILLed twice under light REST load and polling.
func TestFaultSubsetApiKilled(t *testing.T) {
	s := startFaultStack(t, faultStackOptions{prefix: "fs_api"})
	jobIDs := createJobs(t, s.restURL, "SUA", 2, 10, 1)
	waitFor(t, 30*time.Second, "both jobs' first run", func() bool {
		return dbInt(t, s.databaseURL, "SELECT count(*) FROM polling_jobs WHERE run_count > 0") == 2
	})
	rest := restLoad("REST", s.restURL, 2, 50, func(n int64) string {
		return fmt.Sprintf("/api/v1/prices/latest?symbol=SUR%d&provider=test", n%100)
	})
	defer rest.Stop()
	for k := 0; k < 2; k++ {
		runs, oks := dbInt(t, s.databaseURL, "SELECT sum(run_count) FROM polling_jobs"), rest.okCount()
		waitFor(t, 30*time.Second, "polling and REST to make progress", func() bool {
			return dbInt(t, s.databaseURL, "SELECT sum(run_count) FROM polling_jobs") >= runs+4 && rest.okCount() >= oks+30
		})
		restartKilled(t, s.api(), s.apiAddr)
	}
	oks := rest.okCount()
	waitFor(t, 30*time.Second, "REST to answer again", func() bool { return rest.okCount() >= oks+30 })
	settle(t, s, rest, jobIDs)
	checkNothingLost(t, s, []int{2, 5}, rest)
	if c := checkPolling(t, s.databaseURL, 1); len(c.violations) > 0 || c.errors > 0 || c.runs == 0 {
		t.Errorf("polling: %s", c)
	}
}

// mds-consumer SIGKILLed 3 times during 20,000 events.
func TestFaultSubsetConsumerKilled(t *testing.T) {
	const n, kills = 20000, 3
	s := startFaultStack(t, faultStackOptions{prefix: "fs_consumer", env: []string{"MOVING_AVERAGE_WINDOWS=5,20"}})
	at := bulkPricePoints(t, s.databaseURL, "SUC", n, 100)
	produced := produceAll(t, s.kafka, s.topic, n, at)
	committed := func() int64 {
		c, _ := committedOffsets(s.kafka, s.group, s.topic)
		return c
	}
	for k := 1; k <= kills; k++ {
		target := int64(k * n / (kills + 1))
		waitFor(t, time.Minute, fmt.Sprintf("%d events committed", target), func() bool { return committed() >= target })
		restartKilled(t, s.consumer(), s.consumerAddr)
	}
	if err := <-produced; err != nil {
		t.Fatal(err)
	}
	if a := awaitAverages(t, s, []int{5, 20}, 2*time.Minute); !a.ok() {
		t.Errorf("averages vs the SQL reference: %s", a)
	}
	if parked, _ := endOffsets(s.kafka, s.deadLetters); parked != 0 {
		t.Errorf("%d records parked as dead letters", parked)
	}
}

// PostgreSQL cut off (every connection closed, new ones refused) and restored: the services keep
// running, REST answers 503 quickly meanwhile and 200 within 5 s of the restore.
func TestFaultSubsetPostgresCut(t *testing.T) {
	proxy := newTCPProxy(t, postgresHostPort(t))
	s := startFaultStack(t, faultStackOptions{prefix: "fs_pg", dbAddr: proxy.addr})
	jobIDs := createJobs(t, s.restURL, "SUP", 1, 10, 1)
	rest := restLoad("REST", s.restURL, 2, 50, func(n int64) string {
		return fmt.Sprintf("/api/v1/prices/latest?symbol=SUQ%d&provider=test", n%100)
	})
	defer rest.Stop()
	waitFor(t, 30*time.Second, "the load to run", func() bool { return rest.okCount() >= 50 })
	cut := time.Now()
	proxy.Cut()
	time.Sleep(3 * time.Second) // the outage itself
	failedSince := func() int {
		n := 0
		for _, a := range rest.snapshot() {
			if a.start.After(cut) && a.code != 200 {
				n++
			}
		}
		return n
	}
	waitFor(t, 30*time.Second, "20 requests to fail while PostgreSQL is cut off", func() bool { return failedSince() >= 20 })
	restored := time.Now()
	proxy.Restore(t)
	var back time.Time
	waitFor(t, 30*time.Second, "a 200 after the restore", func() bool {
		back = rest.firstOKAfter(restored)
		return !back.IsZero()
	})
	if d := back.Sub(restored); d > 5*time.Second {
		t.Errorf("first 200 %v after PostgreSQL was reachable again, want within 5 s", d)
	}
	out := rest.summary(cut.Add(100*time.Millisecond), restored)
	if out.codes["503"] != out.failed() || out.maxFailed > 6*time.Second {
		t.Errorf("during the cut: %s, slowest failure %v; want only 503s, each within 6 s", out.codesString(), out.maxFailed)
	}
	t.Logf("cut %v: %s, slowest failure %v; first 200 %v after the restore", restored.Sub(cut).Round(time.Millisecond),
		out.codesString(), out.maxFailed.Round(time.Millisecond), back.Sub(restored).Round(time.Millisecond))
	oks := rest.okCount()
	waitFor(t, 30*time.Second, "the load to run on", func() bool { return rest.okCount() >= oks+30 })
	settle(t, s, rest, jobIDs)
	checkNothingLost(t, s, []int{2, 5}, rest)
}

// Providers that hang, with more requests than fetch threads: 503 within PROVIDER_TIMEOUT_MS,
// queued ones included, while the test provider and a healthy network provider (Yahoo) keep
// answering.
func TestFaultSubsetSlowProvider(t *testing.T) {
	const timeoutMS, fetchThreads = 1000, 2
	slow := newSlowProviders(t)
	s := startFaultStack(t, faultStackOptions{prefix: "fs_slow", env: []string{
		fmt.Sprintf("PROVIDER_TIMEOUT_MS=%d", timeoutMS), "PROVIDER_MAX_RETRIES=0",
		fmt.Sprintf("PROVIDER_FETCH_THREADS=%d", fetchThreads),
		"ALPHA_VANTAGE_BASE_URL=" + slow.URL, "FINNHUB_BASE_URL=" + slow.URL,
	}})
	hanging := []*load{}
	for _, provider := range []string{"alpha_vantage", "finnhub"} {
		provider := provider
		// Twice as many clients as threads: half of them wait in the provider's queue.
		hanging = append(hanging, restLoad(provider, s.restURL, 2*fetchThreads, 2*fetchThreads*1000/timeoutMS, func(n int64) string {
			return fmt.Sprintf("/api/v1/prices/latest?symbol=SLOW%d&provider=%s", n, provider)
		}))
	}
	test := restLoad("test", s.restURL, 2, 100, func(n int64) string {
		return fmt.Sprintf("/api/v1/prices/latest?symbol=SUS%d&provider=test", n%100)
	})
	yahoo := restLoad("yfinance", s.restURL, 1, 20, func(int64) string {
		return "/api/v1/prices/latest?symbol=AAPL&provider=yfinance"
	})
	waitFor(t, 30*time.Second, "8 answers from each slow provider", func() bool {
		return len(hanging[0].snapshot()) >= 8 && len(hanging[1].snapshot()) >= 8
	})
	test.Stop()
	yahoo.Stop()
	for _, l := range hanging {
		l.Stop()
		for _, a := range l.snapshot() {
			if a.code != 503 || a.dur > timeoutMS*time.Millisecond+500*time.Millisecond {
				t.Errorf("%s: %d after %v, want 503 within %d ms + 500 ms", l.name, a.code, a.dur, timeoutMS)
			}
		}
	}
	if sum := test.summary(time.Time{}, time.Now()); sum.failed() != 0 || sum.ok == 0 || sum.p99 > time.Second {
		t.Errorf("test provider meanwhile: %s, p99 %v", sum.codesString(), sum.p99)
	}
	// Behind the hanging calls a Yahoo request would wait seconds; its own lane answers at once.
	if sum := yahoo.summary(time.Time{}, time.Now()); sum.failed() != 0 || sum.ok == 0 || sum.p99 > timeoutMS*time.Millisecond/4 {
		t.Errorf("Yahoo meanwhile: %s, p99 %v", sum.codesString(), sum.p99)
	}
}

// Events arriving as they do around a broker outage (the newest first, the older ones after the
// consumer lost its partitions) still get their exact averages.
func TestFaultSubsetKafkaDownReplay(t *testing.T) {
	s := startFaultStack(t, faultStackOptions{prefix: "fs_replay"})
	if avg := replayAfterOutage(t, s, "SUR", 5, 60, 11, 25); !avg.ok() {
		t.Errorf("averages after the replay: %s", avg)
	}
}

// A private broker SIGKILLed for a few seconds under load and polling: requests keep answering,
// and once it is back every committed price is published and averaged exactly.
func TestFaultSubsetKafkaDown(t *testing.T) {
	broker := startPrivateBroker(t)
	s := startFaultStack(t, faultStackOptions{prefix: "fs_kafka", kafka: broker.bootstrap})
	jobIDs := createJobs(t, s.restURL, "SUK", 1, 10, 1)
	rest := restLoad("REST", s.restURL, 2, 50, func(n int64) string {
		return fmt.Sprintf("/api/v1/prices/latest?symbol=SUL%d&provider=test", n%100)
	})
	defer rest.Stop()
	waitFor(t, 30*time.Second, "averages to be written", func() bool {
		return dbInt(t, s.databaseURL, "SELECT count(*) FROM moving_averages") > 0
	})
	killed := time.Now()
	broker.kill()
	time.Sleep(3 * time.Second) // the outage itself
	broker.restart(t)
	ready := time.Now()
	oks := rest.okCount()
	waitFor(t, 30*time.Second, "the load to run on", func() bool { return rest.okCount() >= oks+30 })
	if out := rest.summary(killed, ready); out.failed() != 0 || out.ok == 0 {
		t.Errorf("while the broker was down (%v): %s", ready.Sub(killed).Round(time.Millisecond), out.codesString())
	}
	settle(t, s, rest, jobIDs)
	checkNothingLost(t, s, []int{2, 5}, rest)
}
