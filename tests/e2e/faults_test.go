//go:build faults

// The fault-injection suite: PostgreSQL, the Kafka broker, mds-api and mds-consumer are killed
// with SIGKILL under load, providers hang, a million symbols are asked for, and each scenario
// checks what must still hold (nothing committed lost or duplicated, averages exact, errors fast
// and short). Run by ./deploy/dev faults on a stack of its own (it kills that stack's PostgreSQL
// and broker through `deploy/dev _kill` / `_start`), which writes docs/reports/reliability.md.
package e2e

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	mdv1 "marketdata/gateway/gen/marketdata/v1"
)

var faultsBegan = time.Now()

// reliability collects the rows of docs/reports/reliability.md.
var reliability struct {
	sync.Mutex
	rows      []reliabilityRow
	scenarios []string
	sizes     map[string]sizeSetting
}

type reliabilityRow struct {
	scenario, must, measured string
	pass                     bool
}

type sizeSetting struct {
	used, fallback int
	what           string
}

// faultsSize reads a MDS_FAULTS_* setting (a positive integer) and records it for the report.
func faultsSize(name string, fallback int, what string) int {
	v := fallback
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		v = n
	}
	reliability.Lock()
	if reliability.sizes == nil {
		reliability.sizes = map[string]sizeSetting{}
	}
	reliability.sizes[name] = sizeSetting{v, fallback, what}
	reliability.Unlock()
	return v
}

// scenario records the checks of one TestFault* in the report.
type scenario struct {
	t        *testing.T
	name     string
	failures int
}

func newScenario(t *testing.T, name string) *scenario {
	sc := &scenario{t: t, name: name}
	reliability.Lock()
	reliability.scenarios = append(reliability.scenarios, name)
	reliability.Unlock()
	t.Cleanup(func() {
		if t.Failed() && sc.failures == 0 {
			sc.add("the scenario runs to its end", "it stopped early; the test log says why", false)
		}
		// Written after every scenario too, so a suite cut short leaves the report of what ran.
		if unwritten, err := reliabilityReport.write(); err != nil {
			t.Error(err)
		} else if unwritten != "" {
			t.Log(reliabilityReport.env + " not set; report:\n" + unwritten)
		}
	})
	return sc
}

func (sc *scenario) add(must, measured string, pass bool) {
	reliability.Lock()
	reliability.rows = append(reliability.rows, reliabilityRow{sc.name, must, measured, pass})
	reliability.Unlock()
	if !pass {
		sc.failures++
	}
}

// check records one property; a failed one fails the test too.
func (sc *scenario) check(must, measured string, pass bool) {
	sc.t.Helper()
	sc.add(must, measured, pass)
	sc.t.Logf("%s: %s: %s [%s]", sc.name, must, measured, passFail(pass))
	if !pass {
		sc.t.Errorf("%s: %s does not hold: %s", sc.name, must, measured)
	}
}

