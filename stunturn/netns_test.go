package stunturn

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// TestCallsAcrossNATs builds, in network namespaces of its own, two LANs
// behind two NATs and a "public" network with this TURN server:
//
//	peer A 192.168.1.2 ── NAT A (port-restricted cone) 203.0.113.2  ─┐
//	peer B 192.168.2.2 ── NAT B (symmetric)            198.51.100.2 ─┼─ pub: TURN on 203.0.113.1,
//	peer C 192.168.3.2 ── NAT C (port-restricted cone) 192.0.2.2    ─┘  routes between the NATs
//
// Two pion/webrtc peers, each a re-executed test binary in its LAN,
// exchange SDP through the test. A and B cannot connect with STUN only (a
// symmetric NAT facing a port-restricted one); relay-only, through TURN
// over UDP and over TCP, they connect and echo data-channel messages. A
// and C, both behind cone NATs, connect with STUN only: the control that
// shows the network itself lets peers through.
// Every address lives in the test's namespaces; nothing is routed to the
// host's network. The namespaces are removed however the test ends.
func TestCallsAcrossNATs(t *testing.T) {
	needTools(t, true, "ip", "nft")
	lab := newNetLab(t)
	pub, natA, natB, natC := lab.add("pub"), lab.add("nata"), lab.add("natb"), lab.add("natc")
	peerA, peerB, peerC := lab.add("peera"), lab.add("peerb"), lab.add("peerc")

	lab.veth(pub, "a0", "203.0.113.1/24", natA, "a1", "203.0.113.2/24")
	lab.veth(pub, "b0", "198.51.100.1/24", natB, "b1", "198.51.100.2/24")
	lab.veth(natA, "l0", "192.168.1.1/24", peerA, "l1", "192.168.1.2/24")
	lab.veth(natB, "l0", "192.168.2.1/24", peerB, "l1", "192.168.2.2/24")
	lab.veth(pub, "c0", "192.0.2.1/24", natC, "c1", "192.0.2.2/24")
	lab.veth(natC, "l0", "192.168.3.1/24", peerC, "l1", "192.168.3.2/24")
	lab.run("-n", natC, "route", "add", "default", "via", "192.0.2.1")
	lab.run("-n", peerC, "route", "add", "default", "via", "192.168.3.1")
	lab.run("-n", natA, "route", "add", "default", "via", "203.0.113.1")
	lab.run("-n", natB, "route", "add", "default", "via", "198.51.100.1")
	lab.run("-n", peerA, "route", "add", "default", "via", "192.168.1.1")
	lab.run("-n", peerB, "route", "add", "default", "via", "192.168.2.1")
	for _, ns := range []string{pub, natA, natB, natC} {
		lab.forward(ns)
	}
	// Linux masquerade keeps the source port and filters replies by the
	// full 5-tuple: a port-restricted cone. fully-random picks a new port
	// for every destination: a symmetric NAT.
	lab.nft(natA, natRules("a1", "masquerade"))
	lab.nft(natB, natRules("b1", "masquerade fully-random"))
	lab.nft(natC, natRules("c1", "masquerade"))

	secret := "netns secret"
	srv := lab.start(pub, "server", helperConfig{Addr: "203.0.113.1:0", Secret: secret})
	var addrs serverAddrs
	srv.read(t, &addrs, 20*time.Second)
	issuer := NewIssuer([]byte(secret), time.Hour)
	creds := func(user, url string) []ICEServer {
		u, p, _ := issuer.Issue(user)
		return []ICEServer{{URLs: []string{url}, Username: u, Credential: p}}
	}
	udpPort := strconv.Itoa(int(addrs.UDP.Port()))
	tcpPort := strconv.Itoa(int(addrs.TCP.Port()))

	stunOnly := []ICEServer{{URLs: []string{"stun:203.0.113.1:" + udpPort}}}
	tests := []struct {
		name      string
		answerer  string // B, or C for the control
		servers   []ICEServer
		relayOnly bool
		connect   bool
	}{
		{"stun only", peerB, stunOnly, false, false},
		{"relay over udp", peerB, creds("udp", "turn:203.0.113.1:"+udpPort+"?transport=udp"), true, true},
		{"relay over tcp", peerB, creds("tcp", "turn:203.0.113.1:"+tcpPort+"?transport=tcp"), true, true},
		{"control: stun only between cone NATs", peerC, stunOnly, false, true},
	}
	t.Run("calls", func(t *testing.T) {
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				cfg := helperConfig{ICEServers: tc.servers, RelayOnly: tc.relayOnly, Messages: 20}
				offerer := cfg
				offerer.Offerer = true
				a := lab.start(peerA, "peer", offerer)
				b := lab.start(tc.answerer, "peer", cfg)

				var offer, answer webrtc.SessionDescription
				a.read(t, &offer, 20*time.Second)
				b.write(t, offer)
				b.read(t, &answer, 20*time.Second)
				a.write(t, answer)
				var ra, rb peerResult
				a.read(t, &ra, 30*time.Second)
				b.closeInput()
				b.read(t, &rb, 10*time.Second)
				t.Logf("offerer: %+v; answerer: %+v", ra, rb)

				// STUN through the NATs worked: A offers a server-reflexive
				// candidate at NAT A's public address.
				if !tc.relayOnly && !strings.Contains(offer.SDP, "203.0.113.2") {
					t.Errorf("no server-reflexive candidate of NAT A in the offer:\n%s", offer.SDP)
				}
				if !tc.connect {
					if ra.Connected || rb.Connected || ra.Echoed > 0 {
						t.Fatalf("peers connected without a relay: A %+v, B %+v", ra, rb)
					}
					return
				}
				if !ra.Connected || ra.Echoed != cfg.Messages || rb.Echoed != cfg.Messages {
					t.Fatalf("call failed: A %+v, B %+v", ra, rb)
				}
				if tc.relayOnly && (ra.Local != "relay" || ra.Remote != "relay") {
					t.Errorf("A's selected pair is %s/%s, want relay/relay", ra.Local, ra.Remote)
				}
				if !tc.relayOnly && (ra.Local == "relay" || ra.Remote == "relay" || ra.Local == "host" && ra.Remote == "host") {
					t.Errorf("A's selected pair is %s/%s, want one through the NATs", ra.Local, ra.Remote)
				}
			})
		}
	})

	srv.closeInput()
	var stats serverStats
	srv.read(t, &stats, 20*time.Second)
	t.Logf("server: %+v", stats)
	if stats.Allocations < 4 || stats.BytesToPeer == 0 || stats.BytesToClient == 0 || stats.CloseErr != "" {
		t.Errorf("server stats %+v: want 4 allocations or more, traffic both ways, a clean Close", stats)
	}
}

