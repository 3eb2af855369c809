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
// check tells whether the awaited state holds and, while it does not, what it saw instead (an
// error, or nil): the timeout's error names the last of these. The last check is made after the
// timeout has passed.
func waitForErr(timeout time.Duration, what string, check func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, seen := check()
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			if seen != nil {
				return fmt.Errorf("timed out after %v waiting for %s; last: %w", timeout, what, seen)
			}
			return fmt.Errorf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(waitInterval)
	}
}
