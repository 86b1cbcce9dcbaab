package web_test

import (
	"os"
	"testing"

	"github.com/noomrtc/noom/web/browsertest"
)

// TestExternalHubCall runs the two-browser call scenario against a running
// Noom (web app + hub + TURN), e.g.
//
//	noom --addr 127.0.0.1:38080 --turn-addr 127.0.0.1:38478 &
//	NOOM_E2E_URL=http://127.0.0.1:38080 NOOM_E2E_RELAY=1 go test -run TestExternalHubCall ./web/
//
// It is skipped unless NOOM_E2E_URL is set; cmd/noom runs the same scenario
// in-process in CI (TestBrowserCall).
func TestExternalHubCall(t *testing.T) {
	base := os.Getenv("NOOM_E2E_URL")
	if base == "" {
		t.Skip("set NOOM_E2E_URL to the address of a running noom to run this test")
	}
	browsertest.Call(t, base, os.Getenv("NOOM_E2E_RELAY") != "")
}
