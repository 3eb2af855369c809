// End-to-end tests: the real mds-api, mds-consumer and gateway binaries against the private
// PostgreSQL and Kafka that ./deploy/dev test starts. Every test talks to the running processes
// only through their public interfaces (REST, gRPC, the Kafka topic, the database).
package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// stack is one set of running processes with a database and a topic of their own.
type stack struct {
	databaseURL     string
	topic           string
	deadLetters     string
	apiAddr         string
	consumerAddr    string
	apiMetrics      string
	consumerMetrics string
	restURL         string
	apiEnv          []string // how mds-api was started, for extra replicas
	processes       []*process
}

type process struct {
	name string
	bin  string
	env  []string
	cmd  *exec.Cmd
	log  string
	done chan error
}

var shared *stack

// fakeProviders stands in for Alpha Vantage, Finnhub and Yahoo in every stack.
var fakeProviders = newFakeProviders()

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	s, cleanup, err := startStack("e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: cannot start the stack:", err)
		return 1
	}
	shared = s
	code := m.Run()
	if writeReports() != nil && code == 0 {
		code = 1
	}
	cleanup()
	fakeProviders.Close()
	return code
}

func requiredEnv(name string) (string, error) {
	v := os.Getenv(name)
	if v == "" {
		return "", fmt.Errorf("%s is not set: run the tests through ./deploy/dev test", name)
	}
	return v, nil
}

func binary(name string) (string, error) {
	p, err := requiredEnv(name)
	if err != nil {
		return "", err
	}
	return filepath.Abs(p)
}

// stackInputs is what a new stack is made of: the binaries under test (MDS_API_BIN,
// MDS_CONSUMER_BIN, MDS_GATEWAY_BIN), the test PostgreSQL and Kafka (MDS_TEST_DATABASE_URL,
// MDS_TEST_KAFKA_BOOTSTRAP_SERVERS), and a suffix of its own for the names of its database,
// topics and consumer group.
type stackInputs struct {
	apiBin, consumerBin, gatewayBin string
	databaseURL, kafka              string
	suffix                          string
}

func lookupStackInputs() (stackInputs, error) {
	var in stackInputs
	var err error
	if in.apiBin, err = binary("MDS_API_BIN"); err != nil {
		return in, err
	}
	if in.consumerBin, err = binary("MDS_CONSUMER_BIN"); err != nil {
		return in, err
	}
	if in.gatewayBin, err = binary("MDS_GATEWAY_BIN"); err != nil {
		return in, err
	}
	if in.databaseURL, err = requiredEnv("MDS_TEST_DATABASE_URL"); err != nil {
		return in, err
	}
	if in.kafka, err = requiredEnv("MDS_TEST_KAFKA_BOOTSTRAP_SERVERS"); err != nil {
		return in, err
	}
	in.suffix = fmt.Sprintf("%d_%d", os.Getpid(), time.Now().UnixNano()%1000000)
	return in, nil
}

// Listening ports for the stacks' processes come from below the kernel's ephemeral range
// (32768 and up on Linux). A port the kernel hands out for "127.0.0.1:0" is free only until the
// listener closes: any outgoing connection of the busy test may then take it as its local port
// before the process that was meant to listen on it starts. Ports below the range are never
// taken that way, and none is handed out twice by this process.
const (
	firstListenPort = 20000
	listenPorts     = 12000
)

var (
	addrMu    sync.Mutex
	addrGiven = map[int]bool{}
	addrNext  = firstListenPort + int(time.Now().UnixNano()%listenPorts)
)

