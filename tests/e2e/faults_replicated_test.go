//go:build faults

// Scenarios of a replicated broker (./deploy/dev faults): the services run on a private cluster of
// three KRaft nodes (kafka_cluster_test.go; topics with three replicas and min.insync.replicas 2),
// not on the faults stack's single broker, and nodes of it are SIGKILLed under REST, gRPC and
// polling load. One node lost (the leader of the price topic's busiest partition, or the active
// KRaft controller) must cost nothing: no request fails, every committed price reaches the topic
// exactly once, every average is exact. Two lost stop publishing (fewer in-sync replicas than a
// write needs, and no quorum) but not the service: requests keep answering, prices wait in the
// outbox, and once one node is back the backlog drains and nothing is lost.
package e2e

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// replicatedRun is a stack on a private three-node cluster, under load.
type replicatedRun struct {
	t         *testing.T
	sc        *scenario
	cluster   *kafkaCluster
	s         *faultStack
	rest, rpc *load
	jobIDs    []string
	jobs, per int
	symbols   string // prefix of the polled symbols
	acks      *ackSampler
}

func startReplicatedRun(t *testing.T, sc *scenario, prefix, symbols string) *replicatedRun {
	t.Helper()
	jobs := faultsSize("MDS_FAULTS_REPLICATED_JOBS", 10, "BrokerLeaderKilled, ControllerKilled, TwoBrokersDown: polling jobs (interval 1 s)")
	per := faultsSize("MDS_FAULTS_REPLICATED_JOB_SYMBOLS", 50, "BrokerLeaderKilled, ControllerKilled, TwoBrokersDown: symbols per job")
	rate := faultsSize("MDS_FAULTS_REST_RATE", 300, "REST requests a second of the background load (gRPC: half as many)")
	r := &replicatedRun{t: t, sc: sc, jobs: jobs, per: per, symbols: symbols + "P"}
	r.cluster = startPrivateCluster(t, 3)
	r.s = startFaultStack(t, faultStackOptions{prefix: prefix, cluster: r.cluster,
		env: []string{"POLLING_RUNNERS=32", "DATABASE_POOL_SIZE=32"}})
	r.jobIDs = createJobs(t, r.s.restURL, r.symbols, jobs, per, 1)
	waitFor(t, 2*time.Minute, "every job's first run", func() bool {
		return dbInt(t, r.s.databaseURL, "SELECT count(*) FROM polling_jobs WHERE run_count > 0") == int64(jobs)
	})
	r.rest = restLoad("REST", r.s.restURL, 4, float64(rate), func(n int64) string {
		return fmt.Sprintf("/api/v1/prices/latest?symbol=%sR%d&provider=test", symbols, n%1000)
	})
	r.rpc = grpcLoad("gRPC", r.s.apiAddr, 2, float64(rate)/2, func(n int64) string { return fmt.Sprintf("%sG%d", symbols, n%1000) })
	t.Cleanup(func() { r.rest.Stop(); r.rpc.Stop() })
	waitFor(t, 2*time.Minute, "averages of the requested symbols", func() bool {
		return dbInt(t, r.s.databaseURL, "SELECT count(*) FROM moving_averages WHERE symbol LIKE $1", symbols+"R%") > 0
	})
	r.acks = sampleAcks(r.s)
	t.Cleanup(r.acks.stop)
	return r
}

// ackSampler reads mds-api's count of events the broker acknowledged every 100 ms, to tell how
// long publishing paused.
type ackSampler struct {
	mu      sync.Mutex
	at      []time.Time
	value   []float64
	quit    chan struct{}
	stopped sync.Once
	done    chan struct{}
}

