package stunturn_test

import (
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/noomrtc/noom/stunturn"
	"github.com/pion/turn/v4"
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

func ExampleServer_Observe() {
	srv, err := stunturn.New(stunturn.Config{
		Addr: "127.0.0.1:0",
		// The call service's "is this socket still connected?"; here
		// only "alice" is.
		Presence: func(user string) bool { return user == "alice" },
	}, prometheus.NewRegistry(), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	// Hooks must not block: an admin console queues and drops.
	created := make(chan stunturn.AllocationInfo, 16)
	refused := make(chan stunturn.AuthEvent, 16)
	remove := srv.Observe(stunturn.Observer{
		AllocationCreated: func(a stunturn.AllocationInfo) {
			select {
			case created <- a:
			default:
			}
		},
		AuthFailed: func(e stunturn.AuthEvent) {
			select {
			case refused <- e:
			default:
			}
		},
	})
	defer remove()

	for _, user := range []string{"alice", "mallory"} {
		username, password, _ := srv.Issuer().Issue(user)
		conn, _ := net.ListenPacket("udp4", "127.0.0.1:0")
		client, _ := turn.NewClient(&turn.ClientConfig{
			STUNServerAddr: srv.Addrs().UDP.String(),
			TURNServerAddr: srv.Addrs().UDP.String(),
			Conn:           conn,
			Username:       username,
			Password:       password,
		})
		_ = client.Listen()
		if relay, err := client.Allocate(); err == nil {
			a := <-created
			fmt.Println("allocated for", a.User, a.Transport, srv.Counts().Allocations.Total())
			_ = relay.Close()
		} else {
			e := <-refused
			fmt.Println("refused", e.User, e.Reason)
		}
		client.Close()
		_ = conn.Close()
	}
	// Output:
	// allocated for alice udp 1
	// refused mallory absent
}
