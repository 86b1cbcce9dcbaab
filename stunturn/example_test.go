package stunturn_test

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/noomrtc/noom/stunturn"
	"github.com/prometheus/client_golang/prometheus"
)

func ExampleIssuer() {
	// The secret is the one the TURN server has (coturn: static-auth-secret).
	issuer := stunturn.NewIssuer([]byte("shared with the TURN server"), time.Hour)
	username, password, expires := issuer.Issue("alice")
	fmt.Println(strings.HasSuffix(username, ":alice"), time.Until(expires) <= time.Hour)

	user, err := issuer.Validate(username, password)
	fmt.Println(user, err)
	// Output:
	// true true
	// alice <nil>
}

func ExampleServer_ICEServers() {
	reg := prometheus.NewRegistry() // main makes the registry and serves it
	srv, err := stunturn.New(stunturn.Config{
		Addr:   "127.0.0.1:0",
		Secret: []byte("from --turn-secret"),
	}, reg, slog.New(slog.DiscardHandler))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	// The signaling side hands these to the browser as iceServers.
	for _, s := range srv.ICEServers("meet.example.com:443", "alice") {
		for _, u := range s.URLs {
			scheme, rest, _ := strings.Cut(u, ":")
			host, _, _ := strings.Cut(rest, ":")
			fmt.Println(scheme, host, s.Username != "")
		}
	}
	// Output:
	// stun meet.example.com false
	// turn meet.example.com true
	// turn meet.example.com true
}
