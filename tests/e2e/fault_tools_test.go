// Tools of the fault tests (the short TestFaultSubset* tests here and the full suite behind the
// `faults` build tag): stacks whose way to PostgreSQL and Kafka can be redirected (a TCP proxy, a
// private broker), load generators that keep every answer, and the checks every fault scenario
// ends with: every committed price is on the topic, every average equals the SQL reference, no
// price point is stored twice.
package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	mdv1 "marketdata/gateway/gen/marketdata/v1"
)

// faultStack is a stack (mds-api, mds-consumer, gateway) with a database, topics and a consumer
// group of its own, whose services may reach PostgreSQL through a proxy and Kafka at a private
// broker. databaseURL (of the embedded stack) always reaches PostgreSQL directly.
type faultStack struct {
	*stack
	kafka  string // bootstrap servers of the services and of the test's own clients
	group  string // the consumer's group
	dbName string
}

type faultStackOptions struct {
	prefix string
	env    []string // NAME=value for both services, over the defaults
	dbAddr string   // host:port the services reach PostgreSQL at; "" for MDS_TEST_DATABASE_URL's
	kafka  string   // bootstrap servers; "" for MDS_TEST_KAFKA_BOOTSTRAP_SERVERS
	// A private cluster instead: its nodes are the bootstrap servers, and the topics keep a
	// replica on each node (kafka_cluster_test.go).
	cluster *kafkaCluster
}

func (s *faultStack) api() *process      { return s.processes[0] }
func (s *faultStack) consumer() *process { return s.processes[1] }
func (s *faultStack) gateway() *process  { return s.processes[2] }

// startFaultStack starts the three processes; they are stopped and the database dropped when
// the test ends.
func startFaultStack(t *testing.T, o faultStackOptions) *faultStack {
	t.Helper()
	in, err := lookupStackInputs()
	if err != nil {
		t.Fatal(err)
	}
	kafka, suffix := in.kafka, in.suffix
	if o.kafka != "" {
		kafka = o.kafka
	}
	name := o.prefix + "_" + suffix
	if err := adminExec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	s := &faultStack{stack: &stack{databaseURL: withDatabase(in.databaseURL, name)}, kafka: kafka, dbName: name}
	s.topic = "price-events-" + o.prefix + "-" + suffix
	s.deadLetters = "price-events-dlq-" + o.prefix + "-" + suffix
	s.group = "moving-average-consumer-" + o.prefix + "-" + suffix
	topics := map[string]int32{s.topic: 6, s.deadLetters: 1}
	if o.cluster != nil {
		kafka, s.kafka = o.cluster.bootstrap, o.cluster.bootstrap
		o.cluster.createTopics(t, topics)
	} else if err := waitForErr(60*time.Second, "the topics to be created", func() (bool, error) {
		err := createTopics(kafka, topics)
		return err == nil, err
	}); err != nil {
		t.Fatalf("create topics: %v", err)
	}
	serviceURL := s.databaseURL
	if o.dbAddr != "" {
		serviceURL = withHostPort(s.databaseURL, o.dbAddr)
	}
	s.apiAddr, s.consumerAddr = freeAddr(), freeAddr()
	s.apiMetrics, s.consumerMetrics = freeAddr(), freeAddr()
	restAddr := freeAddr()
	s.restURL = "http://" + restAddr
	logDir := os.Getenv("TEST_UNDECLARED_OUTPUTS_DIR")
	if logDir == "" {
		logDir = os.TempDir()
	}
	common := withEnv(serviceEnv(serviceURL, kafka, s.topic, s.deadLetters, s.group), o.env...)
	s.apiEnv = common
	t.Cleanup(func() {
		for i := len(s.processes) - 1; i >= 0; i-- {
			s.processes[i].stop(10 * time.Second)
		}
		closePool(s.databaseURL)
		if t.Failed() {
			// Evidence: the stack's PostgreSQL and broker are wiped at their next start anyway.
			t.Logf("database %s and topic %s kept for inspection; logs in %s", name, s.topic, logDir)
			return
		}
		_ = adminExec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
	})
	start := func(procName, bin string, env []string) {
		p, err := startProcess(procName, bin, env, filepath.Join(logDir, name+"-"+procName+".log"))
		if err != nil {
			t.Fatal(err)
		}
		s.processes = append(s.processes, p)
	}
	start("mds-api", in.apiBin, withEnv(common, "MDS_API_LISTEN="+s.apiAddr, "MDS_API_METRICS_LISTEN="+s.apiMetrics))
	start("mds-consumer", in.consumerBin, withEnv(common, "MDS_CONSUMER_LISTEN="+s.consumerAddr,
		"MDS_CONSUMER_METRICS_LISTEN="+s.consumerMetrics))
	for _, p := range []struct{ name, addr string }{{"mds-api", s.apiAddr}, {"mds-consumer", s.consumerAddr}} {
		if err := waitServing(p.addr, 90*time.Second); err != nil {
			t.Fatalf("%s not serving: %v\n%s", p.name, err, s.logTails(40))
		}
	}
	start("gateway", in.gatewayBin, []string{"GATEWAY_LISTEN=" + restAddr, "MDS_API_ADDR=" + s.apiAddr,
		"MDS_CONSUMER_ADDR=" + s.consumerAddr})
	if err := waitHTTP(s.restURL+"/ready", 60*time.Second); err != nil {
		t.Fatalf("gateway not ready: %v\n%s", err, s.logTails(40))
	}
	return s
}

