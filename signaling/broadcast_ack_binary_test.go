package signaling

import (
	"testing"
	"time"
)

// TestBroadcastWithAckBinary checks the frames of a room broadcast with an
// ack whose arguments hold binary: a BINARY_EVENT (5) with the attachment
// count and the ack id, then the attachment.
func TestBroadcastWithAckBinary(t *testing.T) {
	h := newHub(t, Config{})
	c, id := h.connect("/")
	type result struct {
		res []AckResponse
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := h.srv.To(id).Timeout(5*time.Second).EmitWithAck(t.Context(), "ask", "q", []byte{9})
		done <- result{res, err}
	}()
	got := c.expectPrefix("451-")
	if want := `451-0["ask","q",{"_placeholder":true,"num":0}]`; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if b, mt := c.next(); mt != 2 || b != "\x09" {
		t.Fatalf("attachment: %q (type %d), want 9, binary", b, mt)
	}
	c.send(`430["ok"]`)
	r := recv(t, done, "acks")
	if r.err != nil || len(r.res) != 1 || r.res[0].SID != id {
		t.Fatalf("EmitWithAck = %v, %v", r.res, r.err)
	}
}
