package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTURNSecretFile: the secret comes from a file, trimmed; the flag and
// the file together, a missing file and an empty one are errors.
func TestTURNSecretFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "secret")
	if err := os.WriteFile(good, []byte("  from a file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte(" \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	noEnv := func(string) string { return "" }

	o, err := parseOptions([]string{"--turn-secret-file", good}, noEnv, io.Discard)
	if err != nil || o.TURNSecret != "from a file" {
		t.Fatalf("secret %q, %v", o.TURNSecret, err)
	}
	env := map[string]string{"NOOM_TURN_SECRET_FILE": good}
	if o, err := parseOptions(nil, func(k string) string { return env[k] }, io.Discard); err != nil || o.TURNSecret != "from a file" {
		t.Fatalf("from the environment: %q, %v", o.TURNSecret, err)
	}
	for _, bad := range [][]string{
		{"--turn-secret", "x", "--turn-secret-file", good},
		{"--turn-secret-file", filepath.Join(dir, "missing")},
		{"--turn-secret-file", empty},
	} {
		if _, err := parseOptions(bad, noEnv, io.Discard); err == nil || !strings.Contains(err.Error(), "turn-secret") {
			t.Errorf("%v: %v, want an error naming the flag", bad, err)
		}
	}
}

// TestTURNLimitFlags: the per-IP limits are flags, negative meaning none.
func TestTURNLimitFlags(t *testing.T) {
	o, err := parseOptions([]string{"--turn-ip-quota", "7", "--turn-max-tcp-per-ip", "-1"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.TURNIPQuota != 7 || o.TURNMaxTCPPerIP != -1 {
		t.Fatalf("options %+v", o)
	}
}
