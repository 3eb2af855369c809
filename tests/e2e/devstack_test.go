package e2e

// The dev stack's front door: `./deploy/dev` starts mds-api, mds-consumer and the gateway each
// under a supervisor, and must neither declare a running service dead, nor lose track of one,
// nor leave one behind. These tests drive the script's own start and stop (its `_services`
// command, the part of `up` and `down` that runs the services) with the real binaries, in a
// folder of their own, on the test stack's PostgreSQL and Kafka.

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// devServices is one set of the dev stack's services, run by deploy/dev from a private folder.
type devServices struct {
	root  string            // MDS_STACK_ROOT: pid files and logs under root/dev
	env   []string          // the script's environment
	addrs map[string]string // service -> address it listens on
}

// procID names one process for its whole life: pid and start time, as the script's pid files.
type procID struct {
	pid   int
	start string
}

func newDevServices(t *testing.T, extraEnv ...string) *devServices {
	t.Helper()
	in, err := lookupStackInputs()
	if err != nil {
		t.Fatal(err)
	}
	kafka, suffix := in.kafka, in.suffix
	db := "devstack_" + suffix
	if err := adminExec("CREATE DATABASE " + db); err != nil {
		t.Fatal(err)
	}
	topic, dlq := "price-events-devstack-"+suffix, "price-events-dlq-devstack-"+suffix
	if err := createTopics(kafka, map[string]int32{topic: 6, dlq: 1}); err != nil {
		t.Fatal(err)
	}
	d := &devServices{
		root: t.TempDir(),
		addrs: map[string]string{
			"api": freeAddr(), "consumer": freeAddr(), "gateway": freeAddr(),
		},
	}
	// The settings a developer's .env would hold, every port among them.
	dotenv := strings.Join([]string{
		"DATABASE_URL=" + withDatabase(in.databaseURL, db),
		"KAFKA_BOOTSTRAP_SERVERS=" + kafka,
		"KAFKA_TOPIC_PRICE_EVENTS=" + topic,
		"KAFKA_TOPIC_DEAD_LETTER=" + dlq,
		"KAFKA_CONSUMER_GROUP=devstack-" + suffix,
		"MDS_API_LISTEN=" + d.addrs["api"],
		"MDS_CONSUMER_LISTEN=" + d.addrs["consumer"],
		"GATEWAY_LISTEN=" + d.addrs["gateway"],
		"MDS_API_METRICS_LISTEN=" + freeAddr(),
		"MDS_CONSUMER_METRICS_LISTEN=" + freeAddr(),
		"DATABASE_POOL_SIZE=4",
		"LOG_LEVEL=warn",
	}, "\n") + "\n"
	envFile := filepath.Join(d.root, "dotenv")
	if err := os.WriteFile(envFile, []byte(dotenv), 0o644); err != nil {
		t.Fatal(err)
	}
	d.env = append(os.Environ(),
		"MDS_STACK_ROOT="+d.root, "MDS_DOTENV="+envFile,
		"MDS_API_BIN="+in.apiBin, "MDS_CONSUMER_BIN="+in.consumerBin, "MDS_GATEWAY_BIN="+in.gatewayBin)
	d.env = withEnv(d.env, extraEnv...)
	t.Cleanup(func() {
		if out, err := d.run("stop"); err != nil {
			t.Errorf("cleanup: _services stop: %v\n%s", err, out)
		}
	})
	return d
}

