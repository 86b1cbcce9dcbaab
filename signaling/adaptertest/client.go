package adaptertest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/noomrtc/noom/signaling/socketio"
)

// client is a Socket.IO client of the main namespace over WebSocket that
// records the events it gets and answers every event that asks for an ack
// with its socket id, unless it was made silent.
type client struct {
	t      testing.TB
	node   int // index of the node it is connected to
	id     string
	conn   *websocket.Conn
	silent bool // never acks

	wmu sync.Mutex // serializes writes

	mu     sync.Mutex
	got    []string // "event arg0" of each event, in order
	acks   map[int64]chan json.RawMessage
	nextID int64
	gone   bool // the server disconnected the socket
	change chan struct{}
}

func dial(t testing.TB, base string, node int, silent bool) *client {
	t.Helper()
	u := "ws" + strings.TrimPrefix(base, "http") + "/socket.io/?EIO=4&transport=websocket"
	conn, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &client{t: t, node: node, conn: conn, silent: silent, acks: map[int64]chan json.RawMessage{},
		change: make(chan struct{}, 1)}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, m, err := conn.ReadMessage(); err != nil || len(m) == 0 || m[0] != '0' {
		t.Fatalf("open: %q %v", m, err)
	}
	c.write("40")
	for c.id == "" {
		_, m, err := conn.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if rest, ok := strings.CutPrefix(string(m), `40{"sid":"`); ok {
			c.id = strings.TrimSuffix(rest, `"}`)
		}
	}
	conn.SetReadDeadline(time.Time{})
	go c.read()
	return c
}

func (c *client) write(s string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.conn.WriteMessage(websocket.TextMessage, []byte(s))
}

func (c *client) read() {
	for {
		_, m, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		switch {
		case string(m) == "2":
			c.write("3")
			continue
		case len(m) < 2 || m[0] != '4':
			continue
		}
		p, err := socketio.Decode(m[1:])
		if err != nil {
			continue
		}
		switch p.Type {
		case socketio.Event:
			elems, err := socketio.SplitArray(p.Data)
			if err != nil || len(elems) == 0 {
				continue
			}
			var name string
			json.Unmarshal(elems[0], &name)
			rec := name
			if len(elems) > 1 {
				rec += " " + string(elems[1])
			}
			c.mu.Lock()
			c.got = append(c.got, rec)
			c.mu.Unlock()
			c.changed()
			if p.ID != socketio.NoID && !c.silent {
				c.write(fmt.Sprintf(`43%d[%q]`, p.ID, c.id))
			}
		case socketio.Ack:
			elems, _ := socketio.SplitArray(p.Data)
			c.mu.Lock()
			ch := c.acks[p.ID]
			delete(c.acks, p.ID)
			c.mu.Unlock()
			if ch != nil && len(elems) > 0 {
				ch <- elems[0]
			}
		case socketio.Disconnect:
			c.mu.Lock()
			c.gone = true
			c.mu.Unlock()
			c.changed()
		}
	}
}

func (c *client) changed() {
	select {
	case c.change <- struct{}{}:
	default:
	}
}

// call emits an event with an ack and waits for the answer.
func (c *client) call(event string, args ...string) {
	c.t.Helper()
	c.mu.Lock()
	id := c.nextID
	c.nextID++
	ch := make(chan json.RawMessage, 1)
	c.acks[id] = ch
	c.mu.Unlock()
	b, _ := json.Marshal(append([]string{event}, args...))
	c.write(fmt.Sprintf("42%d%s", id, b))
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		c.t.Fatalf("%s: no answer to %s", c.id, event)
	}
}

// until waits until the client has received the event "event arg", and
// returns what it received before it, which it forgets.
func (c *client) until(rec string) []string {
	c.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		c.mu.Lock()
		for i, g := range c.got {
			if g == rec {
				before := append([]string(nil), c.got[:i]...)
				c.got = c.got[i+1:]
				c.mu.Unlock()
				return before
			}
		}
		c.mu.Unlock()
		select {
		case <-c.change:
		case <-deadline:
			c.mu.Lock()
			defer c.mu.Unlock()
			c.t.Fatalf("client %s on node %d: no %q; got %q", c.id, c.node, rec, c.got)
		}
	}
}

// disconnected waits until the server disconnects the socket.
func (c *client) disconnected(ctx context.Context) bool {
	for {
		c.mu.Lock()
		gone := c.gone
		c.mu.Unlock()
		if gone {
			return true
		}
		select {
		case <-c.change:
		case <-ctx.Done():
			return false
		}
	}
}
