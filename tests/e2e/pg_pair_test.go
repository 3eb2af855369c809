// A private PostgreSQL primary with a synchronous hot standby, for tests in which the primary is
// lost and the standby promoted. Both run the installed PostgreSQL's binaries (PG_BIN_DIR, as
// deploy/lib/postgres.sh finds them) on free ports, with their data in a temporary folder, and are
// stopped when the test ends. As deploy/lib/postgres.sh does, they run as the `postgres` system
// user when the test runs as root (PostgreSQL refuses root), as the current user otherwise.
//
// Commits use synchronous_commit = remote_apply with the standby named in the primary's
// synchronous_standby_names: a commit returns once the standby has applied it. `on` (the standby
// has flushed it) would be enough for a committed write to survive the primary, since a promotion
// replays everything received first; remote_apply also makes it visible on the standby at once,
// before any promotion, as the replicated layout of deploy/ has it, so a read there never misses
// a write that was acknowledged. It costs the apply on the standby at every commit.
package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgPair is a primary and its synchronous standby.
type pgPair struct {
	bin              string
	cred             *syscall.Credential // the postgres user's, when the test runs as root
	primary, standby *pgNode
}

// pgNode is one PostgreSQL server of a pair.
type pgNode struct {
	name string // its cluster_name; the standby's is also its application_name on the primary
	dir  string // data folder
	addr string // 127.0.0.1:port
	log  string
	cmd  *exec.Cmd
	done chan struct{}
}

// pgBinDir is where the installed PostgreSQL's programs are: PG_BIN_DIR, else the Debian
// package's folder for version 15 (deploy/lib/common.sh's default), else the newest installed
// version's, else the folder of the initdb on PATH.
func pgBinDir(t *testing.T) string {
	t.Helper()
	has := func(dir string) bool {
		_, err := os.Stat(filepath.Join(dir, "initdb"))
		return dir != "" && err == nil
	}
	if dir := os.Getenv("PG_BIN_DIR"); has(dir) {
		return dir
	}
	if has("/usr/lib/postgresql/15/bin") {
		return "/usr/lib/postgresql/15/bin"
	}
	versions, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(versions, func(i, j int) bool { return pgMajor(versions[i]) > pgMajor(versions[j]) })
	for _, dir := range versions {
		if has(dir) {
			return dir
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Dir(real)
		}
	}
	t.Fatal("no PostgreSQL programs found: set PG_BIN_DIR (./deploy/dev install installs PostgreSQL 15)")
	return ""
}

func pgMajor(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// pgPairDir is an empty folder for the pair's data. As root the servers run as `postgres`, which
// must reach it: the test's temporary folder if every folder above it lets others through (its
// parent, the test's own, is opened for that; not one under /root, where Bazel's is), else one
// under /tmp, removed at the end.
func pgPairDir(t *testing.T, cred *syscall.Credential) string {
	t.Helper()
	dir := t.TempDir()
	if cred == nil {
		return dir
	}
	_ = os.Chmod(filepath.Dir(dir), 0o711)
	reachable := true
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		if st, err := os.Stat(d); err != nil || st.Mode().Perm()&0o001 == 0 {
			reachable = false
			break
		}
		if d == "/" {
			break
		}
	}
	if !reachable {
		var err error
		if dir, err = os.MkdirTemp("/tmp", "mds-pg-pair-"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
		t.Fatal(err)
	}
	return dir
}

// postgresCredential is the postgres system user's when the test runs as root, nil otherwise.
func postgresCredential(t *testing.T) *syscall.Credential {
	t.Helper()
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		t.Fatalf("running as root, PostgreSQL needs the postgres system user (package postgresql): %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
}

// command is a PostgreSQL program run as the servers' user, from / (the test's folder may be one
// that user cannot enter).
func (p *pgPair) command(program string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(p.bin, program), args...)
	cmd.Dir = "/"
	if p.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	}
	return cmd
}

func (p *pgPair) run(t *testing.T, program string, args ...string) {
	t.Helper()
	if out, err := p.command(program, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", program, strings.Join(args, " "), err, out)
	}
}

