package signaling

import (
	"testing"
	"time"
)

func TestConnectAndEcho(t *testing.T) {
	srv, hs := newTestServer(t, Config{PingInterval: 300 * time.Millisecond, PingTimeout: 200 * time.Millisecond, ConnectTimeout: time.Second})
	srv.OnConnection(func(s *Socket) {
		if err := s.Emit("auth", s.Handshake().Auth); err != nil {
			t.Errorf("emit: %v", err)
		}
		s.On("message", func(args []any, _ Ack) { s.Emit("message-back", args...) })
		s.On("message-with-ack", func(args []any, ack Ack) { ack(args...) })
	})
	c, _ := connectSIO(t, hs, "/")
	c.expect(`42["auth",{}]`)
	c.send(`42["message",1,"2",{"3":[true]}]`)
	c.expect(`42["message-back",1,"2",{"3":[true]}]`)
	c.send(`42456["message-with-ack",1,"2",{"3":[false]}]`)
	c.expect(`43456[1,"2",{"3":[false]}]`)
}
