package stunturn

import (
	"net/netip"
	"testing"

	"github.com/pion/stun/v3"
)

// The test vectors of RFC 5769, checked with pion/stun as this package
// uses it: decoding, FINGERPRINT, addresses, and MESSAGE-INTEGRITY, both
// short-term (§2.1-2.3, which pion/stun's own test leaves unchecked) and
// long-term (§2.4). The bytes are copied from the RFC.

const rfc5769ShortTermPassword = "VOkJxbRl1RmTxUk/WvJxBt"

var rfc5769Vectors = []struct {
	name        string
	raw         string
	integrity   stun.MessageIntegrity
	software    string
	username    string
	xorMapped   netip.AddrPort // zero: none
	class       stun.MessageClass
	fingerprint bool
}{
	{
		name: "2.1 sample request",
		raw: "\x00\x01\x00\x58\x21\x12\xa4\x42\xb7\xe7\xa7\x01\xbc\x34\xd6\x86\xfa\x87\xdf\xae" +
			"\x80\x22\x00\x10STUN test client" +
			"\x00\x24\x00\x04\x6e\x00\x01\xff" +
			"\x80\x29\x00\x08\x93\x2f\xf9\xb1\x51\x26\x3b\x36" +
			"\x00\x06\x00\x09\x65\x76\x74\x6a\x3a\x68\x36\x76\x59\x20\x20\x20" +
			"\x00\x08\x00\x14\x9a\xea\xa7\x0c\xbf\xd8\xcb\x56\x78\x1e\xf2\xb5\xb2\xd3\xf2\x49\xc1\xb5\x71\xa2" +
			"\x80\x28\x00\x04\xe5\x7a\x3b\xcf",
		integrity:   stun.NewShortTermIntegrity(rfc5769ShortTermPassword),
		software:    "STUN test client",
		username:    "evtj:h6vY",
		class:       stun.ClassRequest,
		fingerprint: true,
	},
	{
		name: "2.2 sample IPv4 response",
		raw: "\x01\x01\x00\x3c\x21\x12\xa4\x42\xb7\xe7\xa7\x01\xbc\x34\xd6\x86\xfa\x87\xdf\xae" +
			"\x80\x22\x00\x0b\x74\x65\x73\x74\x20\x76\x65\x63\x74\x6f\x72\x20" +
			"\x00\x20\x00\x08\x00\x01\xa1\x47\xe1\x12\xa6\x43" +
			"\x00\x08\x00\x14\x2b\x91\xf5\x99\xfd\x9e\x90\xc3\x8c\x74\x89\xf9\x2a\xf9\xba\x53\xf0\x6b\xe7\xd7" +
			"\x80\x28\x00\x04\xc0\x7d\x4c\x96",
		integrity:   stun.NewShortTermIntegrity(rfc5769ShortTermPassword),
		software:    "test vector",
		xorMapped:   netip.MustParseAddrPort("192.0.2.1:32853"),
		class:       stun.ClassSuccessResponse,
		fingerprint: true,
	},
	{
		name: "2.3 sample IPv6 response",
		raw: "\x01\x01\x00\x48\x21\x12\xa4\x42\xb7\xe7\xa7\x01\xbc\x34\xd6\x86\xfa\x87\xdf\xae" +
			"\x80\x22\x00\x0b\x74\x65\x73\x74\x20\x76\x65\x63\x74\x6f\x72\x20" +
			"\x00\x20\x00\x14\x00\x02\xa1\x47\x01\x13\xa9\xfa\xa5\xd3\xf1\x79\xbc\x25\xf4\xb5\xbe\xd2\xb9\xd9" +
			"\x00\x08\x00\x14\xa3\x82\x95\x4e\x4b\xe6\x7b\xf1\x17\x84\xc9\x7c\x82\x92\xc2\x75\xbf\xe3\xed\x41" +
			"\x80\x28\x00\x04\xc8\xfb\x0b\x4c",
		integrity:   stun.NewShortTermIntegrity(rfc5769ShortTermPassword),
		software:    "test vector",
		xorMapped:   netip.MustParseAddrPort("[2001:db8:1234:5678:11:2233:4455:6677]:32853"),
		class:       stun.ClassSuccessResponse,
		fingerprint: true,
	},
	{
		name: "2.4 sample request with long-term authentication",
		raw: "\x00\x01\x00\x60\x21\x12\xa4\x42\x78\xad\x34\x33\xc6\xad\x72\xc0\x29\xda\x41\x2e" +
			"\x00\x06\x00\x12\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9\x00\x00" +
			"\x00\x15\x00\x1c\x66\x2f\x2f\x34\x39\x39\x6b\x39\x35\x34\x64\x36\x4f\x4c\x33\x34\x6f\x4c\x39\x46\x53\x54\x76\x79\x36\x34\x73\x41" +
			"\x00\x14\x00\x0b\x65\x78\x61\x6d\x70\x6c\x65\x2e\x6f\x72\x67\x00" +
			"\x00\x08\x00\x14\xf6\x70\x24\x65\x6d\xd6\x4a\x3e\x02\xb8\xe0\x71\x2e\x85\xc9\xa2\x8c\xa8\x96\x66",
		// The password "The<U+00AD>M<U+00AA>tr<U+2168>" is "TheMatrIX" after SASLprep.
		integrity: stun.NewLongTermIntegrity("\u30DE\u30C8\u30EA\u30C3\u30AF\u30B9", "example.org", "TheMatrIX"),
		username:  "\u30DE\u30C8\u30EA\u30C3\u30AF\u30B9",
		class:     stun.ClassRequest,
	},
}

