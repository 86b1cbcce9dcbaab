package stunturn

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pion/stun/v3"
	"github.com/pion/turn/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// writeCert writes a self-signed certificate for 127.0.0.1 and "turn.test"
// and returns the file names and a pool that trusts it.
func writeCert(t testing.TB, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "turn.test"},
		DNSNames:     []string{"turn.test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestRelayTLS runs a pion/turn client over TLS (turns:).
func TestRelayTLS(t *testing.T) {
	checkLeaks(t)
	certFile, keyFile, pool := writeCert(t, t.TempDir())
	srv, reg := newTestServer(t, Config{
		AllowPeers:     loopback,
		TLSCertFile:    certFile,
		TLSKeyFile:     keyFile,
		TLSAddr:        "127.0.0.1:0",
		TCPIdleTimeout: 500 * time.Millisecond,
	})
	if !srv.Addrs().TLS.IsValid() || srv.Addrs().TLS.Port() == srv.Addrs().TCP.Port() {
		t.Fatalf("TLS address %v", srv.Addrs().TLS)
	}
	peer := newEchoPeer(t)
	tc, err := tls.Dial("tcp", srv.Addrs().TLS.String(), &tls.Config{RootCAs: pool, ServerName: "turn.test"})
	if err != nil {
		t.Fatalf("TLS handshake: %v", err)
	}
	username, password, _ := srv.Issuer().Issue("tess")
	c := newTURNClient(t, turn.NewSTUNConn(tc), srv.Addrs().TLS.String(), username, password)
	relay := c.allocate(t)
	for i := range 10 {
		roundTrip(t, relay, peer.addr(), fmt.Appendf(nil, "over tls %d", i))
	}
	if a := srv.Allocations(); len(a) != 1 || a[0].Transport != "tls" {
		t.Fatalf("allocations %+v", a)
	}
	wantGauges(t, reg, map[string]float64{
		`noom_turn_allocations{transport="tls"}`: 1,
		`noom_turn_connections{transport="tls"}`: 1,
	})

	// A client that never completes the handshake is cut at the idle
	// time; the allocation's connection, as old, is not.
	raw, err := net.Dial("tcp", srv.Addrs().TLS.String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	_ = raw.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := raw.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a silent TLS client was not cut: %v", err)
	}
	roundTrip(t, relay, peer.addr(), []byte("still there"))
}

func TestTLSConfigErrors(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, _ := writeCert(t, dir)
	if _, err := New(Config{Addr: "127.0.0.1:0", TLSCertFile: certFile, TLSKeyFile: filepath.Join(dir, "missing")}, nil, nil); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("missing key: %v", err)
	}
	if _, err := New(Config{Addr: "127.0.0.1:0", TLSCertFile: keyFile, TLSKeyFile: certFile}, nil, nil); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("swapped files: %v", err)
	}
}

