package e2e

import (
	"fmt"
	"testing"
	"time"
)

// waitInterval is how often a wait looks again.
const waitInterval = 50 * time.Millisecond

// waitFor looks at cond every 50 ms until it holds, and fails the test, naming `what` it waited
// for, when it still does not hold once `timeout` has passed.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if err := waitForErr(timeout, what, func() (bool, error) { return cond(), nil }); err != nil {
		t.Fatal(err)
	}
}

// waitForErr is waitFor for callers that have no test to fail, or that go on after a timeout.
// check tells whether the wait is over and what it saw: over with no error is success; over
// with an error ends the wait with that error (nothing is coming any more); not over with an
// error is the latest observation, which the timeout's error names. At least one check is made,
// and the last one after the timeout has passed.
func waitForErr(timeout time.Duration, what string, check func() (done bool, err error)) error {
	deadline := time.Now().Add(timeout)
	for {
		done, err := check()
		if done {
			return err
		}
		if time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("timed out after %v waiting for %s; last: %w", timeout, what, err)
			}
			return fmt.Errorf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(waitInterval)
	}
}
