package stunturn

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/pion/stun/v3"
	"github.com/prometheus/client_golang/prometheus"
)

// fuzzServer is a Server with the gate's state and no sockets.
func fuzzServer(t testing.TB) *Server {
	st, err := Config{Addr: "127.0.0.1:3478", Secret: []byte("fuzz")}.validate()
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{cfg: st, log: testLogger(t), issuer: NewIssuer(st.Secret, time.Hour), st: newState(&st)}
	s.filter = &peerFilter{ownRelay: nil}
	if s.m, err = newMetrics(prometheus.NewRegistry(), s.st); err != nil {
		t.Fatal(err)
	}
	return s
}

// fuzzSeeds are requests the gate judges: signed TURN requests of every
// method, a Send indication, a Binding, ChannelData and junk.
func fuzzSeeds(t testing.TB, s *Server) [][]byte {
	username := "99999999999:fuzz"
	password := s.issuer.Password(username)
	signed := func(method stun.Method, attrs ...stun.Setter) []byte {
		setters := []stun.Setter{stun.TransactionID, stun.NewType(method, stun.ClassRequest)}
		setters = append(setters, attrs...)
		setters = append(setters, stun.NewUsername(username), stun.NewRealm(DefaultRealm), stun.NewNonce("nonce"),
			stun.NewLongTermIntegrity(username, DefaultRealm, password), stun.Fingerprint)
		return mustBuild(t, setters...).Raw
	}
	chanData := make([]byte, 8)
	binary.BigEndian.PutUint16(chanData, 0x4000)
	binary.BigEndian.PutUint16(chanData[2:], 4)
	return [][]byte{
		signed(stun.MethodAllocate, requestedTransport(protoUDP)),
		signed(stun.MethodAllocate, requestedTransport(6)),
		signed(stun.MethodAllocate, requestedTransport(protoUDP), rawAttr{stun.AttrRequestedAddressFamily, []byte{2, 0, 0, 0}}),
		signed(stun.MethodRefresh, lifetime(time.Minute)),
		signed(stun.MethodCreatePermission, peerAddress("203.0.113.1", 1), peerAddress("10.0.0.1", 2)),
		signed(stun.MethodChannelBind, peerAddress("::ffff:127.0.0.1", 1), channelNumber(0x4001)),
		mustBuild(t, stun.TransactionID, stun.NewType(stun.MethodSend, stun.ClassIndication),
			peerAddress("169.254.169.254", 80), rawAttr{stun.AttrData, []byte("x")}).Raw,
		mustBuild(t, stun.TransactionID, stun.BindingRequest).Raw,
		chanData,
		[]byte("GET / HTTP/1.1\r\n\r\n"),
	}
}

// FuzzInspect: the gate never panics, and what it answers is an error
// response to the request it read.
func FuzzInspect(f *testing.F) {
	s := fuzzServer(f)
	for _, seed := range fuzzSeeds(f, s) {
		f.Add(seed)
	}
	src := &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 5000}
	local := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 3478}
	var sc gateScratch
	f.Fuzz(func(t *testing.T, b []byte) {
		in := bytes.Clone(b)
		v := s.inspect(b, src, local, transportUDP, &sc)
		if !bytes.Equal(in, b) {
			t.Fatal("inspect changed the message")
		}
		if v.reply == nil {
			return
		}
		var m stun.Message
		if err := stun.Decode(v.reply, &m); err != nil {
			t.Fatalf("reply does not decode: %v", err)
		}
		if m.Type.Class != stun.ClassErrorResponse || !v.request || string(m.TransactionID[:]) != string(b[8:20]) {
			t.Fatalf("reply %v to %x", m.Type, b)
		}
	})
}

// FuzzStreamFrames: framing a TCP stream never panics, yields STUN
// messages and ChannelData of the sizes their headers say, and stops at
// the first thing that is neither.
func FuzzStreamFrames(f *testing.F) {
	s := fuzzServer(f)
	for _, seed := range fuzzSeeds(f, s) {
		f.Add(seed)
	}
	f.Add(append(fuzzSeeds(f, s)[7], fuzzSeeds(f, s)[8]...))
	f.Fuzz(func(t *testing.T, b []byte) {
		c := &streamConn{br: bufio.NewReaderSize(bytes.NewReader(b), streamBufSize)}
		total := 0
		for {
			frame, err := c.nextFrame()
			if err != nil {
				return
			}
			total += len(frame)
			if total > len(b) || len(frame) < 4 || len(frame) > streamBufSize {
				t.Fatalf("frame of %d bytes from %d in all", len(frame), len(b))
			}
			switch {
			case frame[0]&0xC0 == 0:
				if !stun.IsMessage(frame) || len(frame) != stunHeaderSize+int(binary.BigEndian.Uint16(frame[2:4])) {
					t.Fatalf("bad STUN frame %x", frame)
				}
			case len(frame)%4 != 0:
				t.Fatalf("ChannelData frame of %d bytes is not padded", len(frame))
			}
		}
	})
}