// run calls `./deploy/dev _services ARG` and returns its output.
func (d *devServices) run(arg string, env ...string) (string, error) {
	cmd := exec.Command("bash", "../../deploy/dev", "_services", arg)
	cmd.Env = withEnv(d.env, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (d *devServices) mustRun(t *testing.T, arg string, env ...string) string {
	t.Helper()
	out, err := d.run(arg, env...)
	if err != nil {
		t.Fatalf("_services %s: %v\n%s\n%s", arg, err, out, d.logs())
	}
	return out
}

func (d *devServices) logs() string {
	var b strings.Builder
	for _, name := range []string{"api", "consumer", "gateway"} {
		data, _ := os.ReadFile(filepath.Join(d.root, "dev", "logs", name+".log"))
		fmt.Fprintf(&b, "--- %s.log\n%s\n", name, lastLines(string(data), 20))
	}
	return b.String()
}

// pidFile reads one of the script's pid files: NAME.service.pid or NAME.supervisor.pid.
func (d *devServices) pidFile(name, kind string) (procID, bool) {
	data, err := os.ReadFile(filepath.Join(d.root, "dev", "run", name+"."+kind+".pid"))
	if err != nil {
		return procID{}, false
	}
	fields := strings.Fields(string(data))
	if len(fields) != 2 {
		return procID{}, false
	}
	pid, err := strconv.Atoi(fields[0])
	if err != nil {
		return procID{}, false
	}
	return procID{pid, fields[1]}, true
}

func (d *devServices) mustPid(t *testing.T, name, kind string) procID {
	t.Helper()
	id, ok := d.pidFile(name, kind)
	if !ok || !id.alive() {
		t.Fatalf("%s: no live %s pid (file: %v %v)\n%s", name, kind, id, ok, d.logs())
	}
	return id
}

// alive: the process still runs (a zombie has ended) and is the one that was recorded.
func (p procID) alive() bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.pid))
	if err != nil {
		return false
	}
	s := string(data)
	fields := strings.Fields(s[strings.LastIndex(s, ")")+1:])
	return len(fields) > 19 && fields[0] != "Z" && fields[19] == p.start
}