// logTails is the end of every process's log, for failure messages.
func (s *faultStack) logTails(lines int) string {
	var b strings.Builder
	for _, p := range s.processes {
		data, _ := os.ReadFile(p.log)
		all := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if len(all) > lines {
			all = all[len(all)-lines:]
		}
		fmt.Fprintf(&b, "--- %s (%s) ---\n%s\n", p.name, p.log, strings.Join(all, "\n"))
	}
	return b.String()
}

// restart SIGKILLs p and starts it again, then waits until it serves gRPC at addr. Returns how
// long it took from the kill until it served.
func restartKilled(t *testing.T, p *process, addr string) time.Duration {
	t.Helper()
	killed := time.Now()
	p.kill()
	if err := p.start(); err != nil {
		t.Fatal(err)
	}
	if err := waitServing(addr, 90*time.Second); err != nil {
		t.Fatalf("%s not serving after its restart: %v", p.name, err)
	}
	return time.Since(killed)
}

// procAlive: the process runs (it is neither gone nor a zombie).
func procAlive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] != 'Z'
}

// aliveText says how many of the stack's processes still run, naming the others.
func (s *faultStack) aliveText() (string, bool) {
	alive, dead := s.aliveCount()
	text := fmt.Sprintf("%d of %d processes alive", alive, len(s.processes))
	if len(dead) > 0 {
		text += " (exited: " + strings.Join(dead, ", ") + ")"
	}
	return text, alive == len(s.processes)
}

// aliveCount says how many of the stack's processes still run, and names the others.
func (s *faultStack) aliveCount() (int, []string) {
	n := 0
	var dead []string
	for _, p := range s.processes {
		if procAlive(p.cmd.Process.Pid) {
			n++
		} else {
			dead = append(dead, p.name)
		}
	}
	return n, dead
}

// vmRSSKiB is a process's resident memory (VmRSS), NaN when it is gone.
func vmRSSKiB(pid int) float64 {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f, _ := strconv.ParseFloat(strings.Fields(line)[1], 64)
			return f
		}
	}
	return math.NaN()
}

// metricValue reads one unlabelled counter or gauge from a Prometheus endpoint (-1 if absent).
func metricValue(addr, metric string) float64 {
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + addr + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, metric+" ") {
			v, _ := strconv.ParseFloat(strings.TrimPrefix(line, metric+" "), 64)
			return v
		}
	}
	return -1
}

// withHostPort replaces host:port in a postgresql:// URL.
func withHostPort(url, hostPort string) string {
	scheme, rest, _ := strings.Cut(url, "://")
	at := strings.LastIndex(rest, "@")
	slash := strings.Index(rest[at+1:], "/")
	return scheme + "://" + rest[:at+1] + hostPort + rest[at+1+slash:]
}

// ---- database access that survives a PostgreSQL restart ----

// dbDo runs f on a fresh connection, retrying for up to 60 s while the connection or the query
// fails (the database may be restarting).
func dbDo(t *testing.T, databaseURL string, f func(ctx context.Context, conn *pgx.Conn) error) {
	t.Helper()
	if err := waitForErr(60*time.Second, "the database to answer", func() (bool, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, databaseURL)
		if err == nil {
			err = f(ctx, conn)
			conn.Close(context.Background())
		}
		return err == nil, err
	}); err != nil {
		t.Fatalf("database: %v", err)
	}
}

// dbInt runs a query answering one integer.
func dbInt(t *testing.T, databaseURL, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	dbDo(t, databaseURL, func(ctx context.Context, conn *pgx.Conn) error {
		var v *int64
		if err := conn.QueryRow(ctx, sql, args...).Scan(&v); err != nil {
			return err
		}
		n = 0
		if v != nil {
			n = *v
		}
		return nil
	})
	return n
}

// ---- load generators ----

// answer is one request of a load: when it started, how long it took, and its status (HTTP
// status, 0 when no HTTP answer came; for gRPC the status code). For a price answered, the price.
type answer struct {
	start  time.Time
	dur    time.Duration
	code   int
	symbol string
	price  float64
	ts     time.Time
}

type load struct {
	name    string
	grpc    bool
	mu      sync.Mutex
	answers []answer
	stop    chan struct{}
	stopped sync.Once
	wg      sync.WaitGroup
	seq     atomic.Int64
}

func (l *load) ok(a answer) bool {
	if l.grpc {
		return a.code == int(codes.OK)
	}
	return a.code >= 200 && a.code < 300
}

func (l *load) label(code int) string {
	if l.grpc {
		return codes.Code(code).String()
	}
	if code == 0 {
		return "no answer"
	}
	return strconv.Itoa(code)
}

// run starts `workers` goroutines that call `call` about `rate` times a second in all (as fast as
// they can when rate <= 0) until Stop. Paced workers start spread over one period.
func (l *load) run(workers int, rate float64, call func(n int64) answer) *load {
	l.stop = make(chan struct{})
	for w := 0; w < workers; w++ {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			var period time.Duration
			if rate > 0 {
				period = time.Duration(float64(workers) / rate * float64(time.Second))
			}
			next := time.Now().Add(period*time.Duration(w)/time.Duration(workers) - period)
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				if period > 0 {
					next = next.Add(period)
					if d := time.Until(next); d > 0 {
						select {
						case <-l.stop:
							return
						case <-time.After(d):
						}
					} else if d < -time.Second {
						next = time.Now() // far behind: do not burst to catch up
					}
				}
				a := call(l.seq.Add(1))
				l.mu.Lock()
				l.answers = append(l.answers, a)
				l.mu.Unlock()
			}
		}()
	}
	return l
}

