// The short test of a replicated broker's loss, in `bazel test //...`: the services on a private
// three-node cluster (kafka_cluster_test.go), one node SIGKILLed for a few seconds.
package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// One broker of three, the leader of the price topic's busiest partition, SIGKILLed for 10 s under
// REST load and polling, then started again: the two others hold every partition (replication
// factor 3, min.insync.replicas 2), so no request fails and every committed price reaches the
// topic exactly once (the idempotent producer's retries to the new leader are not written twice).
func TestFaultSubsetBrokerLost(t *testing.T) {
	const down = 10 * time.Second
	began := time.Now()
	cluster := startPrivateCluster(t, 3)
	s := startFaultStack(t, faultStackOptions{prefix: "fs_broker", cluster: cluster})
	jobIDs := createJobs(t, s.restURL, "SUB", 1, 10, 1)
	rest := restLoad("REST", s.restURL, 2, 50, func(n int64) string {
		return fmt.Sprintf("/api/v1/prices/latest?symbol=SUN%d&provider=test", n%100)
	})
	defer rest.Stop()
	waitFor(t, 60*time.Second, "averages to be written", func() bool {
		return dbInt(t, s.databaseURL, "SELECT count(*) FROM moving_averages") > 0
	})
	ready := time.Now()
	partition, leader := cluster.busiestPartition(t, s.topic)
	coordinator, err := cluster.groupCoordinator(s.group)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("killing node %d, leader of %s/%d; the consumer group's coordinator is node %d",
		nodeID(leader), s.topic, partition, nodeID(coordinator))
	killed := time.Now()
	cluster.kill(leader)
	next := cluster.awaitNewLeader(t, s.topic, partition, leader, time.Minute)
	failover := time.Since(killed)
	time.Sleep(time.Until(killed.Add(down))) // the rest of the outage
	restarting := time.Now()
	cluster.restart(t, leader)
	rejoined := time.Since(restarting)
	oks := rest.okCount()
	waitFor(t, 30*time.Second, "the load to run on", func() bool { return rest.okCount() >= oks+30 })
	if out := rest.summary(time.Time{}, time.Now()); out.failed() != 0 || out.ok == 0 {
		t.Errorf("REST over the whole run: %s", out.codesString())
	}
	during := rest.summary(killed, restarting)
	rejoins := 0
	for _, p := range []*process{s.api(), s.consumer()} {
		lines, n := fatalKafkaLines(p)
		rejoins += n
		if len(lines) > 0 {
			t.Errorf("%s: its Kafka client failed for good:\n%s", p.name, strings.Join(lines, "\n"))
		}
	}
	settle(t, s, rest, jobIDs)
	checkNothingLost(t, s, []int{2, 5}, rest)
	pub := checkPublication(t, s)
	if pub.records != pub.distinct {
		t.Errorf("price points published more than once: %s", pub)
	}
	t.Logf("cluster and stack up in %v; node %d (leader of %s/%d) SIGKILLed: node %d led it %v later; "+
		"REST while it was down: %s, p99 %v; back and in sync %v after its restart; %s; consumer clients replaced after failing for good: %d; %v in all",
		ready.Sub(began).Round(time.Millisecond), nodeID(leader), s.topic, partition, nodeID(next),
		failover.Round(time.Millisecond), during.codesString(), during.p99.Round(time.Millisecond),
		rejoined.Round(time.Millisecond), pub, rejoins, time.Since(began).Round(time.Second))
}
