package signalingtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/gorilla/websocket"
	"github.com/noomrtc/noom/signaling/engineio"
)

// transport is the connection's current way to the server. write and
// close are called with Conn.wmu held; close ends the transport and makes
// its reader return.
type transport interface {
	name() string
	write(pkts []engineio.Packet) error
	close()
}

// writeTimeout bounds one write, so a test against a server that stopped
// reading fails instead of hanging.
const writeTimeout = 10 * time.Second

type wsTransport struct{ ws *websocket.Conn }

func (t *wsTransport) name() string { return "websocket" }

func (t *wsTransport) write(pkts []engineio.Packet) error {
	t.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	for _, p := range pkts {
		var err error
		if p.Binary {
			err = t.ws.WriteMessage(websocket.BinaryMessage, p.Data)
		} else {
			err = t.ws.WriteMessage(websocket.TextMessage, engineio.AppendText(nil, p))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (t *wsTransport) close() { t.ws.Close() }

func (c *Conn) dialWebSocket(ctx context.Context, base, sid string) (*websocket.Conn, error) {
	u, err := endpoint(base, &c.opts, "ws", "websocket", sid)
	if err != nil {
		return nil, err
	}
	d := c.opts.Dialer
	if d == nil {
		d = websocket.DefaultDialer
	}
	ws, _, err := d.DialContext(ctx, u, c.opts.Header)
	if err != nil {
		return nil, fmt.Errorf("signalingtest: dial %s: %w", u, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		ws.SetReadDeadline(dl)
	}
	return ws, nil
}

// openWebSocket opens a connection with a WebSocket from the start.
func (c *Conn) openWebSocket(ctx context.Context, base string) (func() error, error) {
	ws, err := c.dialWebSocket(ctx, base, "")
	if err != nil {
		return nil, err
	}
	_, msg, err := ws.ReadMessage()
	if err == nil {
		var p engineio.Packet
		if p, err = engineio.DecodeText(msg); err == nil {
			c.hs, err = parseOpen(p)
		}
	}
	if err != nil {
		ws.Close()
		return nil, fmt.Errorf("signalingtest: open: %w", err)
	}
	ws.SetReadDeadline(time.Time{})
	c.tr = &wsTransport{ws}
	return func() error { return c.readWebSocket(ws) }, nil
}

func (c *Conn) readWebSocket(ws *websocket.Conn) error {
	for {
		typ, msg, err := ws.ReadMessage()
		if err != nil {
			return err
		}
		var p engineio.Packet
		if typ == websocket.BinaryMessage {
			p = engineio.DecodeBinary(msg)
		} else if p, err = engineio.DecodeText(msg); err != nil {
			return fmt.Errorf("%w: %v", ErrProtocol, err)
		}
		if err := c.handle(p); err != nil {
			return err
		}
	}
}

// pollTransport is HTTP long-polling: one GET at a time on the reading
// goroutine, and one POST per write.
type pollTransport struct {
	client *http.Client
	own    bool // client is ours: close its idle connections
	url    string
	header http.Header
	ctx    context.Context // ends every request when the transport closes
	cancel context.CancelFunc

	// The upgrade: closing pause asks the reader to stop polling; it closes
	// paused when it has, and continues with what resume gives it (nil:
	// the upgrade failed).
	pause, paused chan struct{}
	resume        chan func() error
}

func (t *pollTransport) name() string { return "polling" }

func (t *pollTransport) do(method string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(t.ctx, method, t.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, v := range t.header {
		req.Header[k] = v
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: polling %s: %s: %s", ErrServerClosed, method, resp.Status, bytes.TrimSpace(b))
	}
	return b, nil
}

func (t *pollTransport) write(pkts []engineio.Packet) error {
	_, err := t.do(http.MethodPost, engineio.AppendPayload(nil, pkts))
	return err
}

func (t *pollTransport) close() {
	t.cancel()
	if t.own {
		t.client.CloseIdleConnections()
	}
}

// openPolling opens a connection with long-polling.
func (c *Conn) openPolling(ctx context.Context, base string) (func() error, error) {
	u, err := endpoint(base, &c.opts, "http", "polling", "")
	if err != nil {
		return nil, err
	}
	t := &pollTransport{client: c.opts.HTTPClient, header: c.opts.Header,
		pause: make(chan struct{}), paused: make(chan struct{}), resume: make(chan func() error, 1)}
	if t.client == nil {
		t.client = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
		t.own = true
	}
	t.ctx, t.cancel = context.WithCancel(context.Background())
	stop := context.AfterFunc(ctx, t.cancel) // the handshake obeys ctx
	t.url = u
	body, err := t.do(http.MethodGet, nil)
	if stop() && err == nil {
		err = c.parsePollingOpen(body)
	} else if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		t.close()
		return nil, fmt.Errorf("signalingtest: open: %w", err)
	}
	if t.url, err = endpoint(base, &c.opts, "http", "polling", c.hs.SID); err != nil {
		t.close()
		return nil, err
	}
	c.tr = t
	return func() error { return c.readPolling(t) }, nil
}

func (c *Conn) parsePollingOpen(body []byte) error {
	var pkts []engineio.Packet
	err := engineio.DecodePayload(body, func(p engineio.Packet) error {
		pkts = append(pkts, p)
		return nil
	})
	if err != nil || len(pkts) != 1 {
		return fmt.Errorf("%w: bad open payload %q", ErrProtocol, body)
	}
	c.hs, err = parseOpen(pkts[0])
	return err
}

func (c *Conn) readPolling(t *pollTransport) error {
	for {
		select {
		case <-t.pause:
			close(t.paused)
			next := <-t.resume
			if next == nil {
				return errors.New("signalingtest: the upgrade failed")
			}
			return next()
		default:
		}
		body, err := t.do(http.MethodGet, nil)
		if err != nil {
			return err
		}
		err = engineio.DecodePayload(body, c.handle)
		if err != nil {
			if errors.Is(err, engineio.ErrInvalidPayload) || errors.Is(err, engineio.ErrInvalidPacket) {
				err = fmt.Errorf("%w: %v", ErrProtocol, err)
			}
			return err
		}
	}
}

// upgrade moves a polling connection to WebSocket as socket.io-client
// does: probe the WebSocket (PING "probe", PONG "probe"), stop polling
// once the GET in flight returns (the server ends it with a NOOP), and
// send UPGRADE on the WebSocket, which carries everything from then on.
func (c *Conn) upgrade(ctx context.Context, base string) (err error) {
	t := c.tr.(*pollTransport)
	if !slices.Contains(c.hs.Upgrades, "websocket") {
		t.resume <- nil
		close(t.pause)
		return fmt.Errorf("signalingtest: the server offers no WebSocket upgrade (upgrades %q)", c.hs.Upgrades)
	}
	close(t.pause)
	var ws *websocket.Conn
	defer func() {
		if err != nil {
			t.resume <- nil
			if ws != nil {
				ws.Close()
			}
			err = fmt.Errorf("signalingtest: upgrade: %w", err)
		}
	}()
	if ws, err = c.dialWebSocket(ctx, base, c.hs.SID); err != nil {
		return err
	}
	if err = ws.WriteMessage(websocket.TextMessage, []byte("2probe")); err != nil {
		return err
	}
	_, msg, err := ws.ReadMessage()
	if err != nil {
		return err
	}
	if string(msg) != "3probe" {
		return fmt.Errorf("%w: probe answered with %q", ErrProtocol, msg)
	}
	select {
	case <-t.paused:
	case <-c.done:
		return c.err
	case <-ctx.Done():
		return ctx.Err()
	}
	c.wmu.Lock()
	if err = ws.WriteMessage(websocket.TextMessage, []byte("5")); err != nil {
		c.wmu.Unlock()
		return err
	}
	ws.SetReadDeadline(time.Time{})
	c.tr = &wsTransport{ws}
	t.close()
	c.wmu.Unlock()
	t.resume <- func() error { return c.readWebSocket(ws) }
	return nil
}