func freeAddr() string {
	addrMu.Lock()
	defer addrMu.Unlock()
	for tries := 0; tries < listenPorts; tries++ {
		port := addrNext
		addrNext++
		if addrNext >= firstListenPort+listenPorts {
			addrNext = firstListenPort
		}
		if addrGiven[port] {
			continue
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		l, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		l.Close()
		addrGiven[port] = true
		return addr
	}
	panic("no free listening port below the ephemeral range")
}

// withDatabase swaps the database name in a postgresql:// URL.
func withDatabase(url, db string) string {
	base, query, _ := strings.Cut(url, "?")
	i := strings.LastIndex(base, "/")
	out := base[:i+1] + db
	if query != "" {
		out += "?" + query
	}
	return out
}

func adminExec(sql string) error {
	url, err := requiredEnv("MDS_TEST_DATABASE_URL")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// startStack starts mds-api, mds-consumer and the gateway with a database, a topic and a
// consumer group of their own. `extraEnv` (NAME=value) goes to both services.
// stackTLS makes a stack serve TLS: the services' and the gateway's extra settings, and how the
// test reaches them.
type stackTLS struct {
	serviceEnv, gatewayEnv []string
	grpcCreds              credentials.TransportCredentials
	httpClient             *http.Client
}

func startStack(prefix string, extraEnv ...string) (*stack, func(), error) {
	return startStackTLS(prefix, nil, extraEnv...)
}

// startStackTLS is startStack with TLS when `tls` is set (then restURL is https://).
func startStackTLS(prefix string, tls *stackTLS, extraEnv ...string) (*stack, func(), error) {
	in, err := lookupStackInputs()
	if err != nil {
		return nil, nil, err
	}
	kafka, suffix := in.kafka, in.suffix
	dbName := prefix + "_" + suffix
	if err := adminExec("CREATE DATABASE " + dbName); err != nil {
		return nil, nil, fmt.Errorf("create database: %w", err)
	}
	// Topics first, as the local stack's scripts create them: six partitions for the events.
	if err := createTopics(kafka, map[string]int32{
		"price-events-" + prefix + "-" + suffix:     6,
		"price-events-dlq-" + prefix + "-" + suffix: 1,
	}); err != nil {
		return nil, nil, fmt.Errorf("create topics: %w", err)
	}
	s := &stack{
		databaseURL: withDatabase(in.databaseURL, dbName),
		topic:       "price-events-" + prefix + "-" + suffix,
		apiAddr:     freeAddr(),
	}
	consumerAddr := freeAddr()
	s.consumerAddr = consumerAddr
	s.deadLetters = "price-events-dlq-" + prefix + "-" + suffix
	restAddr := freeAddr()
	s.restURL = "http://" + restAddr
	grpcCreds, httpClient := insecure.NewCredentials(), http.DefaultClient
	gatewayEnv := []string{"GATEWAY_LISTEN=" + restAddr, "MDS_API_ADDR=" + s.apiAddr, "MDS_CONSUMER_ADDR=" + s.consumerAddr}
	if tls != nil {
		s.restURL = "https://" + restAddr
		grpcCreds, httpClient = tls.grpcCreds, tls.httpClient
		extraEnv = append(append([]string{}, tls.serviceEnv...), extraEnv...)
		gatewayEnv = append(gatewayEnv, tls.gatewayEnv...)
	}
	logDir := os.Getenv("TEST_UNDECLARED_OUTPUTS_DIR")
	if logDir == "" {
		logDir = os.TempDir()
	}
	common := append(serviceEnv(s.databaseURL, kafka, s.topic, s.deadLetters,
		"moving-average-consumer-"+prefix+"-"+suffix), extraEnv...)
	cleanup := func() {
		for i := len(s.processes) - 1; i >= 0; i-- {
			s.processes[i].stop(10 * time.Second)
		}
		closePool(s.databaseURL)
		_ = adminExec("DROP DATABASE IF EXISTS " + dbName + " WITH (FORCE)")
	}
	start := func(name, bin string, env []string) error {
		p, err := startProcess(name, bin, env, filepath.Join(logDir, prefix+"-"+name+".log"))
		if err != nil {
			return err
		}
		s.processes = append(s.processes, p)
		return nil
	}
	s.apiEnv = common
	s.apiMetrics = freeAddr()
	if err := start("mds-api", in.apiBin, withEnv(common, "MDS_API_LISTEN="+s.apiAddr, "MDS_API_METRICS_LISTEN="+s.apiMetrics)); err != nil {
		cleanup()
		return nil, nil, err
	}
	s.consumerMetrics = freeAddr()
	if err := start("mds-consumer", in.consumerBin, withEnv(common, "MDS_CONSUMER_LISTEN="+consumerAddr, "MDS_CONSUMER_METRICS_LISTEN="+s.consumerMetrics)); err != nil {
		cleanup()
		return nil, nil, err
	}
	for _, p := range []struct{ name, addr string }{{"mds-api", s.apiAddr}, {"mds-consumer", consumerAddr}} {
		if err := waitServingWith(p.addr, grpcCreds, 60*time.Second); err != nil {
			cleanup()
			return nil, nil, fmt.Errorf("%s not serving: %w\n%s", p.name, err, s.logs())
		}
	}
	if err := start("gateway", in.gatewayBin, gatewayEnv); err != nil {
		cleanup()
		return nil, nil, err
	}
	if err := waitHTTPWith(httpClient, s.restURL+"/ready", 30*time.Second); err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("gateway not ready: %w\n%s", err, s.logs())
	}
	return s, cleanup, nil
}

// serviceEnv is what both services of a test stack run with: its database, topics and group,
// the fake providers with limits no test reaches and no circuit breaker, short provider timeouts
// and windows 2 and 5.
func serviceEnv(databaseURL, kafka, topic, deadLetters, group string) []string {
	return []string{
		"DATABASE_URL=" + databaseURL,
		"KAFKA_BOOTSTRAP_SERVERS=" + kafka,
		"KAFKA_TOPIC_PRICE_EVENTS=" + topic,
		"KAFKA_TOPIC_DEAD_LETTER=" + deadLetters,
		"KAFKA_CONSUMER_GROUP=" + group,
		"TEST_PROVIDER_SEED=42",
		"LOG_LEVEL=info",
		"DATABASE_POOL_SIZE=8",
		"ALPHA_VANTAGE_BASE_URL=" + fakeProviders.URL,
		"FINNHUB_BASE_URL=" + fakeProviders.URL,
		"YFINANCE_BASE_URL=" + fakeProviders.URL,
		"ALPHA_VANTAGE_API_KEY=" + alphaVantageKey,
		"FINNHUB_API_KEY=" + finnhubKey,
		"ALPHA_VANTAGE_RATE_LIMIT_PER_MINUTE=6000",
		"FINNHUB_RATE_LIMIT_PER_MINUTE=6000",
		"YFINANCE_RATE_LIMIT_PER_MINUTE=6000",
		// The suite asks Alpha Vantage more than its free 25 a day, and its failure cases would
		// open circuits that other tests' calls then meet: both are tested on stacks of their own.
		"ALPHA_VANTAGE_RATE_LIMIT_PER_DAY=0",
		"PROVIDER_BREAKER_FAILURES=0",
		"PROVIDER_TIMEOUT_MS=400",
		"PROVIDER_MAX_RETRIES=1",
		"MOVING_AVERAGE_WINDOWS=2,5",
	}
}

func startProcess(name, bin string, env []string, logPath string) (*process, error) {
	p := &process{name: name, bin: bin, env: env, log: logPath}
	return p, p.start()
}

// start runs the process, appending to its log.
func (p *process) start() error {
	logFile, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(p.bin)
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	p.cmd = cmd
	p.done = make(chan error, 1)
	go func() {
		p.done <- cmd.Wait()
		logFile.Close()
	}()
	return nil
}

// kill ends the process with SIGKILL, as a crash would.
func (p *process) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// addAPIReplica starts one more mds-api on the stack's database and topic.
func (s *stack) addAPIReplica(name string) (*process, string, error) {
	apiBin, err := binary("MDS_API_BIN")
	if err != nil {
		return nil, "", err
	}
	addr := freeAddr()
	logDir := os.Getenv("TEST_UNDECLARED_OUTPUTS_DIR")
	if logDir == "" {
		logDir = os.TempDir()
	}
	p, err := startProcess(name, apiBin, withEnv(s.apiEnv, "MDS_API_LISTEN="+addr, "MDS_API_METRICS_LISTEN="+freeAddr()),
		filepath.Join(logDir, name+"-"+strings.ReplaceAll(addr, ":", "_")+".log"))
	if err != nil {
		return nil, "", err
	}
	s.processes = append(s.processes, p)
	if err := waitServing(addr, 60*time.Second); err != nil {
		return nil, "", fmt.Errorf("%s not serving: %w\n%s", name, err, s.logs())
	}
	return p, addr, nil
}

// stop sends SIGTERM and waits; returns the exit error (nil for a clean exit).
func (p *process) stop(grace time.Duration) error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		return err
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not stop within %v after SIGTERM", p.name, grace)
	}
}