// Stop ends the load and waits for the requests in flight.
func (l *load) Stop() {
	l.stopped.Do(func() { close(l.stop) })
	l.wg.Wait()
}

func (l *load) snapshot() []answer {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]answer(nil), l.answers...)
}

// okCount is the number of successful answers so far.
func (l *load) okCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, a := range l.answers {
		if l.ok(a) {
			n++
		}
	}
	return n
}

// restLoad GETs base+path(n) with `workers` connections at about `rate` requests a second.
func restLoad(name, base string, workers int, rate float64, path func(n int64) string) *load {
	client := &http.Client{
		Timeout:   90 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: workers * 2, MaxIdleConns: workers * 2},
	}
	l := &load{name: name}
	return l.run(workers, rate, func(n int64) answer {
		a := answer{start: time.Now()}
		resp, err := client.Get(base + path(n))
		if err != nil {
			a.dur = time.Since(a.start)
			return a
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		a.dur = time.Since(a.start)
		a.code = resp.StatusCode
		if resp.StatusCode == http.StatusOK {
			var p struct {
				Symbol    string  `json:"symbol"`
				Price     float64 `json:"price"`
				Timestamp string  `json:"timestamp"`
			}
			if json.Unmarshal(body, &p) == nil {
				a.symbol, a.price = p.Symbol, p.Price
				a.ts, _ = time.Parse(time.RFC3339Nano, p.Timestamp)
			}
		}
		return a
	})
}

// grpcLoad calls PriceService.GetLatestPrice on the test provider directly.
func grpcLoad(name, addr string, workers int, rate float64, symbol func(n int64) string) *load {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		panic(err)
	}
	client := mdv1.NewPriceServiceClient(conn)
	l := &load{name: name, grpc: true}
	l.run(workers, rate, func(n int64) answer {
		a := answer{start: time.Now()}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		p, err := client.GetLatestPrice(ctx, &mdv1.GetLatestPriceRequest{Symbol: symbol(n), Provider: "test"})
		cancel()
		a.dur = time.Since(a.start)
		a.code = int(status.Code(err))
		if err == nil {
			a.symbol, a.price, a.ts = p.Symbol, p.Price, p.Timestamp.AsTime()
		}
		return a
	})
	go func() { l.wg.Wait(); <-l.stop; conn.Close() }()
	return l
}

// loadSummary describes the answers of requests that overlapped [from, to].
type loadSummary struct {
	total, ok int
	codes     map[string]int
	maxFailed time.Duration // slowest failed request
	p50, p99  time.Duration // of the successful ones
	rate      float64       // successful answers a second over [from, to]
}

func (l *load) summary(from, to time.Time) loadSummary {
	s := loadSummary{codes: map[string]int{}}
	var durs []time.Duration
	for _, a := range l.snapshot() {
		if !a.start.Before(to) || a.start.Add(a.dur).Before(from) {
			continue
		}
		s.total++
		s.codes[l.label(a.code)]++
		if l.ok(a) {
			s.ok++
			durs = append(durs, a.dur)
		} else if a.dur > s.maxFailed {
			s.maxFailed = a.dur
		}
	}
	s.p50, s.p99 = percentile(durs, 50), percentile(durs, 99)
	if d := to.Sub(from).Seconds(); d > 0 {
		s.rate = float64(s.ok) / d
	}
	return s
}

// codesString lists the answers by status, most frequent first: "200: 5310, 503: 12".
func (s loadSummary) codesString() string {
	type kv struct {
		k string
		v int
	}
	var list []kv
	for k, v := range s.codes {
		list = append(list, kv{k, v})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].v > list[j].v || list[i].v == list[j].v && list[i].k < list[j].k })
	var parts []string
	for _, e := range list {
		parts = append(parts, fmt.Sprintf("%s: %d", e.k, e.v))
	}
	if len(parts) == 0 {
		return "no requests"
	}
	return strings.Join(parts, ", ")
}

func (s loadSummary) failed() int { return s.total - s.ok }

func percentile(durs []time.Duration, p int) time.Duration {
	if len(durs) == 0 {
		return 0
	}
	sorted := append([]time.Duration(nil), durs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	i := len(sorted) * p / 100
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return sorted[i]
}

// firstOKAfter is when the first successful answer completed after t0 (zero if none yet).
func (l *load) firstOKAfter(t0 time.Time) time.Time {
	var first time.Time
	for _, a := range l.snapshot() {
		end := a.start.Add(a.dur)
		if l.ok(a) && end.After(t0) && (first.IsZero() || end.Before(first)) {
			first = end
		}
	}
	return first
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }

func secs(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }

// ---- checks ----

// publication compares the price points stored with the events on the topic.
type publication struct {
	points, records, distinct, missing, unknown int
	missingIDs                                  []int64
}

func (p publication) String() string {
	s := fmt.Sprintf("%s price points, %s records on the topic (%s distinct ids, %s redelivered), %d missing",
		thousands(p.points), thousands(p.records), thousands(p.distinct), thousands(p.records-p.distinct), p.missing)
	if p.unknown > 0 {
		s += fmt.Sprintf(", %d ids not in price_points", p.unknown)
	}
	if len(p.missingIDs) > 0 {
		s += fmt.Sprintf(" (e.g. ids %v)", p.missingIDs)
	}
	return s
}

func checkPublication(t *testing.T, s *faultStack) publication {
	t.Helper()
	onTopic, records := topicPricePointIDs(t, s.kafka, s.topic)
	stored := map[int64]bool{}
	dbDo(t, s.databaseURL, func(ctx context.Context, conn *pgx.Conn) error {
		rows, err := conn.Query(ctx, "SELECT id FROM price_points")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			stored[id] = true
		}
		return rows.Err()
	})
	p := publication{points: len(stored), records: records, distinct: len(onTopic)}
	for id := range stored {
		if onTopic[id] == 0 {
			p.missing++
			if len(p.missingIDs) < 5 {
				p.missingIDs = append(p.missingIDs, id)
			}
		}
	}
	for id := range onTopic {
		if !stored[id] {
			p.unknown++
		}
	}
	return p
}