// natRules is a home router's ruleset: masquerade out of the WAN port,
// and drop what comes in on it unasked. Dropping (rather than answering
// with ICMP) also keeps conntrack from recording the unasked packet, which
// would take the external port and make the NAT pick another for the
// reply: Linux's mapping is endpoint-independent only that way.
func natRules(wan, masquerade string) string {
	return "table ip nat {\n" +
		"\tchain post {\n" +
		"\t\ttype nat hook postrouting priority srcnat; policy accept;\n" +
		"\t\toifname \"" + wan + "\" " + masquerade + "\n" +
		"\t}\n" +
		"}\n" +
		"table ip filter {\n" +
		"\tchain inbound {\n" +
		"\t\ttype filter hook input priority filter; policy accept;\n" +
		"\t\tiifname \"" + wan + "\" ct state new drop\n" +
		"\t}\n" +
		"\tchain through {\n" +
		"\t\ttype filter hook forward priority filter; policy accept;\n" +
		"\t\tiifname \"" + wan + "\" ct state new drop\n" +
		"\t}\n" +
		"}\n"
}

// helperConfig is what a re-executed test binary is told, as JSON in the
// environment.
type helperConfig struct {
	// server
	Addr, Secret string
	// peer
	Offerer    bool
	ICEServers []ICEServer
	RelayOnly  bool
	Messages   int
}

type serverAddrs struct{ UDP, TCP netip.AddrPort }

