package stunturn

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/stun/v3"
	"github.com/pion/turn/v4"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"
)

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

// testLogger writes to the test log when -v asks for it, else nowhere.
func testLogger(t testing.TB) *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// newTestServer starts a server on 127.0.0.1 with a fresh registry; the
// test fails if Close fails.
func newTestServer(t testing.TB, cfg Config) (*Server, *prometheus.Registry) {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Secret == nil {
		cfg.Secret = []byte("test secret")
	}
	if cfg.UDPReadWorkers == 0 {
		cfg.UDPReadWorkers = 1
	}
	reg := prometheus.NewRegistry()
	srv, err := New(cfg, reg, testLogger(t))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return srv, reg
}

// turnClient is a pion/turn client over UDP, TCP or TLS.
type turnClient struct {
	*turn.Client
	conn net.PacketConn
}

func dialTURN(t testing.TB, srv *Server, network, username, password string) *turnClient {
	t.Helper()
	var conn net.PacketConn
	var server string
	switch network {
	case "udp":
		server = srv.Addrs().UDP.String()
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		conn = c
	case "tcp":
		server = srv.Addrs().TCP.String()
		c, err := net.Dial("tcp", server)
		if err != nil {
			t.Fatal(err)
		}
		conn = turn.NewSTUNConn(c)
	default:
		t.Fatalf("network %q", network)
	}
	return newTURNClient(t, conn, server, username, password)
}

func newTURNClient(t testing.TB, conn net.PacketConn, server, username, password string) *turnClient {
	t.Helper()
	client, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: server,
		TURNServerAddr: server,
		Conn:           conn,
		Username:       username,
		Password:       password,
		RTO:            200 * time.Millisecond,
		LoggerFactory:  pionLoggerFactory{log: testLogger(t)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Listen(); err != nil {
		t.Fatal(err)
	}
	tc := &turnClient{Client: client, conn: conn}
	t.Cleanup(tc.close)
	return tc
}

// allocate allocates a UDP relay; the test's cleanup deallocates it.
func (c *turnClient) allocate(t testing.TB) net.PacketConn {
	t.Helper()
	relay, err := c.Allocate()
	if err != nil {
		t.Fatalf("allocate: %v", err)
	}
	r := &onceCloser{PacketConn: relay}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// onceCloser lets a test close a pion relay early: a second Close would
// send a second deallocation.
type onceCloser struct {
	net.PacketConn
	once sync.Once
	err  error
}

func (c *onceCloser) Close() error {
	c.once.Do(func() { c.err = c.PacketConn.Close() })
	return c.err
}

func (c *turnClient) close() {
	c.Client.Close()
	_ = c.conn.Close()
}

// echoPeer is a UDP peer on loopback that sends every datagram back.
type echoPeer struct {
	conn *net.UDPConn
	wg   sync.WaitGroup
}

func newEchoPeer(t testing.TB) *echoPeer {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	p := &echoPeer{conn: c}
	p.wg.Go(func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := c.ReadFromUDP(buf)
			if err != nil {
				return
			}
			_, _ = c.WriteToUDP(buf[:n], from)
		}
	})
	t.Cleanup(func() {
		_ = c.Close()
		p.wg.Wait()
	})
	return p
}

func (p *echoPeer) addr() *net.UDPAddr { return p.conn.LocalAddr().(*net.UDPAddr) }

// roundTrip sends payload through relay to peer and waits for it back.
func roundTrip(t testing.TB, relay net.PacketConn, peer net.Addr, payload []byte) {
	t.Helper()
	buf := make([]byte, 2048)
	for attempt := 0; attempt < 20; attempt++ {
		if _, err := relay.WriteTo(payload, peer); err != nil {
			t.Fatalf("relay write: %v", err)
		}
		_ = relay.SetReadDeadline(time.Now().Add(250 * time.Millisecond))
		n, from, err := relay.ReadFrom(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue // UDP: the first datagram may race the permission
			}
			t.Fatalf("relay read: %v", err)
		}
		if !bytes.Equal(buf[:n], payload) {
			t.Fatalf("relay read %q from %v, want %q", buf[:n], from, payload)
		}
		if from.String() != peer.String() {
			t.Fatalf("relay read from %v, want %v", from, peer)
		}
		return
	}
	t.Fatalf("no echo through the relay from %v", peer)
}