func sampleAcks(s *faultStack) *ackSampler {
	a := &ackSampler{quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(a.done)
		for {
			if v := metricValue(s.apiMetrics, "mds_events_delivered_total"); v >= 0 {
				a.mu.Lock()
				a.at, a.value = append(a.at, time.Now()), append(a.value, v)
				a.mu.Unlock()
			}
			select {
			case <-a.quit:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return a
}

func (a *ackSampler) stop() { a.stopped.Do(func() { close(a.quit); <-a.done }) }

// longestPause is the longest time within [from, to] in which no event was acknowledged, and
// when it ended (zero if it had not ended by `to`).
func (a *ackSampler) longestPause(from, to time.Time) (time.Duration, time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var longest time.Duration
	var ended time.Time
	last := from
	for i := 1; i < len(a.at); i++ {
		if a.at[i].Before(from) || a.at[i].After(to) || a.value[i] <= a.value[i-1] {
			continue
		}
		if d := a.at[i].Sub(last); d > longest {
			longest, ended = d, a.at[i]
		}
		last = a.at[i]
	}
	if d := to.Sub(last); d > longest {
		longest, ended = d, time.Time{}
	}
	return longest, ended
}

// settleAndCheck stops the load and records the checks every replicated scenario ends with.
// [killed, back) is the fault; [killed, windowEnd) the part of it whose REST latency the first row
// reports, named `window` (the failover: until a new leader or controller took over);
// exactlyOnce whether no price point may be on the topic twice.
func (r *replicatedRun) settleAndCheck(killed, windowEnd, back time.Time, window string, exactlyOnce bool) {
	t, s, sc := r.t, r.s, r.sc
	t.Helper()
	oks := r.rest.okCount()
	waitFor(t, time.Minute, "the load to run on", func() bool { return r.rest.okCount() >= oks+200 })
	r.rest.Stop()
	r.rpc.Stop()
	stopJobs(t, s.restURL, r.jobIDs)
	awaitQuiet(t, s.databaseURL, 2*time.Second, time.Minute)
	_, emptied := awaitOutboxEmpty(t, s.databaseURL, 3*time.Minute)
	r.acks.stop()

	before := r.rest.summary(killed.Add(-10*time.Second), killed)
	failover := r.rest.summary(killed, windowEnd)
	rd, gd := r.rest.summary(killed, back), r.rpc.summary(killed, back)
	ra, ga := r.rest.summary(time.Time{}, time.Now()), r.rpc.summary(time.Time{}, time.Now())
	sc.check("REST and gRPC latest price keep answering (0 errors)",
		fmt.Sprintf("%s (%s): REST %s, p99 %s (p99 the 10 s before: %s); "+
			"until every node was back (%s): REST %s, p99 %s; gRPC %s, p99 %s; whole run: REST %s, gRPC %s",
			window, secs(windowEnd.Sub(killed)), failover.codesString(), ms(failover.p99), ms(before.p99),
			secs(back.Sub(killed)), rd.codesString(), ms(rd.p99), gd.codesString(), ms(gd.p99), ra.codesString(), ga.codesString()),
		ra.failed() == 0 && ga.failed() == 0 && rd.total > 0 && gd.total > 0)
	polled := dbInt(t, s.databaseURL, "SELECT count(*) FROM price_points WHERE symbol LIKE $1 AND ts >= $2 AND ts < $3",
		r.symbols+"%", killed, back)
	pollRate := float64(polled) / back.Sub(killed).Seconds()
	sc.check("polling goes on meanwhile (≥ 90% of the schedule)",
		fmt.Sprintf("%.0f points/s of %d scheduled", pollRate, r.jobs*r.per), pollRate >= 0.9*float64(r.jobs*r.per))
	aliveText, allAlive := s.aliveText()
	var fatal []string
	rejoins := 0
	for _, p := range []*process{s.api(), s.consumer()} {
		lines, n := fatalKafkaLines(p)
		rejoins += n
		for _, line := range lines {
			fatal = append(fatal, p.name+": "+line)
		}
	}
	if len(fatal) > 3 {
		fatal = append(fatal[:3], fmt.Sprintf("(%d more)", len(fatal)-3))
	}
	fatalText := "no fatal Kafka client error"
	if rejoins > 0 {
		fatalText = fmt.Sprintf("mds-consumer replaced a Kafka client that failed for good %d time(s) and joined the group again", rejoins)
	}
	if len(fatal) > 0 {
		fatalText = "fatal Kafka client errors: " + strings.Join(fatal, "; ")
	}
	sc.check("no process exits, and no Kafka client stays failed", aliveText+"; "+fatalText, allAlive && len(fatal) == 0)
	pub := checkPublication(t, s)
	must, pass := "every committed price is on the topic exactly once (topic vs price_points)",
		emptied && pub.missing == 0 && pub.unknown == 0 && pub.points > 0 && pub.records == pub.distinct
	if !exactlyOnce {
		must, pass = "every committed price is on the topic (topic vs price_points; a republished one may be there more than once)",
			emptied && pub.missing == 0 && pub.unknown == 0 && pub.points > 0
	}
	sc.check(must, pub.String(), pass)
	avg := awaitAverages(t, s, []int{2, 5}, 3*time.Minute)
	measured := avg.String()
	if len(avg.missingIDs) > 0 {
		late, newer := lateArrivals(t, s, avg.missingIDs)
		measured += fmt.Sprintf("; %d price points lack an average, %d of them reached the topic after events of newer prices of their symbol (up to %d newer ones before them)",
			len(avg.missingIDs), late, newer)
	}
	sc.check("every price point has its exact averages (windows 2, 5; vs the SQL reference)", measured, avg.ok())
	groups, rows := duplicatePoints(t, s.databaseURL)
	answered, missing, example := answersStored(t, s.databaseURL, r.rest, r.rpc)
	sc.check("no price point stored twice; every price answered stored",
		fmt.Sprintf("%d duplicated groups (%d rows); %s prices answered, %d not stored%s", groups, rows, thousands(answered), missing, example),
		groups == 0 && missing == 0 && answered > 0)
}

// coordinatorText names the consumer group's coordinator, for the rows.
func (r *replicatedRun) coordinatorText() string {
	if c, err := r.cluster.groupCoordinator(r.s.group); err == nil {
		return fmt.Sprintf("node %d", nodeID(c))
	}
	return "unknown"
}

// ---- BrokerLeaderKilled ----

func TestFaultBrokerLeaderKilled(t *testing.T) {
	sc := newScenario(t, "BrokerLeaderKilled")
	down := time.Duration(faultsSize("MDS_FAULTS_BROKER_DOWN_SECONDS", 60,
		"BrokerLeaderKilled, ControllerKilled: seconds the node stays down")) * time.Second
	r := startReplicatedRun(t, sc, "f_leader", "BL")
	partition, leader := r.cluster.busiestPartition(t, r.s.topic)
	controller, _ := r.cluster.activeController()
	coordinator := r.coordinatorText()
	killed := time.Now()
	r.cluster.kill(leader)
	next := r.cluster.awaitNewLeader(t, r.s.topic, partition, leader, 2*time.Minute)
	elected := time.Now()
	time.Sleep(time.Until(killed.Add(down))) // the rest of the outage
	restarting := time.Now()
	r.cluster.restart(t, leader)
	back := time.Now()
	pause, resumed := r.acks.longestPause(killed, back)
	sc.check("the other nodes take over the partition, and publishing resumes, while the node is down",
		fmt.Sprintf("node %d (leader of the busiest partition %d; active controller: node %d; group coordinator: %s) SIGKILLed: node %d led the partition %s later; "+
			"longest time without an acknowledged event %s (ended %s after the kill); the node back and every replica in sync %s after its restart",
			nodeID(leader), partition, nodeID(controller), coordinator, nodeID(next), secs(elected.Sub(killed)),
			secs(pause), afterKill(resumed, killed), secs(back.Sub(restarting))),
		!resumed.IsZero() && resumed.Before(restarting))
	r.settleAndCheck(killed, elected, back, "during the failover, from the kill to the take-over", true)
}

// afterKill is how long after the kill t was, or says it never came.
func afterKill(t, killed time.Time) string {
	if t.IsZero() {
		return "never, while the node was down"
	}
	return secs(t.Sub(killed))
}

// ---- ControllerKilled ----

func TestFaultControllerKilled(t *testing.T) {
	sc := newScenario(t, "ControllerKilled")
	down := time.Duration(faultsSize("MDS_FAULTS_BROKER_DOWN_SECONDS", 60,
		"BrokerLeaderKilled, ControllerKilled: seconds the node stays down")) * time.Second
	r := startReplicatedRun(t, sc, "f_controller", "CK")
	controller := r.cluster.awaitController(t, -1, time.Minute)
	coordinator := r.coordinatorText()
	killed := time.Now()
	r.cluster.kill(controller)
	next := r.cluster.awaitController(t, controller, 2*time.Minute)
	elected := time.Now()
	time.Sleep(time.Until(killed.Add(down))) // the rest of the outage
	restarting := time.Now()
	r.cluster.restart(t, controller)
	back := time.Now()
	pause, resumed := r.acks.longestPause(killed, back)
	sc.check("another node becomes the active controller, and publishing resumes, while the node is down",
		fmt.Sprintf("node %d (active controller; group coordinator: %s) SIGKILLed: node %d led the quorum %s later; "+
			"longest time without an acknowledged event %s (ended %s after the kill); the node back and every replica in sync %s after its restart",
			nodeID(controller), coordinator, nodeID(next), secs(elected.Sub(killed)), secs(pause), afterKill(resumed, killed),
			secs(back.Sub(restarting))),
		!resumed.IsZero() && resumed.Before(restarting))
	r.settleAndCheck(killed, elected, back, "during the failover, from the kill to the take-over", true)
}

// ---- TwoBrokersDown ----

func TestFaultTwoBrokersDown(t *testing.T) {
	sc := newScenario(t, "TwoBrokersDown")
	down := time.Duration(faultsSize("MDS_FAULTS_TWO_BROKERS_DOWN_SECONDS", 60, "TwoBrokersDown: seconds two nodes stay down")) * time.Second
	r := startReplicatedRun(t, sc, "f_two", "TB")
	_, leader := r.cluster.busiestPartition(t, r.s.topic)
	// The busiest partition's leader, and the active controller (or the next node when it is the
	// same): the quorum is lost too, so nothing can move until one of them is back.
	other, err := r.cluster.activeController()
	if err != nil || other == leader {
		other = (leader + 1) % len(r.cluster.nodes)
	}
	coordinator := r.coordinatorText()
	killed := time.Now()
	var wg sync.WaitGroup
	for _, i := range []int{leader, other} {
		wg.Add(1)
		go func() { defer wg.Done(); r.cluster.kill(i) }()
	}
	wg.Wait()
	time.Sleep(down) // the outage itself
	restarting := time.Now()
	lastBefore := dbInt(t, r.s.databaseURL, "SELECT coalesce(max(id), 0) FROM price_points")
	waiting := dbInt(t, r.s.databaseURL, "SELECT count(*) FROM price_event_outbox")
	backlogMetric := metricValue(r.s.apiMetrics, "mds_outbox_backlog_rows")
	oldest := metricValue(r.s.apiMetrics, "mds_outbox_oldest_age_seconds")
	pauseDown, _ := r.acks.longestPause(killed, restarting)
	sc.check("while two of three nodes are down (fewer in-sync replicas than min.insync.replicas), prices wait in the outbox",
		fmt.Sprintf("nodes %d and %d SIGKILLed (group coordinator: %s) for %s: %s outbox rows at the end (mds_outbox_backlog_rows %.0f, oldest %.0f s); "+
			"longest time without an acknowledged event %s",
			nodeID(leader), nodeID(other), coordinator, secs(restarting.Sub(killed)), thousands(int(waiting)), backlogMetric, oldest, secs(pauseDown)),
		waiting > 0)
	r.cluster.restart(t, leader)
	oneBack := time.Now()
	var drained time.Duration
	if err := waitForErr(5*time.Minute, "the outbox rows of before the restart to drain", func() (bool, error) {
		left := dbInt(t, r.s.databaseURL, "SELECT count(*) FROM price_event_outbox WHERE price_point_id <= $1", lastBefore)
		return left == 0, fmt.Errorf("%d left", left)
	}); err == nil {
		drained = time.Since(oneBack)
	}
	sc.check("once one node is back, the backlog drains (within 5 min)",
		fmt.Sprintf("node %d restarted and listed as a broker %s after its start; the %s rows waiting then were all acknowledged %s after that",
			nodeID(leader), secs(oneBack.Sub(restarting)), thousands(int(waiting)), within(drained)),
		drained > 0)
	r.cluster.restart(t, other)
	back := time.Now()
	r.settleAndCheck(killed, restarting, back, "while two nodes were down", false)
}