type serverStats struct {
	Allocations, BytesToPeer, BytesToClient float64
	CloseErr                                string
}

type peerResult struct {
	Connected     bool
	Echoed        int // messages back at the offerer, or echoed by the answerer
	Local, Remote string
	Err           string
}

// netLab creates network namespaces and removes them in the test's
// cleanup, failed test or not.
type netLab struct {
	t      *testing.T
	prefix string
	ipPath string
	mu     sync.Mutex
	names  []string
}

func newNetLab(t *testing.T) *netLab {
	ipPath, _ := lookPath("ip")
	l := &netLab{t: t, prefix: fmt.Sprintf("noomtest-%d-", os.Getpid()), ipPath: ipPath}
	l.removeStale()
	t.Cleanup(func() {
		for i := len(l.names) - 1; i >= 0; i-- {
			if out, err := exec.Command(l.ipPath, "netns", "del", l.names[i]).CombinedOutput(); err != nil {
				t.Errorf("ip netns del %s: %v %s", l.names[i], err, out)
			}
		}
	})
	return l
}

// removeStale deletes namespaces left by an earlier run of this test that
// was killed before its cleanup: they carry a pid that is gone.
func (l *netLab) removeStale() {
	out, _ := exec.Command(l.ipPath, "netns", "list").Output()
	for _, line := range strings.Split(string(out), "\n") {
		name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		rest, ok := strings.CutPrefix(name, "noomtest-")
		if !ok {
			continue
		}
		pidText, _, _ := strings.Cut(rest, "-")
		if pid, err := strconv.Atoi(pidText); err == nil {
			if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); os.IsNotExist(err) {
				_ = exec.Command(l.ipPath, "netns", "del", name).Run()
			}
		}
	}
}

