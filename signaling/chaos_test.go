package signaling

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestConcurrentChaos runs every kind of operation at once for a while:
// clients connecting, emitting, acking, disconnecting and reconnecting over
// both transports, while server goroutines join, leave, broadcast, fetch,
// emit with acks, observe and disconnect. It checks nothing but what -race,
// the absence of deadlocks and the leak check see.
func TestConcurrentChaos(t *testing.T) {
	h := newHub(t, Config{PingInterval: 50 * time.Millisecond, PingTimeout: time.Second, MaxQueueBytes: 1 << 20})
	nsp := h.srv.Of("/")
	h.srv.Of("/other").OnConnection(func(s *Socket) { s.Join("o") })
	h.srv.Observe(Observer{
		Join:  func(RoomEvent) { roomsOf(nsp) },
		Event: func(MessageEvent) {},
	})
	h.srv.OnConnection(func(s *Socket) {
		s.Join(fmt.Sprint("r", rand.IntN(4)))
		s.On("e", func(args []any, ack Ack) {
			s.To(fmt.Sprint("r", rand.IntN(4))).Emit("m", args...)
			ack("ok")
		})
		s.OnDisconnecting(func(string) { s.Rooms() })
	})
	var wg sync.WaitGroup
	deadline := time.Now().Add(time.Second)

	// Clients over WebSocket.
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				conn, _, err := websocket.DefaultDialer.Dial(h.wsURL(""), nil)
				if err != nil {
					return
				}
				var wmu sync.Mutex // gorilla allows one writer at a time
				write := func(mt int, b []byte) {
					wmu.Lock()
					conn.WriteMessage(mt, b)
					wmu.Unlock()
				}
				done := make(chan struct{})
				go func() { // read and answer pings and acks
					defer close(done)
					for {
						_, m, err := conn.ReadMessage()
						if err != nil {
							return
						}
						if string(m) == "2" {
							write(websocket.TextMessage, []byte("3"))
						}
					}
				}()
				write(websocket.TextMessage, []byte("40"))
				write(websocket.TextMessage, []byte("40/other,"))
				for j := 0; j < rand.IntN(20); j++ {
					write(websocket.TextMessage, []byte(fmt.Sprintf(`42%d["e",%d]`, j, j)))
					if j%5 == 0 {
						write(websocket.TextMessage, []byte(`451-["e",{"_placeholder":true,"num":0}]`))
						write(websocket.BinaryMessage, []byte{byte(j)})
					}
				}
				switch rand.IntN(3) {
				case 0:
					write(websocket.TextMessage, []byte("41"))
				case 1:
					write(websocket.TextMessage, []byte("1"))
				}
				time.Sleep(time.Duration(rand.IntN(20)) * time.Millisecond)
				conn.Close()
				<-done
			}
		}()
	}
	// Clients over polling.
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := h.hs.Client()
			for time.Now().Before(deadline) {
				p := &rawPoll{h: h, client: client}
				resp, err := client.Get(p.url())
				if err != nil {
					return
				}
				var open struct{ SID string }
				b := make([]byte, 256)
				n, _ := resp.Body.Read(b)
				resp.Body.Close()
				if n < 2 {
					continue
				}
				if err := jsonUnmarshal(b[1:n], &open); err != nil {
					continue
				}
				p.sid = open.SID
				post := func(body string) {
					req, _ := newRequest("POST", p.url(), body)
					if resp, err := client.Do(req); err == nil {
						resp.Body.Close()
					}
				}
				get := func() {
					ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
					defer cancel()
					req, _ := newRequest("GET", p.url(), "")
					if resp, err := client.Do(req.WithContext(ctx)); err == nil {
						drain(resp)
					}
				}
				post("40")
				for j := 0; j < 5; j++ {
					post(fmt.Sprintf(`42%d["e",%d]`, j, j))
					get()
				}
				post("1")
			}
		}()
	}
	// Server side.
	ops := []func(){
		func() { nsp.To("r0").Emit("m", "x") },
		func() { nsp.Except("r1").Emit("m", []byte{1}) },
		func() { nsp.Volatile().Emit("m", 1) },
		func() { nsp.In("r2").SocketsJoin("r3") },
		func() { nsp.In("r3").SocketsLeave("r3") },
		func() { nsp.FetchSockets(context.Background()) },
		func() { sidsOf(nsp) },
		func() { nsp.ListRooms(RoomQuery{Sort: RoomsBySize}) },
		func() { h.srv.Of("/other").To("o").Emit("m") },
		func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancel()
			nsp.To("r1").Timeout(20*time.Millisecond).EmitWithAck(ctx, "q")
		},
		func() {
			if rand.IntN(10) == 0 {
				nsp.In("r0").DisconnectSockets(rand.IntN(2) == 0)
			}
		},
		func() {
			ss, _ := nsp.FetchSockets(context.Background())
			if len(ss) > 0 {
				if s := nsp.Socket(ss[0].ID); s != nil {
					s.Join("solo")
					s.Emit("m", "hi")
					s.EmitWithAckFunc(10*time.Millisecond, func([]any, error) {}, "q")
					s.Leave("solo")
				}
			}
		},
		func() { h.metric("noom_signaling_rooms") },
	}
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				ops[rand.IntN(len(ops))]()
			}
		}()
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(20 * time.Second):
		t.Fatal("deadlock")
	}
	// It did run.
	for series, least := range map[string]float64{
		`noom_signaling_connections_total{transport="websocket"}`: 8,
		`noom_signaling_connections_total{transport="polling"}`:   3,
		`noom_signaling_events_received_total`:                    50,
		`noom_signaling_deliveries_total`:                         50,
	} {
		if got := h.metric(series); got < least {
			t.Errorf("%s = %v, want at least %v", series, got, least)
		}
	}
}