func listening(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// assertNothingLeft: none of the processes runs and nothing listens on the services' ports.
func (d *devServices) assertNothingLeft(t *testing.T, procs []procID) {
	t.Helper()
	for _, p := range procs {
		if p.alive() {
			t.Errorf("process %d is still running", p.pid)
		}
	}
	for name, addr := range d.addrs {
		if listening(addr) {
			t.Errorf("%s's address %s still answers", name, addr)
		}
	}
}

// all: the service and supervisor of each of the three.
func (d *devServices) all(t *testing.T) []procID {
	t.Helper()
	var procs []procID
	for _, name := range []string{"api", "consumer", "gateway"} {
		procs = append(procs, d.mustPid(t, name, "service"), d.mustPid(t, name, "supervisor"))
	}
	return procs
}

// Each start holds the forked process back before its exec, the window in which it is not yet
// the program it will be; the script must still recognise it, and every stop leaves nothing.
func TestDevStackStartsAndStopsWithDelayedExec(t *testing.T) {
	d := newDevServices(t, "MDS_DEV_START_DELAY=0.7")
	for round := 1; round <= 3; round++ {
		d.mustRun(t, "start")
		procs := d.all(t)
		status := d.mustRun(t, "status")
		for i, name := range []string{"api", "consumer", "gateway"} {
			want := fmt.Sprintf("pid %d, supervisor %d", procs[2*i].pid, procs[2*i+1].pid)
			if !strings.Contains(status, want) {
				t.Errorf("round %d: status does not say %q for %s:\n%s", round, want, name, status)
			}
		}
		d.mustRun(t, "stop")
		d.assertNothingLeft(t, procs)
	}
}

// Killing a supervisor, a service, or both, leaves no service running unsupervised, and a stop
// after it leaves nothing at all.
func TestDevStackKilledSupervisorsLeaveNoOrphans(t *testing.T) {
	d := newDevServices(t)
	d.mustRun(t, "start")
	procs := d.all(t)

	// The supervisor of mds-api dies: mds-api ends too, by itself.
	api := d.mustPid(t, "api", "service")
	if err := syscall.Kill(d.mustPid(t, "api", "supervisor").pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "mds-api to end with its supervisor", func() bool { return !api.alive() })

	// mds-consumer dies: its supervisor starts it again, and the status names the new pid.
	consumer := d.mustPid(t, "consumer", "service")
	if err := syscall.Kill(consumer.pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var restarted procID
	waitFor(t, 60*time.Second, "mds-consumer to be started again", func() bool {
		id, ok := d.pidFile("consumer", "service")
		if ok && id != consumer && id.alive() {
			restarted = id
			return true
		}
		return false
	})
	procs = append(procs, restarted)
	if err := waitServing(d.addrs["consumer"], 60*time.Second); err != nil {
		t.Fatalf("restarted mds-consumer: %v\n%s", err, d.logs())
	}
	if status := d.mustRun(t, "status"); !strings.Contains(status, fmt.Sprintf("pid %d,", restarted.pid)) {
		t.Errorf("status does not name the restarted mds-consumer (pid %d):\n%s", restarted.pid, status)
	}

	// Both of the gateway die, the supervisor first.
	gateway, gatewaySupervisor := d.mustPid(t, "gateway", "service"), d.mustPid(t, "gateway", "supervisor")
	_ = syscall.Kill(gatewaySupervisor.pid, syscall.SIGKILL)
	_ = syscall.Kill(gateway.pid, syscall.SIGKILL)
	waitFor(t, 30*time.Second, "the gateway to end", func() bool { return !gateway.alive() })

	status := d.mustRun(t, "status")
	for _, name := range []string{"api", "gateway"} {
		if !regexp.MustCompile(`(?m)^\s+` + name + `\s+stopped$`).MatchString(status) {
			t.Errorf("status after the kills does not say %s stopped:\n%s", name, status)
		}
	}
	d.mustRun(t, "stop")
	d.assertNothingLeft(t, procs)

	// And the next start works.
	d.mustRun(t, "start")
	procs = d.all(t)
	d.mustRun(t, "stop")
	d.assertNothingLeft(t, procs)
}

// A start that fails stops what it had started, says what holds a taken port, and the next
// start works.
func TestDevStackFailedStartStopsWhatItStarted(t *testing.T) {
	d := newDevServices(t)

	// The gateway's port is taken by a process the script did not start.
	holder, err := net.Listen("tcp", d.addrs["gateway"])
	if err != nil {
		t.Fatal(err)
	}
	out, err := d.run("start")
	if err == nil {
		t.Fatalf("start succeeded with the gateway's port taken:\n%s", out)
	}
	if want := fmt.Sprintf("is held by pid %d", os.Getpid()); !strings.Contains(out, want) {
		t.Errorf("the failure does not say %q:\n%s", want, out)
	}
	if !strings.Contains(out, "stopping what it started: api consumer") {
		t.Errorf("the failure does not stop mds-api and mds-consumer:\n%s", out)
	}
	holder.Close()
	for _, name := range []string{"api", "consumer", "gateway"} {
		for _, kind := range []string{"service", "supervisor"} {
			if id, ok := d.pidFile(name, kind); ok && id.alive() {
				t.Errorf("%s's %s (pid %d) still runs after the failed start", name, kind, id.pid)
			}
		}
	}
	d.assertNothingLeft(t, nil)

	// mds-consumer dies as it starts: the start fails at once (no wait for a timeout).
	out, err = d.run("start", "MDS_CONSUMER_BIN=/bin/false")
	if err == nil || !strings.Contains(out, "consumer exited during start-up") {
		t.Fatalf("start with a consumer that exits: %v\n%s", err, out)
	}
	if id, ok := d.pidFile("api", "service"); ok && id.alive() {
		t.Errorf("mds-api (pid %d) still runs after the failed start", id.pid)
	}
	d.assertNothingLeft(t, nil)

	d.mustRun(t, "start")
	procs := d.all(t)
	d.mustRun(t, "stop")
	d.assertNothingLeft(t, procs)
}

// lastLines is the end of a log, n lines at most.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