// TestCertReload: a renewed certificate is served without a restart.
func TestCertReload(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, _ := writeCert(t, dir)
	r, err := newCertReloader(certFile, keyFile, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	first, _ := r.GetCertificate(nil)
	writeCert(t, dir) // renew in place
	later := time.Now().Add(time.Hour)
	_ = os.Chtimes(certFile, later, later)
	if c, _ := r.GetCertificate(nil); c != first {
		t.Fatal("reloaded before the recheck interval")
	}
	r.mu.Lock()
	r.lastCheck = time.Time{}
	r.mu.Unlock()
	if c, _ := r.GetCertificate(nil); c == first {
		t.Fatal("renewed certificate not loaded")
	}
	// A broken pair keeps the old certificate.
	second, _ := r.GetCertificate(nil)
	_ = os.WriteFile(keyFile, []byte("garbage"), 0o600)
	_ = os.Chtimes(keyFile, later.Add(time.Hour), later.Add(time.Hour))
	r.mu.Lock()
	r.lastCheck = time.Time{}
	r.mu.Unlock()
	if c, _ := r.GetCertificate(nil); c != second {
		t.Fatal("a broken renewal replaced the certificate")
	}
}

func TestICEServers(t *testing.T) {
	certFile, keyFile, _ := writeCert(t, t.TempDir())
	srv, _ := newTestServer(t, Config{TLSCertFile: certFile, TLSKeyFile: keyFile, TLSAddr: "127.0.0.1:0"})
	udp, tcp, tlsPort := srv.Addrs().UDP.Port(), srv.Addrs().TCP.Port(), srv.Addrs().TLS.Port()

	servers := srv.ICEServers("meet.example.com:8443", "alice")
	want := []ICEServer{
		{URLs: []string{fmt.Sprintf("stun:meet.example.com:%d", udp)}},
		{URLs: []string{
			fmt.Sprintf("turn:meet.example.com:%d?transport=udp", udp),
			fmt.Sprintf("turn:meet.example.com:%d?transport=tcp", tcp),
			fmt.Sprintf("turns:meet.example.com:%d?transport=tcp", tlsPort),
		}},
	}
	if len(servers) != 2 || strings.Join(servers[0].URLs, " ") != strings.Join(want[0].URLs, " ") ||
		strings.Join(servers[1].URLs, " ") != strings.Join(want[1].URLs, " ") {
		t.Fatalf("ICEServers = %+v\nwant URLs %+v", servers, want)
	}
	if servers[0].Username != "" || servers[0].Credential != "" {
		t.Error("the STUN entry carries a credential")
	}
	user, err := srv.Issuer().Validate(servers[1].Username, servers[1].Credential)
	if err != nil || user != "alice" {
		t.Fatalf("credential: %q, %v", user, err)
	}
	exp, _, _ := ParseUsername(servers[1].Username)
	if d := time.Until(exp); d < DefaultCredentialTTL-time.Minute || d > DefaultCredentialTTL {
		t.Errorf("credential lives %v", d)
	}
	js, _ := json.Marshal(servers[0])
	if string(js) != fmt.Sprintf(`{"urls":["stun:meet.example.com:%d"]}`, udp) {
		t.Errorf("JSON %s", js)
	}

	for host, want := range map[string]string{
		"[::1]:443":        fmt.Sprintf("stun:[::1]:%d", udp),
		"::1":              fmt.Sprintf("stun:[::1]:%d", udp),
		"":                 fmt.Sprintf("stun:127.0.0.1:%d", udp),
		"evil/host?x=1":    fmt.Sprintf("stun:127.0.0.1:%d", udp),
		"Meet.Example.ORG": fmt.Sprintf("stun:Meet.Example.ORG:%d", udp),
	} {
		if got := srv.ICEServers(host, "u")[0].URLs[0]; got != want {
			t.Errorf("host %q: %s, want %s", host, got, want)
		}
	}

	// With PublicIP, stun: and turn: name it; turns: keeps the host name,
	// which the certificate is for.
	pub, _ := newTestServer(t, Config{PublicIP: netip.MustParseAddr("203.0.113.7"), TLSCertFile: certFile, TLSKeyFile: keyFile, TLSAddr: "127.0.0.1:0"})
	s := pub.ICEServers("meet.example.com", "bob")
	if !strings.HasPrefix(s[0].URLs[0], "stun:203.0.113.7:") || !strings.HasPrefix(s[1].URLs[0], "turn:203.0.113.7:") ||
		!strings.HasPrefix(s[1].URLs[2], "turns:meet.example.com:") {
		t.Errorf("with PublicIP: %+v", s)
	}
	if pub.Addrs().Relay != netip.MustParseAddr("203.0.113.7") {
		t.Errorf("relay IP %v", pub.Addrs().Relay)
	}
}

// TestPublicIP: behind a 1:1 NAT, relayed addresses advertise PublicIP
// while relays bind locally, and two relays of the server still reach
// each other at their advertised addresses (no hairpin needed).
func TestPublicIP(t *testing.T) {
	checkLeaks(t)
	srv, _ := newTestServer(t, Config{PublicIP: netip.MustParseAddr("203.0.113.7")})
	ua, pa, _ := srv.Issuer().Issue("a")
	ub, pb, _ := srv.Issuer().Issue("b")
	a := dialTURN(t, srv, "udp", ua, pa)
	b := dialTURN(t, srv, "udp", ub, pb)
	relayA, relayB := a.allocate(t), b.allocate(t)
	if !strings.HasPrefix(relayA.LocalAddr().String(), "203.0.113.7:") {
		t.Fatalf("relayed address %v", relayA.LocalAddr())
	}
	if err := b.CreatePermission(relayA.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 64)
		for {
			n, from, err := relayB.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = relayB.WriteTo(buf[:n], from)
		}
	}()
	for i := range 5 {
		roundTrip(t, relayA, relayB.LocalAddr(), fmt.Appendf(nil, "nat %d", i))
	}
	_ = relayB.Close()
	<-done
}

