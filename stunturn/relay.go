package stunturn

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// maxRelayBindTries bounds the bind calls one allocation may cost when the
// port range is crowded with other programs' sockets.
const maxRelayBindTries = 32

var errRelayPortsExhausted = errors.New("stunturn: no free relay port")

// relayAllocator implements pion's turn.RelayAddressGenerator: it binds
// relay sockets to bindIP in [minPort, maxPort], advertises them at
// advertised, and wraps them so that they count and filter traffic.
//
// mu guards ports. One allocator serves every listener, so ports are
// unique in the server.
type relayAllocator struct {
	bindIP     netip.Addr // a specific local IPv4 address
	advertised netip.Addr // what peers see (PublicIP or bindIP)
	minPort    uint16
	maxPort    uint16
	filter     *peerFilter
	ownIPs     []netip.Addr // every address of this host: relays may reach only our relay ports there
	m          *metrics
	denied     func(user string, client netip.AddrPort, peer netip.Addr, r denyReason) // Server.peerDenied

	mu    sync.Mutex
	ports map[uint16]*relayConn
}

// Validate implements turn.RelayAddressGenerator.
func (r *relayAllocator) Validate() error { return nil }

// AllocateConn implements turn.RelayAddressGenerator. TCP relays (RFC 6062)
// are not offered; the gate answers 442 before pion would ask.
func (r *relayAllocator) AllocateConn(string, int) (net.Conn, net.Addr, error) {
	return nil, nil, errors.New("stunturn: TCP relays are not supported")
}

// AllocatePacketConn implements turn.RelayAddressGenerator.
func (r *relayAllocator) AllocatePacketConn(network string, requestedPort int) (net.PacketConn, net.Addr, error) {
	if network != "udp4" && network != "udp" {
		return nil, nil, fmt.Errorf("stunturn: relay network %q is not supported", network)
	}
	if requestedPort != 0 {
		if requestedPort < int(r.minPort) || requestedPort > int(r.maxPort) {
			return nil, nil, fmt.Errorf("stunturn: relay port %d is outside the range", requestedPort)
		}
		return r.bind(uint16(requestedPort))
	}
	// Start at a random port and walk the range, skipping our own ports
	// without a syscall; give up after maxRelayBindTries failed binds.
	span := int(r.maxPort) - int(r.minPort) + 1
	start := rand.IntN(span)
	tries := 0
	for i := range span {
		port := uint16(int(r.minPort) + (start+i)%span)
		r.mu.Lock()
		_, busy := r.ports[port]
		r.mu.Unlock()
		if busy {
			continue
		}
		conn, addr, err := r.bind(port)
		if err == nil {
			return conn, addr, nil
		}
		if tries++; tries >= maxRelayBindTries {
			break
		}
	}
	return nil, nil, errRelayPortsExhausted
}

func (r *relayAllocator) bind(port uint16) (net.PacketConn, net.Addr, error) {
	uc, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(r.bindIP, port)))
	if err != nil {
		return nil, nil, err
	}
	rc := &relayConn{r: r, conn: uc, port: port}
	r.mu.Lock()
	r.ports[port] = rc
	r.mu.Unlock()
	return rc, net.UDPAddrFromAddrPort(netip.AddrPortFrom(r.advertised, port)), nil
}

func (r *relayAllocator) lookup(port uint16) *relayConn {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ports[port]
}

func (r *relayAllocator) isRelayPort(port uint16) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.ports[port]
	return ok
}

// relayConn is one allocation's relay socket. It counts relayed traffic
// as it passes, drops datagrams from peers without permission before pion
// sees them, and keeps relays from reaching this host's other ports.
// When PublicIP differs from the bound IP it also makes two relays of this
// server reach each other at their advertised addresses without a NAT
// hairpin.
type relayConn struct {
	r    *relayAllocator
	conn *net.UDPConn
	port uint16

	alloc     atomic.Pointer[allocation] // set when pion reports the allocation
	bytes     [2]atomic.Uint64           // by direction
	packets   [2]atomic.Uint64
	closeOnce sync.Once
}

// ReadFrom implements net.PacketConn. pion reads it from the allocation's
// own goroutine.
func (c *relayConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, src, err := c.conn.ReadFromUDPAddrPort(p)
		if err != nil {
			return n, nil, err
		}
		src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
		if c.r.advertised != c.r.bindIP && src.Addr() == c.r.bindIP && c.r.isRelayPort(src.Port()) {
			src = netip.AddrPortFrom(c.r.advertised, src.Port()) // another relay of ours
		}
		if a := c.alloc.Load(); a != nil && !a.permitted(src.Addr()) {
			c.r.m.relayDropped.Inc()
			continue
		}
		c.count(dirToClient, n)
		return n, net.UDPAddrFromAddrPort(src), nil
	}
}

// WriteTo implements net.PacketConn: client data on its way to a peer.
func (c *relayConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, fmt.Errorf("stunturn: relay cannot write to %T", addr)
	}
	dst := ua.AddrPort()
	dst = netip.AddrPortFrom(dst.Addr().Unmap(), dst.Port())
	ip := dst.Addr()
	switch {
	case ip == c.r.advertised && c.r.isRelayPort(dst.Port()):
		// Another relay of ours: deliver on this host.
		dst = netip.AddrPortFrom(c.r.bindIP, dst.Port())
	case c.r.filter.allowed(ip):
	case slices.Contains(c.r.ownIPs, ip) || ip == c.r.advertised:
		// This host but not a relay: the TURN port itself, or another
		// service. Dropped as if sent: a UDP sender learns nothing.
		var user string
		var client netip.AddrPort
		if a := c.alloc.Load(); a != nil {
			user, client = a.user, a.key.src
		}
		c.r.denied(user, client, ip, denyOwnAddress)
		return len(p), nil
	}
	n, err := c.conn.WriteToUDPAddrPort(p, dst)
	if err == nil {
		c.count(dirToPeer, n)
	}
	return n, err
}

func (c *relayConn) count(dir, n int) {
	c.bytes[dir].Add(uint64(n))
	c.packets[dir].Add(1)
	c.r.m.relayBytes[dir].Add(float64(n))
	c.r.m.relayPackets[dir].Inc()
}

// end makes pion end the allocation: its goroutine gets an error from
// ReadFrom and deletes the allocation, which closes the socket again.
func (c *relayConn) end() { _ = c.conn.Close() }

// Close implements net.PacketConn. pion closes it when the allocation ends.
func (c *relayConn) Close() error {
	err := c.conn.Close()
	if errors.Is(err, net.ErrClosed) {
		err = nil // ended by end, or closed twice
	}
	c.closeOnce.Do(func() {
		c.r.mu.Lock()
		if c.r.ports[c.port] == c {
			delete(c.r.ports, c.port)
		}
		c.r.mu.Unlock()
	})
	return err
}

func (c *relayConn) LocalAddr() net.Addr                { return c.conn.LocalAddr() }
func (c *relayConn) SetDeadline(t time.Time) error      { return c.conn.SetDeadline(t) }
func (c *relayConn) SetReadDeadline(t time.Time) error  { return c.conn.SetReadDeadline(t) }
func (c *relayConn) SetWriteDeadline(t time.Time) error { return c.conn.SetWriteDeadline(t) }