// startPgPair makes and starts a primary with the role mds (password mds, CREATEDB) and the
// database marketdata, as deploy/lib/postgres.sh makes them, and a hot standby copied from it
// with pg_basebackup; it returns once the standby streams and the primary's commits wait for it
// (pg_stat_replication says `sync`). Both are stopped when the test ends.
func startPgPair(t *testing.T) *pgPair {
	t.Helper()
	p := &pgPair{bin: pgBinDir(t), cred: postgresCredential(t)}
	base := pgPairDir(t, p.cred)
	p.primary = &pgNode{name: "primary", dir: filepath.Join(base, "primary"), addr: freeAddr(), log: filepath.Join(base, "primary.log")}
	p.standby = &pgNode{name: "standby", dir: filepath.Join(base, "standby"), addr: freeAddr(), log: filepath.Join(base, "standby.log")}
	t.Cleanup(func() { p.stop(t) })

	p.run(t, "initdb", "-D", p.primary.dir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
	p.appendConf(t, p.primary, "postgresql.conf", fmt.Sprintf(`# A primary of the pair of tests/e2e/pg_pair_test.go (copied to its standby).
listen_addresses = '127.0.0.1'
port = %s
unix_socket_directories = ''
max_connections = 100
shared_buffers = 32MB
wal_level = replica
max_wal_senders = 5
wal_keep_size = '256MB'
hot_standby = on
synchronous_commit = remote_apply
cluster_name = '%s'
log_min_messages = warning
log_line_prefix = '%%m [%%p] %%q%%u@%%d '
`, p.primary.port(), p.primary.name))
	p.start(t, p.primary)
	p.admin(t, p.primary, "CREATE ROLE mds LOGIN PASSWORD 'mds' CREATEDB",
		"GRANT pg_checkpoint, pg_signal_backend TO mds", "CREATE DATABASE marketdata OWNER mds")

	// The copy follows the primary under the standby's name; it never waits for a standby of
	// its own (once promoted it commits alone).
	conninfo := fmt.Sprintf("host=127.0.0.1 port=%s user=postgres application_name=%s", p.primary.port(), p.standby.name)
	p.run(t, "pg_basebackup", "-D", p.standby.dir, "-d", conninfo, "-X", "stream", "-c", "fast", "-R")
	p.appendConf(t, p.standby, "postgresql.conf", fmt.Sprintf("# The standby of the pair.\nport = %s\ncluster_name = '%s'\n",
		p.standby.port(), p.standby.name))
	p.appendConf(t, p.standby, "postgresql.auto.conf", fmt.Sprintf("primary_conninfo = '%s'\nsynchronous_standby_names = ''\n", conninfo))
	p.start(t, p.standby)

	// Only now the primary's commits wait for the standby: the bootstrap above did not have one.
	p.admin(t, p.primary, fmt.Sprintf("ALTER SYSTEM SET synchronous_standby_names = '%s'", p.standby.name), "SELECT pg_reload_conf()")
	if err := waitForErr(60*time.Second, "the standby to stream as the primary's synchronous standby", func() (bool, error) {
		if err := p.alive(); err != nil {
			return false, err
		}
		var state, sync string
		err := p.query(p.primary, func(ctx context.Context, conn *pgx.Conn) error {
			return conn.QueryRow(ctx, "SELECT state, sync_state FROM pg_stat_replication WHERE application_name = $1",
				p.standby.name).Scan(&state, &sync)
		})
		if err != nil {
			return false, err
		}
		return state == "streaming" && sync == "sync", fmt.Errorf("state %s, sync_state %s", state, sync)
	}); err != nil {
		t.Fatalf("%v\n%s", err, p.logTails(30))
	}
	return p
}

func (n *pgNode) port() string {
	_, port, _ := strings.Cut(n.addr, ":")
	return port
}

// url is the mds role's URL of `db` on both nodes: whichever takes writes is the one used.
func (p *pgPair) url(db string) string {
	return fmt.Sprintf("postgresql://mds:mds@%s,%s/%s?target_session_attrs=read-write", p.primary.addr, p.standby.addr, db)
}

// nodeURL is the mds role's URL of `db` on one node only.
func (n *pgNode) nodeURL(db string) string {
	return fmt.Sprintf("postgresql://mds:mds@%s/%s", n.addr, db)
}

// appendConf adds lines to a configuration file of a node (later settings win).
func (p *pgPair) appendConf(t *testing.T, n *pgNode, file, text string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(n.dir, file), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

// start runs the node's postmaster as a child of the test (so it is reaped when killed) and
// waits until it accepts connections (pg_isready).
func (p *pgPair) start(t *testing.T, n *pgNode) {
	t.Helper()
	logFile, err := os.OpenFile(n.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	n.cmd = p.command("postgres", "-D", n.dir)
	n.cmd.Stdout, n.cmd.Stderr = logFile, logFile
	if err := n.cmd.Start(); err != nil {
		logFile.Close()
		t.Fatal(err)
	}
	n.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) {
		cmd.Wait()
		logFile.Close()
		close(done)
	}(n.cmd, n.done)
	if err := waitForErr(90*time.Second, "PostgreSQL "+n.name+" to accept connections", func() (bool, error) {
		if !n.running() {
			return false, errors.New("its postmaster exited")
		}
		return p.ready(n), nil
	}); err != nil {
		data, _ := os.ReadFile(n.log)
		t.Fatalf("%v\n%s", err, data)
	}
}

// running: the node's postmaster has not exited.
func (n *pgNode) running() bool {
	if n.done == nil {
		return false
	}
	select {
	case <-n.done:
		return false
	default:
		return true
	}
}

// ready: pg_isready says the node accepts connections.
func (p *pgPair) ready(n *pgNode) bool {
	return exec.Command(filepath.Join(p.bin, "pg_isready"), "-q", "-h", "127.0.0.1", "-p", n.port(), "-t", "1").Run() == nil
}

// alive fails when a node that was started has exited without being killed by the test.
func (p *pgPair) alive() error {
	for _, n := range []*pgNode{p.primary, p.standby} {
		if n.cmd != nil && !n.running() {
			return fmt.Errorf("PostgreSQL %s exited", n.name)
		}
	}
	return nil
}

// query runs f on a superuser connection to a node's postgres database.
func (p *pgPair) query(n *pgNode, f func(ctx context.Context, conn *pgx.Conn) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, fmt.Sprintf("postgresql://postgres@%s/postgres?connect_timeout=5", n.addr))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return f(ctx, conn)
}

// admin runs statements as the superuser on a node.
func (p *pgPair) admin(t *testing.T, n *pgNode, statements ...string) {
	t.Helper()
	for _, sql := range statements {
		if err := p.query(n, func(ctx context.Context, conn *pgx.Conn) error {
			_, err := conn.Exec(ctx, sql)
			return err
		}); err != nil {
			t.Fatalf("on PostgreSQL %s: %s: %v", n.name, sql, err)
		}
	}
}

// killPrimary is a SIGKILL of the primary's postmaster, as a crash of its machine would end it
// for its clients: new connections are refused at once, and its backends, left without their
// postmaster, end their sessions by themselves.
func (p *pgPair) killPrimary(t *testing.T) {
	t.Helper()
	if !p.primary.running() {
		t.Fatal("the primary does not run")
	}
	if err := p.primary.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.primary.done
}

// promote makes the standby a primary (`pg_ctl promote`, waiting for it) and returns once it
// takes writes: pg_is_in_recovery() is false.
func (p *pgPair) promote(t *testing.T) {
	t.Helper()
	p.run(t, "pg_ctl", "promote", "-w", "-t", "60", "-D", p.standby.dir)
	if err := waitForErr(60*time.Second, "the promoted standby to leave recovery", func() (bool, error) {
		primary, err := p.primaryNode()
		return primary == p.standby, err
	}); err != nil {
		t.Fatalf("%v\n%s", err, p.logTails(30))
	}
}

// primaryNode is the node that runs and is not in recovery (nil when none is).
func (p *pgPair) primaryNode() (*pgNode, error) {
	var errs []error
	for _, n := range []*pgNode{p.primary, p.standby} {
		if !n.running() {
			continue
		}
		var recovering bool
		if err := p.query(n, func(ctx context.Context, conn *pgx.Conn) error {
			return conn.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&recovering)
		}); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", n.name, err))
			continue
		}
		if !recovering {
			return n, nil
		}
	}
	return nil, errors.Join(errs...)
}

