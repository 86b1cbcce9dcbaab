package main

// The bridge between the admin console and the hub, TURN and the call
// service: admin defines small interfaces (package admin/source) and this
// file implements them with today's public APIs. It is the one place to
// switch when the hub grows cheaper reads (Server.Stats, Namespaces,
// paginated ListRooms/ListSockets): see the "cheap read" comments.

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/noomrtc/noom/admin"
	"github.com/noomrtc/noom/admin/sioadmin"
	"github.com/noomrtc/noom/admin/source"
	"github.com/noomrtc/noom/signaling"
	"github.com/noomrtc/noom/signaling/call"
	"github.com/noomrtc/noom/stunturn"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"
)

// startAdmin makes the console, or returns nil when --admin=false. When no
// password was configured it makes a random one and returns it, to be
// printed once.
func startAdmin(o *options, hub *signaling.Server, turn *stunturn.Server, calls *call.Service,
	reg *prometheus.Registry, log *slog.Logger) (c *admin.Console, password string, err error) {
	if !o.Admin {
		return nil, "", nil
	}
	hash, password, err := adminPasswordHash(o)
	if err != nil {
		return nil, "", err
	}
	b := newHubBridge(hub, o.AdminShowPayloads)
	cfg := admin.Config{
		Hub: b, Actions: b, User: o.AdminUser, PasswordHash: hash,
		ReadOnly: o.AdminReadOnly, ShowPayloads: o.AdminShowPayloads, Version: buildVersion(),
		ClientIP: clientIP(o.TrustedProxies), IsHTTPS: isHTTPS(o.TrustedProxies),
		Logger: log.With("component", "admin"),
	}
	if turn != nil {
		cfg.TURN = turnBridge{turn}
	}
	if calls != nil {
		cfg.Calls = callsBridge{svc: calls, hub: b}
	}
	c, err = admin.New(cfg, reg)
	if err != nil {
		b.close()
		return nil, "", err
	}
	return c, password, nil
}

// adminPasswordHash reads --admin-password-hash or --admin-password-file
// (a bcrypt hash, or a password that is hashed here), or makes a random
// password.
func adminPasswordHash(o *options) (hash []byte, generated string, err error) {
	switch {
	case o.AdminPasswordHash != "":
		return []byte(o.AdminPasswordHash), "", nil
	case o.AdminPasswordFile != "":
		b, err := os.ReadFile(o.AdminPasswordFile)
		if err != nil {
			return nil, "", fmt.Errorf("--admin-password-file: %w", err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		line = strings.TrimSpace(line)
		if line == "" {
			return nil, "", fmt.Errorf("--admin-password-file %s is empty", o.AdminPasswordFile)
		}
		if _, err := bcrypt.Cost([]byte(line)); err == nil {
			return []byte(line), "", nil
		}
		h, err := bcrypt.GenerateFromPassword([]byte(line), bcrypt.DefaultCost)
		return h, "", err
	}
	raw := make([]byte, 15)
	rand.Read(raw)
	generated = base64.RawURLEncoding.EncodeToString(raw)
	h, err := bcrypt.GenerateFromPassword([]byte(generated), bcrypt.DefaultCost)
	return h, generated, err
}

// serveAdmin serves the console on its own listener (--admin-addr).
func serveAdmin(addr string, c *admin.Console, log *slog.Logger, errc chan<- error) (*http.Server, string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("--admin-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/admin/", c)
	mux.Handle("/admin", c)
	mux.Handle("/{$}", http.RedirectHandler("/admin/", http.StatusSeeOther))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() { errc <- srv.Serve(ln) }()
	return srv, ln.Addr().String(), nil
}

func printAdminBanner(w io.Writer, o *options, addr, password string) {
	if !o.Admin {
		return
	}
	mode := ""
	if o.AdminReadOnly {
		mode = " (read-only)"
	}
	fmt.Fprintf(w, "  Admin:        http://%s/admin/%s\n", displayAddr(addr), mode)
	if password != "" {
		fmt.Fprintf(w, "                user %q, password %s (random, shown once: set --admin-password-hash to keep one)\n", o.AdminUser, password)
	}
}

func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
	}
	return v
}

