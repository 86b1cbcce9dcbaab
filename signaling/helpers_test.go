package signaling

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
)

// newTestServer starts a Server on a loopback httptest server and shuts both
// down at the end of the test.
func newTestServer(t *testing.T, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	srv, err := New(cfg, prometheus.NewRegistry())
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
	return srv, hs
}

// rawWS is a bare WebSocket client speaking Engine.IO by hand.
type rawWS struct {
	t    *testing.T
	conn *websocket.Conn
}

func dialWS(t *testing.T, hs *httptest.Server, query string) *rawWS {
	t.Helper()
	u := "ws" + strings.TrimPrefix(hs.URL, "http") + "/socket.io/?EIO=4&transport=websocket" + query
	conn, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rawWS{t: t, conn: conn}
}

func (c *rawWS) send(s string) {
	c.t.Helper()
	if err := c.conn.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

func (c *rawWS) sendBinary(b []byte) {
	c.t.Helper()
	if err := c.conn.WriteMessage(websocket.BinaryMessage, b); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// next returns the next message that is not a ping.
func (c *rawWS) next() (string, int) {
	c.t.Helper()
	for {
		c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		mt, b, err := c.conn.ReadMessage()
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		if mt == websocket.TextMessage && string(b) == "2" {
			continue
		}
		return string(b), mt
	}
}

func (c *rawWS) expect(want string) {
	c.t.Helper()
	if got, _ := c.next(); got != want {
		c.t.Fatalf("got %q, want %q", got, want)
	}
}

// expectPrefix returns the message after checking its prefix.
func (c *rawWS) expectPrefix(prefix string) string {
	c.t.Helper()
	got, _ := c.next()
	if !strings.HasPrefix(got, prefix) {
		c.t.Fatalf("got %q, want prefix %q", got, prefix)
	}
	return got
}

// expectClosed waits for the server to close the connection.
func (c *rawWS) expectClosed() {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, _, err := c.conn.ReadMessage(); err != nil {
			if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
				c.t.Fatal("connection still open")
			}
			return
		}
	}
}

// connectSIO opens a WebSocket session and connects to namespace nsp ("/"
// or "/name"), returning the socket id.
func connectSIO(t *testing.T, hs *httptest.Server, nsp string) (*rawWS, string) {
	c := dialWS(t, hs, "")
	c.expectPrefix("0{")
	prefix := "40"
	if nsp != "/" {
		prefix += nsp + ","
	}
	c.send(prefix)
	got := c.expectPrefix(prefix + `{"sid":"`)
	return c, strings.TrimSuffix(strings.TrimPrefix(got, prefix+`{"sid":"`), `"}`)
}
