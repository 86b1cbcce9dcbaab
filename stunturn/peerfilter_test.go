package stunturn

import (
	"net/netip"
	"testing"
)

// TestClassifyPeer walks the edges of every range IANA's special-purpose
// registries call not globally reachable, and the globally reachable
// neighbours and carve-outs around them.
func TestClassifyPeer(t *testing.T) {
	tests := []struct {
		ip   string
		want denyReason
	}{
		// IPv4, registry order.
		{"0.0.0.0", denyUnspecified},
		{"0.255.255.255", denyUnspecified},
		{"1.0.0.0", denyNone},
		{"10.0.0.0", denyPrivate},
		{"10.255.255.255", denyPrivate},
		{"11.0.0.0", denyNone},
		{"100.63.255.255", denyNone},
		{"100.64.0.0", denyCGNAT},
		{"100.127.255.255", denyCGNAT},
		{"100.128.0.0", denyNone},
		{"127.0.0.1", denyLoopback},
		{"169.254.169.254", denyLinkLocal},
		{"172.15.255.255", denyNone},
		{"172.16.0.0", denyPrivate},
		{"172.31.255.255", denyPrivate},
		{"172.32.0.0", denyNone},
		{"191.255.255.255", denyNone},
		{"192.0.0.0", denySpecial},
		{"192.0.0.8", denySpecial},
		{"192.0.0.9", denyNone},  // PCP anycast
		{"192.0.0.10", denyNone}, // TURN anycast
		{"192.0.0.170", denySpecial},
		{"192.0.0.255", denySpecial},
		{"192.0.1.0", denyNone},
		{"192.0.2.0", denySpecial},
		{"192.0.2.255", denySpecial},
		{"192.0.3.0", denyNone},
		{"192.31.196.1", denyNone}, // AS112, globally reachable
		{"192.52.193.1", denyNone}, // AMT, globally reachable
		{"192.88.99.1", denySpecial},
		{"192.168.0.0", denyPrivate},
		{"192.168.255.255", denyPrivate},
		{"192.175.48.1", denyNone}, // AS112 direct delegation
		{"198.17.255.255", denyNone},
		{"198.18.0.0", denySpecial},
		{"198.19.255.255", denySpecial},
		{"198.20.0.0", denyNone},
		{"198.51.100.0", denySpecial},
		{"198.51.100.255", denySpecial},
		{"198.51.101.0", denyNone},
		{"203.0.112.255", denyNone},
		{"203.0.113.0", denySpecial},
		{"203.0.113.255", denySpecial},
		{"203.0.114.0", denyNone},
		{"223.255.255.255", denyNone},
		{"224.0.0.0", denyMulticast},
		{"239.255.255.255", denyMulticast},
		{"240.0.0.0", denyReserved},
		{"255.255.255.255", denyReserved},
		{"8.8.8.8", denyNone},

		// IPv6.
		{"::", denyUnspecified},
		{"::1", denyLoopback},
		{"::2", denySpecial},             // IPv4-compatible, deprecated
		{"::ffff:10.0.0.1", denyPrivate}, // judged as the IPv4 address
		{"::ffff:8.8.8.8", denyNone},
		{"64:ff9b::8.8.8.8", denyNone},              // NAT64 to a public address
		{"64:ff9b::169.254.169.254", denyLinkLocal}, // NAT64 to the metadata service
		{"64:ff9b::192.0.2.1", denySpecial},
		{"64:ff9b:1::1", denySpecial},
		{"64:ff9b:1:ffff:ffff:ffff:ffff:ffff", denySpecial},
		{"64:ff9b:2::", denyNone},
		{"100::1", denySpecial},
		{"100:0:0:1::1", denySpecial},
		{"100:0:0:2::", denyNone},
		{"2001::", denySpecial}, // Teredo
		{"2001:0:ffff::1", denySpecial},
		{"2001:1::1", denyNone}, // PCP anycast
		{"2001:1::2", denyNone}, // TURN anycast
		{"2001:1::3", denyNone}, // DNS-SD SRP anycast
		{"2001:1::4", denySpecial},
		{"2001:2::1", denySpecial}, // benchmarking
		{"2001:3::1", denyNone},    // AMT
		{"2001:4:112::1", denyNone},
		{"2001:4:113::1", denySpecial},
		{"2001:10::1", denySpecial}, // ORCHID, deprecated
		{"2001:20::1", denyNone},    // ORCHIDv2
		{"2001:2f:ffff::1", denyNone},
		{"2001:30::1", denyNone}, // drone remote ID
		{"2001:1ff:ffff::1", denySpecial},
		{"2001:200::1", denyNone}, // just past 2001::/23: a real allocation
		{"2001:db7:ffff::1", denyNone},
		{"2001:db8::", denySpecial},
		{"2001:db8:ffff:ffff::1", denySpecial},
		{"2001:db9::", denyNone},
		{"2002::1", denySpecial}, // 6to4
		{"2003::1", denyNone},
		{"2620:4f:8000::1", denyNone}, // AS112 direct delegation
		{"3fff::1", denySpecial},
		{"3fff:fff::1", denySpecial},
		{"3fff:1000::1", denyNone},
		{"5f00::1", denySpecial},
		{"fc00::1", denyPrivate},
		{"fdff::1", denyPrivate},
		{"fe80::1", denyLinkLocal},
		{"fec0::1", denySpecial},
		{"ff02::1", denyMulticast},
		{"2606:4700::1111", denyNone},
	}
	for _, tc := range tests {
		ip := netip.MustParseAddr(tc.ip)
		if got := classifyPeer(ip); got != tc.want {
			t.Errorf("classifyPeer(%s) = %q, want %q", tc.ip, got, tc.want)
		}
	}
}

// TestPeerFilterCheck: the filter turns classifications into answers:
// IPv6 peers that pass are refused for their family (relays are IPv4),
// AllowPeers opens a range, the server's own relay address is allowed.
func TestPeerFilterCheck(t *testing.T) {
	f := &peerFilter{
		allow:    prefixes("198.18.0.0/15", "fd00::/8"),
		ownRelay: []netip.Addr{netip.MustParseAddr("127.0.0.1")},
	}
	tests := []struct {
		ip   string
		want denyReason
	}{
		{"8.8.8.8", denyNone},
		{"198.18.3.4", denyNone}, // allowed on purpose
		{"::ffff:198.18.3.4", denyNone},
		{"198.51.100.1", denySpecial},
		{"127.0.0.1", denyNone}, // own relay IP
		{"127.0.0.2", denyLoopback},
		{"2606:4700::1111", denyFamily},
		{"fd00::1", denyFamily}, // allowed, but relays are IPv4
		{"2001:db8::1", denySpecial},
		{"64:ff9b::8.8.8.8", denyFamily},
	}
	for _, tc := range tests {
		if got := f.check(netip.MustParseAddr(tc.ip)); got != tc.want {
			t.Errorf("check(%s) = %q, want %q", tc.ip, got, tc.want)
		}
	}
}
