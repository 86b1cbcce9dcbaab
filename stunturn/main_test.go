package stunturn

import (
	"os"
	"testing"
)

// helperEnv names the role a re-executed test binary plays instead of
// running tests: see netns_test.go.
const helperEnv = "NOOM_STUNTURN_HELPER"

func TestMain(m *testing.M) {
	if role := os.Getenv(helperEnv); role != "" {
		os.Exit(runHelper(role))
	}
	os.Exit(m.Run())
}
