// The short failover test of the subset: a private PostgreSQL primary is lost and its
// synchronous standby promoted, under load; the services, given both nodes in DATABASE_URL, must
// follow without a restart.
package e2e

import (
	"fmt"
	"testing"
	"time"
)

// failoverStack starts a pair (pg_pair_test.go) and a fault stack whose database is made on its
// primary (so its standby replicates it) and whose services reach it through
// DATABASE_URL=postgresql://mds:mds@PRIMARY,STANDBY/<db>?target_session_attrs=read-write. The
// test's own connections (s.databaseURL) use the same list, so they too reach the node that
// takes writes.
func failoverStack(t *testing.T, o faultStackOptions) (*pgPair, *faultStack) {
	t.Helper()
	pair := startPgPair(t)
	// startFaultStack creates (and drops) its database through MDS_TEST_DATABASE_URL; the test's
	// cleanups run in reverse order, so the drop still finds the pair.
	t.Setenv("MDS_TEST_DATABASE_URL", pair.url("marketdata"))
	s := startFaultStack(t, o)
	return pair, s
}

// failuresSince counts the answers that were not a success among the requests started after t0.
func failuresSince(l *load, t0 time.Time) int {
	n := 0
	for _, a := range l.snapshot() {
		if a.start.After(t0) && !l.ok(a) {
			n++
		}
	}
	return n
}

// firstFailureAfter is when the first failed answer of a request started after t0 completed.
func firstFailureAfter(l *load, t0 time.Time) time.Time {
	var first time.Time
	for _, a := range l.snapshot() {
		end := a.start.Add(a.dur)
		if a.start.After(t0) && !l.ok(a) && (first.IsZero() || end.Before(first)) {
			first = end
		}
	}
	return first
}

// okWithin counts the successful answers of requests started after `from` and answered before
// `to`.
func okWithin(l *load, from, to time.Time) int {
	n := 0
	for _, a := range l.snapshot() {
		if l.ok(a) && a.start.After(from) && a.start.Add(a.dur).Before(to) {
			n++
		}
	}
	return n
}

// The primary SIGKILLed under REST load and polling, the standby promoted 3 s later: no process
// exits, REST answers 503 quickly while no node takes writes and 200 within 5 s of the promotion,
// and every price answered 200 is on the promoted node, once.
func TestFaultSubsetPostgresFailover(t *testing.T) {
	pair, s := failoverStack(t, faultStackOptions{prefix: "fs_pgfo"})
	jobIDs := createJobs(t, s.restURL, "SUF", 1, 10, 1)
	rest := restLoad("REST", s.restURL, 2, 50, func(n int64) string {
		return fmt.Sprintf("/api/v1/prices/latest?symbol=SUG%d&provider=test", n%100)
	})
	defer rest.Stop()
	waitFor(t, 30*time.Second, "the load and polling to run", func() bool {
		return rest.okCount() >= 50 && dbInt(t, s.databaseURL, "SELECT count(*) FROM polling_jobs WHERE run_count > 0") == 1
	})

	killed := time.Now()
	pair.killPrimary(t)
	waitFor(t, 30*time.Second, "20 requests to fail while no node takes writes", func() bool { return failuresSince(rest, killed) >= 20 })
	if d := time.Until(killed.Add(3 * time.Second)); d > 0 {
		time.Sleep(d) // the outage itself: 3 s without a primary
	}
	promoting := time.Now()
	pair.promote(t)
	promoted := time.Now()
	var back time.Time
	waitFor(t, 30*time.Second, "a 200 after the promotion", func() bool {
		back = rest.firstOKAfter(promoted)
		return !back.IsZero()
	})
	if d := back.Sub(promoted); d > 5*time.Second {
		t.Errorf("first 200 %v after the standby was promoted, want within 5 s", d)
	}
	out := rest.summary(killed.Add(100*time.Millisecond), promoted)
	if out.codes["503"] != out.failed() || out.failed() == 0 || out.maxFailed > 6*time.Second {
		t.Errorf("without a primary: %s, slowest failure %v; want only 503s, each within 6 s", out.codesString(), out.maxFailed)
	}
	if n := okWithin(rest, killed.Add(100*time.Millisecond), promoting); n != 0 {
		t.Errorf("%d requests made and answered 200 while no node took writes", n)
	}
	t.Logf("no primary for %v (promotion took %v): %s, slowest failure %v; first 503 %v after the kill; first 200 %v after the promotion",
		promoted.Sub(killed).Round(time.Millisecond), promoted.Sub(promoting).Round(time.Millisecond), out.codesString(),
		out.maxFailed.Round(time.Millisecond), firstFailureAfter(rest, killed).Sub(killed).Round(time.Millisecond),
		back.Sub(promoted).Round(time.Millisecond))
	oks := rest.okCount()
	waitFor(t, 30*time.Second, "the load to run on", func() bool { return rest.okCount() >= oks+30 })
	settle(t, s, rest, jobIDs)

	if primary, err := pair.primaryNode(); primary != pair.standby {
		t.Fatalf("the promoted standby is not the primary (%v)", err)
	}
	// On the promoted node itself, not through the list.
	promotedURL := pair.standby.nodeURL(s.dbName)
	if answered, missing, example := answersStored(t, promotedURL, rest); missing != 0 || answered == 0 {
		t.Errorf("%d of %d prices answered 200 are not on the promoted node%s", missing, answered, example)
	}
	if groups, rows := duplicatePoints(t, promotedURL); groups != 0 {
		t.Errorf("%d price points stored twice (%d rows)", groups, rows)
	}
	if p := checkPublication(t, s); p.missing != 0 || p.unknown != 0 || p.points == 0 {
		t.Errorf("topic vs price_points: %s", p)
	}
	if a := awaitAverages(t, s, []int{2, 5}, 2*time.Minute); !a.ok() {
		t.Errorf("averages vs the SQL reference: %s", a)
	}
	if alive, dead := s.aliveCount(); alive != len(s.processes) {
		t.Errorf("processes exited: %v", dead)
	}
}