func (l *netLab) run(args ...string) {
	l.t.Helper()
	if out, err := exec.Command(l.ipPath, args...).CombinedOutput(); err != nil {
		l.t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func (l *netLab) add(role string) string {
	l.t.Helper()
	name := l.prefix + role
	l.run("netns", "add", name)
	l.mu.Lock()
	l.names = append(l.names, name)
	l.mu.Unlock()
	l.run("-n", name, "link", "set", "lo", "up")
	return name
}

// veth links two namespaces; both ends are created inside them, never in
// the host's namespace.
func (l *netLab) veth(ns1, if1, addr1, ns2, if2, addr2 string) {
	l.t.Helper()
	l.run("-n", ns1, "link", "add", if1, "type", "veth", "peer", "name", if2, "netns", ns2)
	l.run("-n", ns1, "addr", "add", addr1, "dev", if1)
	l.run("-n", ns2, "addr", "add", addr2, "dev", if2)
	l.run("-n", ns1, "link", "set", if1, "up")
	l.run("-n", ns2, "link", "set", if2, "up")
}

func (l *netLab) forward(ns string) {
	l.t.Helper()
	cmd := exec.Command(l.ipPath, "netns", "exec", ns, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward")
	if out, err := cmd.CombinedOutput(); err != nil {
		l.t.Fatalf("ip_forward in %s: %v %s", ns, err, out)
	}
}

func (l *netLab) nft(ns, ruleset string) {
	l.t.Helper()
	nft, _ := lookPath("nft")
	cmd := exec.Command(l.ipPath, "netns", "exec", ns, nft, "-f", "-")
	cmd.Stdin = strings.NewReader(ruleset)
	if out, err := cmd.CombinedOutput(); err != nil {
		l.t.Fatalf("nft in %s: %v %s", ns, err, out)
	}
}

// helperProc is a re-executed test binary in a namespace, spoken to in
// JSON lines over its standard input and output.
type helperProc struct {
	role  string
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan string
	errMu sync.Mutex
	errs  bytes.Buffer
}

func (l *netLab) start(ns, role string, cfg helperConfig) *helperProc {
	l.t.Helper()
	self, err := os.Executable()
	if err != nil {
		l.t.Fatal(err)
	}
	js, _ := json.Marshal(cfg)
	cmd := exec.Command(l.ipPath, "netns", "exec", ns, self)
	cmd.Env = append(os.Environ(), helperEnv+"="+role, helperEnv+"_CONFIG="+string(js))
	p := &helperProc{role: role + " in " + ns, cmd: cmd, lines: make(chan string, 8)}
	cmd.Stderr = &lockedWriter{mu: &p.errMu, w: &p.errs}
	if p.in, err = cmd.StdinPipe(); err != nil {
		l.t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		l.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		l.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(p.lines)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
	}()
	l.t.Cleanup(func() {
		_ = p.in.Close()
		wait := make(chan error, 1)
		go func() { wait <- cmd.Wait() }()
		select {
		case <-wait:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-wait
		}
		<-done
		if l.t.Failed() || testing.Verbose() {
			p.errMu.Lock()
			l.t.Logf("%s stderr:\n%s", p.role, p.errs.String())
			p.errMu.Unlock()
		}
	})
	return p
}

func (p *helperProc) read(t *testing.T, v any, timeout time.Duration) {
	t.Helper()
	select {
	case line, ok := <-p.lines:
		if !ok {
			t.Fatalf("%s ended without an answer", p.role)
		}
		if err := json.Unmarshal([]byte(line), v); err != nil {
			t.Fatalf("%s said %q: %v", p.role, line, err)
		}
	case <-time.After(timeout):
		t.Fatalf("%s said nothing for %v", p.role, timeout)
	}
}

func (p *helperProc) write(t *testing.T, v any) {
	t.Helper()
	js, _ := json.Marshal(v)
	if _, err := p.in.Write(append(js, '\n')); err != nil {
		t.Fatalf("writing to %s: %v", p.role, err)
	}
}

func (p *helperProc) closeInput() { _ = p.in.Close() }

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (w *lockedWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(b)
}

// runHelper is the main of a re-executed test binary.
func runHelper(role string) int {
	var cfg helperConfig
	if err := json.Unmarshal([]byte(os.Getenv(helperEnv+"_CONFIG")), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, "helper config:", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	out := json.NewEncoder(os.Stdout)
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	switch role {
	case "server":
		return helperServer(cfg, log, in, out)
	case "peer":
		return helperPeer(cfg, log, in, out)
	}
	fmt.Fprintln(os.Stderr, "unknown helper role", role)
	return 2
}

// helperServer runs a Server until its standard input ends, then reports
// what it counted.
func helperServer(cfg helperConfig, log *slog.Logger, in *bufio.Scanner, out *json.Encoder) int {
	reg := prometheus.NewRegistry()
	// The lab's "public" addresses are documentation ranges, which the
	// peer filter refuses by default.
	labNets := prefixes("203.0.113.0/24", "198.51.100.0/24", "192.0.2.0/24")
	srv, err := New(Config{Addr: cfg.Addr, Secret: []byte(cfg.Secret), AllowPeers: labNets}, reg, log)
	if err != nil {
		log.Error("New", "err", err)
		return 1
	}
	_ = out.Encode(serverAddrs{UDP: srv.Addrs().UDP, TCP: srv.Addrs().TCP})
	for in.Scan() {
	}
	var st serverStats
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch mf.GetName() {
			case "noom_turn_allocations_total":
				st.Allocations = m.GetCounter().GetValue()
			case "noom_turn_relay_bytes_total":
				if m.GetLabel()[0].GetValue() == directionNames[dirToPeer] {
					st.BytesToPeer = m.GetCounter().GetValue()
				} else {
					st.BytesToClient = m.GetCounter().GetValue()
				}
			}
		}
	}
	if err := srv.Close(); err != nil {
		st.CloseErr = err.Error()
	}
	_ = out.Encode(st)
	return 0
}

// helperPeer is one side of a WebRTC call with a data channel. The offerer
// sends Messages messages and counts their echoes; the answerer echoes.
func helperPeer(cfg helperConfig, log *slog.Logger, in *bufio.Scanner, out *json.Encoder) int {
	var se webrtc.SettingEngine
	se.SetICETimeouts(time.Second, 2*time.Second, 500*time.Millisecond)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	api := webrtc.NewAPI(webrtc.WithSettingEngine(se))
	pcfg := webrtc.Configuration{}
	for _, s := range cfg.ICEServers {
		pcfg.ICEServers = append(pcfg.ICEServers, webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	if cfg.RelayOnly {
		pcfg.ICETransportPolicy = webrtc.ICETransportPolicyRelay
	}
	pc, err := api.NewPeerConnection(pcfg)
	if err != nil {
		_ = out.Encode(peerResult{Err: err.Error()})
		return 1
	}
	defer pc.Close()

	var mu sync.Mutex
	res := peerResult{}
	done := make(chan struct{})
	var doneOnce sync.Once
	finish := func() { doneOnce.Do(func() { close(done) }) }
	pc.OnICEConnectionStateChange(func(s webrtc.ICEConnectionState) {
		log.Info("ICE", "state", s)
		switch s {
		case webrtc.ICEConnectionStateConnected:
			mu.Lock()
			res.Connected = true
			mu.Unlock()
		case webrtc.ICEConnectionStateFailed:
			finish()
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	if cfg.Offerer {
		dc, err := pc.CreateDataChannel("chat", nil)
		if err != nil {
			_ = out.Encode(peerResult{Err: err.Error()})
			return 1
		}
		dc.OnOpen(func() {
			for i := range cfg.Messages {
				_ = dc.SendText("message " + strconv.Itoa(i))
			}
		})
		dc.OnMessage(func(webrtc.DataChannelMessage) {
			mu.Lock()
			res.Echoed++
			all := res.Echoed == cfg.Messages
			mu.Unlock()
			if all {
				finish()
			}
		})
		offer, err := pc.CreateOffer(nil)
		if err == nil {
			gathered := webrtc.GatheringCompletePromise(pc)
			err = pc.SetLocalDescription(offer)
			<-gathered
		}
		if err != nil {
			_ = out.Encode(peerResult{Err: err.Error()})
			return 1
		}
		_ = out.Encode(pc.LocalDescription())
		var answer webrtc.SessionDescription
		if !in.Scan() || json.Unmarshal(in.Bytes(), &answer) != nil {
			_ = out.Encode(peerResult{Err: "no answer"})
			return 1
		}
		if err := pc.SetRemoteDescription(answer); err != nil {
			_ = out.Encode(peerResult{Err: err.Error()})
			return 1
		}
		select {
		case <-done:
		case <-ctx.Done():
		}
	} else {
		pc.OnDataChannel(func(dc *webrtc.DataChannel) {
			dc.OnMessage(func(m webrtc.DataChannelMessage) {
				if dc.SendText(string(m.Data)) == nil {
					mu.Lock()
					res.Echoed++
					mu.Unlock()
				}
			})
		})
		var offer webrtc.SessionDescription
		if !in.Scan() || json.Unmarshal(in.Bytes(), &offer) != nil {
			_ = out.Encode(peerResult{Err: "no offer"})
			return 1
		}
		err := pc.SetRemoteDescription(offer)
		var answer webrtc.SessionDescription
		if err == nil {
			answer, err = pc.CreateAnswer(nil)
		}
		if err == nil {
			gathered := webrtc.GatheringCompletePromise(pc)
			err = pc.SetLocalDescription(answer)
			<-gathered
		}
		if err != nil {
			_ = out.Encode(peerResult{Err: err.Error()})
			return 1
		}
		_ = out.Encode(pc.LocalDescription())
		// Echo until the test says the call is over.
		stop := make(chan struct{})
		go func() {
			for in.Scan() {
			}
			close(stop)
		}()
		select {
		case <-stop:
		case <-ctx.Done():
		}
	}

	if sctp := pc.SCTP(); sctp != nil {
		if pair, err := sctp.Transport().ICETransport().GetSelectedCandidatePair(); err == nil && pair != nil {
			res.Local, res.Remote = pair.Local.Typ.String(), pair.Remote.Typ.String()
		}
	}
	mu.Lock()
	defer mu.Unlock()
	_ = out.Encode(res)
	return 0
}
