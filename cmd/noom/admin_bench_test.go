package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	sioclient "github.com/noomrtc/noom/signaling/signalingtest"
	"golang.org/x/crypto/bcrypt"
)

// BenchmarkAdminAPI measures the console's list endpoints over a real hub
// holding N sockets (NOOM_ADMIN_BENCH_SOCKETS, default 2000) in rooms of
// 10, through the bridge of today's hub API, with HTTP on loopback.
//
//	NOOM_ADMIN_BENCH_SOCKETS=10000 go test ./cmd/noom -run '^$' -bench AdminAPI -benchtime 20x
func BenchmarkAdminAPI(b *testing.B) {
	n := 2000
	if s := os.Getenv("NOOM_ADMIN_BENCH_SOCKETS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	hash, _ := bcrypt.GenerateFromPassword([]byte(adminPassword), bcrypt.MinCost)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rdc, errc := make(chan ready, 1), make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--admin-password-hash", string(hash),
			"--max-conns-per-ip", "0", "--max-http-conns-per-ip", "0", "--max-room-size", "10", "--turn=false", "--log-level", "error"},
			func(string) string { return "" }, io.Discard, io.Discard, func(r ready) { rdc <- r })
	}()
	var rd ready
	select {
	case rd = <-rdc:
	case err := <-errc:
		b.Fatal(err)
	}
	defer func() { cancel(); <-errc }()
	hc := &http.Client{}
	for i := range n {
		c, err := sioclient.Dial(ctx, "http://"+rd.HTTP, sioclient.Options{Buffer: 16})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		// Rooms through the console's own action (the call app's join would
		// push the room list to every socket on each join).
		req, _ := http.NewRequest("POST", "http://"+rd.Admin+"/admin/api/v1/sockets/_/"+c.ID+"/join?room="+fmt.Sprintf("room-%d", i/10), nil)
		req.SetBasicAuth("admin", adminPassword)
		resp, err := hc.Do(req)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("join: %v %v", err, resp)
		}
		resp.Body.Close()
	}
	for _, path := range []string{"sockets?limit=50", "sockets?limit=50&q=ab", "rooms?limit=50&sort=size", "rooms/_/room-7", "stats"} {
		b.Run(path, func(b *testing.B) {
			req, _ := http.NewRequest("GET", "http://"+rd.Admin+"/admin/api/v1/"+path, nil)
			req.SetBasicAuth("admin", adminPassword)
			for b.Loop() {
				resp, err := hc.Do(req)
				if err != nil || resp.StatusCode != 200 {
					b.Fatalf("%v %v", err, resp)
				}
				resp.Body.Close()
			}
		})
	}
}