func passFail(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

// faultsDev runs `deploy/dev <args> faults`: kills or starts the faults stack's PostgreSQL or
// broker.
func faultsDev(args ...string) error {
	dev := os.Getenv("MDS_FAULTS_DEV")
	if dev == "" {
		return fmt.Errorf("MDS_FAULTS_DEV is not set: run the suite through ./deploy/dev faults")
	}
	out, err := exec.Command(dev, append(args, "faults")...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("deploy/dev %s faults: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

func mustFaultsDev(t *testing.T, args ...string) {
	t.Helper()
	if err := faultsDev(args...); err != nil {
		t.Fatal(err)
	}
}

// pgAccepting: PostgreSQL accepts connections (pg_isready, as an operator would check).
func pgAccepting(t *testing.T) bool {
	host, port, _ := strings.Cut(postgresHostPort(t), ":")
	isready := os.Getenv("MDS_FAULTS_PG_ISREADY")
	if isready == "" {
		isready = "pg_isready"
	}
	return exec.Command(isready, "-q", "-h", host, "-p", port, "-t", "1").Run() == nil
}

// ---- 1. KafkaDown ----

func TestFaultKafkaDown(t *testing.T) {
	sc := newScenario(t, "KafkaDown")
	down := time.Duration(faultsSize("MDS_FAULTS_KAFKA_DOWN_SECONDS", 60, "KafkaDown: seconds the broker stays down")) * time.Second
	jobs := faultsSize("MDS_FAULTS_JOBS", 20, "KafkaDown: polling jobs (interval 1 s)")
	per := faultsSize("MDS_FAULTS_JOB_SYMBOLS", 50, "KafkaDown: symbols per job")
	rate := faultsSize("MDS_FAULTS_REST_RATE", 300, "REST requests a second of the background load (gRPC: half as many)")
	s := startFaultStack(t, faultStackOptions{prefix: "f_kafka", env: []string{"POLLING_RUNNERS=32", "DATABASE_POOL_SIZE=32"}})
	jobIDs := createJobs(t, s.restURL, "KP", jobs, per, 1)
	waitFor(t, 60*time.Second, "every job's first run", func() bool {
		return dbInt(t, s.databaseURL, "SELECT count(*) FROM polling_jobs WHERE run_count > 0") == int64(jobs)
	})
	rest := restLoad("REST", s.restURL, 4, float64(rate), func(n int64) string {
		return fmt.Sprintf("/api/v1/prices/latest?symbol=KD%d&provider=test", n%1000)
	})
	defer rest.Stop()
	rpc := grpcLoad("gRPC", s.apiAddr, 2, float64(rate)/2, func(n int64) string { return fmt.Sprintf("KG%d", n%1000) })
	defer rpc.Stop()
	waitFor(t, 60*time.Second, "averages of the requested symbols", func() bool {
		return dbInt(t, s.databaseURL, "SELECT count(*) FROM moving_averages WHERE symbol LIKE 'KD%'") > 0
	})

	killed := time.Now()
	mustFaultsDev(t, "_kill", "kafka")
	time.Sleep(down) // the outage itself
	restarting := time.Now()
	lastBefore := dbInt(t, s.databaseURL, "SELECT max(id) FROM price_points")
	waiting := dbInt(t, s.databaseURL, "SELECT count(*) FROM price_event_outbox")
	mustFaultsDev(t, "_start", "kafka")
	ready := time.Now()

	// Catch-up: everything committed before the restart is acknowledged by the broker (the
	// outbox has none of it left), then the consumer has committed the offsets of everything on
	// the topic at that moment (it commits offsets only after the averages).
	// The backlog's pace once the broker serves again (it accepts connections before it serves
	// its partitions): from 10% to 90% of it acknowledged.
	var tenth, ninetieth, drained, caughtUp time.Duration
	var backlog, initial int64 = 0, -1
	// What has not happened within 5 minutes stays zero, and the report says so.
	_ = waitForErr(5*time.Minute, "the outbox to drain and the consumer to catch up", func() (bool, error) {
		left := int64(-1)
		if drained == 0 {
			left = dbInt(t, s.databaseURL, "SELECT count(*) FROM price_event_outbox WHERE price_point_id <= $1", lastBefore)
			if initial < 0 {
				initial = left
			}
		}
		if tenth == 0 && left >= 0 && left <= initial*9/10 {
			tenth = time.Since(ready)
		}
		if ninetieth == 0 && left >= 0 && left <= initial/10 {
			ninetieth = time.Since(ready)
		}
		if drained == 0 && left == 0 {
			drained = time.Since(ready)
			var err error
			if backlog, err = endOffsets(s.kafka, s.topic); err != nil {
				t.Fatal(err)
			}
		}
		if drained > 0 {
			if done, err := committedOffsets(s.kafka, s.group, s.topic); err == nil && done >= backlog {
				caughtUp = time.Since(ready)
			}
		}
		return drained > 0 && caughtUp > 0, nil
	})
	rest.Stop()
	rpc.Stop()
	stopJobs(t, s.restURL, jobIDs)
	awaitQuiet(t, s.databaseURL, 2*time.Second, time.Minute)
	_, emptied := awaitOutboxEmpty(t, s.databaseURL, 3*time.Minute)

	during := func(l *load) loadSummary { return l.summary(killed, ready) }
	r, g := during(rest), during(rpc)
	before := rest.summary(killed.Add(-10*time.Second), killed)
	sc.check("REST and gRPC latest price keep answering while the broker is down (0 errors)",
		fmt.Sprintf("broker down %s (SIGKILL to accepting again): REST %s, p99 %s (p99 before: %s); gRPC %s, p99 %s",
			secs(ready.Sub(killed)), r.codesString(), ms(r.p99), ms(before.p99), g.codesString(), ms(g.p99)),
		r.failed() == 0 && g.failed() == 0 && r.total > 0 && g.total > 0)
	polled := dbInt(t, s.databaseURL, "SELECT count(*) FROM price_points WHERE symbol LIKE 'KP%' AND ts >= $1 AND ts < $2", killed, restarting)
	pollRate := float64(polled) / restarting.Sub(killed).Seconds()
	sc.check("polling goes on while the broker is down (≥ 90% of the schedule)",
		fmt.Sprintf("%.0f points/s of %d scheduled", pollRate, jobs*per), pollRate >= 0.9*float64(jobs*per))
	aliveText, allAlive := s.aliveText()
	sc.check("no process exits", aliveText, allAlive)
	pub := checkPublication(t, s)
	sc.check("every committed price is on the topic once the broker is back (topic vs price_points)",
		pub.String(), emptied && pub.missing == 0 && pub.unknown == 0 && pub.points > 0)
	avg := awaitAverages(t, s, []int{2, 5}, 3*time.Minute)
	measured := avg.String()
	if len(avg.missingIDs) > 0 {
		late, newer := lateArrivals(t, s, avg.missingIDs)
		measured += fmt.Sprintf("; %d price points lack an average, %d of them reached the topic after events of newer prices of their symbol (up to %d newer ones before them)",
			len(avg.missingIDs), late, newer)
	}
	sc.check("every price point has its exact averages (windows 2, 5; vs the SQL reference)", measured, avg.ok())
	sc.check("it catches up after the restart (within 5 min)",
		fmt.Sprintf("broker restart took %s; %s outbox rows waiting at the restart, all acknowledged %s after it accepted connections "+
			"(10%% of them %s after, then %s rows/s up to 90%%); "+
			"the consumer had averaged all of it %s after (%s of its %s events averaged from their stored neighbours because their window could not place them)",
			secs(ready.Sub(restarting)), thousands(int(waiting)), within(drained), within(tenth), drainRate(initial*8/10, ninetieth-tenth, ninetieth > 0),
			within(caughtUp),
			thousands(int(metricValue(s.consumerMetrics, "mds_consumer_repaired_events_total"))),
			thousands(int(metricValue(s.consumerMetrics, "mds_consumer_events_total")))),
		drained > 0 && caughtUp > 0)
}

// drainRate: rows over the time the relay took from the first acknowledgement to the last.
func drainRate(rows int64, took time.Duration, done bool) string {
	if !done || took <= 0 {
		return "no rate"
	}
	return thousands(int(float64(rows) / took.Seconds()))
}

// within is a measured time, or says that the 5 minutes of the wait ran out first.
func within(d time.Duration) string {
	if d == 0 {
		return "not within 5 min"
	}
	return secs(d)
}

// ---- 1b. KafkaDownReplay ----

// What reaches the consumer around a broker outage, replayed deterministically for 10 symbols of
// 100 prices each: the oldest prices are stored and consumed before the outage; the others are
// stored during it (polling goes on); the outage costs the consumer its partitions (its group
// session times out), so it rebuilds its windows from price_points when they come back; then what
// the producer still held arrives first (the newest prices) and what the outbox relay republishes
// (the prices in between) after it. A consumer restart stands for the lost assignment.
func TestFaultKafkaDownReplay(t *testing.T) {
	sc := newScenario(t, "KafkaDownReplay")
	const symbols, per, before, newest = 10, 100, 31, 40
	s := startFaultStack(t, faultStackOptions{prefix: "f_replay"})
	avg := replayAfterOutage(t, s, "KR", symbols, per, before, newest)
	measured := avg.String()
	if len(avg.missingIDs) > 0 {
		late, newer := lateArrivals(t, s, avg.missingIDs)
		measured += fmt.Sprintf("; %d price points lack an average, %d of them reached the topic after events of newer prices of their symbol (up to %d newer ones before them)",
			len(avg.missingIDs), late, newer)
	}
	sc.check(fmt.Sprintf("after the consumer lost its partitions, events arriving behind newer ones of their symbol get their exact averages (per symbol: %d consumed, then the %d newest, then the %d in between)",
		before, newest, per-newest-before), measured, avg.ok())
}

// ---- 2. PostgresDown ----

func TestFaultPostgresDown(t *testing.T) {
	sc := newScenario(t, "PostgresDown")
	down := time.Duration(faultsSize("MDS_FAULTS_PG_DOWN_SECONDS", 5, "PostgresDown: seconds PostgreSQL stays down")) * time.Second
	rate := faultsSize("MDS_FAULTS_REST_RATE", 300, "REST requests a second of the background load (gRPC: half as many)")
	s := startFaultStack(t, faultStackOptions{prefix: "f_pg"})
	jobIDs := createJobs(t, s.restURL, "PP", 4, 25, 1)
	rest := restLoad("REST", s.restURL, 4, float64(rate), func(n int64) string {
		return fmt.Sprintf("/api/v1/prices/latest?symbol=PD%d&provider=test", n%500)
	})
	defer rest.Stop()
	waitFor(t, 60*time.Second, "load and polling to run", func() bool {
		return rest.okCount() >= 200 && dbInt(t, s.databaseURL, "SELECT count(*) FROM polling_jobs WHERE run_count > 0") == 4
	})

	killed := time.Now()
	mustFaultsDev(t, "_kill", "postgres")
	time.Sleep(down) // the outage itself
	restarting := time.Now()
	started := make(chan error, 1)
	go func() { started <- faultsDev("_start", "postgres") }()
	waitFor(t, 2*time.Minute, "PostgreSQL to accept connections after its restart", func() bool { return pgAccepting(t) })
	accepting := time.Now()
	if err := <-started; err != nil {
		t.Fatal(err)
	}
	var back time.Time
	waitFor(t, 60*time.Second, "a latest price answered after the restart", func() bool {
		back = rest.firstOKAfter(accepting)
		return !back.IsZero()
	})
	oks := rest.okCount()
	waitFor(t, 60*time.Second, "load to run on", func() bool { return rest.okCount() >= oks+200 })
	rest.Stop()
	stopJobs(t, s.restURL, jobIDs)
	awaitQuiet(t, s.databaseURL, 2*time.Second, time.Minute)
	_, emptied := awaitOutboxEmpty(t, s.databaseURL, 3*time.Minute)

	aliveText, allAlive := s.aliveText()
	sc.check("no process exits", aliveText, allAlive)
	out := rest.summary(killed, accepting)
	only503 := out.codes["503"] == out.failed()
	sc.check("requests during the outage answer 503, before the gateway's 30 s backend timeout (target < 6 s)",
		fmt.Sprintf("PostgreSQL down %s (SIGKILL to accepting connections): %s; slowest failed request %s (target < 6 s: %s)",
			secs(accepting.Sub(killed)), out.codesString(), ms(out.maxFailed), yesNo(out.maxFailed < 6*time.Second)),
		only503 && out.failed() > 0 && out.maxFailed < 30*time.Second)
	sc.check("service back within 5 s of PostgreSQL accepting connections",
		fmt.Sprintf("first latest price answered %s after pg_isready succeeded (restart + crash recovery took %s)",
			ms(back.Sub(accepting)), secs(accepting.Sub(restarting))),
		back.Sub(accepting) <= 5*time.Second)
	answered, missing, example := answersStored(t, s.databaseURL, rest)
	sc.check("no committed price lost: every price answered 200 is stored",
		fmt.Sprintf("%s prices answered 200, %d of them not stored%s", thousands(answered), missing, example), missing == 0 && answered > 0)
	groups, rows := duplicatePoints(t, s.databaseURL)
	sc.check("no price point stored twice (symbol, timestamp, provider, price)",
		fmt.Sprintf("%d duplicated groups (%d rows)", groups, rows), groups == 0)
	pub := checkPublication(t, s)
	sc.check("every committed price is published", pub.String(), emptied && pub.missing == 0 && pub.unknown == 0)
	avg := awaitAverages(t, s, []int{2, 5}, 3*time.Minute)
	sc.check("every price point has its exact averages", avg.String(), avg.ok())
}

// ---- 3. ApiKilled ----

func TestFaultApiKilled(t *testing.T) {
	sc := newScenario(t, "ApiKilled")
	kills := faultsSize("MDS_FAULTS_API_KILLS", 5, "ApiKilled: SIGKILLs of mds-api")
	rate := faultsSize("MDS_FAULTS_REST_RATE", 300, "REST requests a second of the background load (gRPC: half as many)")
	const jobs, per = 10, 50
	s := startFaultStack(t, faultStackOptions{prefix: "f_api", env: []string{"DATABASE_POOL_SIZE=16"}})
	jobIDs := createJobs(t, s.restURL, "AP", jobs, per, 1)
	waitFor(t, 60*time.Second, "every job's first run", func() bool {
		return dbInt(t, s.databaseURL, "SELECT count(*) FROM polling_jobs WHERE run_count > 0") == jobs
	})
	rest := restLoad("REST", s.restURL, 4, float64(rate), func(n int64) string {
		return fmt.Sprintf("/api/v1/prices/latest?symbol=AR%d&provider=test", n%1000)
	})
	defer rest.Stop()
	progress := func() {
		runs := dbInt(t, s.databaseURL, "SELECT sum(run_count) FROM polling_jobs")
		oks := rest.okCount()
		waitFor(t, 2*time.Minute, "polling and REST to make progress", func() bool {
			return dbInt(t, s.databaseURL, "SELECT sum(run_count) FROM polling_jobs") >= runs+2*jobs && rest.okCount() >= oks+200
		})
	}
	var restarts, restBack []time.Duration
	for k := 0; k < kills; k++ {
		progress()
		aimAtTick(t, s.databaseURL)
		killed := time.Now()
		restarts = append(restarts, restartKilled(t, s.api(), s.apiAddr))
		serving := time.Now()
		waitFor(t, 2*time.Minute, "REST to answer after the restart", func() bool { return !rest.firstOKAfter(serving).IsZero() })
		restBack = append(restBack, rest.firstOKAfter(serving).Sub(killed))
	}
	progress()
	rest.Stop()
	stopJobs(t, s.restURL, jobIDs)
	awaitQuiet(t, s.databaseURL, 3*time.Second, time.Minute)
	_, emptied := awaitOutboxEmpty(t, s.databaseURL, 3*time.Minute)

	all := rest.summary(time.Time{}, time.Now())
	sc.check(fmt.Sprintf("mds-api restarts after each of %d SIGKILLs under load, and serves again", kills),
		fmt.Sprintf("kill to serving gRPC: mean %s, max %s; kill to the first REST 200: mean %s, max %s; REST answers over the run: %s",
			ms(mean(restarts)), ms(maxDur(restarts)), ms(mean(restBack)), ms(maxDur(restBack)), all.codesString()),
		len(restarts) == kills)
	pub := checkPublication(t, s)
	sc.check("every committed price is published (topic vs price_points)", pub.String(),
		emptied && pub.missing == 0 && pub.unknown == 0 && pub.points > 0)
	avg := awaitAverages(t, s, []int{2, 5}, 3*time.Minute)
	sc.check("exactly one exact average per price point and window (primary key; vs the SQL reference)", avg.String(), avg.ok())
	groups, rows := duplicatePoints(t, s.databaseURL)
	answered, missing, example := answersStored(t, s.databaseURL, rest)
	sc.check("no price point stored twice; every price answered 200 is stored",
		fmt.Sprintf("%d duplicated groups (%d rows); %s prices answered 200, %d not stored%s", groups, rows, thousands(answered), missing, example),
		groups == 0 && missing == 0)
	pc := checkPolling(t, s.databaseURL, 1)
	sc.check(fmt.Sprintf("exactly one price per (job, tick, symbol): the run that completes a tick cut short by each of the %d kills fetches only its missing symbols, so per symbol 0 ≤ points − run_count ≤ 1 (the run the stop cut short), never growing along the job's symbols", kills),
		pc.String(), len(pc.violations) == 0 && pc.errors == 0 && pc.runs > 0)
}

// ---- 3b. PollingReplicaFrozen ----

// A polling replica frozen with SIGSTOP past its lease while a provider call of its tick is in
// flight, then resumed once another replica has completed the tick (freezePollingReplica).
func TestFaultPollingReplicaFrozen(t *testing.T) {
	sc := newScenario(t, "PollingReplicaFrozen")
	r := freezePollingReplica(t, "f_frozen")
	sc.check("exactly one price per (job, tick, symbol): the completing replica fetches only the missing symbols, the frozen one's late price is refused and counted",
		r.String()+violationsText(r.violations),
		len(r.violations) == 0 && r.refused >= 1)
}

func violationsText(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return "; broken: " + strings.Join(v, ", ")
}

// aimAtTick waits until 20 ms after the next tick of a polling job: a kill then meets a run
// fetching its symbols (the timing of the fault, not a synchronisation).
func aimAtTick(t *testing.T, databaseURL string) {
	t.Helper()
	var next time.Time
	dbDo(t, databaseURL, func(ctx context.Context, conn *pgx.Conn) error {
		return conn.QueryRow(ctx, `SELECT min(next_run_at) FROM polling_jobs
			WHERE status = 'running' AND next_run_at > now() + interval '50 milliseconds'`).Scan(&next)
	})
	time.Sleep(time.Until(next.Add(20 * time.Millisecond)))
}

func mean(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum / time.Duration(len(ds))
}

func maxDur(ds []time.Duration) time.Duration {
	var m time.Duration
	for _, d := range ds {
		if d > m {
			m = d
		}
	}
	return m
}

// ---- 4. ConsumerKilled ----

func TestFaultConsumerKilled(t *testing.T) {
	sc := newScenario(t, "ConsumerKilled")
	n := faultsSize("MDS_FAULTS_EVENTS", 1000000, "ConsumerKilled and ConsumerReplicaLost: events (over 1,000 symbols)")
	kills := faultsSize("MDS_FAULTS_CONSUMER_KILLS", 10, "ConsumerKilled: SIGKILLs of mds-consumer")
	windows := []int{5, 20}
	s := startFaultStack(t, faultStackOptions{prefix: "f_consumer", env: []string{"MOVING_AVERAGE_WINDOWS=5,20", "DATABASE_POOL_SIZE=4"}})
	at := bulkPricePoints(t, s.databaseURL, "CK", n, 1000)
	start := time.Now()
	produced := produceAll(t, s.kafka, s.topic, n, at)
	committed := func() int64 {
		c, err := committedOffsets(s.kafka, s.group, s.topic)
		if err != nil {
			t.Logf("committed offsets: %v", err)
		}
		return c
	}
	var stalls []time.Duration
	var repaired float64 // events averaged from their stored neighbours, over the consumer's lives
	for k := 1; k <= kills; k++ {
		target := int64(k) * int64(n) / int64(kills+1)
		waitFor(t, 10*time.Minute, fmt.Sprintf("%d events committed", target), func() bool { return committed() >= target })
		repaired += math.Max(0, metricValue(s.consumerMetrics, "mds_consumer_repaired_events_total"))
		killed := time.Now()
		restartKilled(t, s.consumer(), s.consumerAddr)
		from := committed()
		waitFor(t, 5*time.Minute, "the restarted consumer to commit", func() bool { return committed() > from })
		stalls = append(stalls, time.Since(killed))
	}
	waitFor(t, 15*time.Minute, fmt.Sprintf("all %d events committed", n), func() bool { return committed() >= int64(n) })
	elapsed := time.Since(start)
	if err := <-produced; err != nil {
		t.Fatalf("produce: %v", err)
	}
	avg := awaitAverages(t, s, windows, 5*time.Minute)
	repaired += math.Max(0, metricValue(s.consumerMetrics, "mds_consumer_repaired_events_total"))
	parked, _ := endOffsets(s.kafka, s.deadLetters)
	_, allAlive := s.aliveText()
	sc.check(fmt.Sprintf("0 averages lost or wrong with %d SIGKILLs of mds-consumer (vs the SQL reference)", kills),
		fmt.Sprintf("%s events over 1,000 symbols, windows 5 and 20: %s; %d records parked as dead letters", thousands(n), avg.String(), parked),
		avg.ok() && parked == 0 && allAlive)
	sc.check("it finishes (within 15 minutes)",
		fmt.Sprintf("first event produced to every offset committed: %s (%.0f events/s), each kill costing %s on average (kill to offsets moving again, max %s); "+
			"%s events (at least; counted up to each kill) averaged from their stored neighbours because their window could not place them",
			secs(elapsed), float64(n)/elapsed.Seconds(), secs(mean(stalls)), secs(maxDur(stalls)), thousands(int(repaired))),
		true)
}

// ---- 5. SlowProviders ----

func TestFaultSlowProviders(t *testing.T) {
	sc := newScenario(t, "SlowProviders")
	seconds := faultsSize("MDS_FAULTS_SLOW_SECONDS", 10, "SlowProviders: seconds of each load run")
	clients := faultsSize("MDS_FAULTS_SLOW_CLIENTS", 16, "SlowProviders: concurrent requests to each slow provider (three times as many in the overload run)")
	const timeoutMS, fetchThreads = 2000, 32
	slow := newSlowProviders(t)
	s := startFaultStack(t, faultStackOptions{prefix: "f_slow", env: []string{
		fmt.Sprintf("PROVIDER_TIMEOUT_MS=%d", timeoutMS), "PROVIDER_MAX_RETRIES=0",
		fmt.Sprintf("PROVIDER_FETCH_THREADS=%d", fetchThreads),
		"ALPHA_VANTAGE_BASE_URL=" + slow.URL, "FINNHUB_BASE_URL=" + slow.URL,
	}})
	d := time.Duration(seconds) * time.Second
	// One measurement: the in-process test provider as fast as 8 connections go, and a healthy
	// network provider (the fake Yahoo, answering at once) at 20 requests a second, below its
	// outbound limit.
	type run struct{ test, yahoo loadSummary }
	measure := func() run {
		test := restLoad("test", s.restURL, 8, 0, func(n int64) string {
			return fmt.Sprintf("/api/v1/prices/latest?symbol=FT%d&provider=test", n%1000)
		})
		yahoo := restLoad("yfinance", s.restURL, 2, 20, func(int64) string {
			return "/api/v1/prices/latest?symbol=AAPL&provider=yfinance"
		})
		from := time.Now()
		time.Sleep(d) // a measurement window
		to := time.Now()
		test.Stop()
		yahoo.Stop()
		return run{test.summary(from, to), yahoo.summary(from, to)}
	}
	// Each client asks again as soon as it is answered, its first request spread over the
	// deadline: all clients at once would mostly meet the providers' outbound rate limit (a
	// token bucket bursting up to 10) instead of the providers.
	slowLoad := func(provider string, clients int) *load {
		return restLoad(provider, s.restURL, clients, float64(clients)*1000/timeoutMS, func(n int64) string {
			return fmt.Sprintf("/api/v1/prices/latest?symbol=SLOW%d&provider=%s", n, provider)
		})
	}
	hanging := func(clients int) (byteASecond, never *load, with run) {
		byteASecond, never = slowLoad("alpha_vantage", clients), slowLoad("finnhub", clients)
		waitFor(t, time.Minute, "the slow requests to run", func() bool {
			return len(byteASecond.snapshot()) >= clients && len(never.snapshot()) >= clients
		})
		with = measure()
		byteASecond.Stop()
		never.Stop()
		return byteASecond, never, with
	}
	measure() // warm-up
	before := measure()
	byteASecond, never, with := hanging(clients)
	after := measure()
	overBytes, overNever, overWith := hanging(3 * clients)

	deadline := time.Duration(timeoutMS) * time.Millisecond
	slowCheck := func(clients int, what string, loads ...*load) {
		var durs []time.Duration
		all := loadSummary{codes: map[string]int{}}
		for _, l := range loads {
			for _, a := range l.snapshot() {
				durs = append(durs, a.dur)
			}
			sum := l.summary(time.Time{}, time.Now())
			all.total += sum.total
			for k, v := range sum.codes {
				all.codes[k] += v
			}
		}
		p99 := percentile(durs, 99)
		sc.check(fmt.Sprintf("%s: 503 within PROVIDER_TIMEOUT_MS (%d ms, retries 0; p99 ≤ deadline + 500 ms)", what, timeoutMS),
			fmt.Sprintf("%d requests from %d clients: %s; p50 %s, p99 %s, max %s", all.total, clients*len(loads), all.codesString(),
				ms(percentile(durs, 50)), ms(p99), ms(percentile(durs, 100))),
			all.total > 0 && all.codes["503"] == all.total && p99 <= deadline+500*time.Millisecond)
	}
	slowCheck(clients, "alpha_vantage answering one byte a second", byteASecond)
	slowCheck(clients, "finnhub never answering", never)
	baseRate := (before.test.rate + after.test.rate) / 2
	baseP99 := (before.test.p99 + after.test.p99) / 2
	sc.check("the test provider keeps its speed meanwhile (≥ 80% of the rate, p99 ≤ 2× + 5 ms, no errors)",
		fmt.Sprintf("with %d hanging requests: %.0f req/s, p99 %s; without (mean of a run before and after): %.0f req/s, p99 %s (%.2f of the rate)",
			2*clients, with.test.rate, ms(with.test.p99), baseRate, ms(baseP99), with.test.rate/baseRate),
		with.test.failed() == 0 && with.test.rate >= 0.8*baseRate && with.test.p99 <= 2*baseP99+5*time.Millisecond)
	// A request to a healthy provider that waits behind hanging calls takes seconds; the bound
	// (a quarter of the deadline) is far above the machine's noise and far below that.
	yahooBound := deadline / 4
	yahooP99 := max(before.yahoo.p99, after.yahoo.p99)
	sc.check(fmt.Sprintf("a healthy network provider (Yahoo, 20 req/s) keeps answering meanwhile (no errors, p99 < %s)", ms(yahooBound)),
		fmt.Sprintf("with %d hanging requests (PROVIDER_FETCH_THREADS=%d): %s, p99 %s; without: %s, p99 %s",
			2*clients, fetchThreads, with.yahoo.codesString(), ms(with.yahoo.p99), before.yahoo.codesString(), ms(yahooP99)),
		with.yahoo.failed() == 0 && with.yahoo.p99 < yahooBound)
	slowCheck(3*clients, fmt.Sprintf("overload, %d hanging requests to each slow provider (more than its PROVIDER_FETCH_THREADS=%d, so some queue): both slow providers",
		3*clients, fetchThreads), overBytes, overNever)
	sc.check(fmt.Sprintf("overload: the test provider and Yahoo keep answering (no errors; Yahoo p99 < %s)", ms(yahooBound)),
		fmt.Sprintf("with %d hanging requests: test %.0f req/s, p99 %s, %s; Yahoo %s, p99 %s", 6*clients, overWith.test.rate,
			ms(overWith.test.p99), overWith.test.codesString(), overWith.yahoo.codesString(), ms(overWith.yahoo.p99)),
		overWith.test.failed() == 0 && overWith.yahoo.failed() == 0 && overWith.yahoo.p99 < yahooBound)
}

// ---- 6. ManySymbols ----

func TestFaultManySymbols(t *testing.T) {
	sc := newScenario(t, "ManySymbols")
	// 200,000 by default: a million takes 4-5 minutes of the suite on 2 cores (about 4,000 calls
	// a second, the client sharing the cores), and both caches are full at 100,000 already.
	n := faultsSize("MDS_FAULTS_SYMBOLS", 200000, "ManySymbols: distinct symbols requested (a million takes 4-5 minutes more)")
	maxSymbols := faultsSize("MDS_FAULTS_MAX_SYMBOLS", 100000, "ManySymbols: MOVING_AVERAGE_MAX_SYMBOLS of the consumer")
	s := startFaultStack(t, faultStackOptions{prefix: "f_many", env: []string{
		fmt.Sprintf("MOVING_AVERAGE_MAX_SYMBOLS=%d", maxSymbols), "DATABASE_POOL_SIZE=16"}})
	apiPid, consumerPid := s.api().cmd.Process.Pid, s.consumer().cmd.Process.Pid
	type rss struct{ api, consumer float64 }
	read := func() rss { return rss{vmRSSKiB(apiPid), vmRSSKiB(consumerPid)} }
	start := read()
	var mu sync.Mutex
	peak := start
	// The consumer's marks are taken when it has committed a quarter, half, three quarters of the
	// events, not when they were requested: under load it lags, and its caches fill later.
	consumed := make([]float64, 4)
	consumed[0] = start.consumer
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			r := read()
			done, err := committedOffsets(s.kafka, s.group, s.topic)
			mu.Lock()
			peak.api, peak.consumer = math.Max(peak.api, r.api), math.Max(peak.consumer, r.consumer)
			for k := 1; k <= 3 && err == nil; k++ {
				if consumed[k] == 0 && done >= int64(k*n/4) {
					consumed[k] = r.consumer
				}
			}
			mu.Unlock()
			select {
			case <-stopSampling:
				return
			case <-time.After(250 * time.Millisecond):
			}
		}
	}()
	conn, err := grpc.NewClient(s.apiAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := mdv1.NewPriceServiceClient(conn)
	var next, failed atomic.Int64
	var firstErr atomic.Value
	marks := make([]rss, 5) // at 0%, 25%, 50%, 75% and 100% of the symbols
	marks[0] = start
	began := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				_, err := client.GetLatestPrice(ctx, &mdv1.GetLatestPriceRequest{
					Symbol: "M" + strings.ToUpper(strconv.FormatInt(i, 36)), Provider: "test"})
				cancel()
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
				if q := int64(n) / 4; q > 0 && i%q == 0 && i/q < 4 {
					marks[i/q] = read()
				}
			}
		}()
	}
	wg.Wait()
	requested := time.Since(began)
	marks[4] = read()
	// The consumer catches up with everything published.
	waitFor(t, 15*time.Minute, "the consumer to catch up", func() bool {
		end, err1 := endOffsets(s.kafka, s.topic)
		done, err2 := committedOffsets(s.kafka, s.group, s.topic)
		return err1 == nil && err2 == nil && end >= int64(n) && done >= end
	})
	caughtUp := time.Since(began)
	end := read()
	close(stopSampling)
	<-sampled
	for k := 1; k <= 3; k++ {
		if consumed[k] == 0 { // the catch-up ran between two samples
			consumed[k] = end.consumer
		}
	}
	windows := metricValue(s.consumerMetrics, "mds_consumer_symbol_windows")
	aliveText, allAlive := s.aliveText()
	failures := fmt.Sprintf("%d failed", failed.Load())
	if e := firstErr.Load(); e != nil {
		failures += fmt.Sprintf(" (first: %v)", e)
	}
	sc.check("every request answered, no process exits",
		fmt.Sprintf("%s distinct symbols over gRPC (32 in flight) in %s (%.0f req/s), %s; the consumer had averaged them all %s after the first; %s",
			thousands(n), secs(requested), float64(n)/requested.Seconds(), failures, secs(caughtUp), aliveText),
		failed.Load() == 0 && allAlive)
	// Bounded: once the caches are full (100,000 symbols, reached in the first quarter), memory
	// must not grow with the number of symbols. The second half adds n/2 new symbols.
	for _, c := range []struct {
		name, progress                       string
		before, q1, half, q3, last, top, end float64
	}{
		{"mds-api", "requested", start.api, marks[1].api, marks[2].api, marks[3].api, marks[4].api, peak.api, end.api},
		{"mds-consumer", "consumed", start.consumer, consumed[1], consumed[2], consumed[3], marks[4].consumer, peak.consumer, end.consumer},
	} {
		secondHalf := c.end - c.half
		perSymbol := secondHalf * 1024 / float64(n/2)
		sc.check(c.name+" memory stays bounded (RSS grows < 10% over the second half of the symbols)",
			fmt.Sprintf("RSS before %s, at 25/50/75%% of the symbols %s: %s/%s/%s, at the end of the requests %s (after catching up %s), peak %s; second half: %+.0f MiB (%+.1f bytes per new symbol)",
				mib(c.before), c.progress, mib(c.q1), mib(c.half), mib(c.q3), mib(c.last), mib(c.end), mib(c.top),
				secondHalf/1024, perSymbol),
			secondHalf < 0.1*c.half)
	}
	sc.check("the consumer keeps at most MOVING_AVERAGE_MAX_SYMBOLS windows",
		fmt.Sprintf("mds_consumer_symbol_windows %.0f with MOVING_AVERAGE_MAX_SYMBOLS=%d", windows, maxSymbols),
		windows >= 0 && windows <= float64(maxSymbols))
}