// isHTTPS tells whether the browser used https: TLS here, or a trusted
// proxy's X-Forwarded-Proto.
func isHTTPS(trusted []string) func(*http.Request) bool {
	var prefixes []netip.Prefix
	for _, t := range trusted {
		prefixes = append(prefixes, netip.MustParsePrefix(t))
	}
	return func(r *http.Request) bool {
		if r.TLS != nil {
			return true
		}
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		ip, err := netip.ParseAddr(host)
		if err != nil {
			return false
		}
		for _, p := range prefixes {
			if p.Contains(ip.Unmap()) {
				return strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
			}
		}
		return false
	}
}

// hubBridge implements source.Hub and source.Actions over the hub's public
// API. It keeps a small index of what the hub does not track per socket
// (the call app's nickname, packet and byte counters), fed by its
// observer; address, transport and connect time come from the hub.
type hubBridge struct {
	hub          *signaling.Server
	showPayloads bool
	sink         atomic.Pointer[func(source.Event)]
	remove       func()

	mu sync.RWMutex
	// mu guards the following field.
	socks map[sockKey]*sockMeta
}

type sockKey struct{ nsp, sid string }

type sockMeta struct {
	name atomic.Pointer[string]

	packetsIn, bytesIn, packetsOut, bytesOut atomic.Uint64
}

func newHubBridge(hub *signaling.Server, showPayloads bool) *hubBridge {
	b := &hubBridge{hub: hub, showPayloads: showPayloads, socks: map[sockKey]*sockMeta{}}
	b.remove = hub.Observe(signaling.Observer{Connect: b.onConnect, Disconnect: b.onDisconnect,
		Join:  func(e signaling.RoomEvent) { b.onRoom(source.KindJoin, e) },
		Leave: func(e signaling.RoomEvent) { b.onRoom(source.KindLeave, e) }, Event: b.onEvent})
	// The call app's nickname and, with payloads shown, incoming payloads
	// are read from the main namespace's events.
	hub.Of("/").OnConnection(func(s *signaling.Socket) { s.OnAny(func(ev string, args []any) { b.onAny(s, ev, args) }) })
	return b
}

func (b *hubBridge) close() { b.remove() }

func (b *hubBridge) emit(e source.Event) {
	if f := b.sink.Load(); f != nil {
		(*f)(e)
	}
}

func (b *hubBridge) meta(nsp, sid string) *sockMeta {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.socks[sockKey{nsp, sid}]
}

func (b *hubBridge) onConnect(e signaling.SocketEvent) {
	b.mu.Lock()
	b.socks[sockKey{e.Namespace, e.SID}] = &sockMeta{}
	b.mu.Unlock()
	b.emit(source.Event{Time: e.Time, Kind: source.KindConnect, Namespace: e.Namespace, SID: e.SID, Transport: e.Transport, Address: e.RemoteAddr})
}

func (b *hubBridge) onDisconnect(e signaling.SocketEvent) {
	b.mu.Lock()
	delete(b.socks, sockKey{e.Namespace, e.SID})
	b.mu.Unlock()
	b.emit(source.Event{Time: e.Time, Kind: source.KindDisconnect, Namespace: e.Namespace, SID: e.SID, Address: e.RemoteAddr, Reason: e.Reason})
}

func (b *hubBridge) onRoom(k source.EventKind, e signaling.RoomEvent) {
	b.emit(source.Event{Time: e.Time, Kind: k, Namespace: e.Namespace, SID: e.SID, Rooms: []string{e.Room}})
}

