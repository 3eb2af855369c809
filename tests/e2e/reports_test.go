package e2e

import (
	"fmt"
	"os"
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
