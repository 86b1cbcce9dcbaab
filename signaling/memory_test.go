package signaling

import (
	"strings"
	"testing"
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
