package call_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if any goroutine outlives the tests: the room-list
// pusher, the hub's and the clients' goroutines.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
