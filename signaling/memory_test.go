package signaling

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/noomrtc/noom/signaling/engineio"
)

// TestAuthPayloadBound checks that a CONNECT auth payload over
// MaxAuthBytes is refused with a connect error, the connection staying.
func TestAuthPayloadBound(t *testing.T) {
	h := newHub(t, Config{MaxAuthBytes: 64})
	c := h.dial("")
	c.expectPrefix("0{")
	c.send(`40{"token":"` + strings.Repeat("x", 100) + `"}`)
	c.expect(`44{"message":"Auth payload too large"}`)
	c.send(`40{"token":"small"}`)
	c.expectPrefix(`40{"sid":"`)
}

// TestBinaryRefused checks that attachments announced for a namespace
// that refuses binary, or that the client is not in, end the connection
// before any attachment is kept.
func TestBinaryRefused(t *testing.T) {
	h := newHub(t, Config{})
	h.srv.Of("/").RefuseBinary()
	h.srv.Of("/bin")
	for _, tc := range []struct{ name, nsp, pkt string }{
		{"refusing namespace", "/", `451-["up",{"_placeholder":true,"num":0}]`},
		{"namespace not joined", "/", `451-/other,["up",{"_placeholder":true,"num":0}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := h.connect(tc.nsp)
			c.send(tc.pkt)
			c.expectClosed()
		})
	}
	// A namespace that takes binary still does.
	got := make(chan []byte, 1)
	h.srv.Of("/bin").OnConnection(func(s *Socket) {
		s.On("up", func(args []any, _ Ack) { b, _ := args[0].([]byte); got <- b })
	})
	c, _ := h.connect("/bin")
	c.send(`451-/bin,["up",{"_placeholder":true,"num":0}]`)
	c.sendBinary([]byte{1, 2, 3})
	if b := recv(t, got, "the attachment"); string(b) != "\x01\x02\x03" {
		t.Errorf("attachment %q", b)
	}
}

// TestAttachmentBytesBound checks that a packet's attachments together may
// not pass MaxPayload: ten attachments of MaxPayload each would otherwise
// pin ten times the message bound.
func TestAttachmentBytesBound(t *testing.T) {
	h := newHub(t, Config{MaxPayload: 1000, MaxQueueBytes: 1 << 20})
	c, _ := h.connect("/")
	c.send(`453-["up",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}]`)
	c.sendBinary(make([]byte, 600))
	c.sendBinary(make([]byte, 600)) // 1,200 > 1,000
	c.expectClosed()
	h.waitMetric(`noom_signaling_disconnects_total{reason="parse error"}`, 1)
}

// stallPost starts a polling POST whose body never completes and returns
// the raw connection; the request is in flight when it returns.
func stallPost(t *testing.T, h *hub) (net.Conn, *engineio.Conn) {
	t.Helper()
	p, _ := h.openPoll(nil)
	s := h.srv.eng.Lookup(p.sid)
	c, err := net.Dial("tcp", strings.TrimPrefix(h.url(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "POST /socket.io/?EIO=4&transport=polling&sid=%s HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n40", p.sid)
	waitFor(t, 5*time.Second, func() bool { return s.State().Posting },
		func() string { return "the POST never started" })
	return c, s
}

// TestStalledPostBody checks that a POST body that stops arriving ends
// within ReadTimeout: the session closes and the connection is answered.
func TestStalledPostBody(t *testing.T) {
	h := newHub(t, Config{ReadTimeout: 200 * time.Millisecond})
	c, s := stallPost(t, h)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || !strings.Contains(line, "400") {
		t.Fatalf("answer %q, %v", line, err)
	}
	if !s.Closed() {
		t.Error("session still open")
	}
}

// TestShutdownStalledPost checks that a stalled POST does not hold
// Shutdown past its context: the body read is cut short.
func TestShutdownStalledPost(t *testing.T) {
	h := startHub(t, Config{ReadTimeout: time.Minute})
	defer h.hs.Close()
	stallPost(t, h)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.srv.Shutdown(ctx) }()
	if err := recv(t, done, "Shutdown to return"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown: %v", err)
	}
}

// TestPendingBudgetPerIP has connections from one IP each hold an
// incomplete binary packet: past the IP's budget the next is cut off,
// and closing one gives its bytes back.
func TestPendingBudgetPerIP(t *testing.T) {
	h := newHub(t, Config{MaxPayload: 100 << 10, MaxPendingBytesPerIP: 250 << 10})
	announce := `452-["up",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`
	var held []*rawWS
	for range 2 { // 2 × 100 KB pending: within 250 KB
		c, _ := h.connect("/")
		c.send(announce)
		c.sendBinary(make([]byte, 100<<10))
		held = append(held, c)
	}
	pending := func(want int) func() bool {
		return func() bool {
			h.srv.mu.Lock()
			defer h.srv.mu.Unlock()
			return h.srv.pending["127.0.0.1"] == want
		}
	}
	waitFor(t, 5*time.Second, pending(200<<10), func() string { return "the first two were not counted" })
	c, _ := h.connect("/")
	c.send(announce)
	c.sendBinary(make([]byte, 100<<10)) // 300 KB: over budget
	c.expectClosed()
	waitFor(t, 5*time.Second, pending(200<<10), func() string { return "the refused bytes were counted" })
	held[0].conn.Close()
	waitFor(t, 5*time.Second, pending(100<<10), func() string { return "a closed connection kept its pending bytes" })
}

// TestSlowReaderHoldsAtMostTheBound floods a client that does not read:
// what the hub holds for it, queued or taken by its stuck writer, never
// passes MaxQueueBytes before it is cut off (it used to reach about twice
// that, the writer's batch not counted).
func TestSlowReaderHoldsAtMostTheBound(t *testing.T) {
	const bound = 64 << 10
	h := newHub(t, Config{MaxQueueBytes: bound, MaxPayload: 16 << 10, MaxQueueDelay: time.Minute}, withServerSendBuffer(4096))
	reasons := make(chan string, 1)
	h.srv.OnConnection(func(s *Socket) { s.OnDisconnect(func(r string) { reasons <- r }) })
	slow := h.connectReader(t, 4096, false)
	s := h.srv.Of("/").Socket(slow.sid)
	payload := strings.Repeat("q", 4<<10)
	highest := int64(0)
	for i := 0; i < 1000 && s.Connected(); i++ {
		s.Emit("q", payload)
		highest = max(highest, h.srv.Stats().QueuedBytes)
	}
	if r := recv(t, reasons, "slow consumer disconnect"); r != ReasonSlowConsumer {
		t.Fatalf("reason %q", r)
	}
	if highest > bound {
		t.Errorf("held %d bytes for a client bounded to %d", highest, bound)
	}
	t.Logf("at most %d of %d bytes held before the cut", highest, bound)
}