// TestMetricsRegistration: every series is there at zero before any
// traffic, the exposition lints clean, and a second server on the same
// registry fails instead of sharing or hiding metrics.
func TestMetricsRegistration(t *testing.T) {
	srv, reg := newTestServer(t, Config{})
	flat := gatherFlat(t, reg)
	for _, name := range []string{
		`noom_stun_requests_total{method="binding",result="success",transport="udp"}`,
		`noom_stun_requests_total{method="channel_bind",result="dropped",transport="tls"}`,
		`noom_turn_auth_total{result="expired"}`,
		`noom_turn_allocations_total`,
		`noom_turn_allocation_failures_total{reason="quota"}`,
		`noom_turn_relay_bytes_total{direction="client_to_peer"}`,
		`noom_turn_relay_packets_total{direction="peer_to_client"}`,
		`noom_turn_relay_dropped_packets_total`,
		`noom_turn_peers_denied_total{reason="link_local"}`,
		`noom_turn_connections_dropped_total{reason="idle"}`,
		`noom_turn_allocations{transport="udp"}`,
		`noom_turn_permissions`,
		`noom_turn_channels`,
		`noom_turn_connections{transport="tcp"}`,
		`noom_turn_allocation_lifetime_seconds_count`,
	} {
		if v, ok := flat[name]; !ok || v != 0 {
			t.Errorf("%s = %v (present %v), want 0", name, v, ok)
		}
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}

	_, err := New(Config{Addr: "127.0.0.1:0"}, reg, nil)
	var are prometheus.AlreadyRegisteredError
	if !errors.As(err, &are) {
		t.Fatalf("second New on one registry: %v, want AlreadyRegisteredError", err)
	}
	// The failed New left nothing behind, and the first server's metrics
	// still work.
	c := dialRaw(t, "udp", srv.Addrs().UDP.String())
	wantSuccess(t, c.do(mustBuild(t, stun.TransactionID, stun.BindingRequest)))
	eventually(t, "a counted binding", func() bool {
		return gatherFlat(t, reg)[`noom_stun_requests_total{method="binding",result="success",transport="udp"}`] == 1
	})

	// A failed New (port taken) unregisters what it registered.
	reg2 := prometheus.NewRegistry()
	if _, err := New(Config{Addr: srv.Addrs().UDP.String()}, reg2, nil); err == nil {
		t.Fatal("New on a taken port succeeded")
	}
	if mfs, _ := reg2.Gather(); len(mfs) != 0 {
		t.Errorf("a failed New left %d metric families registered", len(mfs))
	}
}

// TestCloseWithTraffic: Close ends live allocations over UDP and TCP and
// leaves no goroutine behind, while clients still hold them.
func TestCloseWithTraffic(t *testing.T) {
	checkLeaks(t)
	reg := prometheus.NewRegistry()
	srv, err := New(Config{Addr: "127.0.0.1:0", AllowPeers: loopback, Secret: []byte("s"), UDPReadWorkers: 2}, reg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	peer := newEchoPeer(t)
	for i, network := range []string{"udp", "tcp", "udp", "tcp"} {
		u, p, _ := srv.Issuer().Issue(fmt.Sprint("user", i))
		c := dialTURN(t, srv, network, u, p)
		relay, err := c.Allocate()
		if err != nil {
			t.Fatal(err)
		}
		roundTrip(t, relay, peer.addr(), []byte("before close"))
		t.Cleanup(func() { _ = relay.Close() }) // after the server is gone: nothing answers
	}
	idle := dialRaw(t, "tcp", srv.Addrs().TCP.String())
	wantSuccess(t, idle.do(mustBuild(t, stun.TransactionID, stun.BindingRequest)))
	if n := len(srv.Allocations()); n != 4 {
		t.Fatalf("%d allocations, want 4", n)
	}
	start := time.Now()
	if err := srv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("Close took %v", el)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if n := len(srv.Allocations()); n != 0 {
		t.Errorf("%d allocations after Close", n)
	}
	flat := gatherFlat(t, reg)
	if flat[`noom_turn_allocation_lifetime_seconds_count`] != 4 || flat[`noom_turn_connections{transport="tcp"}`] != 0 {
		t.Errorf("after Close: %v lifetimes, %v tcp connections", flat[`noom_turn_allocation_lifetime_seconds_count`], flat[`noom_turn_connections{transport="tcp"}`])
	}
}
