package stunturn

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestParsePortRange(t *testing.T) {
	tests := []struct {
		in     string
		lo, hi uint16
		ok     bool
	}{
		{"49152-65535", 49152, 65535, true},
		{"1-1", 1, 1, true},
		{"3478", 3478, 3478, true},
		{"10000-20000", 10000, 20000, true},
		{"", 0, 0, false},
		{"-", 0, 0, false},
		{"0-10", 0, 0, false},
		{"10-0", 0, 0, false},
		{"20000-10000", 0, 0, false},
		{"1-65536", 0, 0, false},
		{"+1-2", 0, 0, false},
		{" 1-2", 0, 0, false},
		{"1-2-3", 0, 0, false},
		{"0x10-0x20", 0, 0, false},
		{"000001-2", 0, 0, false},
	}
	for _, tc := range tests {
		lo, hi, err := ParsePortRange(tc.in)
		if ok := err == nil; ok != tc.ok || lo != tc.lo || hi != tc.hi {
			t.Errorf("ParsePortRange(%q) = %d, %d, %v; want %d, %d, ok %v", tc.in, lo, hi, err, tc.lo, tc.hi, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("ParsePortRange(%q) error %v is not ErrInvalidConfig", tc.in, err)
		}
	}
}

// FuzzParsePortRange: a range that parses prints back to itself, and is a
// non-empty range of real ports.
func FuzzParsePortRange(f *testing.F) {
	for _, s := range []string{"49152-65535", "1", "3478-3478", "0-1", "65535-1", "a-b", "-1", "1-", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lo, hi, err := ParsePortRange(s)
		if err != nil {
			return
		}
		if lo == 0 || lo > hi {
			t.Fatalf("%q gave %d-%d", s, lo, hi)
		}
		lo2, hi2, err := ParsePortRange(fmt.Sprintf("%d-%d", lo, hi))
		if err != nil || lo2 != lo || hi2 != hi {
			t.Fatalf("%q gave %d-%d, which does not parse back: %d-%d %v", s, lo, hi, lo2, hi2, err)
		}
	})
}

func TestConfigDefaults(t *testing.T) {
	st, err := Config{}.validate()
	if err != nil {
		t.Fatal(err)
	}
	c := st.Config
	if c.Addr != ":3478" || st.listenHost != "" || st.listenPort != 3478 || st.tlsEnabled {
		t.Errorf("addresses: %+v", st)
	}
	if c.RelayPortMin != 49152 || c.RelayPortMax != 65535 || c.Realm != "noom" || c.CredentialTTL != 12*time.Hour {
		t.Errorf("relay/realm/ttl: %+v", c)
	}
	if len(c.Secret) != DefaultSecretLen || st.secretSet {
		t.Errorf("secret: %d bytes, set %v", len(c.Secret), st.secretSet)
	}
	if c.UserQuota != DefaultUserQuota || c.TotalQuota != DefaultTotalQuota || c.MaxPermissions != DefaultMaxPermissions ||
		c.TCPIdleTimeout != DefaultTCPIdleTimeout || c.MaxConnections != DefaultMaxConnections || c.UDPReadWorkers != 1 {
		t.Errorf("limits: %+v", c)
	}
	st2, _ := Config{}.validate()
	if string(st2.Secret) == string(st.Secret) {
		t.Error("two random secrets are equal")
	}

	st, err = Config{Addr: "127.0.0.1:0", TLSCertFile: "c", TLSKeyFile: "k", UserQuota: -1, TotalQuota: -1, MaxConnections: -1}.validate()
	if err != nil {
		t.Fatal(err)
	}
	if !st.tlsEnabled || st.TLSAddr != "127.0.0.1:5349" || st.UserQuota != 0 || st.TotalQuota != 0 || st.MaxConnections != 0 {
		t.Errorf("TLS default address or unlimited quotas: %+v", st)
	}
	st, _ = Config{Addr: "0.0.0.0:3478"}.validate()
	if st.listenHost != "" {
		t.Errorf("0.0.0.0 listens on %q, want all interfaces", st.listenHost)
	}
}

func TestConfigInvalid(t *testing.T) {
	tests := map[string]Config{
		"addr without port":   {Addr: "127.0.0.1"},
		"addr with a name":    {Addr: "localhost:3478"},
		"addr port too large": {Addr: ":65536"},
		"cert without key":    {TLSCertFile: "c"},
		"bad TLS addr":        {TLSCertFile: "c", TLSKeyFile: "k", TLSAddr: "x"},
		"IPv6 public IP":      {PublicIP: netip.MustParseAddr("2001:db8::1")},
		"unspecified public":  {PublicIP: netip.MustParseAddr("0.0.0.0")},
		"one relay port":      {RelayPortMin: 5000},
		"inverted ports":      {RelayPortMin: 6000, RelayPortMax: 5000},
		"short ttl":           {CredentialTTL: time.Millisecond},
		"long ttl":            {CredentialTTL: 365 * 24 * time.Hour},
		"bad prefix":          {AllowPeers: []netip.Prefix{{}}},
		"negative perms":      {MaxPermissions: -1},
		"negative idle":       {TCPIdleTimeout: -time.Second},
		"too many workers":    {UDPReadWorkers: 1000},
	}
	for name, cfg := range tests {
		if _, err := New(cfg, nil, nil); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: New error %v, want ErrInvalidConfig", name, err)
		}
	}
}

func FuzzDefaultRouteInterface(f *testing.F) {
	f.Add("Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" +
		"eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n" +
		"wlan0\t00000000\t0101A8C0\t0003\t0\t0\t50\t00000000\t0\t0\t0\n" +
		"eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n")
	f.Add("Iface Destination\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, table string) {
		got := defaultRouteInterface(stringsReader(table))
		// What it names is the first field of a line after the first.
		if got != "" {
			found := false
			for i, line := range strings.Split(table, "\n") {
				if f := strings.Fields(line); i > 0 && len(f) > 0 && f[0] == got {
					found = true
					break
				}
			}
			if !found {
				t.Fatalf("%q is no interface of the table", got)
			}
		}
		// An up default route of metric 0, first after the header line,
		// wins whatever follows (ties keep the first).
		header, rest, _ := strings.Cut(table, "\n")
		if len(header) > 32<<10 {
			return // longer than a line the scanner reads
		}
		const best = "best0\t00000000\t00000000\t0001\t0\t0\t0\t00000000\t0\t0\t0\n"
		if got := defaultRouteInterface(stringsReader(header + "\n" + best + rest)); got != "best0" {
			t.Fatalf("with a metric-0 default route first: %q", got)
		}
	})
}

func TestDefaultRouteInterface(t *testing.T) {
	table := "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" +
		"eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n" +
		"wlan0\t00000000\t0101A8C0\t0003\t0\t0\t50\t00000000\t0\t0\t0\n" +
		"down0\t00000000\t0101A8C0\t0002\t0\t0\t1\t00000000\t0\t0\t0\n" +
		"eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
	if got := defaultRouteInterface(stringsReader(table)); got != "wlan0" {
		t.Errorf("default route interface %q, want wlan0 (lowest metric, up)", got)
	}
	if got := defaultRouteInterface(stringsReader("Iface\tDestination\n")); got != "" {
		t.Errorf("no routes gave %q", got)
	}
	ip, err := primaryIPv4()
	if err != nil || !ip.Is4() {
		t.Errorf("primaryIPv4() = %v, %v", ip, err)
	}
}
