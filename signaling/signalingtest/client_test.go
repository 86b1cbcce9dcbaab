package signalingtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/noomrtc/noom/signaling"
	"github.com/noomrtc/noom/signaling/signalingtest"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind: Close must end
// the connection's reader, its HTTP requests and its WebSocket.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// startHub runs a real signaling.Server on a loopback httptest server and
// shuts both down at the end of the test.
func startHub(t *testing.T, cfg signaling.Config) (*signaling.Server, string) {
	t.Helper()
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := signaling.New(cfg, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		hs.Close()
	})
	return srv, hs.URL
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// received is what the server's handlers saw.
type received struct {
	event string
	args  []any
}

// echoHub starts a hub whose main namespace answers "echo" with its
// arguments, reports every other event on the returned channel, and hands
// each new socket over on the second.
func echoHub(t *testing.T, cfg signaling.Config) (string, <-chan received, <-chan *signaling.Socket) {
	srv, url := startHub(t, cfg)
	got := make(chan received, 16)
	sockets := make(chan *signaling.Socket, 4)
	srv.OnConnection(func(s *signaling.Socket) {
		s.On("echo", func(args []any, ack signaling.Ack) {
			if ack != nil {
				ack(args...)
			}
		})
		s.OnAny(func(event string, args []any) {
			if event != "echo" {
				got <- received{event, args}
			}
		})
		sockets <- s
	})
	return url, got, sockets
}

var transports = []struct {
	tr   signalingtest.Transport
	want string // the transport in use once connected
}{
	{signalingtest.WebSocket, "websocket"},
	{signalingtest.Polling, "polling"},
	{signalingtest.Upgrade, "websocket"},
}

// TestTransports runs one conversation over each transport: both sides
// emit with and without acks, text and binary, and the server sees the
// transport the client chose.
func TestTransports(t *testing.T) {
	for _, tc := range transports {
		t.Run(tc.tr.String(), func(t *testing.T) {
			ctx := testCtx(t)
			url, got, sockets := echoHub(t, signaling.Config{})
			c, err := signalingtest.Dial(ctx, url, signalingtest.Options{Transport: tc.tr})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			s := <-sockets
			if c.ID == "" || c.ID != s.ID() {
				t.Fatalf("client id %q, server socket %q", c.ID, s.ID())
			}
			if c.Conn().Transport() != tc.want {
				t.Errorf("client transport %q, want %q", c.Conn().Transport(), tc.want)
			}
			if tc.tr == signalingtest.Upgrade {
				// The server learns of the upgrade on its own reader.
				waitFor(t, func() bool { return s.Transport() == tc.want })
			} else if s.Transport() != tc.want {
				t.Errorf("server sees transport %q, want %q", s.Transport(), tc.want)
			}
			checkConversation(t, ctx, c, s, got)
		})
	}
}

