// A private Kafka cluster of one test: three KRaft nodes, each a broker and a controller in one
// JVM (a quorum of three voters), from the jars in .local/kafka/lib, on free ports. Topics keep a
// replica on every node and take a write (acks=all) once two have it, so one node may be lost.
// Each node can be SIGKILLed and started again by its index; the helpers tell which node leads a
// partition and which is the active controller.
package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Replicas of every topic of a private cluster, and how many must have a write (acks=all)
// before it is acknowledged.
const (
	clusterReplicas = 3
	clusterMinISR   = 2
)

// clusterStartTimeout bounds each wait of a start or restart: three JVMs starting on two cores
// busy with PostgreSQL, the services and their load are slow, never stuck for this long.
const clusterStartTimeout = 4 * time.Minute

type kafkaCluster struct {
	nodes     []*privateBroker // nodes[i] has node.id i+1
	bootstrap string           // every node's PLAINTEXT listener
	lib       string
	topics    []string // created through createTopics: a restart waits until they are in sync
	mu        sync.Mutex
}

// startPrivateCluster starts n nodes and returns once the metadata lists every one of them as a
// broker. They are SIGKILLed when the test ends.
func startPrivateCluster(t *testing.T, n int) *kafkaCluster {
	t.Helper()
	c := &kafkaCluster{lib: kafkaLibDir(t)}
	ports, controllers, voters := make([]string, n), make([]string, n), make([]string, n)
	for i := range ports {
		ports[i], controllers[i] = freeAddr(), freeAddr()
		voters[i] = fmt.Sprintf("%d@%s", i+1, controllers[i])
	}
	c.bootstrap = strings.Join(ports, ",")
	internal := fmt.Sprintf(`default.replication.factor=%[1]d
min.insync.replicas=%[2]d
offsets.topic.replication.factor=%[1]d
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=%[1]d
transaction.state.log.min.isr=%[2]d
unclean.leader.election.enable=false
num.replica.fetchers=1
`, min(n, clusterReplicas), min(n, clusterMinISR))
	id := newKafkaClusterID()
	formatted := make(chan error, n)
	for i := 0; i < n; i++ {
		dir := t.TempDir()
		b := newKafkaNode(t, dir, ports[i],
			kafkaNodeProps(i+1, ports[i], controllers[i], strings.Join(voters, ","), filepath.Join(dir, "data"))+internal)
		// Three JVMs on two cores: a small heap each (the test's records are few).
		b.heap = "-Xmx320m"
		c.nodes = append(c.nodes, b)
		go func() { formatted <- b.format(c.lib, id) }()
	}
	for i := 0; i < n; i++ {
		if err := <-formatted; err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		var wg sync.WaitGroup
		for _, b := range c.nodes {
			wg.Add(1)
			go func() { defer wg.Done(); b.kill() }()
		}
		wg.Wait()
	})
	// All at once: a node alone waits for a quorum of the others before it serves.
	for _, b := range c.nodes {
		b.launch(t, c.lib, filepath.Join(b.dir, "log4j.properties"))
	}
	started := time.Now()
	c.awaitBrokers(t, allNodes(n))
	t.Logf("private Kafka cluster of %d nodes ready in %v: %s", n, time.Since(started).Round(time.Millisecond), c.bootstrap)
	return c
}

