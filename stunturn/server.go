package stunturn

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/pion/turn/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// closeWait bounds how long Close waits for pion's goroutines to finish
// once every socket is closed. They finish in microseconds; a wait this
// long means a bug, reported as ErrCloseTimeout.
const closeWait = 10 * time.Second

// Server is a STUN and TURN server on pion/turn. See the package
// documentation for what it serves and its concurrency contract.
type Server struct {
	cfg    settings
	log    *slog.Logger
	issuer *Issuer
	m      *metrics
	reg    prometheus.Registerer
	st     *state
	filter *peerFilter
	relays *relayAllocator
	pion   *turn.Server
	addrs  Addrs

	keys     keyCache  // the gate's keys for pion's AuthHandler
	obs      observers // Observe's hooks
	presence *presence // nil without Config.Presence

	// loops counts pion's read and accept loops that have not yet got
	// their final error from our sockets.
	loops sync.WaitGroup

	closeOnce sync.Once
	closeErr  error
}

// Addrs are the addresses a Server serves on.
type Addrs struct {
	UDP   netip.AddrPort // STUN and TURN over UDP
	TCP   netip.AddrPort // STUN and TURN over TCP: the same port as UDP
	TLS   netip.AddrPort // TURN over TLS; the zero AddrPort when TLS is off
	Relay netip.Addr     // the IP of relayed addresses, as peers see it
}

// New validates cfg, binds every socket and starts serving. reg receives
// the metrics (a nil reg keeps them unexported); a registration error,
// a duplicate included, fails New. log receives the server's and pion's
// messages (nil: discarded). Close releases everything New started.
func New(cfg Config, reg prometheus.Registerer, log *slog.Logger) (*Server, error) {
	st, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	s := &Server{
		cfg:    st,
		log:    log,
		issuer: NewIssuer(st.Secret, st.CredentialTTL),
		reg:    reg,
		st:     newState(&st),
	}

	bindIP, err := relayBindIP(st.listenHost)
	if err != nil {
		return nil, invalidf("relay address: %v", err)
	}
	advertised := bindIP
	if st.PublicIP.IsValid() {
		advertised = st.PublicIP
	}
	s.filter = &peerFilter{allow: st.AllowPeers, ownRelay: []netip.Addr{advertised}}
	if bindIP != advertised {
		s.filter.ownRelay = append(s.filter.ownRelay, bindIP)
	}
	own := append(interfaceIPs(), advertised, bindIP)
	if ip, err := netipParse(st.listenHost); err == nil {
		own = append(own, ip)
	}
	slices.SortFunc(own, netip.Addr.Compare)

	if s.m, err = newMetrics(reg, s.st); err != nil {
		return nil, err
	}
	s.relays = &relayAllocator{
		bindIP:     bindIP,
		advertised: advertised,
		minPort:    st.RelayPortMin,
		maxPort:    st.RelayPortMax,
		filter:     s.filter,
		ownIPs:     slices.Compact(own),
		denied:     s.peerDenied,
		ports:      make(map[uint16]*relayConn),
		m:          s.m,
	}

	if st.Presence != nil { // before listen: the readers use it at once
		s.presence = newPresence(st.Presence, st.PresenceGrace)
	}
	if err := s.listen(); err != nil {
		reg.Unregister(s.m)
		return nil, err
	}
	if s.presence != nil {
		go s.presence.sweep(s.st.users)
	}
	log.Info("stunturn: serving",
		"udp", s.addrs.UDP, "tcp", s.addrs.TCP, "tls", s.addrs.TLS,
		"relay_ip", advertised, "relay_bind_ip", bindIP,
		"relay_ports", fmt.Sprintf("%d-%d", st.RelayPortMin, st.RelayPortMax),
		"realm", st.Realm, "udp_read_workers", st.UDPReadWorkers)
	if !st.secretSet {
		log.Info("stunturn: no TURN secret configured; using a random one, so credentials end with this process")
	}
	return s, nil
}