func checkConversation(t *testing.T, ctx context.Context, c *signalingtest.Client, s *signaling.Socket, got <-chan received) {
	t.Helper()
	// Client → server, with an ack.
	var echoed map[string]any
	if err := c.Call(ctx, &echoed, "echo", map[string]any{"a": 1}); err != nil || echoed["a"] != 1.0 {
		t.Fatalf("echo: %v %v", echoed, err)
	}
	// Client → server, binary, with an ack carrying the binary back.
	blob := []byte{0, 1, 2, 0xff}
	a, err := c.EmitWithAck(ctx, "echo", "file", blob, map[string]any{"nested": []any{blob}})
	if err != nil {
		t.Fatal(err)
	}
	vals, err := a.Values()
	if err != nil || len(vals) != 3 || !bytes.Equal(vals[1].([]byte), blob) || len(a.Attachments) != 2 {
		t.Fatalf("binary echo: %v %v (attachments %q)", vals, err, a.Attachments)
	}
	if nested := vals[2].(map[string]any)["nested"].([]any); !bytes.Equal(nested[0].([]byte), blob) {
		t.Fatalf("nested attachment: %v", nested)
	}
	// Client → server, without an ack, binary.
	if err := c.Emit("note", "hi", blob); err != nil {
		t.Fatal(err)
	}
	r := <-got
	if b, ok := r.args[1].([]byte); r.event != "note" || !ok || !bytes.Equal(b, blob) {
		t.Fatalf("server got %q %v", r.event, r.args)
	}
	// Server → client, without an ack, binary.
	if err := s.Emit("news", "x", blob); err != nil {
		t.Fatal(err)
	}
	e, err := c.Next(ctx, "news")
	if err != nil {
		t.Fatal(err)
	}
	var x string
	if e.Decode(0, &x) != nil || x != "x" || len(e.Attachments) != 1 || !bytes.Equal(e.Attachments[0], blob) || e.AckRequested() {
		t.Fatalf("news: %+v", e)
	}
	if err := e.Ack(); err == nil {
		t.Error("acking an event that asked for no ack succeeded")
	}
	// Server → client with an ack, which the client answers with binary.
	reply := make(chan []any, 1)
	errc := make(chan error, 1)
	s.EmitWithAckFunc(5*time.Second, func(args []any, err error) { reply <- args; errc <- err }, "question", 42)
	e, err = c.Next(ctx, "question")
	if err != nil {
		t.Fatal(err)
	}
	if !e.AckRequested() {
		t.Fatal("the server's ack request was lost")
	}
	if err := e.Ack("answer", blob); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if args := <-reply; len(args) != 2 || !bytes.Equal(args[1].([]byte), blob) {
		t.Fatalf("server got ack %v", args)
	}
}

