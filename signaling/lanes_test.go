package signaling

import (
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/noomrtc/noom/signaling/engineio"
)

// reader is a connected client whose messages a goroutine reads into a
// channel until the connection ends.
type reader struct {
	sid  string
	conn *websocket.Conn
	msgs chan string
	done chan struct{}
}

// connectReader connects a client to "/" and reads it in the background;
// rcvbuf, if set, is the client's socket receive buffer.
func (h *hub) connectReader(t *testing.T, rcvbuf int, start bool) *reader {
	t.Helper()
	d := websocket.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
		c, err := net.Dial(network, addr)
		if tc, ok := c.(*net.TCPConn); ok && rcvbuf > 0 {
			tc.SetReadBuffer(rcvbuf)
		}
		return c, err
	}}
	conn, _, err := d.Dial(h.wsURL(""), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &rawWS{t: t, conn: conn}
	c.expectPrefix("0{")
	c.send("40")
	got := c.expectPrefix(`40{"sid":"`)
	conn.SetReadDeadline(time.Time{}) // next's deadline would end the reader
	r := &reader{
		sid:  strings.TrimSuffix(strings.TrimPrefix(got, `40{"sid":"`), `"}`),
		conn: conn,
		msgs: make(chan string, 1<<16),
		done: make(chan struct{}),
	}
	if start {
		r.start()
	}
	return r
}

func (r *reader) start() {
	go func() {
		defer close(r.done)
		for {
			_, b, err := r.conn.ReadMessage()
			if err != nil {
				return
			}
			if string(b) == "2" {
				r.conn.WriteMessage(websocket.TextMessage, []byte("3"))
				continue
			}
			r.msgs <- string(b)
		}
	}()
}

// next returns the reader's next message, failing after 5 s.
func (r *reader) next(t *testing.T) string {
	t.Helper()
	return recv(t, r.msgs, "a message for "+r.sid)
}

// lookupSocketSession returns the session of the socket sid of "/".
func (srv *Server) lookupSocketSession(t *testing.T, sid string) *engineio.Conn {
	t.Helper()
	s := srv.Of("/").Socket(sid)
	if s == nil {
		t.Fatalf("no socket %s", sid)
	}
	return s.client.conn
}

// roomOf connects n readers that read at once and puts them in room.
func (h *hub) roomOf(t *testing.T, n int, room string) []*reader {
	t.Helper()
	out := make([]*reader, n)
	for i := range out {
		out[i] = h.connectReader(t, 0, true)
		if err := h.srv.Of("/").Socket(out[i].sid).Join(room); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestDirectOvertakesBroadcasts checks that a 1:1 message to a client with
// a backlog of broadcasts to a big room is written before that backlog,
// and that the broadcasts still all arrive, in order: the producer waits
// for the slow client meanwhile (backpressure) instead of dropping.
func TestDirectOvertakesBroadcasts(t *testing.T) {
	h := newHub(t, Config{MaxQueueBytes: 8 << 20, MaxQueueDelay: time.Minute, WriteTimeout: time.Minute},
		withServerSendBuffer(16<<10))
	h.roomOf(t, engineio.SmallFanout, "room")
	slow := h.connectReader(t, 16<<10, false) // reads nothing yet
	if err := h.srv.Of("/").Socket(slow.sid).Join("room"); err != nil {
		t.Fatal(err)
	}
	const n = 500
	payload := strings.Repeat("b", 1024)
	var emitted atomic.Int64
	go func() {
		for i := range n {
			if err := h.srv.To("room").Emit("b", i, payload); err != nil {
				t.Error(err)
				return
			}
			emitted.Add(1)
		}
	}()
	sess := h.srv.lookupSocketSession(t, slow.sid)
	// Broadcasts wait in the broadcast lane, behind what the writer holds.
	backlog := func() bool { return sess.State().Broadcast >= 8<<10 }
	waitFor(t, 20*time.Second, backlog,
		func() string {
			return fmt.Sprintf("no backlog built up: %d emitted, %+v", emitted.Load(), sess.State())
		})
	if err := h.srv.To(slow.sid).Emit("signal", "offer"); err != nil {
		t.Fatal(err)
	}
	queued := int(emitted.Load())
	slow.start()
	before, next := -1, 0
	for next < n {
		m := slow.next(t)
		if m == `42["signal","offer"]` {
			before = next
			continue
		}
		if want := fmt.Sprintf(`42["b",%d,"%s"]`, next, payload); m != want {
			t.Fatalf("broadcast %d: got %.30q", next, m)
		}
		next++
	}
	if before < 0 {
		t.Fatal("the 1:1 message never came")
	}
	// What the kernel already held (16 KB each way) may go first.
	if queued-before < 4 {
		t.Errorf("the 1:1 message came after %d of the %d broadcasts emitted before it", before, queued)
	}
	t.Logf("1:1 message overtook %d of %d queued broadcasts", queued-before, queued)
	if v := h.metric(`noom_signaling_producer_wait_seconds_count`); v == 0 {
		t.Error("the producer never waited for the slow client")
	}
}

// TestBroadcasterSlowedNotDropped floods a room from one producer while a
// member reads slowly: the producer is slowed to the reader's pace, every
// broadcast arrives, and nobody is cut off.
func TestBroadcasterSlowedNotDropped(t *testing.T) {
	h := newHub(t, Config{MaxQueueDelay: 5 * time.Second}, withServerSendBuffer(16<<10))
	h.roomOf(t, engineio.SmallFanout, "room")
	slow := h.connectReader(t, 16<<10, false)
	if err := h.srv.Of("/").Socket(slow.sid).Join("room"); err != nil {
		t.Fatal(err)
	}
	const n = 400
	payload := strings.Repeat("p", 2048) // 800 KB in all: far past the high-water mark
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			h.srv.To("room").Emit("p", i, payload)
		}
	}()
	slow.start()
	for i := range n {
		if want := fmt.Sprintf(`42["p",%d,"%s"]`, i, payload); slow.next(t) != want {
			t.Fatalf("broadcast %d missing or out of order", i)
		}
		if i%8 == 0 {
			time.Sleep(time.Millisecond) // a slow reader
		}
	}
	recv(t, done, "the producer to finish")
	if v := h.metric(`noom_signaling_slow_consumer_disconnects_total`); v != 0 {
		t.Errorf("slow consumer disconnects: %v", v)
	}
	if v := h.metric(`noom_signaling_producer_wait_seconds_count`); v == 0 {
		t.Error("the producer never waited")
	}
}