// topicPricePointIDs reads a topic from its start to its current end: how often each price point
// id is on it, and the number of records.
func topicPricePointIDs(t *testing.T, bootstrap, topic string) (map[int64]int, int) {
	t.Helper()
	ids := map[int64]int{}
	records := 0
	readTopic(t, bootstrap, topic, func(_ *kgo.Record, e *mdv1.PriceEvent) {
		records++
		if e != nil {
			ids[e.PricePointId]++
		}
	})
	return ids, records
}

// readTopic calls f for every record of a topic, from its start to its current end, with the
// PriceEvent it holds (nil when it holds none).
func readTopic(t *testing.T, bootstrap, topic string, f func(*kgo.Record, *mdv1.PriceEvent)) {
	t.Helper()
	admin, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(bootstrap, ",")...))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ends, err := kadm.NewClient(admin).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatalf("end offsets of %s: %v", topic, err)
	}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			want[o.Partition] = o.Offset
		}
	})
	if len(want) == 0 {
		return
	}
	parts := map[int32]kgo.Offset{}
	for p := range want {
		parts[p] = kgo.NewOffset().AtStart()
	}
	client, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(bootstrap, ",")...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: parts}), kgo.FetchMaxBytes(64<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	for len(want) > 0 {
		fetches := client.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reading %s: %v (partitions left: %v)", topic, ctx.Err(), want)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			if end, ok := want[r.Partition]; ok && r.Offset < end {
				e := &mdv1.PriceEvent{}
				if proto.Unmarshal(r.Value, e) != nil {
					e = nil
				}
				f(r, e)
				if r.Offset+1 >= end {
					delete(want, r.Partition)
				}
			}
		})
	}
}

// averagesCheck compares the stored averages with the SQL reference.
type averagesCheck struct {
	want, stored, missing, wrong, extra int
	examples                            []string
	missingIDs                          map[int64]bool // price points with an average missing
}

func (a averagesCheck) ok() bool { return a.missing+a.wrong+a.extra == 0 && a.want > 0 }

func (a averagesCheck) String() string {
	s := fmt.Sprintf("%s averages expected, %s stored: %d missing, %d wrong, %d unexpected", thousands(a.want),
		thousands(a.stored), a.missing, a.wrong, a.extra)
	if len(a.examples) > 0 {
		s += " (" + strings.Join(a.examples, "; ") + ")"
	}
	return s
}

func compareWithReference(got, want map[averageKey]float64) averagesCheck {
	c := averagesCheck{want: len(want), stored: len(got), missingIDs: map[int64]bool{}}
	for k, v := range want {
		g, ok := got[k]
		switch {
		case !ok:
			c.missing++
			c.missingIDs[k.id] = true
			if c.missing <= 3 {
				c.examples = append(c.examples, fmt.Sprintf("missing %s w%d id %d", k.symbol, k.window, k.id))
			}
		case g != v:
			c.wrong++
			if len(c.examples) < 3 {
				c.examples = append(c.examples, fmt.Sprintf("%s w%d id %d: stored %.17g, reference %.17g", k.symbol, k.window, k.id, g, v))
			}
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			c.extra++
		}
	}
	return c
}

// awaitAverages compares the stored averages with the SQL reference (over the price points
// stored now, which must no longer change) once the consumer has committed the offsets of every
// record on the topic: it commits them only after their averages, so nothing more is coming.
func awaitAverages(t *testing.T, s *faultStack, windows []int, timeout time.Duration) averagesCheck {
	t.Helper()
	awaitConsumed(t, s, timeout)
	want := sqlReference(t, s.databaseURL, windows)
	return compareWithReference(storedAverages(t, s.databaseURL), want)
}

// awaitConsumed waits until the consumer group has committed every record on the topic.
func awaitConsumed(t *testing.T, s *faultStack, timeout time.Duration) {
	t.Helper()
	if err := waitForErr(timeout, "the consumer to commit every record on the topic", func() (bool, error) {
		end, err := endOffsets(s.kafka, s.topic)
		if err != nil {
			return false, err
		}
		done, err := committedOffsets(s.kafka, s.group, s.topic)
		if err != nil {
			return false, err
		}
		if done >= end {
			return true, nil
		}
		return false, fmt.Errorf("committed %d of %d", done, end)
	}); err != nil {
		t.Fatal(err)
	}
}

