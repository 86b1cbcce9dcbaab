// Command conformance serves the configuration that the official Engine.IO
// and Socket.IO protocol test suites (test-suite/ in socketio/engine.io-protocol
// and socketio/socket.io-protocol) expect on localhost:3000:
//
//   - /engine.io/: the Engine.IO transport alone (engineio.Server), echoing;
//   - /socket.io/: Socket.IO where "/" and "/custom" emit "auth" with the
//     handshake's auth payload, "message" answers "message-back" with the
//     same arguments, "message-with-ack" acks them, and any other namespace
//     is refused with {"message":"Invalid namespace"}.
//
// Both with pingInterval 300ms, pingTimeout 200ms, maxPayload 1,000,000
// and connectTimeout 1s. Packets are flushed one by one, as the suites
// assume that each arrives in a read of its own.
package main

import (
	"context"
	"flag"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/noomrtc/noom/signaling/engineio"
	"github.com/noomrtc/noom/signaling/internal/testknobs"

	"github.com/noomrtc/noom/signaling"
	"github.com/prometheus/client_golang/prometheus"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3000", "listen address")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *addr); err != nil {
		slog.Error("conformance", "err", err)
		os.Exit(1)
	}
}

func config(path string) signaling.Config {
	return signaling.Config{
		Path:           path,
		PingInterval:   300 * time.Millisecond,
		PingTimeout:    200 * time.Millisecond,
		ConnectTimeout: time.Second,
		MaxPayload:     1_000_000,
		AllowedOrigins: []string{"*"},
	}
}

func run(ctx context.Context, addr string) error {
	// The suites read one message per network read; the Engine.IO suite
	// talks to bare Engine.IO, which echoes.
	gap := 20 * time.Millisecond
	testknobs.Set("/engine.io/", testknobs.Knobs{PacketGap: gap})
	testknobs.Set("/socket.io/", testknobs.Knobs{PacketGap: gap})
	c := config("/engine.io/")
	eio, err := engineio.NewServer(engineio.Config{Path: c.Path, PingInterval: c.PingInterval, PingTimeout: c.PingTimeout,
		MaxPayload: c.MaxPayload, AllowedOrigins: c.AllowedOrigins}, echo{}, prometheus.NewRegistry())
	if err != nil {
		return err
	}
	sio, err := signaling.New(config("/socket.io/"), prometheus.NewRegistry())
	if err != nil {
		return err
	}
	onConnection := func(s *signaling.Socket) {
		s.Emit("auth", s.Handshake().Auth)
		s.On("message", func(args []any, _ signaling.Ack) { s.Emit("message-back", args...) })
		s.On("message-with-ack", func(args []any, ack signaling.Ack) { ack(args...) })
	}
	sio.OnConnection(onConnection)
	sio.Of("/custom").OnConnection(onConnection)

	mux := http.NewServeMux()
	mux.Handle("/engine.io/", eio)
	mux.Handle("/socket.io/", sio)
	hs := &http.Server{Addr: addr, Handler: mux}
	errc := make(chan error, 1)
	go func() { errc <- hs.ListenAndServe() }()
	slog.Info("conformance server", "addr", addr)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	eio.Shutdown(sctx)
	sio.Shutdown(sctx)
	return hs.Shutdown(sctx)
}

// echo is the Engine.IO suite's application: every message comes back.
type echo struct{}

func (echo) Open(c *engineio.Conn, _ *http.Request) engineio.ConnHandler {
	c.Ready() // bare Engine.IO: no namespace to join
	return echoConn{c}
}

type echoConn struct{ c *engineio.Conn }

func (e echoConn) OnMessage(data []byte, binary bool) error {
	if binary {
		e.c.Send(engineio.BinaryFrame(data))
	} else {
		e.c.Send(engineio.TextFrame(append([]byte{'4'}, data...)))
	}
	return nil
}

func (echoConn) OnUpgrade(from, to string)       {}
func (echoConn) OnDrop(reason string, bytes int) {}
func (echoConn) OnShutdown()                     {}
func (echoConn) OnClose(reason string)           {}