func (b *hubBridge) onEvent(e signaling.MessageEvent) {
	if e.Direction == signaling.In {
		if m := b.meta(e.Namespace, e.SID); m != nil {
			m.packetsIn.Add(1)
			m.bytesIn.Add(uint64(e.Bytes))
		}
		if b.showPayloads && e.Namespace == "/" {
			return // onAny reports it, with its payload
		}
		b.emit(source.Event{Time: time.Now(), Kind: source.KindIn, Namespace: e.Namespace, SID: e.SID, Event: e.Event, Bytes: e.Bytes})
		return
	}
	ev := source.Event{Time: time.Now(), Kind: source.KindOut, Namespace: e.Namespace, SID: e.SID, Event: e.Event,
		Recipients: e.Recipients, Bytes: e.Bytes}
	if len(e.Rooms) == 1 && len(e.Except) == 0 && b.hub.Of(e.Namespace).Socket(e.Rooms[0]) != nil {
		ev.SID = e.Rooms[0] // to one socket through its own room
	} else if len(e.Rooms) > 0 {
		ev.Rooms = slices.Clone(e.Rooms)
	}
	if ev.SID != "" {
		if m := b.meta(e.Namespace, ev.SID); m != nil {
			m.packetsOut.Add(1)
			m.bytesOut.Add(uint64(e.Bytes))
		}
	}
	b.emit(ev)
}

// onAny runs on the reading goroutine of a main-namespace socket.
func (b *hubBridge) onAny(s *signaling.Socket, event string, args []any) {
	if event == "join" && len(args) > 0 {
		if raw, ok := args[0].(json.RawMessage); ok {
			var req struct{ Name string }
			if json.Unmarshal(raw, &req) == nil && req.Name != "" {
				if m := b.meta("/", s.ID()); m != nil {
					m.name.Store(&req.Name)
				}
			}
		}
	}
	if !b.showPayloads {
		return
	}
	payload, _ := json.Marshal(args)
	b.emit(source.Event{Time: time.Now(), Kind: source.KindIn, Namespace: "/", SID: s.ID(), Event: event,
		Bytes: len(payload), Payload: string(payload)})
}

// Observe implements source.Hub: one sink, the console.
func (b *hubBridge) Observe(f func(source.Event)) func() {
	b.sink.Store(&f)
	return func() { b.sink.Store(nil) }
}

// Stats implements source.Hub from the hub's own counts: atomics and
// O(namespaces).
func (b *hubBridge) Stats() source.HubStats {
	st := b.hub.Stats()
	out := source.HubStats{
		Polling: st.Polling, WebSocket: st.WebSocket, Namespaces: len(st.Namespaces),
		EventsIn: st.PacketsIn, EventsOut: st.PacketsOut, BytesIn: st.BytesIn, BytesOut: st.BytesOut,
		SlowConsumers: st.SlowConsumers,
	}
	for _, n := range st.Namespaces {
		out.Sockets += n.Sockets
		out.PublicRooms += n.Rooms
	}
	return out
}

// namespace returns a namespace, never creating one.
func (b *hubBridge) namespace(name string) *signaling.Namespace { return b.hub.Lookup(name) }

// Namespaces implements source.Hub.
func (b *hubBridge) Namespaces() []source.Namespace {
	var out []source.Namespace
	for _, n := range b.hub.Namespaces() {
		if n.Name() == "" {
			continue // a parent of dynamic namespaces
		}
		out = append(out, source.Namespace{Name: n.Name(), Sockets: n.Len()})
	}
	return out
}

// eachSocket calls fn for every socket of n selected by q, page by page:
// no lock is held for more than one page.
func eachSocket(n *signaling.Namespace, q signaling.SocketQuery, fn func(signaling.SocketView)) {
	q.Limit = signaling.MaxPageSize
	for {
		p := n.ListSockets(q)
		for _, v := range p.Items {
			fn(v)
		}
		if p.Next == "" {
			return
		}
		q.Cursor = p.Next
	}
}