// lateArrivals tells, for the price points whose averages are missing, how many reached the
// topic after an event of a newer price of their symbol (out of order), and by how many such
// newer events at most (an event can only be late behind events of its own partition).
func lateArrivals(t *testing.T, s *faultStack, ids map[int64]bool) (late, maxNewer int) {
	t.Helper()
	if len(ids) == 0 {
		return 0, 0
	}
	type event struct {
		id     int64
		ts     time.Time
		offset int64
	}
	bySymbol := map[string][]event{}
	symbols := map[string]bool{}
	dbDo(t, s.databaseURL, func(ctx context.Context, conn *pgx.Conn) error {
		list := make([]int64, 0, len(ids))
		for id := range ids {
			list = append(list, id)
		}
		rows, err := conn.Query(ctx, "SELECT DISTINCT symbol FROM price_points WHERE id = ANY($1)", list)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var symbol string
			if err := rows.Scan(&symbol); err != nil {
				return err
			}
			symbols[symbol] = true
		}
		return rows.Err()
	})
	readTopic(t, s.kafka, s.topic, func(r *kgo.Record, e *mdv1.PriceEvent) {
		if e != nil && symbols[e.Symbol] {
			bySymbol[e.Symbol] = append(bySymbol[e.Symbol], event{e.PricePointId, e.Timestamp.AsTime(), r.Offset})
		}
	})
	for _, events := range bySymbol {
		sort.Slice(events, func(i, j int) bool { return events[i].offset < events[j].offset })
		for i, e := range events {
			if !ids[e.id] {
				continue
			}
			newer := 0
			for _, before := range events[:i] {
				if before.ts.After(e.ts) {
					newer++
				}
			}
			if newer > 0 {
				late++
			}
			if newer > maxNewer {
				maxNewer = newer
			}
		}
	}
	return late, maxNewer
}

// duplicatePoints counts price points stored more than once: same symbol, timestamp, provider
// and price.
func duplicatePoints(t *testing.T, databaseURL string) (groups, rows int64) {
	t.Helper()
	dbDo(t, databaseURL, func(ctx context.Context, conn *pgx.Conn) error {
		return conn.QueryRow(ctx, `SELECT count(*), coalesce(sum(n), 0)::bigint FROM (
			SELECT count(*) AS n FROM price_points GROUP BY symbol, ts, provider, price HAVING count(*) > 1) d`).
			Scan(&groups, &rows)
	})
	return groups, rows
}

// answersStored checks that every price answered with success is stored: a row with its symbol,
// timestamp (to the microsecond) and price.
func answersStored(t *testing.T, databaseURL string, loads ...*load) (answered, missing int, example string) {
	t.Helper()
	type key struct {
		symbol string
		us     int64
		price  float64
	}
	stored := map[key]bool{}
	dbDo(t, databaseURL, func(ctx context.Context, conn *pgx.Conn) error {
		rows, err := conn.Query(ctx, "SELECT symbol, price, ts FROM price_points")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k key
			var ts time.Time
			if err := rows.Scan(&k.symbol, &k.price, &ts); err != nil {
				return err
			}
			k.us = ts.UnixMicro()
			stored[k] = true
		}
		return rows.Err()
	})
	for _, l := range loads {
		for _, a := range l.snapshot() {
			if !l.ok(a) {
				continue
			}
			answered++
			if !stored[key{a.symbol, a.ts.UnixMicro(), a.price}] {
				missing++
				if example == "" {
					example = fmt.Sprintf(" (e.g. %s %v at %s)", a.symbol, a.price, a.ts.Format(time.RFC3339Nano))
				}
			}
		}
	}
	return answered, missing, example
}

// awaitOutboxEmpty waits until every committed price was acknowledged by the broker.
func awaitOutboxEmpty(t *testing.T, databaseURL string, timeout time.Duration) (time.Duration, bool) {
	t.Helper()
	start := time.Now()
	err := waitForErr(timeout, "the outbox to empty", func() (bool, error) {
		return dbInt(t, databaseURL, "SELECT count(*) FROM price_event_outbox") == 0, nil
	})
	return time.Since(start), err == nil
}

// awaitQuiet waits until no price point was stored for `quiet` (polling runs stopped).
func awaitQuiet(t *testing.T, databaseURL string, quiet, timeout time.Duration) {
	t.Helper()
	waitFor(t, timeout, fmt.Sprintf("the price points to stop (none stored for %v)", quiet), func() bool {
		age := dbInt(t, databaseURL, `SELECT coalesce(floor(extract(epoch FROM now() - max(created_at)) * 1000), 1e9)::bigint
			FROM price_points`)
		return time.Duration(age)*time.Millisecond >= quiet
	})
}

// pollingCheck compares, for every job, its recorded runs with the price points of each of its
// symbols. A run fetches the job's symbols in order; a run that is interrupted (the process
// killed, or the job stopped) before it is recorded leaves points for a prefix of the symbols, and
// the run that completes its tick fetches only the others. So for each symbol, points - run_count
// (the excess) is between 0 and the number of runs cut short and never completed (maxInterrupted:
// the one the jobs' stop cut short), and never grows along the job's symbol order. A symbol
// fetched twice in one tick would break the first bound.
type pollingCheck struct {
	jobs, symbols, runs, points, errors int
	excessSymbols, maxExcess            int
	violations                          []string
}