// eventually polls cond until it holds or a few seconds passed.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// rawClient speaks STUN messages built by the test, to see exact answers.
type rawClient struct {
	t      testing.TB
	conn   net.Conn
	stream bool
}

func dialRaw(t testing.TB, network, addr string) *rawClient {
	t.Helper()
	c, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &rawClient{t: t, conn: c, stream: network == "tcp"}
}

// do sends m and returns the response with m's transaction ID.
func (c *rawClient) do(m *stun.Message) *stun.Message {
	c.t.Helper()
	for attempt := 0; attempt < 5; attempt++ {
		if _, err := c.conn.Write(m.Raw); err != nil {
			c.t.Fatal(err)
		}
		deadline := time.Now().Add(500 * time.Millisecond)
		for {
			res, err := c.read(deadline)
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() && !c.stream {
					break // retransmit
				}
				c.t.Fatalf("reading the answer to %v: %v", m.Type, err)
			}
			if res.TransactionID == m.TransactionID {
				return res
			}
		}
	}
	c.t.Fatalf("no answer to %v", m.Type)
	return nil
}

func (c *rawClient) read(deadline time.Time) (*stun.Message, error) {
	_ = c.conn.SetReadDeadline(deadline)
	var raw []byte
	if c.stream {
		head := make([]byte, 20)
		if _, err := io.ReadFull(c.conn, head); err != nil {
			return nil, err
		}
		body := make([]byte, int(head[2])<<8|int(head[3]))
		if _, err := io.ReadFull(c.conn, body); err != nil {
			return nil, err
		}
		raw = append(head, body...)
	} else {
		buf := make([]byte, 1600)
		n, err := c.conn.Read(buf)
		if err != nil {
			return nil, err
		}
		raw = buf[:n]
	}
	m := new(stun.Message)
	if err := stun.Decode(raw, m); err != nil {
		return nil, err
	}
	return m, nil
}

// session is an authenticated raw TURN conversation: it learned the nonce
// and realm from a 401 and signs every request.
type session struct {
	*rawClient
	username, password string
	realm, nonce       string
}

func newSession(c *rawClient, username, password string) *session {
	c.t.Helper()
	s := &session{rawClient: c, username: username, password: password}
	res := c.do(mustBuild(c.t, stun.TransactionID, stun.NewType(stun.MethodAllocate, stun.ClassRequest), requestedTransport(protoUDP)))
	wantCode(c.t, res, stun.CodeUnauthorized)
	var realm stun.Realm
	var nonce stun.Nonce
	if realm.GetFrom(res) != nil || nonce.GetFrom(res) != nil {
		c.t.Fatalf("401 without REALM and NONCE: %v", res)
	}
	s.realm, s.nonce = realm.String(), nonce.String()
	return s
}

// request signs and sends a request of method with attrs.
func (s *session) request(method stun.Method, attrs ...stun.Setter) *stun.Message {
	s.t.Helper()
	return s.do(s.build(method, attrs...))
}

func (s *session) build(method stun.Method, attrs ...stun.Setter) *stun.Message {
	s.t.Helper()
	setters := []stun.Setter{stun.TransactionID, stun.NewType(method, stun.ClassRequest)}
	setters = append(setters, attrs...)
	setters = append(setters,
		stun.NewUsername(s.username), stun.NewRealm(s.realm), stun.NewNonce(s.nonce),
		stun.NewLongTermIntegrity(s.username, s.realm, s.password), stun.Fingerprint)
	return mustBuild(s.t, setters...)
}

func (s *session) allocate(attrs ...stun.Setter) *stun.Message {
	s.t.Helper()
	return s.request(stun.MethodAllocate, append([]stun.Setter{requestedTransport(protoUDP)}, attrs...)...)
}

