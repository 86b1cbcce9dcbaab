package signaling

import (
	"encoding/json"
	"errors"
	"testing"
)

// TestForwardedArgs checks that arguments a handler forwards as they are
// go out verbatim, and that a piece cut from one is validated again.
func TestForwardedArgs(t *testing.T) {
	h := newHub(t, Config{})
	errs := make(chan error, 1)
	h.srv.OnConnection(func(s *Socket) {
		s.On("fwd", func(args []any, _ Ack) {
			var to string
			Decode(args[0], &to)
			s.To(to).Emit("fwd", args[1:]...)
			cut := args[1].(json.RawMessage)[:2] // `{"`: not JSON
			errs <- s.To(to).Emit("cut", cut)
		})
	})
	a, _ := h.connect("/")
	b, bid := h.connect("/")
	a.send(`42["fwd","` + bid + `",{"sdp":"v=0\r\n","n":[1,2.5e3,null]},"x"]`)
	b.expect(`42["fwd",{"sdp":"v=0\r\n","n":[1,2.5e3,null]},"x"]`)
	if err := recv(t, errs, "cut emit"); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("a cut argument: %v, want ErrInvalidArgument", err)
	}
}

func TestIsElement(t *testing.T) {
	data := []byte(`[{"a":1},"b"]`)
	elems := []any{json.RawMessage(data[1:8]), json.RawMessage(data[9:12])}
	if !isElement(json.RawMessage(data[9:12]), elems) {
		t.Error("an element is not found")
	}
	for _, raw := range []json.RawMessage{data[1:7], json.RawMessage(`"b"`), data[2:8], nil} {
		if isElement(raw, elems) {
			t.Errorf("%q taken for an element", raw)
		}
	}
}
