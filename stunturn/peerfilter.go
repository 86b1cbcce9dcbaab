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
	denyUnspecified denyReason = "unspecified"     // 0.0.0.0/8, ::
	denyLoopback    denyReason = "loopback"        // 127.0.0.0/8, ::1
	denyPrivate     denyReason = "private"         // RFC 1918, IPv6 ULA fc00::/7
	denyLinkLocal   denyReason = "link_local"      // 169.254.0.0/16 (cloud metadata), fe80::/10
	denyCGNAT       denyReason = "cgnat"           // 100.64.0.0/10
	denyMulticast   denyReason = "multicast"       // 224.0.0.0/4, ff00::/8
	denyReserved    denyReason = "reserved"        // 240.0.0.0/4 with broadcast
	denySpecial     denyReason = "special_purpose" // the rest of IANA's special-purpose ranges that are not globally reachable
	denyFamily      denyReason = "family"          // IPv6 peer: relays are IPv4 (443)
	denyOwnAddress  denyReason = "own_address"     // a port of ours that is not a relay
	denyPermissions denyReason = "quota"           // MaxPermissions reached (508)
)

// denyReasons lists the label values, pre-created at zero.
var denyReasons = []denyReason{
	denyUnspecified, denyLoopback, denyPrivate, denyLinkLocal, denyCGNAT,
	denyMulticast, denyReserved, denySpecial, denyFamily, denyOwnAddress, denyPermissions,
}

var (
	cgnatPrefix    = netip.MustParsePrefix("100.64.0.0/10")
	thisNetPrefix  = netip.MustParsePrefix("0.0.0.0/8")
	reservedPrefix = netip.MustParsePrefix("240.0.0.0/4")
	nat64Prefix    = netip.MustParsePrefix("64:ff9b::/96")
)

// specialPurpose lists the blocks of IANA's IPv4 and IPv6 Special-Purpose
// Address Registries whose "Globally Reachable" column is False (or N/A,
// for deprecated relay and tunnel prefixes that lead into other networks),
// beyond those classifyPeer names on its own (loopback, RFC 1918, ULA,
// link-local, CGNAT, 0/8, 240/4). Checked 2026-12 against the registries
// of RFC 6890 with the updates through RFC 9780.
var specialPurpose = prefixes(
	"192.0.0.0/24",    // IETF protocol assignments (RFC 6890), DS-Lite, NAT64 discovery
	"192.0.2.0/24",    // TEST-NET-1 (RFC 5737)
	"192.88.99.0/24",  // deprecated 6to4 relay anycast (RFC 7526)
	"198.18.0.0/15",   // benchmarking (RFC 2544)
	"198.51.100.0/24", // TEST-NET-2
	"203.0.113.0/24",  // TEST-NET-3
	"::/96",           // deprecated IPv4-compatible addresses (RFC 4291)
	"64:ff9b:1::/48",  // local-use IPv4/IPv6 translation (RFC 8215)
	"100::/64",        // discard-only (RFC 6666)
	"100:0:0:1::/64",  // dummy prefix (RFC 9780)
	"2001::/23",       // IETF protocol assignments (RFC 2928), Teredo, benchmarking, ORCHID
	"2001:db8::/32",   // documentation (RFC 3849)
	"2002::/16",       // 6to4 (RFC 3056): leads into IPv4 networks
	"3fff::/20",       // documentation (RFC 9637)
	"5f00::/16",       // segment routing SIDs (RFC 9602)
	"fec0::/10",       // deprecated site-local (RFC 3879)
)

// globalExceptions are the globally reachable blocks inside
// specialPurpose: anycast services and registered identifiers.
var globalExceptions = prefixes(
	"192.0.0.9/32",    // PCP anycast (RFC 7723)
	"192.0.0.10/32",   // TURN anycast (RFC 8155)
	"2001:1::1/128",   // PCP anycast
	"2001:1::2/128",   // TURN anycast
	"2001:1::3/128",   // DNS-SD SRP anycast (RFC 9665)
	"2001:3::/32",     // AMT (RFC 7450)
	"2001:4:112::/48", // AS112-v6 (RFC 7535)
	"2001:20::/28",    // ORCHIDv2 (RFC 7343)
	"2001:30::/28",    // drone remote ID (RFC 9374)
)

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

func containsAny(ps []netip.Prefix, ip netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// classifyPeer returns why ip is not a peer a relay may talk to by default,
// or denyNone: every address that IANA's special-purpose registries do not
// call globally reachable is refused. IPv4-mapped IPv6 addresses, and
// addresses of the well-known NAT64 prefix 64:ff9b::/96, are judged as the
// IPv4 address they carry (a NAT64 gateway would reach it).
func classifyPeer(ip netip.Addr) denyReason {
	ip = ip.Unmap()
	if ip.Is6() && nat64Prefix.Contains(ip) {
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte(b[12:16]))
	}
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
	case containsAny(specialPurpose, ip) && !containsAny(globalExceptions, ip):
		return denySpecial
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
	return containsAny(f.allow, ip.Unmap())
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