func allNodes(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// nodeID is the node.id of the node at index i.
func nodeID(i int) int32 { return int32(i + 1) }

// index is the index of the node with node.id id.
func (c *kafkaCluster) index(id int32) int { return int(id) - 1 }

// alive: the node's JVM runs.
func (c *kafkaCluster) alive(i int) bool {
	b := c.nodes[i]
	if b.done == nil {
		return false
	}
	select {
	case <-b.done:
		return false
	default:
		return true
	}
}

// kill is a SIGKILL of node i's JVM; it returns once the process is gone.
func (c *kafkaCluster) kill(i int) { c.nodes[i].kill() }

// restart starts node i again on its ports and data, and returns once the metadata lists it as
// a broker and every replica of the topics made with createTopics on a running node is in sync.
func (c *kafkaCluster) restart(t *testing.T, i int) {
	t.Helper()
	b := c.nodes[i]
	b.launch(t, c.lib, filepath.Join(b.dir, "log4j.properties"))
	// The node itself first: the others may still list it for a while after its kill, until the
	// controller fences it.
	if err := waitForErr(clusterStartTimeout, fmt.Sprintf("node %d to list itself as a broker", nodeID(i)), func() (bool, error) {
		if !c.alive(i) {
			return true, nil
		}
		client, err := kgo.NewClient(kgo.SeedBrokers(b.bootstrap), kgo.RetryTimeout(2*time.Second))
		if err != nil {
			return false, err
		}
		defer client.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		md, err := kadm.NewClient(client).BrokerMetadata(ctx)
		if err != nil {
			return false, err
		}
		for _, broker := range md.Brokers {
			if broker.NodeID == nodeID(i) {
				return true, nil
			}
		}
		return false, fmt.Errorf("brokers listed: %v", md.Brokers.NodeIDs())
	}); err != nil {
		t.Fatalf("private Kafka cluster: %v\n%s", err, c.logTails(30))
	}
	c.awaitBrokers(t, []int{i})
	c.mu.Lock()
	topics := append([]string(nil), c.topics...)
	c.mu.Unlock()
	if len(topics) > 0 {
		c.awaitInSync(t, topics...)
	}
}

// admin is a client of the nodes that run (a dead seed costs a client time at each request).
func (c *kafkaCluster) admin() (*kadm.Client, error) {
	client, err := c.client()
	if err != nil {
		return nil, err
	}
	return kadm.NewClient(client), nil
}

func (c *kafkaCluster) client() (*kgo.Client, error) {
	var seeds []string
	for i, b := range c.nodes {
		if c.alive(i) {
			seeds = append(seeds, b.bootstrap)
		}
	}
	if len(seeds) == 0 {
		return nil, errors.New("no node of the cluster runs")
	}
	return kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RetryTimeout(5*time.Second))
}