func mustBuild(t testing.TB, setters ...stun.Setter) *stun.Message {
	t.Helper()
	m, err := stun.Build(setters...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

type rawAttr struct {
	typ stun.AttrType
	val []byte
}

func (a rawAttr) AddTo(m *stun.Message) error {
	m.Add(a.typ, a.val)
	return nil
}

func requestedTransport(proto byte) stun.Setter {
	return rawAttr{stun.AttrRequestedTransport, []byte{proto, 0, 0, 0}}
}

func peerAddress(ip string, port int) stun.Setter {
	return peerAttr{stun.XORMappedAddress{IP: net.ParseIP(ip), Port: port}}
}

type peerAttr struct{ a stun.XORMappedAddress }

func (p peerAttr) AddTo(m *stun.Message) error { return p.a.AddToAs(m, stun.AttrXORPeerAddress) }

func channelNumber(n uint16) stun.Setter {
	return rawAttr{stun.AttrChannelNumber, []byte{byte(n >> 8), byte(n), 0, 0}}
}

func lifetime(d time.Duration) stun.Setter {
	s := uint32(d / time.Second)
	return rawAttr{stun.AttrLifetime, []byte{byte(s >> 24), byte(s >> 16), byte(s >> 8), byte(s)}}
}

func wantCode(t testing.TB, m *stun.Message, code stun.ErrorCode) {
	t.Helper()
	if m.Type.Class != stun.ClassErrorResponse {
		t.Fatalf("got %v, want error %d", m.Type, code)
	}
	var ec stun.ErrorCodeAttribute
	if err := ec.GetFrom(m); err != nil {
		t.Fatalf("%v without ERROR-CODE (want %d)", m.Type, code)
	}
	if ec.Code != code {
		t.Fatalf("got error %d %s, want %d", ec.Code, ec.Reason, code)
	}
}

func wantSuccess(t testing.TB, m *stun.Message) {
	t.Helper()
	if m.Type.Class != stun.ClassSuccessResponse {
		var ec stun.ErrorCodeAttribute
		_ = ec.GetFrom(m)
		t.Fatalf("got %v (%d %s), want success", m.Type, ec.Code, ec.Reason)
	}
}

func relayedAddress(t testing.TB, m *stun.Message) netip.AddrPort {
	t.Helper()
	var a stun.XORMappedAddress
	if err := a.GetFromAs(m, stun.AttrXORRelayedAddress); err != nil {
		t.Fatalf("no XOR-RELAYED-ADDRESS: %v", err)
	}
	ip, _ := netip.AddrFromSlice(a.IP)
	return netip.AddrPortFrom(ip.Unmap(), uint16(a.Port))
}

// needRoot skips (or, under CI, fails) a test that needs root and tools.
func needTools(t testing.TB, root bool, tools ...string) {
	t.Helper()
	var missing []string
	if root && os.Geteuid() != 0 {
		missing = append(missing, "root")
	}
	for _, tool := range tools {
		if _, err := lookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := "MISSING " + strings.Join(missing, ", ") + ": this test cannot run (Debian: apt-get install -y coturn iproute2 nftables)"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Log("!!!!! " + msg)
	t.Skip(msg)
}

// gatherFlat gathers reg into "name{k="v",...}" -> value, for counters,
// gauges and untyped metrics.
func gatherFlat(t testing.TB, reg prometheus.Gatherer) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]float64)
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			if len(m.GetLabel()) > 0 {
				var parts []string
				for _, l := range m.GetLabel() {
					parts = append(parts, l.GetName()+`="`+l.GetValue()+`"`)
				}
				name += "{" + strings.Join(parts, ",") + "}"
			}
			switch {
			case m.GetCounter() != nil:
				out[name] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[name] = m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				out[name+"_count"] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

func lookPath(tool string) (string, error) {
	if p, err := exec.LookPath(tool); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
		p := dir + "/" + tool
		if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

// checkLeaks fails the test if goroutines started during it are still
// running after every cleanup (registered later, so run earlier) is done.
func checkLeaks(t *testing.T) {
	t.Helper()
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }
