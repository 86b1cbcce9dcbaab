package main

import (
	"context"
	"testing"

	"github.com/noomrtc/noom/internal/sioclient"

	"golang.org/x/crypto/bcrypt"
)

// adminPassword is the console password of the tests; its hash uses the
// cheapest bcrypt cost so tests stay fast.
const adminPassword = "correct horse battery staple"

// startAdminNoom runs noom with the console on its own loopback listener.
func startAdminNoom(t *testing.T, args ...string) (ready, string) {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(adminPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	rd := startNoom(t, append([]string{"--admin-addr", "127.0.0.1:0", "--admin-password-hash", string(hash)}, args...)...)
	return rd, adminPassword
}

// joinRoom joins a call room through the call protocol.
func joinRoom(ctx context.Context, t *testing.T, cl *sioclient.Client, room, name string) {
	t.Helper()
	var ack struct {
		OK    *bool
		Error any
	}
	if err := cl.Call(ctx, &ack, "join", map[string]string{"room": room, "name": name}); err != nil {
		t.Fatal(err)
	}
	if ack.OK != nil && !*ack.OK {
		t.Fatalf("join %q as %q refused: %v", room, name, ack.Error)
	}
}