func checkPolling(t *testing.T, databaseURL string, maxInterrupted int) pollingCheck {
	t.Helper()
	var c pollingCheck
	dbDo(t, databaseURL, func(ctx context.Context, conn *pgx.Conn) error {
		c = pollingCheck{}
		rows, err := conn.Query(ctx, `
			SELECT j.job_id, j.run_count, j.error_count, s.symbol, s.ord,
			       (SELECT count(*) FROM price_points p WHERE p.symbol = s.symbol) AS points
			FROM polling_jobs j CROSS JOIN LATERAL unnest(j.symbols) WITH ORDINALITY AS s(symbol, ord)
			ORDER BY j.job_id, s.ord`)
		if err != nil {
			return err
		}
		defer rows.Close()
		lastJob, lastExcess := "", 0
		for rows.Next() {
			var job, symbol string
			var runs, errs int
			var ord, points int64
			if err := rows.Scan(&job, &runs, &errs, &symbol, &ord, &points); err != nil {
				return err
			}
			if job != lastJob {
				c.jobs++
				c.runs += runs
				c.errors += errs
				lastJob, lastExcess = job, math.MaxInt
			}
			c.symbols++
			c.points += int(points)
			excess := int(points) - runs
			if excess > 0 {
				c.excessSymbols++
			}
			if excess > c.maxExcess {
				c.maxExcess = excess
			}
			if (excess < 0 || excess > maxInterrupted || excess > lastExcess) && len(c.violations) < 5 {
				c.violations = append(c.violations, fmt.Sprintf("%s %s: %d points for %d runs", job, symbol, points, runs))
			}
			lastExcess = excess
		}
		return rows.Err()
	})
	return c
}

func (c pollingCheck) String() string {
	s := fmt.Sprintf("%d jobs, %d symbols: %s runs recorded, %s price points; %d symbols with a point of a run cut short (at most %d each) and not completed since; %d fetch errors",
		c.jobs, c.symbols, thousands(c.runs), thousands(c.points), c.excessSymbols, c.maxExcess, c.errors)
	if len(c.violations) > 0 {
		s += "; inconsistent: " + strings.Join(c.violations, ", ")
	}
	return s
}

// committedOffsets is the sum of a group's committed offsets on a topic.
func committedOffsets(bootstrap, group, topic string) (int64, error) {
	client, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(bootstrap, ",")...))
	if err != nil {
		return 0, err
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := kadm.NewClient(client).FetchOffsets(ctx, group)
	if err != nil {
		return 0, err
	}
	var sum int64
	resp.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic && o.Err == nil && o.At > 0 {
			sum += o.At
		}
	})
	return sum, nil
}

// endOffsets is the number of records ever written to a topic.
func endOffsets(bootstrap, topic string) (int64, error) {
	client, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(bootstrap, ",")...))
	if err != nil {
		return 0, err
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ends, err := kadm.NewClient(client).ListEndOffsets(ctx, topic)
	if err != nil {
		return 0, err
	}
	var sum int64
	ends.Each(func(o kadm.ListedOffset) { sum += o.Offset })
	return sum, nil
}

// ---- a TCP proxy that can cut a service off from PostgreSQL ----

// tcpProxy forwards connections to upstream. Cut closes every connection and refuses new ones
// (the port is closed) until Restore.
type tcpProxy struct {
	upstream string
	addr     string
	mu       sync.Mutex
	ln       net.Listener
	conns    map[net.Conn]bool
}

func newTCPProxy(t *testing.T, upstream string) *tcpProxy {
	p := &tcpProxy{upstream: upstream, conns: map[net.Conn]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.Cut)
	return p
}

func (p *tcpProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
}

func (p *tcpProxy) forward(c net.Conn) {
	u, err := net.DialTimeout("tcp", p.upstream, 5*time.Second)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil { // cut meanwhile
		p.mu.Unlock()
		c.Close()
		u.Close()
		return
	}
	p.conns[c], p.conns[u] = true, true
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		io.Copy(dst, src)
		done <- struct{}{}
	}
	go pipe(u, c)
	go pipe(c, u)
	<-done
	c.Close()
	u.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, u)
	p.mu.Unlock()
}

// Cut closes the port and every connection through the proxy.
func (p *tcpProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// Restore opens the same port again.
func (p *tcpProxy) Restore(t *testing.T) {
	var ln net.Listener
	if err := waitForErr(10*time.Second, "the port to be free", func() (bool, error) {
		var err error
		ln, err = net.Listen("tcp", p.addr)
		return err == nil, err
	}); err != nil {
		t.Fatalf("proxy cannot listen on %s again: %v", p.addr, err)
	}
	p.serve(ln)
}

// postgresHostPort is host:port of MDS_TEST_DATABASE_URL.
func postgresHostPort(t *testing.T) string {
	url := mustEnv(t, "MDS_TEST_DATABASE_URL")
	_, rest, _ := strings.Cut(url, "://")
	rest = rest[strings.LastIndex(rest, "@")+1:]
	hostPort, _, _ := strings.Cut(rest, "/")
	return hostPort
}

// ---- a private single-node Kafka broker ----

// privateBroker is a KRaft broker (broker and controller in one JVM) of one test, from the jars
// ./deploy/dev installs, on free ports, with its data in a temporary folder. It is also one node
// of a private cluster (kafka_cluster_test.go).
type privateBroker struct {
	dir, props, log string
	bootstrap       string
	heap            string // -Xmx of the JVM
	cmd             *exec.Cmd
	done            chan struct{}
}

func kafkaLibDir(t *testing.T) string {
	dir := os.Getenv("MDS_KAFKA_LIB_DIR")
	if dir == "" {
		// tests/e2e in the source tree (go test runs there, under Bazel too).
		dir, _ = filepath.Abs("../../.local/kafka/lib")
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, "kafka_2.13-*.jar")); len(matches) == 0 {
		t.Fatalf("no Kafka jars in %s (./deploy/dev install fetches them; MDS_KAFKA_LIB_DIR points elsewhere)", dir)
	}
	return dir
}

