package main

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// rawConn is one of the many load connections: a bare WebSocket that
// speaks just enough Engine.IO and Socket.IO to join rooms, broadcast with
// acks and count what it receives.
//
// It is not signalingtest.Client on purpose. Thousands of these receive
// every broadcast, and the load tool shares the machine's cores with the
// hub it measures: signalingtest validates and splits every packet and
// decodes the event name (BenchmarkReceive: several times the CPU per
// delivery of the prefix check here), which would make noom-load, not the
// hub, the bottleneck of the broadcast phases. The connections whose
// behaviour is measured one by one (the relay pairs, in the probe process)
// use signalingtest.
type rawConn struct {
	ws      *websocket.Conn
	sid     string
	wmu     sync.Mutex
	acks    chan struct{} // one per ack received; read by whoever waits for acks
	closing atomic.Bool
}

// sink receives what the raw connections count during a phase.
type sink struct {
	deliveries atomic.Int64 // bcast events received
	lat        hist         // sender's clock → receiver
}

var (
	currentSink  atomic.Pointer[sink] // nil between phases
	serverClosed atomic.Int64         // raw connections the hub closed
)

// dialAll opens n connections with the given number of concurrent dialers.
// Connection i goes to bases[i % len(bases)].
func dialAll(ctx context.Context, bases []string, n, dialers int) ([]*rawConn, time.Duration, error) {
	us := make([]string, len(bases))
	for i, base := range bases {
		us[i] = "ws" + strings.TrimPrefix(base, "http") + "/socket.io/?EIO=4&transport=websocket"
	}
	out := make([]*rawConn, n)
	var next atomic.Int64
	var firstErr error
	var emu sync.Mutex
	d := &websocket.Dialer{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 1024}
	start := time.Now()
	var wg sync.WaitGroup
	for range dialers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				c, err := dialRaw(ctx, d, us[i%len(us)])
				if err != nil {
					emu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("connection %d: %w", i, err)
					}
					emu.Unlock()
					return
				}
				out[i] = c
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	conns := slices.DeleteFunc(out, func(c *rawConn) bool { return c == nil })
	return conns, elapsed, firstErr
}

func dialRaw(ctx context.Context, d *websocket.Dialer, u string) (*rawConn, error) {
	ws, _, err := d.DialContext(ctx, u, nil)
	if err != nil {
		return nil, err
	}
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, m, err := ws.ReadMessage(); err != nil || len(m) == 0 || m[0] != '0' {
		ws.Close()
		return nil, fmt.Errorf("no open packet: %v", err)
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte("40")); err != nil {
		ws.Close()
		return nil, err
	}
	_, m, err := ws.ReadMessage()
	if err != nil || !strings.HasPrefix(string(m), `40{"sid":"`) {
		ws.Close()
		return nil, fmt.Errorf("no connect reply: %q %v", m, err)
	}
	ws.SetReadDeadline(time.Time{})
	c := &rawConn{ws: ws, sid: strings.TrimSuffix(strings.TrimPrefix(string(m), `40{"sid":"`), `"}`), acks: make(chan struct{}, 64)}
	go c.read()
	return c, nil
}

func (c *rawConn) close() {
	c.closing.Store(true)
	c.ws.Close()
}

// emit sends 42[args] (no ack) or 42<id>[args] (with an ack; the id is
// not tracked: acks are counted on c.acks).
func (c *rawConn) emit(withAck bool, args string) error {
	b := make([]byte, 0, 4+len(args))
	b = append(b, "42"...)
	if withAck {
		b = append(b, '0')
	}
	b = append(b, '[')
	b = append(b, args...)
	b = append(b, ']')
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.ws.WriteMessage(websocket.TextMessage, b)
}

var (
	prefixBcast = []byte(`42["bcast",`)
	prefixAck   = []byte(`43`)
	payloadT    = []byte(`{"t":`)
)

func (c *rawConn) read() {
	for {
		_, m, err := c.ws.ReadMessage()
		if err != nil {
			if !c.closing.Load() {
				serverClosed.Add(1)
			}
			return
		}
		switch {
		case len(m) == 1 && m[0] == '2':
			c.wmu.Lock()
			c.ws.WriteMessage(websocket.TextMessage, []byte("3"))
			c.wmu.Unlock()
		case bytes.HasPrefix(m, prefixBcast):
			if s := currentSink.Load(); s != nil {
				s.deliveries.Add(1)
				if t := sentAt(m); t > 0 {
					s.lat.add(time.Since(time.Unix(0, t)))
				}
			}
		case bytes.HasPrefix(m, prefixSignal):
			c.bounce(m)
		case bytes.HasPrefix(m, prefixAck):
			select {
			case c.acks <- struct{}{}:
			default: // nobody waits for acks: drop the count
			}
		}
	}
}

// sentAt reads the sender's clock out of the first harness payload
// {"t":<ns>,...} in a message; 0 if there is none.
func sentAt(m []byte) int64 {
	i := bytes.Index(m, payloadT)
	if i < 0 {
		return 0
	}
	m = m[i+len(payloadT):]
	j := 0
	for j < len(m) && m[j] >= '0' && m[j] <= '9' {
		j++
	}
	t, _ := strconv.ParseInt(string(m[:j]), 10, 64)
	return t
}

// payload is a harness payload: the sender's clock, a kind, and padding.
func payload(kind int, pad string) string {
	return `{"t":` + strconv.FormatInt(time.Now().UnixNano(), 10) + `,"k":` + strconv.Itoa(kind) + `,"p":"` + pad + `"}`
}

// joinRooms puts members[i] of each room into it and waits for every ack.
func joinRooms(rooms [][]*rawConn, timeout time.Duration) error {
	for i, members := range rooms {
		for _, c := range members {
			if err := c.emit(true, fmt.Sprintf(`"join","room-%d"`, i)); err != nil {
				return err
			}
		}
	}
	deadline := time.After(timeout)
	for _, members := range rooms {
		for _, c := range members {
			select {
			case <-c.acks:
			case <-deadline:
				return fmt.Errorf("joins were not acknowledged within %v", timeout)
			}
		}
	}
	return nil
}