func (s *stack) logs() string {
	var b strings.Builder
	for _, p := range s.processes {
		data, _ := os.ReadFile(p.log)
		fmt.Fprintf(&b, "--- %s ---\n%s\n", p.name, data)
	}
	return b.String()
}

func waitServing(addr string, timeout time.Duration) error {
	return waitServingWith(addr, insecure.NewCredentials(), timeout)
}

func waitServingWith(addr string, creds credentials.TransportCredentials, timeout time.Duration) error {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		return err
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)
	return waitForErr(timeout, addr+" to be SERVING", func() (bool, error) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		resp, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
		if err != nil {
			return false, err
		}
		if resp.Status == healthpb.HealthCheckResponse_SERVING {
			return true, nil
		}
		return false, fmt.Errorf("health %v", resp.Status)
	})
}

func waitHTTP(url string, timeout time.Duration) error {
	return waitHTTPWith(http.DefaultClient, url, timeout)
}

func waitHTTPWith(client *http.Client, url string, timeout time.Duration) error {
	return waitForErr(timeout, "200 from "+url, func() (bool, error) {
		resp, err := client.Get(url)
		if err != nil {
			return false, err
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return true, nil
		}
		return false, errors.New(resp.Status)
	})
}

func createTopics(bootstrap string, topics map[string]int32) error {
	client, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(bootstrap, ",")...))
	if err != nil {
		return err
	}
	defer client.Close()
	admin := kadm.NewClient(client)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for name, partitions := range topics {
		resp, err := admin.CreateTopic(ctx, partitions, 1, nil, name)
		if err != nil {
			return err
		}
		if resp.Err != nil {
			return resp.Err
		}
	}
	return nil
}

// withEnv returns a copy of env with each NAME=value of kv set (replacing an earlier NAME).
func withEnv(env []string, kv ...string) []string {
	out := []string{}
	for _, e := range env {
		name, _, _ := strings.Cut(e, "=")
		keep := true
		for _, x := range kv {
			if n, _, _ := strings.Cut(x, "="); n == name {
				keep = false
			}
		}
		if keep {
			out = append(out, e)
		}
	}
	return append(out, kv...)
}