// TestSlowConsumerByAge checks that a client whose broadcasts wait longer
// than MaxQueueDelay is cut off with reason "slow consumer", long before
// its bytes reach MaxQueueBytes, while the others of its room get every
// broadcast.
func TestSlowConsumerByAge(t *testing.T) {
	h := newHub(t, Config{MaxQueueBytes: 8 << 20, MaxQueueDelay: 250 * time.Millisecond}, withServerSendBuffer(4096))
	type cut struct{ sid, reason string }
	reasons := make(chan cut, 16)
	h.srv.OnConnection(func(s *Socket) { s.OnDisconnect(func(r string) { reasons <- cut{s.ID(), r} }) })
	fast := h.roomOf(t, engineio.SmallFanout, "room")
	slow := h.connectReader(t, 4096, false)
	if err := h.srv.Of("/").Socket(slow.sid).Join("room"); err != nil {
		t.Fatal(err)
	}
	payload := strings.Repeat("a", 1024)
	sent := 0
	deadline := time.After(5 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
loop:
	for {
		select {
		case c := <-reasons:
			if c.sid != slow.sid || c.reason != ReasonSlowConsumer {
				t.Fatalf("%s disconnected (%q), not the slow reader %s: a loaded machine?", c.sid, c.reason, slow.sid)
			}
			break loop
		case <-deadline:
			t.Fatalf("no slow-consumer disconnect after %d broadcasts", sent)
		case <-tick.C:
			h.srv.To("room").Emit("a", sent, payload)
			sent++
		}
	}
	if q := float64(sent * 1100); q > 4<<20 {
		t.Fatalf("%d bytes sent before the cut: the age bound did not act", int(q))
	}
	for _, f := range fast {
		for i := range sent {
			if want, got := fmt.Sprintf(`42["a",%d,"%s"]`, i, payload), f.next(t); got != want {
				t.Fatalf("fast reader missed broadcast %d: got %.40q", i, got)
			}
		}
	}
	h.waitMetric(`noom_signaling_slow_consumer_disconnects_total`, 1)
}

// TestSlowConsumerStuckWriter checks that a client that stops reading is
// cut off within MaxQueueDelay even when nothing more is sent to it: its
// writer gives up on the write it is stuck in.
func TestSlowConsumerStuckWriter(t *testing.T) {
	h := newHub(t, Config{MaxQueueBytes: 8 << 20, MaxQueueDelay: 200 * time.Millisecond}, withServerSendBuffer(4096))
	reasons := make(chan string, 16)
	h.srv.OnConnection(func(s *Socket) { s.OnDisconnect(func(r string) { reasons <- r }) })
	h.roomOf(t, engineio.SmallFanout, "room")
	slow := h.connectReader(t, 4096, false)
	if err := h.srv.Of("/").Socket(slow.sid).Join("room"); err != nil {
		t.Fatal(err)
	}
	payload := strings.Repeat("s", 4096)
	start := time.Now()
	for i := range 200 { // 800 KB: far below MaxQueueBytes, far above the socket buffers
		h.srv.To("room").Emit("s", i, payload)
	}
	if r := recv(t, reasons, "slow consumer disconnect"); r != ReasonSlowConsumer {
		t.Fatalf("disconnect reason %q", r)
	}
	t.Logf("cut off %v after the burst (WriteTimeout is 10s)", time.Since(start).Round(time.Millisecond))
}

// TestPerSenderOrder has two clients flood broadcasts into a big room
// without waiting: every receiver gets every broadcast of each sender, in
// the order it was sent, and nobody is cut off.
func TestPerSenderOrder(t *testing.T) {
	h := newHub(t, Config{})
	h.srv.OnConnection(func(s *Socket) {
		s.On("b", func(args []any, _ Ack) { s.To("room").Emit("b", s.ID(), args[0]) })
	})
	receivers := h.roomOf(t, engineio.SmallFanout+2, "room")
	const n = 1000
	senders := []*reader{h.connectReader(t, 0, true), h.connectReader(t, 0, true)}
	var wg sync.WaitGroup
	for _, s := range senders {
		wg.Go(func() {
			for i := range n {
				if err := s.conn.WriteMessage(websocket.TextMessage, fmt.Appendf(nil, `42["b",%d]`, i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, r := range receivers {
		next := map[string]int{}
		for range 2 * n {
			var ev []json.RawMessage
			if err := json.Unmarshal([]byte(strings.TrimPrefix(r.next(t), "42")), &ev); err != nil || len(ev) != 3 {
				t.Fatalf("bad event: %v", err)
			}
			var from string
			var seq int
			json.Unmarshal(ev[1], &from)
			json.Unmarshal(ev[2], &seq)
			if seq != next[from] {
				t.Fatalf("from %s: got %d, want %d", from, seq, next[from])
			}
			next[from]++
		}
	}
	if v := h.metric(`noom_signaling_slow_consumer_disconnects_total`); v != 0 {
		t.Errorf("slow consumer disconnects: %v", v)
	}
}

// TestCrossBroadcastNoDeadlock has two clients flood broadcasts into each
// other's big room at the same time: each producer may wait for the
// other's queue (backpressure) while the other waits for its own, and
// neither may wait forever; each gets everything, in order.
func TestCrossBroadcastNoDeadlock(t *testing.T) {
	h := newHub(t, Config{})
	h.srv.OnConnection(func(s *Socket) {
		s.On("to", func(args []any, _ Ack) {
			var room string
			Decode(args[0], &room)
			s.To(room).Emit("m", args[1])
		})
	})
	a := h.connectReader(t, 32<<10, true)
	b := h.connectReader(t, 32<<10, true)
	ns := h.srv.Of("/")
	ns.Socket(a.sid).Join("A")
	ns.Socket(b.sid).Join("B")
	h.roomOf(t, engineio.SmallFanout, "A")
	h.roomOf(t, engineio.SmallFanout, "B")
	const n = 2000
	payload := strings.Repeat("x", 512)
	var wg sync.WaitGroup
	for _, c := range []struct {
		r    *reader
		room string
	}{{a, "B"}, {b, "A"}} {
		wg.Go(func() {
			for i := range n {
				msg := fmt.Appendf(nil, `42["to",%q,"%d %s"]`, c.room, i, payload)
				if err := c.r.conn.WriteMessage(websocket.TextMessage, msg); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for _, r := range []*reader{a, b} {
		for i := range n {
			if want := fmt.Sprintf(`42["m","%d %s"]`, i, payload); r.next(t) != want {
				t.Fatalf("%s: message %d out of order or missing", r.sid, i)
			}
		}
	}
	wg.Wait()
	if v := h.metric(`noom_signaling_slow_consumer_disconnects_total`); v != 0 {
		t.Errorf("slow consumer disconnects: %v", v)
	}
}