// TestNamespacesAndAuth connects two namespaces over one connection, one
// of them behind a middleware that checks the CONNECT payload.
func TestNamespacesAndAuth(t *testing.T) {
	for _, tc := range transports {
		t.Run(tc.tr.String(), func(t *testing.T) {
			ctx := testCtx(t)
			srv, url := startHub(t, signaling.Config{})
			admin := srv.Of("/admin")
			admin.Use(func(s *signaling.Socket) error {
				var auth struct{ Token string }
				if json.Unmarshal(s.Handshake().Auth, &auth) != nil || auth.Token != "good" {
					return &signaling.ConnectError{Message: "not authorized", Data: map[string]any{"hint": "token"}}
				}
				return nil
			})
			for _, nsp := range []*signaling.Namespace{srv.Of("/"), admin} {
				nsp.OnConnection(func(s *signaling.Socket) {
					s.On("where", func(_ []any, ack signaling.Ack) { ack(s.Namespace().Name()) })
				})
			}
			conn, err := signalingtest.Open(ctx, url, signalingtest.Options{Transport: tc.tr})
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := conn.Connect(ctx, "/admin", map[string]string{"token": "bad"}); !isConnectError(err, "not authorized") {
				t.Fatalf("bad token: %v", err)
			}
			main, err := conn.Connect(ctx, "/", nil)
			if err != nil {
				t.Fatal(err)
			}
			adm, err := conn.Connect(ctx, "/admin", map[string]string{"token": "good"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := conn.Connect(ctx, "/nowhere", nil); !isConnectError(err, "Invalid namespace") {
				t.Fatalf("unknown namespace: %v", err)
			}
			for _, c := range []*signalingtest.Client{main, adm} {
				var where string
				if err := c.Call(ctx, &where, "where"); err != nil || where != c.Namespace() {
					t.Errorf("%s answered from %q: %v", c.Namespace(), where, err)
				}
			}
			// Leaving one namespace keeps the other.
			if err := adm.Disconnect(); err != nil {
				t.Fatal(err)
			}
			if !errors.Is(adm.Err(), signalingtest.ErrClosed) {
				t.Errorf("after Disconnect: %v", adm.Err())
			}
			waitFor(t, func() bool { return admin.Len() == 0 })
			if err := main.Call(ctx, nil, "where"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func isConnectError(err error, msg string) bool {
	var ce *signalingtest.ConnectError
	return errors.As(err, &ce) && ce.Message == msg
}

// TestServerEnds checks what a test sees when the server ends a socket or
// the whole connection.
func TestServerEnds(t *testing.T) {
	for _, tc := range transports {
		t.Run(tc.tr.String(), func(t *testing.T) {
			ctx := testCtx(t)
			url, _, sockets := echoHub(t, signaling.Config{})
			c, err := signalingtest.Dial(ctx, url, signalingtest.Options{Transport: tc.tr})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			(<-sockets).Disconnect(false) // leave the namespace only
			if _, ok := <-c.Events(); ok {
				t.Fatal("an event after the server's DISCONNECT")
			}
			if !errors.Is(c.Err(), signalingtest.ErrDisconnected) {
				t.Fatalf("socket error %v, want ErrDisconnected", c.Err())
			}
			if _, err := c.EmitWithAck(ctx, "echo"); !errors.Is(err, signalingtest.ErrDisconnected) {
				t.Fatalf("emit after DISCONNECT: %v", err)
			}
			// The connection is still there: join again, then let the server
			// close the whole connection.
			c2, err := c.Conn().Connect(ctx, "/", nil)
			if err != nil {
				t.Fatal(err)
			}
			// Disconnect(true) sends the socket a DISCONNECT, then closes.
			(<-sockets).Disconnect(true)
			if !errors.Is(c2.Err(), signalingtest.ErrDisconnected) || !errors.Is(c.Conn().Err(), signalingtest.ErrServerClosed) {
				t.Fatalf("after the server closed: socket %v, conn %v", c2.Err(), c.Conn().Err())
			}
		})
	}
}

// TestHeartbeat keeps a connection through many pings (one every 10 ms):
// the server drops a client within PingTimeout (500 ms, generous for a
// loaded machine) of a ping it does not answer, so a client that stopped
// answering at any point in the first second would be gone before the
// 1.5 s this test waits.
func TestHeartbeat(t *testing.T) {
	for _, tc := range transports {
		t.Run(tc.tr.String(), func(t *testing.T) {
			ctx := testCtx(t)
			url, _, _ := echoHub(t, signaling.Config{PingInterval: 10 * time.Millisecond, PingTimeout: 500 * time.Millisecond})
			c, err := signalingtest.Dial(ctx, url, signalingtest.Options{Transport: tc.tr})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			select {
			case <-c.Done():
				t.Fatalf("dropped: %v", c.Err())
			case <-time.After(1500 * time.Millisecond):
			}
			if err := c.Call(ctx, nil, "echo", 1); err != nil {
				t.Fatalf("after about 150 pings: %v", err)
			}
		})
	}
}

// TestOnEvent delivers events to a callback on the reading goroutine, the
// mode load tools use, and shows that a closed connection fails emits.
func TestOnEvent(t *testing.T) {
	ctx := testCtx(t)
	url, _, sockets := echoHub(t, signaling.Config{})
	names := make(chan string, 8)
	c, err := signalingtest.Dial(ctx, url, signalingtest.Options{OnEvent: func(e signalingtest.Event) { names <- e.Name }})
	if err != nil {
		t.Fatal(err)
	}
	s := <-sockets
	for _, n := range []string{"a", "b", "c"} {
		s.Emit(n)
	}
	for _, n := range []string{"a", "b", "c"} {
		if got := <-names; got != n {
			t.Fatalf("got %q, want %q", got, n)
		}
	}
	if c.Events() != nil {
		t.Error("Events is not nil with OnEvent")
	}
	c.Close()
	if err := c.Emit("late"); !errors.Is(err, signalingtest.ErrClosed) {
		t.Fatalf("emit after Close: %v", err)
	}
	if !errors.Is(c.Conn().Err(), signalingtest.ErrClosed) {
		t.Fatalf("conn error %v, want ErrClosed", c.Conn().Err())
	}
}

// waitFor polls cond, for state the server changes on its own goroutines
// with no event to wait on.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 5s")
		}
		time.Sleep(time.Millisecond)
	}
}