// metadata is the cluster's metadata for the topics (none: only the brokers).
func (c *kafkaCluster) metadata(topics ...string) (kadm.Metadata, error) {
	admin, err := c.admin()
	if err != nil {
		return kadm.Metadata{}, err
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if len(topics) == 0 {
		return admin.BrokerMetadata(ctx)
	}
	return admin.Metadata(ctx, topics...)
}

// awaitBrokers waits until the metadata lists the nodes `want` as brokers (the controller has
// unfenced them: they take leadership and replicas again), failing the test with the nodes' logs
// when one of them exits or the wait takes longer than clusterStartTimeout.
func (c *kafkaCluster) awaitBrokers(t *testing.T, want []int) {
	t.Helper()
	exited := -1
	err := waitForErr(clusterStartTimeout, fmt.Sprintf("nodes %v in the metadata", ids(want)), func() (bool, error) {
		for _, i := range want {
			if !c.alive(i) {
				exited = i
				return true, nil
			}
		}
		md, err := c.metadata()
		if err != nil {
			return false, err
		}
		listed := map[int32]bool{}
		for _, b := range md.Brokers {
			listed[b.NodeID] = true
		}
		for _, i := range want {
			if !listed[nodeID(i)] {
				return false, fmt.Errorf("brokers listed: %v", md.Brokers.NodeIDs())
			}
		}
		return true, nil
	})
	if exited >= 0 {
		err = fmt.Errorf("node %d exited", nodeID(exited))
	}
	if err != nil {
		t.Fatalf("private Kafka cluster: %v\n%s", err, c.logTails(30))
	}
}

func ids(indexes []int) []int32 {
	out := make([]int32, len(indexes))
	for k, i := range indexes {
		out[k] = nodeID(i)
	}
	return out
}

// createTopics creates the topics with a replica on every node (at most clusterReplicas) and
// min.insync.replicas=clusterMinISR, and waits until each partition's replicas are all in sync.
func (c *kafkaCluster) createTopics(t *testing.T, topics map[string]int32) {
	t.Helper()
	replicas := int16(min(len(c.nodes), clusterReplicas))
	minISR := fmt.Sprint(min(len(c.nodes), clusterMinISR))
	var names []string
	for name := range topics {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := waitForErr(time.Minute, "topic "+name+" to be created", func() (bool, error) {
			admin, err := c.admin()
			if err != nil {
				return false, err
			}
			defer admin.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			resp, err := admin.CreateTopic(ctx, topics[name], replicas, map[string]*string{"min.insync.replicas": &minISR}, name)
			if err == nil {
				err = resp.Err
			}
			if errors.Is(err, kerr.TopicAlreadyExists) {
				err = nil // a retry of a creation that went through
			}
			return err == nil, err
		}); err != nil {
			t.Fatal(err)
		}
	}
	c.mu.Lock()
	c.topics = append(c.topics, names...)
	c.mu.Unlock()
	c.awaitInSync(t, names...)
}

// awaitInSync waits until every partition of the topics has a leader and each replica on a node
// that runs in its ISR.
func (c *kafkaCluster) awaitInSync(t *testing.T, topics ...string) {
	t.Helper()
	if err := waitForErr(clusterStartTimeout, fmt.Sprintf("every replica of %v in sync", topics), func() (bool, error) {
		md, err := c.metadata(topics...)
		if err != nil {
			return false, err
		}
		for _, name := range topics {
			td, ok := md.Topics[name]
			if !ok || td.Err != nil || len(td.Partitions) == 0 {
				return false, fmt.Errorf("topic %s: not in the metadata yet (%v)", name, td.Err)
			}
			for _, p := range td.Partitions.Sorted() {
				inSync := map[int32]bool{}
				for _, id := range p.ISR {
					inSync[id] = true
				}
				lagging := false
				for _, id := range p.Replicas {
					lagging = lagging || (c.alive(c.index(id)) && !inSync[id])
				}
				if p.Err != nil || p.Leader < 0 || lagging {
					return false, fmt.Errorf("%s/%d: leader %d, replicas %v, ISR %v (%v)", name, p.Partition, p.Leader, p.Replicas, p.ISR, p.Err)
				}
			}
		}
		return true, nil
	}); err != nil {
		t.Fatalf("private Kafka cluster: %v\n%s", err, c.logTails(30))
	}
}

// partition is the metadata of one partition (Leader -1 while it has none).
func (c *kafkaCluster) partition(topic string, p int32) (kadm.PartitionDetail, error) {
	md, err := c.metadata(topic)
	if err != nil {
		return kadm.PartitionDetail{}, err
	}
	d, ok := md.Topics[topic].Partitions[p]
	if !ok {
		return kadm.PartitionDetail{}, fmt.Errorf("%s/%d not in the metadata", topic, p)
	}
	return d, nil
}

// partitionLeader is the node index of a partition's leader.
func (c *kafkaCluster) partitionLeader(topic string, p int32) (int, error) {
	d, err := c.partition(topic, p)
	if err != nil {
		return -1, err
	}
	if d.Leader < 0 {
		return -1, fmt.Errorf("%s/%d has no leader", topic, p)
	}
	return c.index(d.Leader), nil
}

// busiestPartition is the partition of topic with the most records, and the index of the node
// that leads it.
func (c *kafkaCluster) busiestPartition(t *testing.T, topic string) (int32, int) {
	t.Helper()
	var partition int32
	leader := -1
	if err := waitForErr(time.Minute, "the leader of "+topic+"'s busiest partition", func() (bool, error) {
		admin, err := c.admin()
		if err != nil {
			return false, err
		}
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ends, err := admin.ListEndOffsets(ctx, topic)
		if err != nil {
			return false, err
		}
		most := int64(-1)
		ends.Each(func(o kadm.ListedOffset) {
			if o.Err == nil && o.Offset > most {
				partition, most = o.Partition, o.Offset
			}
		})
		if most < 0 {
			return false, fmt.Errorf("no end offsets of %s", topic)
		}
		leader, err = c.partitionLeader(topic, partition)
		return err == nil, err
	}); err != nil {
		t.Fatal(err)
	}
	return partition, leader
}

// activeController is the node index of the KRaft quorum's leader, the active controller.
func (c *kafkaCluster) activeController() (int, error) {
	client, err := c.client()
	if err != nil {
		return -1, err
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req := kmsg.NewPtrDescribeQuorumRequest()
	topic := kmsg.NewDescribeQuorumRequestTopic()
	topic.Topic = "__cluster_metadata"
	partition := kmsg.NewDescribeQuorumRequestTopicPartition()
	partition.Partition = 0
	topic.Partitions = append(topic.Partitions, partition)
	req.Topics = append(req.Topics, topic)
	resp, err := req.RequestWith(ctx, client)
	if err != nil {
		return -1, err
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return -1, err
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return -1, errors.New("describe quorum: no partition in the answer")
	}
	p := resp.Topics[0].Partitions[0]
	if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
		return -1, err
	}
	if p.LeaderID < 0 {
		return -1, errors.New("the quorum has no leader")
	}
	return c.index(p.LeaderID), nil
}

// awaitController waits for the active controller (a node other than `not`, -1 for any) and
// returns its index.
func (c *kafkaCluster) awaitController(t *testing.T, not int, timeout time.Duration) int {
	t.Helper()
	leader := -1
	if err := waitForErr(timeout, "an active controller", func() (bool, error) {
		var err error
		leader, err = c.activeController()
		if err == nil && leader == not {
			err = fmt.Errorf("node %d still leads the quorum", nodeID(not))
		}
		return err == nil, err
	}); err != nil {
		t.Fatal(err)
	}
	return leader
}

// awaitNewLeader waits until the partition has a leader other than node `old` and returns it.
func (c *kafkaCluster) awaitNewLeader(t *testing.T, topic string, p int32, old int, timeout time.Duration) int {
	t.Helper()
	leader := -1
	if err := waitForErr(timeout, fmt.Sprintf("a new leader of %s/%d", topic, p), func() (bool, error) {
		var err error
		leader, err = c.partitionLeader(topic, p)
		if err == nil && leader == old {
			err = fmt.Errorf("node %d still leads it", nodeID(old))
		}
		return err == nil, err
	}); err != nil {
		t.Fatal(err)
	}
	return leader
}

// logTails is the end of every node's log, for failure messages.
func (c *kafkaCluster) logTails(lines int) string {
	var b strings.Builder
	for i, n := range c.nodes {
		data, _ := os.ReadFile(n.log)
		all := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if len(all) > lines {
			all = all[len(all)-lines:]
		}
		fmt.Fprintf(&b, "--- Kafka node %d (%s) ---\n%s\n", nodeID(i), n.log, strings.Join(all, "\n"))
	}
	return b.String()
}

// groupCoordinator is the node index of the broker that coordinates a consumer group.
func (c *kafkaCluster) groupCoordinator(group string) (int, error) {
	admin, err := c.admin()
	if err != nil {
		return -1, err
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, ok := admin.FindGroupCoordinators(ctx, group)[group]
	if !ok {
		return -1, errors.New("no coordinator found for " + group)
	}
	if resp.Err != nil {
		return -1, resp.Err
	}
	return c.index(resp.NodeID), nil
}

// fatalKafkaLines are the lines of a process's log that report a fatal librdkafka error that was
// not followed by a new client joining the group (mds-consumer replaces a client that failed for
// good; a client left failed never produces or consumes again). rejoins counts the replacements.
func fatalKafkaLines(p *process) (unrecovered []string, rejoins int) {
	data, _ := os.ReadFile(p.log)
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case strings.Contains(line, "FATAL") || strings.Contains(line, "Fatal error"):
			unrecovered = append(unrecovered, line)
		case strings.Contains(line, "a new Kafka client joined the group"):
			unrecovered = nil
			rejoins++
		}
	}
	return unrecovered, rejoins
}
