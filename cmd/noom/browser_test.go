package main

import (
	"bufio"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/noomrtc/noom/web/browsertest"
)

// TestBrowserCall is the product's main case end to end: two headless
// Chromium pages with fake cameras join one room through the real UI of an
// in-process noom, and the call connects through noom's own TURN with
// iceTransportPolicy "relay" (see browsertest.Call for every step checked).
// The relayed addresses are 127.0.0.1: the server's own relay addresses,
// which its peer filter allows without --turn-allow-peer.
func TestBrowserCall(t *testing.T) {
	if testing.Short() {
		t.Skip("drives two browsers")
	}
	browsertest.RequireChromium(t)
	rd := startNoom(t, "--turn-relay-ports", "40000-40999")
	browsertest.Call(t, "http://"+rd.HTTP, true)

	// The media went through noom's TURN, and the browsers reported it
	// (the pages, still open, send call-stats every 5 s).
	_, body, _ := get(t, "http://"+rd.Metrics+"/metrics")
	if n := sumMetric(body, "noom_turn_relay_bytes_total"); n < 100_000 {
		t.Errorf("noom_turn_relay_bytes_total = %v: the media did not go through TURN", n)
	}
	const relayReports = `noom_call_stats_reports_total{candidate_type="relay"`
	for deadline := time.Now().Add(15 * time.Second); sumMetric(body, relayReports) == 0; {
		if time.Now().After(deadline) {
			t.Fatalf("no call-stats report of a relay candidate in 15 s")
		}
		time.Sleep(250 * time.Millisecond)
		_, body, _ = get(t, "http://"+rd.Metrics+"/metrics")
	}
}

// sumMetric adds the values of the exposition lines that start with prefix.
func sumMetric(exposition, prefix string) float64 {
	var sum float64
	sc := bufio.NewScanner(strings.NewReader(exposition))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		f := strings.Fields(line)
		if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
			sum += v
		}
	}
	return sum
}