// relayBindIP is the local IPv4 address relays bind to: the listening
// address when it is a specific IPv4 one (127.0.0.1 for ::1), the host's
// primary IPv4 address otherwise.
func relayBindIP(listenHost string) (netip.Addr, error) {
	if ip, err := netipParse(listenHost); err == nil {
		switch {
		case ip.Is4():
			return ip, nil
		case ip.IsLoopback():
			return netip.AddrFrom4([4]byte{127, 0, 0, 1}), nil
		}
	}
	return primaryIPv4()
}

// listen binds the sockets and starts pion on them.
func (s *Server) listen() error {
	st := &s.cfg
	udps, tcp, err := listenUDPAndTCP(st.listenHost, st.listenPort, st.UDPReadWorkers)
	if err != nil {
		return fmt.Errorf("stunturn: listen on %s: %w", st.Addr, err)
	}
	closers := []func() error{tcp.Close}
	for _, u := range udps {
		closers = append(closers, u.Close)
	}
	closeAll := func() {
		for _, c := range closers {
			_ = c()
		}
	}

	pc := turn.ServerConfig{
		Realm:         st.Realm,
		AuthHandler:   s.authHandler,
		QuotaHandler:  s.quotaHandler,
		EventHandler:  s.eventHandler(),
		LoggerFactory: pionLoggerFactory{log: s.log},
	}
	for _, u := range udps {
		pc.PacketConnConfigs = append(pc.PacketConnConfigs, turn.PacketConnConfig{
			PacketConn:            &udpConn{s: s, conn: u},
			RelayAddressGenerator: s.relays,
			PermissionHandler:     s.permissionHandler,
		})
	}
	tcpL := &streamListener{s: s, ln: tcp, tr: transportTCP, closed: make(chan struct{})}
	pc.ListenerConfigs = append(pc.ListenerConfigs, turn.ListenerConfig{
		Listener:              tcpL,
		RelayAddressGenerator: s.relays,
		PermissionHandler:     s.permissionHandler,
	})
	s.addrs.UDP = addrPort(udps[0].LocalAddr())
	s.addrs.TCP = addrPort(tcp.Addr())
	s.addrs.Relay = s.relays.advertised

	if st.tlsEnabled {
		certs, err := newCertReloader(st.TLSCertFile, st.TLSKeyFile, s.log)
		if err != nil {
			closeAll()
			return invalidf("TLS certificate: %v", err)
		}
		network := "tcp"
		if ip, err := netipParse(st.tlsHost); err == nil {
			network = map[bool]string{true: "tcp4", false: "tcp6"}[ip.Is4()]
		}
		ln, err := net.Listen(network, joinHostPort(st.tlsHost, st.tlsPort))
		if err != nil {
			closeAll()
			return fmt.Errorf("stunturn: listen on %s: %w", st.TLSAddr, err)
		}
		closers = append(closers, ln.Close)
		tlsL := &streamListener{
			s:      s,
			ln:     ln.(*net.TCPListener),
			tr:     transportTLS,
			closed: make(chan struct{}),
			tls: &tls.Config{
				MinVersion:     tls.VersionTLS12,
				GetCertificate: certs.GetCertificate,
			},
		}
		pc.ListenerConfigs = append(pc.ListenerConfigs, turn.ListenerConfig{
			Listener:              tlsL,
			RelayAddressGenerator: s.relays,
			PermissionHandler:     s.permissionHandler,
		})
		s.addrs.TLS = addrPort(ln.Addr())
	}

	s.loops.Add(len(pc.PacketConnConfigs) + len(pc.ListenerConfigs))
	if s.pion, err = turn.NewServer(pc); err != nil {
		closeAll()
		return fmt.Errorf("stunturn: starting pion/turn: %w", err)
	}
	return nil
}

// Addrs returns the bound addresses, with the ports that port 0 chose.
func (s *Server) Addrs() Addrs { return s.addrs }

// Issuer returns the Issuer of the server's credentials.
func (s *Server) Issuer() *Issuer { return s.issuer }

// Close closes every socket, ends every allocation and connection, and
// waits until every goroutine started for them has finished. It returns
// ErrCloseTimeout if pion's goroutines have not finished after 10s. Calls
// after the first return the first one's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.closeErr = s.close()
	})
	return s.closeErr
}

