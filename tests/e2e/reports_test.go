package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// testReport is a report that the tests of a build tag collect (the benchmarks', the fault
// scenarios'). TestMain writes every registered one once all tests have run, so no test has to
// run last.
type testReport struct {
	env string // the variable naming the report's file: MDS_BENCH_REPORT, MDS_FAULTS_REPORT
	// text is the report of what was collected, "" when nothing was; path is the file it will
	// replace ("" when the variable is not set), whose rows of tests that did not run it keeps.
	text func(path string) string
}

var testReports []testReport

// write writes the report to the file its variable names, or returns it when that is not set.
func (r testReport) write() (unwritten string, err error) {
	path := os.Getenv(r.env)
	text := r.text(path)
	if path == "" || text == "" {
		return text, nil
	}
	return "", os.WriteFile(path, []byte(text), 0o644)
}

// writeReports writes every registered report, and prints those whose variable is not set.
func writeReports() error {
	var failed error
	for _, r := range testReports {
		unwritten, err := r.write()
		if err != nil {
			failed = fmt.Errorf("%s: %w", r.env, err)
			fmt.Fprintln(os.Stderr, "e2e:", failed)
		} else if unwritten != "" {
			fmt.Printf("%s not set; report:\n%s\n", r.env, unwritten)
		}
	}
	return failed
}

// reportTime is how a report gives the time of a run.
const reportTime = "2006-01-02 15:04 MST"

// measuredOn says when and where a report is measured: "Measured <time> on <host> (<cores>
// cores, <cpu>, <memory>)".
func measuredOn() string {
	host, _ := os.Hostname()
	cpu := strings.TrimSpace(runOut("sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"))
	return fmt.Sprintf("Measured %s on %s (%d cores, %s, %s)", time.Now().UTC().Format(reportTime), host, numCPU(), cpu, memTotal())
}

// measuredWhen is the time of the "Measured <time> on" line of an earlier report, or "".
func measuredWhen(report string) string {
	for _, line := range strings.Split(report, "\n") {
		if rest, ok := strings.CutPrefix(line, "Measured "); ok {
			when, _, _ := strings.Cut(rest, " on ")
			return when
		}
	}
	return ""
}

// postgresSetup is "PostgreSQL <major> with fsync <on|off> and synchronous_commit <setting>" of
// the server at databaseURL, or "" when psql cannot tell.
func postgresSetup(databaseURL string) string {
	settings := strings.Split(strings.TrimSpace(runOut("psql", databaseURL, "-tAc",
		"SELECT current_setting('server_version_num')::int / 10000 || '|' || current_setting('fsync') || '|' || current_setting('synchronous_commit')")), "|")
	if len(settings) != 3 {
		return ""
	}
	return fmt.Sprintf("PostgreSQL %s with fsync %s and synchronous_commit %s", settings[0], settings[1], settings[2])
}

func runOut(name string, args ...string) string {
	out, _ := exec.Command(name, args...).CombinedOutput()
	return string(out)
}

func numCPU() int {
	n, _ := strconv.Atoi(strings.TrimSpace(runOut("nproc")))
	return n
}

func memTotal() string {
	return strings.TrimSpace(runOut("sh", "-c", "free -g | awk '/Mem:/{print $2\" GiB\"}'"))
}
