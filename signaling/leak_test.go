package signaling

import (
	"testing"

	"go.uber.org/goleak"
)

// leakOptions are what goleak may ignore in this package's tests: nothing
// beyond its defaults (the testing framework's and the runtime's own
// goroutines). Every goroutine of the hub, of gorilla/websocket, of an
// HTTP connection or of a child process must be gone once a test has shut
// its server down and closed its clients.
var leakOptions []goleak.Option

// TestMain fails the run if any goroutine outlives the tests.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m, leakOptions...) }

// checkNoLeaks fails the test if a goroutine outlives it, retrying for a
// while (goroutines that were told to stop may still be on their way out).
// Register it with t.Cleanup before anything else, so that it runs last,
// after the server has been shut down and the test's clients closed. It
// sees every goroutine of the process, so the tests that use it must not
// run in parallel with others.
func checkNoLeaks(t testing.TB, opts ...goleak.Option) {
	t.Helper()
	goleak.VerifyNone(t, append(opts, leakOptions...)...)
}
