package signaling_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/noomrtc/noom/signaling"
	"github.com/prometheus/client_golang/prometheus"
)

// A chat server: the Go version of Socket.IO's getting-started example.
func Example() {
	hub, err := signaling.New(signaling.Config{}, prometheus.NewRegistry())
	if err != nil {
		log.Fatal(err)
	}
	hub.OnConnection(func(s *signaling.Socket) {
		s.On("join", func(args []any, ack signaling.Ack) {
			var room string
			if len(args) == 0 || signaling.Decode(args[0], &room) != nil {
				ack(map[string]any{"ok": false})
				return
			}
			if err := s.Join(room); err != nil {
				ack(map[string]any{"ok": false, "error": err.Error()})
				return
			}
			s.To(room).Emit("joined", s.ID()) // everyone in the room but s
			ack(map[string]any{"ok": true})
		})
		s.On("chat message", func(args []any, _ signaling.Ack) {
			for _, room := range s.Rooms() {
				if room != s.ID() {
					hub.To(room).Emit("chat message", args...) // s included
				}
			}
		})
		s.OnDisconnecting(func(reason string) {
			fmt.Println(s.ID(), "leaves", s.Rooms(), "because", reason)
		})
	})
	http.Handle("/socket.io/", hub)
	// http.ListenAndServe(":3000", nil)
}

// Forced joins and acks from many clients, as io.socketsJoin and
// io.timeout(...).emitWithAck in Socket.IO.
func ExampleBroadcastOperator_EmitWithAck() {
	hub, _ := signaling.New(signaling.Config{}, prometheus.NewRegistry())
	defer hub.Shutdown(context.Background())

	hub.In("lobby").SocketsJoin("standup") // everyone in lobby joins standup
	answers, err := hub.To("standup").Timeout(2*time.Second).EmitWithAck(context.Background(), "ready?")
	fmt.Println(len(answers), err)
	// Output: 0 <nil>
}

// Cheap reads for a console: counts, and one page of the biggest rooms,
// and a live feed that skips its own namespace. Nothing here walks every
// socket.
func ExampleNamespace_ListRooms() {
	hub, _ := signaling.New(signaling.Config{}, prometheus.NewRegistry())
	defer hub.Shutdown(context.Background())
	feed := make(chan signaling.MessageEvent, 1000)
	stop := hub.Observe(signaling.Observer{
		Event: func(e signaling.MessageEvent) {
			select {
			case feed <- e:
			default: // full: drop (and count, in a real console)
			}
		},
		Detail: signaling.ObserveDetail{Exclude: []string{"/admin"}},
	})
	defer stop()

	st := hub.Stats()
	fmt.Println(st.Sessions, "sessions in", len(st.Namespaces), "namespace")
	if nsp := hub.Lookup("/"); nsp != nil { // Lookup never creates
		page := nsp.ListRooms(signaling.RoomQuery{Sort: signaling.RoomsBySize, Limit: 20})
		for _, r := range page.Items {
			fmt.Println(r.Name, r.Size)
		}
		fmt.Println(page.Total, "rooms, next page:", page.Next == "")
	}
	// Output:
	// 0 sessions in 1 namespace
	// 0 rooms, next page: true
}

// Server-side events between the nodes of a cluster (Socket.IO's
// serverSideEmit): each other node's handler answers. With the default
// MemoryAdapter there is no other node.
func ExampleNamespace_ServerSideEmitWithAck() {
	hub, _ := signaling.New(signaling.Config{}, prometheus.NewRegistry())
	defer hub.Shutdown(context.Background())
	hub.OnServerSideEmit("load?", func(_ []any, ack signaling.Ack) { ack(hub.Stats().Sessions) })

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	loads, err := hub.ServerSideEmitWithAck(ctx, "load?")
	nodes, _ := hub.ServerCount(ctx)
	fmt.Println(nodes, "node,", len(loads), "answers,", err)
	// Output: 1 node, 0 answers, <nil>
}
