package signalingtest_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/noomrtc/noom/signaling"
	"github.com/noomrtc/noom/signaling/signalingtest"
	"github.com/prometheus/client_golang/prometheus"
)

// A test starts a hub on loopback, dials it as a Socket.IO client would,
// and talks to it through the wire.
func ExampleDial() {
	hub, _ := signaling.New(signaling.Config{}, prometheus.NewRegistry())
	hub.OnConnection(func(s *signaling.Socket) {
		s.On("hello", func(args []any, ack signaling.Ack) {
			var name string
			signaling.Decode(args[0], &name)
			ack("hello, " + name)
			s.Emit("welcome", 1)
		})
	})
	hs := httptest.NewServer(hub)
	defer hs.Close()
	defer hub.Shutdown(context.Background())

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := signalingtest.Dial(ctx, hs.URL, signalingtest.Options{Transport: signalingtest.Upgrade})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	var greeting string
	if err := c.Call(ctx, &greeting, "hello", "Ada"); err != nil {
		fmt.Println(err)
		return
	}
	e, _ := c.Next(ctx, "welcome")
	fmt.Println(greeting, e.Name, string(e.Args[0]), c.Conn().Transport())
	// Output: hello, Ada welcome 1 websocket
}