// Rooms implements source.Hub: the public rooms page by page, then the
// sockets' own rooms.
func (b *hubBridge) Rooms(nsp string) ([]source.Room, bool) {
	n := b.namespace(nsp)
	if n == nil {
		return nil, false
	}
	var out []source.Room
	q := signaling.RoomQuery{Limit: signaling.MaxPageSize}
	for {
		p := n.ListRooms(q)
		for _, r := range p.Items {
			out = append(out, source.Room{Name: r.Name, Size: r.Size})
		}
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	eachSocket(n, signaling.SocketQuery{}, func(v signaling.SocketView) {
		out = append(out, source.Room{Name: v.ID, Size: 1, Private: true})
	})
	return out, true
}

// RoomMembers implements source.Hub.
func (b *hubBridge) RoomMembers(nsp, room string) ([]string, bool) {
	n := b.namespace(nsp)
	if n == nil || n.RoomSize(room) == 0 {
		return nil, false
	}
	var ids []string
	eachSocket(n, signaling.SocketQuery{Room: room}, func(v signaling.SocketView) { ids = append(ids, v.ID) })
	return ids, len(ids) > 0
}

func (b *hubBridge) socketOf(n *signaling.Namespace, v signaling.SocketView, rooms []string) source.Socket {
	s := source.Socket{Namespace: n.Name(), SID: v.ID, Address: v.RemoteAddr, Transport: v.Transport, ConnectedAt: v.Connected,
		Rooms: slices.DeleteFunc(rooms, func(r string) bool { return r == v.ID })}
	if s.Rooms == nil {
		s.Rooms = []string{}
	}
	if m := b.meta(n.Name(), v.ID); m != nil {
		if p := m.name.Load(); p != nil {
			s.Name = *p
		}
		s.PacketsIn, s.BytesIn, s.PacketsOut, s.BytesOut = m.packetsIn.Load(), m.bytesIn.Load(), m.packetsOut.Load(), m.bytesOut.Load()
	}
	return s
}

// Sockets implements source.Hub, page by page.
func (b *hubBridge) Sockets(nsp string) ([]source.Socket, bool) {
	n := b.namespace(nsp)
	if n == nil {
		return nil, false
	}
	var out []source.Socket
	eachSocket(n, signaling.SocketQuery{}, func(v signaling.SocketView) {
		var rooms []string
		if s := n.Socket(v.ID); s != nil {
			rooms = s.Rooms()
		}
		out = append(out, b.socketOf(n, v, rooms))
	})
	return out, true
}

// Socket implements source.Hub.
func (b *hubBridge) Socket(nsp, sid string) (source.SocketDetail, bool) {
	n := b.namespace(nsp)
	if n == nil {
		return source.SocketDetail{}, false
	}
	s := n.Socket(sid)
	if s == nil {
		return source.SocketDetail{}, false
	}
	hs := s.Handshake()
	return source.SocketDetail{Socket: b.socketOf(n, s.View(), s.Rooms()), Headers: hs.Headers, Query: hs.Query,
		Auth: string(hs.Auth), Host: hs.Host, Secure: hs.Secure}, true
}

func (b *hubBridge) liveSocket(nsp, sid string) (*signaling.Socket, error) {
	if n := b.namespace(nsp); n != nil {
		if s := n.Socket(sid); s != nil {
			return s, nil
		}
	}
	return nil, &source.NotFound{What: "socket " + sid + " of " + nsp}
}

// DisconnectSocket implements source.Actions.
func (b *hubBridge) DisconnectSocket(nsp, sid string, client bool) error {
	s, err := b.liveSocket(nsp, sid)
	if err != nil {
		return err
	}
	s.Disconnect(client)
	return nil
}

// JoinRoom implements source.Actions.
func (b *hubBridge) JoinRoom(nsp, sid, room string) error {
	s, err := b.liveSocket(nsp, sid)
	if err != nil {
		return err
	}
	return s.Join(room)
}

// LeaveRoom implements source.Actions.
func (b *hubBridge) LeaveRoom(nsp, sid, room string) error {
	s, err := b.liveSocket(nsp, sid)
	if err != nil {
		return err
	}
	s.Leave(room)
	return nil
}

func (b *hubBridge) room(nsp, room string) (*signaling.Namespace, error) {
	if _, ok := b.RoomMembers(nsp, room); !ok {
		return nil, &source.NotFound{What: "room " + room + " of " + nsp}
	}
	return b.namespace(nsp), nil
}

// ClearRoom implements source.Actions.
func (b *hubBridge) ClearRoom(nsp, room string) error {
	n, err := b.room(nsp, room)
	if err != nil {
		return err
	}
	n.In(room).SocketsLeave(room)
	return nil
}

// DisconnectRoom implements source.Actions.
func (b *hubBridge) DisconnectRoom(nsp, room string) error {
	n, err := b.room(nsp, room)
	if err != nil {
		return err
	}
	n.In(room).DisconnectSockets(false)
	return nil
}

// turnBridge implements source.TURN.
type turnBridge struct{ s *stunturn.Server }

func (t turnBridge) Allocations() []source.Allocation {
	in := t.s.Allocations()
	out := make([]source.Allocation, len(in))
	for i, a := range in {
		perms := make([]string, len(a.Permissions))
		for j, p := range a.Permissions {
			perms[j] = p.String()
		}
		out[i] = source.Allocation{User: a.User, Transport: a.Transport, Client: a.Client.String(), Relay: a.Relay.String(),
			Created: a.Created, BytesToPeer: a.BytesToPeer, BytesToClient: a.BytesToClient,
			PacketsToPeer: a.PacketsToPeer, PacketsToClient: a.PacketsToClient, Permissions: perms, Channels: a.Channels}
	}
	return out
}

// callsBridge implements source.Calls: each report with the room the two
// peers share and their nicknames.
type callsBridge struct {
	svc *call.Service
	hub *hubBridge
}

func (c callsBridge) Reports() []source.CallReport {
	stats := c.svc.Stats()
	out := make([]source.CallReport, len(stats))
	main := c.hub.hub.Of("/")
	name := func(sid string) string {
		if m := c.hub.meta("/", sid); m != nil {
			if p := m.name.Load(); p != nil {
				return *p
			}
		}
		return ""
	}
	for i, st := range stats {
		r := source.CallReport{SID: st.SID, Name: name(st.SID), Peer: st.Peer, PeerName: name(st.Peer), State: st.State,
			CandidateType: st.CandidateType, Protocol: st.Protocol, RTTMs: st.RTTMs, BytesSent: st.BytesSent,
			BytesReceived: st.BytesReceived, Time: st.Time}
		if a, b := main.Socket(st.SID), main.Socket(st.Peer); a != nil && b != nil {
			peerRooms := b.Rooms()
			for _, room := range a.Rooms() {
				if room != st.SID && slices.Contains(peerRooms, room) {
					r.Room = room
					break
				}
			}
		}
		out[i] = r
	}
	return out
}

// startSocketIOAdmin adds the official Socket.IO Admin UI's namespace, with
// the console's credentials and throttle (or, with --admin=false, the same
// credentials and a throttle of its own).
func startSocketIOAdmin(o *options, hub *signaling.Server, console *admin.Console, reg prometheus.Registerer,
	log *slog.Logger, ipOf func(*http.Request) string) (*sioadmin.Admin, error) {
	cfg := sioadmin.Config{
		Namespace: o.AdminSocketIONamespace,
		Mode:      sioadmin.Mode(o.AdminSocketIOMode),
		ReadOnly:  o.AdminReadOnly,
		Insecure:  o.AdminSocketIOInsecure,
		ClientIP: func(h signaling.Handshake) string {
			return ipOf(&http.Request{RemoteAddr: h.RemoteAddr, Header: h.Headers})
		},
		Logger: log.With("component", "sioadmin"),
	}
	switch {
	case o.AdminSocketIOInsecure:
	case console != nil:
		cfg.Auth = console
	default:
		hash, generated, err := adminPasswordHash(o)
		if err != nil {
			return nil, err
		}
		if generated != "" {
			return nil, errors.New("with --admin=false, set --admin-password-hash or --admin-password-file")
		}
		b, err := sioadmin.NewBcrypt(o.AdminUser, hash, 5, time.Minute)
		if err != nil {
			return nil, err
		}
		cfg.Auth = b
	}
	return sioadmin.New(cfg, hub, reg)
}