// stop ends the nodes that still run (a fast shutdown; SIGKILL after 30 s).
func (p *pgPair) stop(t *testing.T) {
	for _, n := range []*pgNode{p.standby, p.primary} {
		if n == nil || !n.running() {
			continue
		}
		_ = n.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-n.done:
		case <-time.After(30 * time.Second):
			t.Logf("PostgreSQL %s did not stop within 30 s: killed", n.name)
			_ = n.cmd.Process.Kill()
			<-n.done
		}
	}
	// A killed postmaster's backends end by themselves, soon; its data folder is removed after.
	for _, n := range []*pgNode{p.standby, p.primary} {
		if n == nil {
			continue
		}
		if err := waitForErr(30*time.Second, "the processes of PostgreSQL "+n.name+" to end", func() (bool, error) {
			left := processesIn(n.dir)
			return len(left) == 0, fmt.Errorf("pids %v", left)
		}); err != nil {
			t.Log(err)
		}
	}
	if t.Failed() {
		t.Logf("PostgreSQL logs:\n%s", p.logTails(60))
	}
}

// processesIn lists the processes whose working folder is dir (a PostgreSQL server's processes
// run in its data folder).
func processesIn(dir string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid)); err == nil && cwd == dir && procAlive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// logTails is the end of both nodes' logs, for failure messages.
func (p *pgPair) logTails(lines int) string {
	var b strings.Builder
	for _, n := range []*pgNode{p.primary, p.standby} {
		data, _ := os.ReadFile(n.log)
		all := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if len(all) > lines {
			all = all[len(all)-lines:]
		}
		fmt.Fprintf(&b, "--- PostgreSQL %s (%s) ---\n%s\n", n.name, n.log, strings.Join(all, "\n"))
	}
	return b.String()
}
