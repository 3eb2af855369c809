//go:build faults

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ---- ConsumerReplicaLost ----

// Three mds-consumer replicas share the group; one is SIGKILLed a third of the way through a
// million events and never comes back. Its partitions must move to the two others within the
// session timeout (10 s: each member joins with a static instance id, so the group waits that
// long for it to return), and every average must still be exact.
func TestFaultConsumerReplicaLost(t *testing.T) {
	sc := newScenario(t, "ConsumerReplicaLost")
	n := faultsSize("MDS_FAULTS_EVENTS", 1000000, "ConsumerKilled and ConsumerReplicaLost: events (over 1,000 symbols)")
	const sessionTimeout = 10 * time.Second
	windows := []int{5, 20}
	s := startFaultStack(t, faultStackOptions{prefix: "f_creplicas", env: []string{"MOVING_AVERAGE_WINDOWS=5,20", "DATABASE_POOL_SIZE=4"}})
	in, err := lookupStackInputs()
	if err != nil {
		t.Fatal(err)
	}
	logDir := os.Getenv("TEST_UNDECLARED_OUTPUTS_DIR")
	if logDir == "" {
		logDir = os.TempDir()
	}
	var replicas []*process
	for i := 2; i <= 3; i++ {
		addr := freeAddr()
		p, err := startProcess(fmt.Sprintf("mds-consumer-%d", i), in.consumerBin,
			withEnv(s.apiEnv, "MDS_CONSUMER_LISTEN="+addr, "MDS_CONSUMER_METRICS_LISTEN=off"),
			filepath.Join(logDir, fmt.Sprintf("%s-mds-consumer-%d.log", s.dbName, i)))
		if err != nil {
			t.Fatal(err)
		}
		s.processes = append(s.processes, p)
		replicas = append(replicas, p)
		if err := waitServing(addr, 90*time.Second); err != nil {
			t.Fatalf("consumer replica %d not serving: %v", i, err)
		}
	}
	at := bulkPricePoints(t, s.databaseURL, "CR", n, 1000)
	start := time.Now()
	produced := produceAll(t, s.kafka, s.topic, n, at)
	waitFor(t, 10*time.Minute, "a third of the events committed", func() bool {
		return sumOffsets(partitionOffsets(t, s.kafka, s.group, s.topic)) >= int64(n/3)
	})

	// The victim: the last replica, removed from the processes that must stay alive.
	victim := replicas[len(replicas)-1]
	atKill := partitionOffsets(t, s.kafka, s.group, s.topic)
	killed := time.Now()
	victim.kill()
	for i, p := range s.processes {
		if p == victim {
			s.processes = append(s.processes[:i], s.processes[i+1:]...)
			break
		}
	}
	// The group settles on the two live members, every partition assigned to one of them.
	waitFor(t, 5*time.Minute, "the group to settle on the two live replicas", func() bool {
		return groupSettled(t, s.kafka, s.group, s.topic, 2)
	})
	reassigned := time.Since(killed)
	// Every partition moves on again (or was already done): the longest wait is how long the
	// dead member's partitions stood still, reassignment and the new owner's first batch
	// (windows seeded from price_points) included.
	ends := topicEndOffsets(t, s.kafka, s.topic)
	moved := map[int32]time.Duration{}
	waitFor(t, 5*time.Minute, "every partition to move on after the kill", func() bool {
		now := partitionOffsets(t, s.kafka, s.group, s.topic)
		for p, end := range ends {
			if _, done := moved[p]; done {
				continue
			}
			if now[p] > atKill[p] || now[p] >= end && atKill[p] >= end {
				moved[p] = time.Since(killed)
			}
		}
		return len(moved) == len(ends)
	})
	var longest time.Duration
	for _, d := range moved {
		longest = max(longest, d)
	}
	waitFor(t, 15*time.Minute, fmt.Sprintf("all %d events committed", n), func() bool {
		return sumOffsets(partitionOffsets(t, s.kafka, s.group, s.topic)) >= int64(n)
	})
	elapsed := time.Since(start)
	if err := <-produced; err != nil {
		t.Fatalf("produce: %v", err)
	}
	avg := awaitAverages(t, s, windows, 5*time.Minute)
	parked, _ := endOffsets(s.kafka, s.deadLetters)
	alive, allAlive := s.aliveText()
	sc.check("the dead replica's partitions move to the others within the session timeout (10 s, plus the rebalance)",
		fmt.Sprintf("kill to the group settled on the two live replicas with every partition assigned: %s; to every partition's committed offset moving again: %s (per partition: %s); %s",
			secs(reassigned), secs(longest), movedText(moved), alive),
		reassigned <= sessionTimeout+5*time.Second && allAlive)
	sc.check("0 averages lost or wrong with one of three consumer replicas SIGKILLed for good (vs the SQL reference)",
		fmt.Sprintf("%s events over 1,000 symbols, windows 5 and 20, in %s (%.0f events/s): %s; %d records parked as dead letters",
			thousands(n), secs(elapsed), float64(n)/elapsed.Seconds(), avg.String(), parked),
		avg.ok() && parked == 0)
}

// partitionOffsets is the group's committed offset of each partition of the topic.
func partitionOffsets(t *testing.T, bootstrap, group, topic string) map[int32]int64 {
	t.Helper()
	out := map[int32]int64{}
	client, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(bootstrap, ",")...))
	if err != nil {
		t.Logf("committed offsets: %v", err)
		return out
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := kadm.NewClient(client).FetchOffsets(ctx, group)
	if err != nil {
		t.Logf("committed offsets: %v", err)
		return out
	}
	resp.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic && o.Err == nil && o.At > 0 {
			out[o.Partition] = o.At
		}
	})
	return out
}

// groupSettled: the group is stable with `members` members, which together are assigned every
// partition of the topic.
func groupSettled(t *testing.T, bootstrap, group, topic string, members int) bool {
	t.Helper()
	client, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(bootstrap, ",")...))
	if err != nil {
		return false
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	adm := kadm.NewClient(client)
	described, err := adm.DescribeGroups(ctx, group)
	if err != nil {
		return false
	}
	g, ok := described[group]
	if !ok || g.Err != nil || g.State != "Stable" || len(g.Members) != members {
		return false
	}
	partitions, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return false
	}
	want := 0
	partitions.Each(func(kadm.ListedOffset) { want++ })
	return len(g.AssignedPartitions()[topic]) == want
}

// topicEndOffsets is the end offset of each partition of the topic.
func topicEndOffsets(t *testing.T, bootstrap, topic string) map[int32]int64 {
	t.Helper()
	client, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(bootstrap, ",")...))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ends, err := kadm.NewClient(client).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out
}

func sumOffsets(m map[int32]int64) int64 {
	var sum int64
	for _, v := range m {
		sum += v
	}
	return sum
}

func movedText(moved map[int32]time.Duration) string {
	var parts []string
	for p := int32(0); p < int32(len(moved)); p++ {
		parts = append(parts, fmt.Sprintf("%d: %s", p, secs(moved[p])))
	}
	return strings.Join(parts, ", ")
}