func TestRFC5769(t *testing.T) {
	for _, v := range rfc5769Vectors {
		t.Run(v.name, func(t *testing.T) {
			m := new(stun.Message)
			if err := stun.Decode([]byte(v.raw), m); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if m.Type.Class != v.class || m.Type.Method != stun.MethodBinding {
				t.Errorf("type %v", m.Type)
			}
			if err := v.integrity.Check(m); err != nil {
				t.Errorf("MESSAGE-INTEGRITY: %v", err)
			}
			if string(m.Raw) != v.raw {
				t.Error("checking MESSAGE-INTEGRITY changed the message")
			}
			if v.fingerprint {
				if err := stun.Fingerprint.Check(m); err != nil {
					t.Errorf("FINGERPRINT: %v", err)
				}
			}
			if v.software != "" {
				var sw stun.Software
				// The RFC pads with spaces (allowed: padding is ignored), so
				// the value is exactly the attribute length.
				if err := sw.GetFrom(m); err != nil || sw.String() != v.software {
					t.Errorf("SOFTWARE %q, %v", sw, err)
				}
			}
			if v.username != "" {
				var u stun.Username
				if err := u.GetFrom(m); err != nil || u.String() != v.username {
					t.Errorf("USERNAME %q, %v", u, err)
				}
			}
			if v.xorMapped.IsValid() {
				var a stun.XORMappedAddress
				if err := a.GetFrom(m); err != nil {
					t.Fatalf("XOR-MAPPED-ADDRESS: %v", err)
				}
				ip, _ := netip.AddrFromSlice(a.IP)
				if got := netip.AddrPortFrom(ip.Unmap(), uint16(a.Port)); got != v.xorMapped {
					t.Errorf("XOR-MAPPED-ADDRESS %v, want %v", got, v.xorMapped)
				}
			}

			// A wrong password fails, and so does a flipped bit.
			if err := stun.NewShortTermIntegrity("wrong").Check(m); err == nil {
				t.Error("a wrong password passed")
			}
			tampered := []byte(v.raw)
			tampered[24] ^= 1 // the first attribute's value
			mt := new(stun.Message)
			if err := stun.Decode(tampered, mt); err == nil && v.integrity.Check(mt) == nil {
				t.Error("a tampered message passed")
			}
		})
	}
}

// TestRFC5769ThroughTheGate feeds the long-term vector to the gate's
// credential check: its realm and username are foreign, so it is refused
// as unknown without a panic, and the message is left as it was.
func TestRFC5769ThroughTheGate(t *testing.T) {
	v := rfc5769Vectors[3]
	s := &Server{cfg: settings{Config: Config{Realm: "example.org"}}, issuer: NewIssuer([]byte("x"), 0)}
	m := new(stun.Message)
	if err := stun.Decode([]byte(v.raw), m); err != nil {
		t.Fatal(err)
	}
	if _, _, res := s.authenticate(m, v.username, "example.org"); res != authUnknown {
		t.Errorf("auth result %s, want unknown", authNames[res])
	}
}