// ---- the report ----

var reliabilityReport = testReport{env: "MDS_FAULTS_REPORT", text: reliabilityText}

func init() { testReports = append(testReports, reliabilityReport) }

// reliabilityText is docs/reports/reliability.md: the scenarios run so far, then those of the
// report at `path` that did not run.
func reliabilityText(path string) string {
	reliability.Lock()
	defer reliability.Unlock()
	if len(reliability.rows) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Reliability\n\n%s; the suite ran %s.\n", measuredOn(), time.Since(faultsBegan).Round(time.Second))
	fmt.Fprintf(&b, "Command: `./deploy/dev faults` (scenarios run: %s).\n\n", strings.Join(reliability.scenarios, ", "))
	if pg := postgresSetup(os.Getenv("MDS_TEST_DATABASE_URL")); pg != "" {
		fmt.Fprintf(&b, "%s; one Kafka broker (KRaft). "+
			"\"SIGKILL\" is `kill -KILL` of the process: the postmaster, the broker's JVM, mds-api or mds-consumer.\n\n", pg)
	}
	passed := map[string]bool{}
	for _, name := range reliability.scenarios {
		passed[name] = true
	}
	for _, r := range reliability.rows {
		if !r.pass {
			passed[r.scenario] = false
		}
	}
	var verdicts []string
	for _, name := range reliability.scenarios {
		verdicts = append(verdicts, fmt.Sprintf("%s **%s**", name, passFail(passed[name])))
	}
	// A run of some scenarios keeps the other scenarios' rows of the previous report.
	previousOnce.Do(func() { previous, previousFrom = previousRows(path) })
	var kept []keptRow
	ranNow := map[string]bool{}
	for _, name := range reliability.scenarios {
		ranNow[name] = true
	}
	for _, r := range previous {
		if !ranNow[r.scenario] {
			kept = append(kept, r)
		}
	}
	keptFrom := previousFrom
	var keptNames []string
	keptPass := map[string]bool{}
	for _, r := range kept {
		if _, seen := keptPass[r.scenario]; !seen {
			keptNames = append(keptNames, r.scenario)
			keptPass[r.scenario] = true
		}
		keptPass[r.scenario] = keptPass[r.scenario] && strings.HasSuffix(r.line, "| PASS |")
	}
	for i, name := range keptNames {
		keptNames[i] = fmt.Sprintf("%s **%s**", name, passFail(keptPass[name]))
	}
	fmt.Fprintf(&b, "Result: %s.\n\n", strings.Join(verdicts, ", "))
	if len(kept) > 0 {
		fmt.Fprintf(&b, "Kept from the previous report (measured %s, not run this time): %s.\n\n", keptFrom, strings.Join(keptNames, ", "))
	}
	b.WriteString("| Scenario | What must hold | Measured | Result |\n|---|---|---|---|\n")
	for _, r := range reliability.rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.scenario, cell(r.must), cell(r.measured), passFail(r.pass))
	}
	for _, r := range kept {
		b.WriteString(r.line + "\n")
	}
	b.WriteString(scenarioNotes)
	b.WriteString("\n## Sizes\n\nSet these to run smaller (or larger); the figures above used:\n\n| Variable | Used | Default | |\n|---|---|---|---|\n")
	var names []string
	for name := range reliability.sizes {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		v := reliability.sizes[name]
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", name, thousands(v.used), thousands(v.fallback), v.what)
	}
	return b.String()
}

