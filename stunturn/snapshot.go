package stunturn

import (
	"net/netip"
	"slices"
	"time"
)

// AllocationInfo describes one allocation at the moment of a snapshot.
// It is a plain value: it shares nothing with the server.
type AllocationInfo struct {
	User      string         // the <user> part of the username: the quota key
	Username  string         // the REST username "<expiry>:<user>"
	Transport string         // between client and server: "udp", "tcp" or "tls"
	Client    netip.AddrPort // the client's address as the server sees it
	Server    netip.AddrPort // the server address the client reached
	Relay     netip.AddrPort // the relayed address, as advertised to peers
	Created   time.Time
	Age       time.Duration

	// Relayed payload so far, counted as it passes.
	BytesToPeer, BytesToClient     uint64
	PacketsToPeer, PacketsToClient uint64

	Permissions []netip.Addr // permitted peer IPs, sorted
	Channels    int          // channel bindings
}

// Allocations returns a snapshot of the allocations, oldest first.
func (s *Server) Allocations() []AllocationInfo {
	infos := s.st.infos(time.Now())
	slices.SortFunc(infos, func(a, b AllocationInfo) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return a.Client.Compare(b.Client)
	})
	return infos
}
