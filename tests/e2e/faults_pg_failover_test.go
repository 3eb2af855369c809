//go:build faults

// PostgresFailover: the PostgreSQL primary is lost and its synchronous standby promoted, under
// REST, gRPC and polling load. Both nodes are a private pair of the scenario (pg_pair_test.go),
// not the faults stack's PostgreSQL; the broker is the faults stack's.
package e2e

import (
	"fmt"
	"testing"
	"time"
)

func TestFaultPostgresFailover(t *testing.T) {
	sc := newScenario(t, "PostgresFailover")
	gap := time.Duration(faultsSize("MDS_FAULTS_PG_FAILOVER_SECONDS", 5,
		"PostgresFailover: seconds from the primary's SIGKILL to the standby's promotion")) * time.Second
	rate := faultsSize("MDS_FAULTS_REST_RATE", 300, "REST requests a second of the background load (gRPC: half as many)")
	const jobs, per = 4, 25
	pair, s := failoverStack(t, faultStackOptions{prefix: "f_pgfo", env: []string{"DATABASE_POOL_SIZE=16"}})
	jobIDs := createJobs(t, s.restURL, "FP", jobs, per, 1)
	rest := restLoad("REST", s.restURL, 4, float64(rate), func(n int64) string {
		return fmt.Sprintf("/api/v1/prices/latest?symbol=FR%d&provider=test", n%500)
	})
	defer rest.Stop()
	rpc := grpcLoad("gRPC", s.apiAddr, 2, float64(rate)/2, func(n int64) string { return fmt.Sprintf("FG%d", n%500) })
	defer rpc.Stop()
	waitFor(t, 60*time.Second, "load and polling to run", func() bool {
		return rest.okCount() >= 200 && rpc.okCount() >= 100 &&
			dbInt(t, s.databaseURL, "SELECT count(*) FROM polling_jobs WHERE run_count > 0") == jobs
	})

	killed := time.Now()
	pair.killPrimary(t)
	waitFor(t, 60*time.Second, "requests to fail while no node takes writes", func() bool {
		return failuresSince(rest, killed) >= 20 && failuresSince(rpc, killed) >= 10
	})
	if d := time.Until(killed.Add(gap)); d > 0 {
		time.Sleep(d) // the outage itself
	}
	promoting := time.Now()
	pair.promote(t)
	promoted := time.Now()
	var restBack, rpcBack time.Time
	waitFor(t, 60*time.Second, "REST and gRPC to answer after the promotion", func() bool {
		restBack, rpcBack = rest.firstOKAfter(promoted), rpc.firstOKAfter(promoted)
		return !restBack.IsZero() && !rpcBack.IsZero()
	})
	oks := rest.okCount()
	waitFor(t, 60*time.Second, "load to run on", func() bool { return rest.okCount() >= oks+200 })
	rest.Stop()
	rpc.Stop()
	stopJobs(t, s.restURL, jobIDs)
	awaitQuiet(t, s.databaseURL, 2*time.Second, time.Minute)
	_, emptied := awaitOutboxEmpty(t, s.databaseURL, 3*time.Minute)

	aliveText, allAlive := s.aliveText()
	sc.check("no process exits", aliveText, allAlive)

	// While no node takes writes: from just after the kill (requests answered in that instant
	// may have committed before it) to the promotion.
	from := killed.Add(100 * time.Millisecond)
	r, g := rest.summary(from, promoted), rpc.summary(from, promoted)
	longest := maxCall(rest, from, promoted)
	if d := maxCall(rpc, from, promoted); d > longest {
		longest = d
	}
	okInside := okWithin(rest, from, promoting) + okWithin(rpc, from, promoting)
	first503 := firstFailureAfter(rest, killed)
	sc.check("while no node takes writes, requests fail with 503 (gRPC UNAVAILABLE), fast: the longest call < 6 s, far from the gateway's 30 s timeout",
		fmt.Sprintf("%s without a primary (SIGKILL to promoted, of which %s the promotion): first 503 %s after the kill; REST %s; gRPC %s; "+
			"longest call %s; %d requests made and answered successfully in that time",
			secs(promoted.Sub(killed)), ms(promoted.Sub(promoting)), ms(first503.Sub(killed)), r.codesString(), g.codesString(),
			ms(longest), okInside),
		r.codes["503"] == r.failed() && g.codes["Unavailable"] == g.failed() && r.failed() > 0 && g.failed() > 0 &&
			longest < 6*time.Second && okInside == 0)
	sc.check("service back within 5 s of the promotion (the promoted node leaving recovery)",
		fmt.Sprintf("first REST 200 %s, first gRPC OK %s after it; of the requests made after it, %d (REST) and %d (gRPC) failed",
			ms(restBack.Sub(promoted)), ms(rpcBack.Sub(promoted)), failuresSince(rest, promoted), failuresSince(rpc, promoted)),
		restBack.Sub(promoted) <= 5*time.Second && rpcBack.Sub(promoted) <= 5*time.Second)

	if primary, err := pair.primaryNode(); primary != pair.standby {
		t.Fatalf("the promoted standby is not the primary (%v)", err)
	}
	promotedURL := pair.standby.nodeURL(s.dbName)
	all, allRPC := rest.summary(time.Time{}, time.Now()), rpc.summary(time.Time{}, time.Now())
	answered, missing, example := answersStored(t, promotedURL, rest, rpc)
	sc.check("no acknowledged price lost in the failover: every price answered 200 (REST) or OK (gRPC) is on the promoted node (synchronous replication, remote_apply)",
		fmt.Sprintf("over the run REST %s, gRPC %s; %s prices answered, %d of them missing on the promoted node%s",
			all.codesString(), allRPC.codesString(), thousands(answered), missing, example),
		missing == 0 && answered > 0)
	groups, rows := duplicatePoints(t, promotedURL)
	sc.check("no price point stored twice (symbol, timestamp, provider, price)",
		fmt.Sprintf("%d duplicated groups (%d rows)", groups, rows), groups == 0)
	pub := checkPublication(t, s)
	// Exactly once: the relay records the acknowledgements the broker sent while no node took
	// writes once one does, so no delivered price is published again.
	sc.check("every committed price is published exactly once (topic vs price_points of the promoted node)", pub.String(),
		emptied && pub.missing == 0 && pub.unknown == 0 && pub.points > 0 && pub.records == pub.distinct)
	avg := awaitAverages(t, s, []int{2, 5}, 3*time.Minute)
	sc.check("every price point has its exact averages (windows 2, 5; vs the SQL reference)", avg.String(), avg.ok())
}

// maxCall is the longest request (failed or not) that overlapped [from, to].
func maxCall(l *load, from, to time.Time) time.Duration {
	var longest time.Duration
	for _, a := range l.snapshot() {
		if a.start.Before(to) && !a.start.Add(a.dur).Before(from) && a.dur > longest {
			longest = a.dur
		}
	}
	return longest
}