func cell(s string) string { return strings.ReplaceAll(s, "|", "\\|") }

type keptRow struct{ scenario, line string }

// The rows of the report as it was before this run (read once: the report is rewritten after
// every scenario), and when it was measured.
var (
	previousOnce sync.Once
	previous     []keptRow
	previousFrom string
)

// previousRows reads the table rows of the report at `path`, in their order, and when that
// report was measured.
func previousRows(path string) ([]keptRow, string) {
	data, err := os.ReadFile(path)
	if path == "" || err != nil {
		return nil, ""
	}
	var rows []keptRow
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, "| ") {
			continue
		}
		scenario, _, _ := strings.Cut(strings.TrimPrefix(line, "| "), " |")
		switch {
		case scenario == "Scenario", scenario == "Variable", strings.HasPrefix(scenario, "`"):
			continue // headers, and the sizes table
		}
		rows = append(rows, keptRow{scenario, line})
	}
	return rows, measuredWhen(string(data))
}

const scenarioNotes = `
## What each scenario does

Every scenario starts its own mds-api, mds-consumer and gateway, with a database, topics and a
consumer group of their own, on the faults stack's PostgreSQL and broker. It waits on events
(health checks, rows appearing, offsets committed), never on fixed sleeps, except the outages
themselves. The checks compare the database with the topic and with a SQL reference, so they hold
for every row, not for a sample.

- **KafkaDown**: 1,000 symbols polled every second (20 jobs × 50) and a REST and gRPC latest-price
  load, while the broker is SIGKILLed for a minute and started again. Prices are stored with an
  outbox row in the same transaction, so requests keep answering 200 and polling goes on; once the
  broker is back the relay republishes what it had not acknowledged. Checked: no error while it is
  down, every price point id of ` + "`price_points`" + ` on the topic (read back from offset 0),
  every average equal to the SQL reference (window functions over ` + "`price_points`" + `), and how
  long the catch-up takes. Republished events reach the topic after newer ones of the same
  symbol; when averages are missing, the row says how many of their events arrived so.
- **KafkaDownReplay**: the order in which events reach the consumer around a broker outage,
  replayed deterministically (no broker is killed): per symbol, the oldest prices are stored and
  consumed; the others are stored meanwhile; the consumer loses its partitions (as when its group
  session times out during the outage; here a restart) and rebuilds its windows from
  ` + "`price_points`" + ` on the next event; the newest events arrive first (what the producer still
  held when the broker came back), the ones in between after them (what the outbox relay
  republishes). Every average must still equal the SQL reference.
- **PostgresDown**: the postmaster is SIGKILLed under REST load and polling and started again 5 s
  later (crash recovery included). Checked: no process exits, requests during the outage fail with
  503 and fast (not after the gateway's 30 s timeout), the first 200 within 5 s of ` + "`pg_isready`" + `
  succeeding, every price that was answered 200 is stored (symbol, timestamp, price), and none
  twice.
- **PostgresFailover**: a private primary and its hot standby (pg_pair_test.go: initdb, then
  pg_basebackup, with the installed PostgreSQL), the standby named in the primary's
  synchronous_standby_names and synchronous_commit = remote_apply, so a commit returns once the
  standby has applied it. The services' DATABASE_URL lists both nodes with
  target_session_attrs=read-write. Under REST and gRPC load and 100 polled symbols the primary's
  postmaster is SIGKILLed and the standby promoted 5 s later. Checked: no process exits; while no
  node takes writes requests fail with 503 (UNAVAILABLE) and fast, none answered successfully; a
  200 within 5 s of the promotion; every price answered 200 or OK is on the promoted node itself
  (symbol, timestamp, price), none twice; every committed price published and every average
  exact.
- **ApiKilled**: mds-api is SIGKILLed 5 times under REST load and 500 polled symbols (10 jobs of 50,
  every second), each kill 20 ms after a job's tick so that it cuts a run short, and restarted
  each time. Checked: every committed price published, one exact average per price point and window,
  no price point twice, every 200 stored. Polling: a run fetches its job's symbols in order and is
  recorded (` + "`run_count`" + `) only at its end; a run cut short by a kill leaves points for the
  first symbols, each stored with the tick's record of its symbol, and the restarted process (same
  instance id) completes that tick with only the symbols it is missing. So for every symbol,
  points − run_count is 0, or 1 for the first symbols of a run the jobs' stop cut short; a symbol
  fetched again, or a tick polled twice, would break that.
- **PollingReplicaFrozen**: one mds-api runs a polling tick of 6 symbols on a fake Yahoo that
  answers in 3 s, with POLLING_LEASE_SECONDS=2. It is frozen with SIGSTOP while a call of the tick
  is in flight; a second mds-api takes the job once the lease has run out and completes the tick;
  then the frozen one is resumed and its call returns. Checked: every symbol has exactly one price
  point, the completing replica made a call only for the symbols still missing, the late price
  was refused by the database (` + "`mds_polling_tick_writes_refused_total`" + ` on the woken
  replica) and nothing exited.
- **ConsumerKilled**: a million price points are stored with COPY and their events produced
  straight onto the topic while mds-consumer is SIGKILLed 10 times, evenly over the committed
  offsets. Every average (windows 5 and 20) must equal the SQL reference: none lost, none wrong,
  none extra, nothing parked as a dead letter. The prices are stored before their events, as
  mds-api does; a window seeded from ` + "`price_points`" + ` then meets stored prices it has no
  event for yet, and the events beyond them are averaged from their stored neighbours (one more
  query per batch): the row counts them.
- **ConsumerReplicaLost**: three mds-consumer replicas share the group (static members) while a
  million price points are stored with COPY and their events produced; a third of the way
  through, one replica is SIGKILLed and not started again. Checked: every partition's committed
  offset moves again within the session timeout (10 s, plus the rebalance), and every average
  (windows 5 and 20) equals the SQL reference, none parked as a dead letter.
- **SlowProviders**: a fake Alpha Vantage answers one byte a second and a fake Finnhub never
  answers, 16 requests in flight to each; every network provider has a lane of its own
  PROVIDER_FETCH_THREADS=32 threads. With PROVIDER_TIMEOUT_MS=2000 and no retries they must fail
  with 503 at the deadline, while the in-process test provider keeps its rate and p99, and a
  healthy network provider (a fake Yahoo answering at once, 20 requests a second) keeps answering
  (both compared with runs before and after, without the hanging requests). An overload run sends
  48 hanging requests to each slow provider, more than its threads: the ones that queue must still
  get their 503 within the deadline (the wait counts against it), and the healthy providers must
  still hold.
- **ManySymbols**: 200,000 distinct symbols (MDS_FAULTS_SYMBOLS=1000000 for a million, 4-5
  minutes more) asked for over gRPC; the resident memory of mds-api and mds-consumer is sampled
  every 250 ms. The test provider keeps at most 100,000 symbols and the consumer at most
  MOVING_AVERAGE_MAX_SYMBOLS windows, so memory must stop growing once they are full: the second
  half of the symbols may add less than 10% to the RSS reached at half-way.
`
