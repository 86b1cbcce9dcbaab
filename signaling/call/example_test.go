package call_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/noomrtc/noom/signaling"
	"github.com/noomrtc/noom/signaling/call"
	sioclient "github.com/noomrtc/noom/signaling/signalingtest"
	"github.com/prometheus/client_golang/prometheus"
)

// Serve the call protocol on the hub's main namespace, then join a room
// with a passcode as a client would.
func Example() {
	reg := prometheus.NewRegistry()
	hub, err := signaling.New(signaling.Config{}, reg)
	if err != nil {
		panic(err)
	}
	svc, err := call.New(call.Config{MaxRoomSize: 4}, hub.Of("/"), nil, reg)
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(hub)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer func() {
		hub.Shutdown(ctx)
		svc.Close()
		srv.Close()
		cancel()
	}()

	c, err := sioclient.Dial(ctx, srv.URL, sioclient.Options{})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	var ack struct {
		OK       bool
		Peers    []any
		Passcode bool
		Listed   bool
	}
	if err := c.Call(ctx, &ack, "join", map[string]any{"room": "standup", "name": "Ann", "passcode": "s3cret"}); err != nil {
		panic(err)
	}
	fmt.Printf("ok=%v peers=%d passcode=%v listed=%v present=%v\n", ack.OK, len(ack.Peers), ack.Passcode, ack.Listed, svc.Present(c.ID))
	// Output:
	// ok=true peers=0 passcode=true listed=true present=true
}
