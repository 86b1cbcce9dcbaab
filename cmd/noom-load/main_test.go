package main

import (
	"context"
	"os"
	"testing"
	"time"
)

// TestMain lets the test binary stand in for noom-load's child processes
// ("serve" and "probe"), which load starts through os.Executable.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && (os.Args[1] == "serve" || os.Args[1] == "probe") {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestSmallLoad runs every phase of the load tool at a small size: the
// numbers are not checked (they are for people), but every phase must
// complete with every delivery and relay arriving.
func TestSmallLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := load(ctx, []string{"-conns", "300", "-room", "100", "-broadcasts", "50", "-pairs", "5", "-relay-for", "500ms", "-dialers", "8"})
	if err != nil {
		t.Fatal(err)
	}
}