func startPrivateBroker(t *testing.T) *privateBroker {
	t.Helper()
	lib := kafkaLibDir(t)
	dir := t.TempDir()
	port, controller := freeAddr(), freeAddr()
	b := newKafkaNode(t, dir, port, kafkaNodeProps(1, port, controller, "1@"+controller, filepath.Join(dir, "data"))+
		`offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
`)
	if err := b.format(lib, newKafkaClusterID()); err != nil {
		t.Fatal(err)
	}
	b.start(t, lib, filepath.Join(b.dir, "log4j.properties"))
	t.Cleanup(func() { b.kill() })
	return b
}

// kafkaNodeProps is the server.properties of KRaft node `id` (broker and controller in one JVM)
// of the quorum `voters` (id@host:port,...), without the settings of its internal topics.
func kafkaNodeProps(id int, port, controller, voters, dataDir string) string {
	return fmt.Sprintf(`process.roles=broker,controller
node.id=%[1]d
controller.quorum.voters=%[4]s
listeners=PLAINTEXT://%[2]s,CONTROLLER://%[3]s
advertised.listeners=PLAINTEXT://%[2]s
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=%[5]s
num.partitions=6
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
`, id, port, controller, voters, dataDir)
}

// newKafkaNode writes a node's server.properties and log4j.properties into dir; bootstrap is
// its PLAINTEXT listener.
func newKafkaNode(t *testing.T, dir, bootstrap, props string) *privateBroker {
	t.Helper()
	b := &privateBroker{dir: dir, bootstrap: bootstrap, heap: "-Xmx384m"}
	b.props = filepath.Join(b.dir, "server.properties")
	b.log = filepath.Join(b.dir, "kafka.log")
	if err := os.WriteFile(b.props, []byte(props), 0o644); err != nil {
		t.Fatal(err)
	}
	log4j := filepath.Join(b.dir, "log4j.properties")
	if err := os.WriteFile(log4j, []byte("log4j.rootLogger=WARN, stdout\nlog4j.appender.stdout=org.apache.log4j.ConsoleAppender\n"+
		"log4j.appender.stdout.layout=org.apache.log4j.PatternLayout\nlog4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

// newKafkaClusterID is a random cluster id for `kafka-storage format`.
func newKafkaClusterID() string {
	id := make([]byte, 16)
	rand.Read(id)
	return base64.RawURLEncoding.EncodeToString(id)
}

// format prepares the node's storage for the cluster `id`.
func (b *privateBroker) format(lib, id string) error {
	// "--cluster-id=ID" and not "-t ID": an id that starts with '-' (one in 64) would be read as
	// an option.
	format := exec.Command("java", b.javaArgs(lib, filepath.Join(b.dir, "log4j.properties"), "kafka.tools.StorageTool", "format",
		"--cluster-id="+id, "-c", b.props)...)
	if out, err := format.CombinedOutput(); err != nil {
		return fmt.Errorf("kafka storage format: %v\n%s", err, out)
	}
	return nil
}

func (b *privateBroker) javaArgs(lib, log4j string, main string, args ...string) []string {
	// A small heap and the client compiler only: this broker carries a test's few thousand
	// records, and starts faster so.
	return append([]string{b.heap, "-Xms128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		"-Djava.awt.headless=true", "-Dlog4j.configuration=file:" + log4j, "-cp", filepath.Join(lib, "*"), main}, args...)
}

func (b *privateBroker) start(t *testing.T, lib, log4j string) {
	t.Helper()
	b.launch(t, lib, log4j)
	if err := b.awaitReady(90 * time.Second); err != nil {
		data, _ := os.ReadFile(b.log)
		t.Fatalf("private Kafka broker not ready: %v\n%s", err, data)
	}
}

// launch starts the node's JVM, appending to its log, without waiting for it.
func (b *privateBroker) launch(t *testing.T, lib, log4j string) {
	t.Helper()
	logFile, err := os.OpenFile(b.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	b.cmd = exec.Command("java", b.javaArgs(lib, log4j, "kafka.Kafka", b.props)...)
	b.cmd.Stdout, b.cmd.Stderr = logFile, logFile
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) {
		cmd.Wait()
		logFile.Close()
		close(done)
	}(b.cmd, b.done)
}

// restart starts the broker again on the same ports and data.
func (b *privateBroker) restart(t *testing.T) {
	lib := kafkaLibDir(t)
	b.start(t, lib, filepath.Join(b.dir, "log4j.properties"))
}

// awaitReady waits until the broker answers a metadata request with itself in it.
func (b *privateBroker) awaitReady(timeout time.Duration) error {
	exited := false
	err := waitForErr(timeout, "the broker to answer a metadata request", func() (bool, error) {
		select {
		case <-b.done:
			exited = true
			return true, nil
		default:
		}
		client, err := kgo.NewClient(kgo.SeedBrokers(b.bootstrap))
		if err != nil {
			return false, err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		md, err := kadm.NewClient(client).Metadata(ctx)
		cancel()
		client.Close()
		return err == nil && len(md.Brokers) > 0, err
	})
	if exited {
		return errors.New("the broker exited")
	}
	return err
}

// kill is a SIGKILL of the broker's JVM.
func (b *privateBroker) kill() {
	if b.cmd == nil || b.cmd.Process == nil {
		return
	}
	select {
	case <-b.done:
		return
	default:
	}
	b.cmd.Process.Kill()
	<-b.done
}

// ---- fake providers that are slow ----

// newSlowProviders answers Alpha Vantage's /query one byte a second and never answers
// Finnhub's /api/v1/quote. Close releases the requests still waiting.
func newSlowProviders(t *testing.T) *httptest.Server {
	quit := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/query", func(w http.ResponseWriter, r *http.Request) {
		body := []byte(`{"Global Quote":{"01. symbol":"SLOW","05. price":"185.9200"}}`)
		w.WriteHeader(http.StatusOK)
		for i := range body {
			w.Write(body[i : i+1])
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-quit:
				return
			case <-time.After(time.Second):
			}
		}
	})
	mux.HandleFunc("/api/v1/quote", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-quit:
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		close(quit)
		srv.CloseClientConnections()
		srv.Close()
	})
	return srv
}

// ---- producing events for price points inserted first ----

// bulkPricePoints stores n price points over `symbols` symbols (ids 1..n, one second apart per
// symbol, irregular prices) with COPY, and returns a function that gives the i-th as a point.
func bulkPricePoints(t *testing.T, databaseURL, prefix string, n, symbols int) func(i int) point {
	t.Helper()
	at := pricePointSeries(prefix, n, symbols)
	copyPricePoints(t, databaseURL, at, 0, n)
	return at
}

// pricePointSeries is the i-th of n price points over `symbols` symbols: id i+1, symbol i %
// symbols, one second apart per symbol, ending now.
func pricePointSeries(prefix string, n, symbols int) func(i int) point {
	base := time.Now().UTC().Truncate(time.Second).Add(-time.Duration(n/symbols+1) * time.Second)
	return func(i int) point {
		k, round := i%symbols, i/symbols
		return point{
			id:     int64(i + 1),
			symbol: fmt.Sprintf("%s%04d", prefix, k),
			price:  100 + float64((round*7919+k*104729)%10007)/97.0,
			ts:     base.Add(time.Duration(round) * time.Second),
		}
	}
}

// copyPricePoints stores the points from..to-1 of a series with COPY.
func copyPricePoints(t *testing.T, databaseURL string, at func(i int) point, from, to int) {
	t.Helper()
	dbDo(t, databaseURL, func(ctx context.Context, conn *pgx.Conn) error {
		i := from
		_, err := conn.CopyFrom(ctx, pgx.Identifier{"price_points"}, []string{"id", "symbol", "price", "ts", "provider"},
			pgx.CopyFromFunc(func() ([]any, error) {
				if i == to {
					return nil, nil
				}
				p := at(i)
				i++
				return []any{p.id, p.symbol, p.price, p.ts, "test"}, nil
			}))
		if err != nil {
			return err
		}
		_, err = conn.Exec(ctx, "SELECT setval('price_points_id_seq', (SELECT max(id) FROM price_points))")
		return err
	})
}

// produceAll produces the events of points 0..n-1 to topic asynchronously; the channel gets
// the first error (or nil) once every record is acknowledged.
func produceAll(t *testing.T, bootstrap, topic string, n int, at func(i int) point) <-chan error {
	t.Helper()
	client, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(bootstrap, ",")...),
		kgo.ProducerLinger(5*time.Millisecond), kgo.ProducerBatchMaxBytes(1<<20), kgo.MaxBufferedRecords(100000))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		defer client.Close()
		var first error
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			client.Produce(context.Background(), eventRecord(topic, at(i)), func(_ *kgo.Record, err error) {
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
				wg.Done()
			})
		}
		wg.Wait()
		done <- first
	}()
	return done
}

