package stunturn

import (
	"net/netip"
	"slices"
)

// denyReason says why a peer address is refused; "" means allowed. The
// values are the label values of noom_turn_peers_denied_total.
type denyReason string

const (
	denyNone        denyReason = ""
	denyUnspecified denyReason = "unspecified" // 0.0.0.0/8, ::
	denyLoopback    denyReason = "loopback"    // 127.0.0.0/8, ::1
	denyPrivate     denyReason = "private"     // RFC 1918, IPv6 ULA fc00::/7
	denyLinkLocal   denyReason = "link_local"  // 169.254.0.0/16 (cloud metadata), fe80::/10
	denyCGNAT       denyReason = "cgnat"       // 100.64.0.0/10
	denyMulticast   denyReason = "multicast"   // 224.0.0.0/4, ff00::/8
	denyReserved    denyReason = "reserved"    // 240.0.0.0/4 with broadcast
	denyFamily      denyReason = "family"      // IPv6 peer: relays are IPv4 (443)
	denyOwnAddress  denyReason = "own_address" // a port of ours that is not a relay
	denyPermissions denyReason = "quota"       // MaxPermissions reached (508)
)

// denyReasons lists the label values, pre-created at zero.
var denyReasons = []denyReason{
	denyUnspecified, denyLoopback, denyPrivate, denyLinkLocal, denyCGNAT,
	denyMulticast, denyReserved, denyFamily, denyOwnAddress, denyPermissions,
}

var (
	cgnatPrefix    = netip.MustParsePrefix("100.64.0.0/10")
	thisNetPrefix  = netip.MustParsePrefix("0.0.0.0/8")
	reservedPrefix = netip.MustParsePrefix("240.0.0.0/4")
)

// classifyPeer returns why ip is not a peer a relay may talk to by default,
// or denyNone. IPv4-mapped IPv6 addresses are judged as the IPv4 address
// they carry.
func classifyPeer(ip netip.Addr) denyReason {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid():
		return denyUnspecified
	case ip.IsUnspecified(), ip.Is4() && thisNetPrefix.Contains(ip):
		return denyUnspecified
	case ip.IsLoopback():
		return denyLoopback
	case ip.IsPrivate(): // 10/8, 172.16/12, 192.168/16, fc00::/7
		return denyPrivate
	case ip.IsLinkLocalUnicast(): // 169.254/16, fe80::/10
		return denyLinkLocal
	case ip.Is4() && cgnatPrefix.Contains(ip):
		return denyCGNAT
	case ip.IsMulticast():
		return denyMulticast
	case ip.Is4() && reservedPrefix.Contains(ip):
		return denyReserved
	}
	return denyNone
}

// peerFilter decides which peer addresses allocations may relay to.
// It is immutable after New and safe for concurrent use.
type peerFilter struct {
	allow    []netip.Prefix // Config.AllowPeers
	ownRelay []netip.Addr   // the relay IPs: advertised, and bound when different
}

func (f *peerFilter) allowed(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range f.allow {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// check returns why a relay must not get a permission for ip, or denyNone.
// The server's own relay addresses are allowed whatever their range, so
// that two clients of this server can relay to each other; which ports of
// them a relay may send to is checked per packet (relayConn.WriteTo).
func (f *peerFilter) check(ip netip.Addr) denyReason {
	ip = ip.Unmap()
	if slices.Contains(f.ownRelay, ip) || f.allowed(ip) {
		if ip.Is6() {
			return denyFamily
		}
		return denyNone
	}
	if r := classifyPeer(ip); r != denyNone {
		return r
	}
	if ip.Is6() {
		return denyFamily
	}
	return denyNone
}