func (s *Server) close() error {
	var errs []error
	if p := s.presence; p != nil {
		close(p.stop)
		<-p.done
	}
	// pion closes our UDP sockets and listeners; its read and accept
	// loops then end, and each closes its allocation manager.
	s.st.closeConns()
	if err := s.pion.Close(); err != nil {
		errs = append(errs, err)
	}
	for _, c := range s.st.openConns() {
		c.forceClose()
	}
	deadline := time.Now().Add(closeWait)
	loopsDone := make(chan struct{})
	go func() {
		s.loops.Wait()
		close(loopsDone)
	}()
	select {
	case <-loopsDone:
	case <-time.After(closeWait):
		return errors.Join(append(errs, ErrCloseTimeout)...)
	}
	// Each allocation's goroutine ends by deleting it; each connection's
	// goroutine ends by closing it. When both sets are empty, what is left
	// of those goroutines is their return.
	if !s.st.waitEmpty(deadline) {
		errs = append(errs, ErrCloseTimeout)
	}
	return errors.Join(errs...)
}

func (s *Server) quotaHandler(username, _ string, src net.Addr) bool {
	_, user, err := ParseUsername(username)
	return err == nil && s.st.reserve(srcKeyOf(src), user)
}

// permissionHandler backs the gate up: pion asks it for CreatePermission
// and ChannelBind, which the gate has already judged.
func (s *Server) permissionHandler(_ net.Addr, peer net.IP) bool {
	ip, ok := netip.AddrFromSlice(peer)
	return ok && s.filter.check(ip) == denyNone
}

func (s *Server) eventHandler() turn.EventHandler {
	return turn.EventHandler{
		OnAllocationCreated: func(src, dst net.Addr, _, username, _ string, relay net.Addr, _ int) {
			_, user, _ := ParseUsername(username)
			relayAP := addrPort(relay)
			a := &allocation{
				key:       keyOf(src, dst),
				username:  username,
				user:      user,
				relay:     relayAP,
				created:   time.Now(),
				relayConn: s.relays.lookup(relayAP.Port()),
			}
			s.st.allocationCreated(a)
			if a.relayConn != nil {
				a.relayConn.alloc.Store(a)
			}
			s.m.allocations.Inc()
			s.notifyAllocation(a.key, func(o *Observer) func(AllocationInfo) { return o.AllocationCreated })
		},
		OnAllocationDeleted: func(src, dst net.Addr, _, _, _ string) {
			now := time.Now()
			a := s.st.allocationDeleted(keyOf(src, dst), func(a *allocation) {
				s.m.lifetime.Observe(now.Sub(a.created).Seconds())
			})
			if a == nil {
				return
			}
			// Deleted: nothing changes a any more, so it is read unlocked.
			each(s, func(o *Observer) func(AllocationInfo) { return o.AllocationDeleted },
				func() AllocationInfo { return a.infoLocked(now) })
		},
		OnPermissionCreated: func(src, dst net.Addr, _, _, _ string, _ net.Addr, peer net.IP) {
			ip, ok := netip.AddrFromSlice(peer)
			if !ok {
				return
			}
			key := keyOf(src, dst)
			if !s.st.permissionCreated(key, ip.Unmap()) || !s.observed() {
				return
			}
			if info, ok := s.st.info(key, time.Now()); ok {
				each(s, func(o *Observer) func(PermissionEvent) { return o.PermissionCreated },
					func() PermissionEvent { return PermissionEvent{Allocation: info, Peer: ip.Unmap()} })
			}
		},
		OnPermissionDeleted: func(src, dst net.Addr, _, _, _ string, _ net.Addr, peer net.IP) {
			if ip, ok := netip.AddrFromSlice(peer); ok {
				s.st.permissionDeleted(keyOf(src, dst), ip.Unmap())
			}
		},
		OnChannelCreated: func(src, dst net.Addr, _, _, _ string, _, _ net.Addr, number uint16) {
			s.st.channelCreated(keyOf(src, dst), number)
		},
		OnChannelDeleted: func(src, dst net.Addr, _, _, _ string, _, _ net.Addr, number uint16) {
			s.st.channelDeleted(keyOf(src, dst), number)
		},
	}
}