// ---- helpers for reports ----

func mib(kib float64) string { return fmt.Sprintf("%.0f MiB", kib/1024) }

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func thousands(n int) string {
	s := strconv.Itoa(n)
	var b bytes.Buffer
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// replayAfterOutage replays the order in which events reach the consumer around a broker outage:
// per symbol, the `before` oldest prices are stored and consumed; the others are stored
// meanwhile; the consumer loses its partitions (a restart) and then receives the `newest` newest
// events first and the ones in between last. It returns the averages (windows 2 and 5) against
// the SQL reference.
func replayAfterOutage(t *testing.T, s *faultStack, prefix string, symbols, per, before, newest int) averagesCheck {
	at := pricePointSeries(prefix, symbols*per, symbols)
	copyPricePoints(t, s.databaseURL, at, 0, before*symbols)
	produceRounds := func(rounds []int) {
		var order []int
		for k := 0; k < symbols; k++ {
			for _, round := range rounds {
				order = append(order, round*symbols+k)
			}
		}
		if err := <-produceAll(t, s.kafka, s.topic, len(order), func(i int) point { return at(order[i]) }); err != nil {
			t.Fatal(err)
		}
	}
	span := func(from, to int) []int {
		var out []int
		for r := from; r < to; r++ {
			out = append(out, r)
		}
		return out
	}
	produceRounds(span(0, before))
	awaitConsumed(t, s, time.Minute)
	copyPricePoints(t, s.databaseURL, at, before*symbols, per*symbols)
	if err := s.consumer().stop(15 * time.Second); err != nil {
		t.Fatal(err)
	}
	if err := s.consumer().start(); err != nil {
		t.Fatal(err)
	}
	produceRounds(append(span(per-newest, per), span(before, per-newest)...))
	return awaitAverages(t, s, []int{2, 5}, 2*time.Minute)
}
