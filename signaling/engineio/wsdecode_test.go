package engineio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// wsFrameSpec describes a frame for wsTestFrame; its zero value plus op
// and payload is a valid, final, masked frame with the minimal length form.
type wsFrameSpec struct {
	op       byte
	payload  []byte
	more     bool    // FIN clear
	rsv      byte    // RSV bits, already shifted (0x40, 0x20, 0x10)
	unmasked bool    // no MASK bit, no key
	form     int     // length form: 0 minimal, 126 or 127 forced
	rawLen   *uint64 // the length written, when it is to lie
	key      [4]byte // default: a fixed non-zero key
}

var wsTestKey = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// wsTestFrame encodes a client frame as RFC 6455 says (or, per spec, not).
func wsTestFrame(s wsFrameSpec) []byte {
	b0 := s.op | s.rsv
	if !s.more {
		b0 |= 0x80
	}
	n := uint64(len(s.payload))
	if s.rawLen != nil {
		n = *s.rawLen
	}
	form := s.form
	if form == 0 {
		switch {
		case n <= 125:
		case n <= 0xffff:
			form = 126
		default:
			form = 127
		}
	}
	var mask byte = 0x80
	if s.unmasked {
		mask = 0
	}
	f := []byte{b0}
	switch form {
	case 126:
		f = append(f, mask|126)
		f = binary.BigEndian.AppendUint16(f, uint16(n))
	case 127:
		f = append(f, mask|127)
		f = binary.BigEndian.AppendUint64(f, n)
	default:
		f = append(f, mask|byte(n))
	}
	if s.unmasked {
		return append(f, s.payload...)
	}
	key := s.key
	if key == ([4]byte{}) {
		key = wsTestKey
	}
	f = append(f, key[:]...)
	for i, c := range s.payload {
		f = append(f, c^key[i&3])
	}
	return f
}

func wsData(op byte, payload string) []byte {
	return wsTestFrame(wsFrameSpec{op: op, payload: []byte(payload)})
}

// wsFeed decodes stream as the hub's reader does: it reads the next chunk
// (size from chunk, at most what the stream has left) after what is not yet
// consumed, then calls next until it stops making progress, growing its
// buffer when need says so. It checks next's contract on every call and
// returns copies of the messages, and the error, if any.
func wsFeed(t testing.TB, d *wsDecoder, stream []byte, chunk func() int) (msgs []wsMessage, err error) {
	t.Helper()
	buf := make([]byte, 0, 16)
	for len(stream) > 0 {
		k := min(max(chunk(), 1), len(stream))
		buf = append(buf, stream[:k]...)
		stream = stream[k:]
		for {
			var before []byte // to check that an incomplete frame is left as it was
			if len(buf) <= 1024 {
				before = slices.Clone(buf)
			}
			msg, n, need, ok, err := d.next(buf)
			if err != nil {
				if n != 0 || ok || need != 0 {
					t.Fatalf("error %v with n %d, ok %v, need %d", err, n, ok, need)
				}
				if !errors.Is(err, errWSProtocol) && !errors.Is(err, errWSTooLarge) {
					t.Fatalf("error %v wraps neither errWSProtocol nor errWSTooLarge", err)
				}
				return msgs, err
			}
			if n < 0 || n > len(buf) {
				t.Fatalf("n %d of %d bytes", n, len(buf))
			}
			if n == 0 {
				if ok {
					t.Fatal("a message without consuming")
				}
				if need <= len(buf) {
					t.Fatalf("no progress on %d bytes, need %d", len(buf), need)
				}
				if before != nil && !bytes.Equal(buf, before) {
					t.Fatal("next modified b without consuming it")
				}
				if need > cap(buf) { // grow as the reader would
					buf = append(make([]byte, 0, need), buf...)
				}
				break
			}
			if need != 0 {
				t.Fatalf("need %d with n %d", need, n)
			}
			if ok {
				if len(msg.data) > d.maxPayload {
					t.Fatalf("message of %d bytes, maxPayload %d", len(msg.data), d.maxPayload)
				}
				switch msg.op {
				case wsOpText, wsOpBinary:
				case wsOpClose, wsOpPing, wsOpPong:
					if len(msg.data) > wsMaxControlPayload {
						t.Fatalf("control frame of %d bytes", len(msg.data))
					}
				default:
					t.Fatalf("message with opcode %d", msg.op)
				}
				msgs = append(msgs, wsMessage{op: msg.op, data: slices.Clone(msg.data)})
			}
			buf = buf[n:] // append moves the unconsumed tail when it needs room
		}
	}
	return msgs, nil
}

func wsFeedWhole(t testing.TB, maxPayload int, stream []byte) ([]wsMessage, error) {
	return wsFeed(t, newWSDecoder(maxPayload), slices.Clone(stream), func() int { return len(stream) })
}

func wsSameMessages(t testing.TB, got, want []wsMessage) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d messages, want %d:\n%s\nwant\n%s", len(got), len(want), wsShow(got), wsShow(want))
	}
	for i := range got {
		if got[i].op != want[i].op || !bytes.Equal(got[i].data, want[i].data) {
			t.Fatalf("message %d: %s, want %s", i, wsShow(got[i:i+1]), wsShow(want[i:i+1]))
		}
	}
}

func wsShow(msgs []wsMessage) string {
	var s strings.Builder
	for _, m := range msgs {
		if len(m.data) > 40 {
			fmt.Fprintf(&s, "op %d: %d bytes %q...\n", m.op, len(m.data), m.data[:40])
		} else {
			fmt.Fprintf(&s, "op %d: %q\n", m.op, m.data)
		}
	}
	return s.String()
}

func cat(frames ...[]byte) []byte { return bytes.Join(frames, nil) }

func ptr[T any](v T) *T { return &v }

func TestWSDecodeMessages(t *testing.T) {
	big := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*7 + i>>8)
		}
		return b
	}
	for _, tc := range []struct {
		name   string
		max    int
		stream []byte
		want   []wsMessage
	}{
		{name: "text", stream: wsData(wsOpText, "42[\"hi\"]"), want: []wsMessage{{wsOpText, []byte("42[\"hi\"]")}}},
		{name: "binary", stream: wsTestFrame(wsFrameSpec{op: wsOpBinary, payload: []byte{0, 1, 0xff}}), want: []wsMessage{{wsOpBinary, []byte{0, 1, 0xff}}}},
		{name: "empty text", stream: wsData(wsOpText, ""), want: []wsMessage{{wsOpText, nil}}},
		{name: "zero key", stream: wsTestFrame(wsFrameSpec{op: wsOpText, payload: []byte("plain"), key: [4]byte{0, 0, 0, 1}}), want: []wsMessage{{wsOpText, []byte("plain")}}},
		{name: "125 7-bit", stream: wsTestFrame(wsFrameSpec{op: wsOpBinary, payload: big(125)}), want: []wsMessage{{wsOpBinary, big(125)}}},
		{name: "126 16-bit", stream: wsTestFrame(wsFrameSpec{op: wsOpBinary, payload: big(126)}), want: []wsMessage{{wsOpBinary, big(126)}}},
		{name: "127 16-bit", stream: wsTestFrame(wsFrameSpec{op: wsOpBinary, payload: big(127)}), want: []wsMessage{{wsOpBinary, big(127)}}},
		{name: "65535 16-bit", stream: wsTestFrame(wsFrameSpec{op: wsOpBinary, payload: big(65535)}), want: []wsMessage{{wsOpBinary, big(65535)}}},
		{name: "65536 64-bit", stream: wsTestFrame(wsFrameSpec{op: wsOpBinary, payload: big(65536)}), want: []wsMessage{{wsOpBinary, big(65536)}}},
		// Not the minimal form: RFC 6455 says a sender must not, gorilla
		// and browsers accept it; so does the decoder.
		{name: "5 in 16-bit form", stream: wsTestFrame(wsFrameSpec{op: wsOpText, payload: []byte("hello"), form: 126}), want: []wsMessage{{wsOpText, []byte("hello")}}},
		{name: "5 in 64-bit form", stream: wsTestFrame(wsFrameSpec{op: wsOpText, payload: []byte("hello"), form: 127}), want: []wsMessage{{wsOpText, []byte("hello")}}},
		{name: "exactly maxPayload", max: 300, stream: wsTestFrame(wsFrameSpec{op: wsOpText, payload: big(300)}), want: []wsMessage{{wsOpText, big(300)}}},
		{name: "maxPayload 0, empty message", max: -1, stream: cat(wsData(wsOpText, ""), wsData(wsOpPing, "")), want: []wsMessage{{wsOpText, nil}, {wsOpPing, nil}}},
		{name: "ping pong close", stream: cat(wsData(wsOpPing, "p"), wsData(wsOpPong, ""), wsData(wsOpClose, "\x03\xe8bye")),
			want: []wsMessage{{wsOpPing, []byte("p")}, {wsOpPong, nil}, {wsOpClose, []byte("\x03\xe8bye")}}},
		{name: "125-byte ping", stream: wsTestFrame(wsFrameSpec{op: wsOpPing, payload: big(125)}), want: []wsMessage{{wsOpPing, big(125)}}},
		{name: "fragments with interleaved ping", stream: cat(
			wsTestFrame(wsFrameSpec{op: wsOpText, payload: []byte("he"), more: true}),
			wsData(wsOpPing, "1"),
			wsTestFrame(wsFrameSpec{op: wsOpContinuation, payload: []byte("ll"), more: true}),
			wsData(wsOpPong, "2"),
			wsData(wsOpPing, "3"),
			wsTestFrame(wsFrameSpec{op: wsOpContinuation, payload: []byte("o")}),
			wsData(wsOpText, "next"),
		), want: []wsMessage{{wsOpPing, []byte("1")}, {wsOpPong, []byte("2")}, {wsOpPing, []byte("3")}, {wsOpText, []byte("hello")}, {wsOpText, []byte("next")}}},
		{name: "close between fragments", stream: cat(
			wsTestFrame(wsFrameSpec{op: wsOpBinary, payload: []byte{1}, more: true}),
			wsData(wsOpClose, ""),
		), want: []wsMessage{{wsOpClose, nil}}},
		{name: "empty fragments", stream: cat(
			wsTestFrame(wsFrameSpec{op: wsOpBinary, more: true}),
			wsTestFrame(wsFrameSpec{op: wsOpContinuation, more: true}),
			wsTestFrame(wsFrameSpec{op: wsOpContinuation}),
		), want: []wsMessage{{wsOpBinary, nil}}},
		{name: "fragments up to exactly maxPayload", max: 10, stream: cat(
			wsTestFrame(wsFrameSpec{op: wsOpText, payload: []byte("0123"), more: true}),
			wsTestFrame(wsFrameSpec{op: wsOpContinuation, payload: []byte("4567"), more: true}),
			wsTestFrame(wsFrameSpec{op: wsOpContinuation, payload: []byte("89")}),
			wsTestFrame(wsFrameSpec{op: wsOpText, payload: []byte("0123456789")}),
		), want: []wsMessage{{wsOpText, []byte("0123456789")}, {wsOpText, []byte("0123456789")}}},
		{name: "large fragmented then small", max: 1 << 20, stream: cat(
			wsTestFrame(wsFrameSpec{op: wsOpBinary, payload: big(40000)[:20000], more: true}),
			wsTestFrame(wsFrameSpec{op: wsOpContinuation, payload: big(40000)[20000:]}),
			wsTestFrame(wsFrameSpec{op: wsOpText, payload: []byte("a"), more: true}),
			wsTestFrame(wsFrameSpec{op: wsOpContinuation, payload: []byte("b")}),
		), want: []wsMessage{{wsOpBinary, big(40000)}, {wsOpText, []byte("ab")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			max := wsTestMax(tc.max)
			got, err := wsFeedWhole(t, max, tc.stream)
			if err != nil {
				t.Fatal(err)
			}
			wsSameMessages(t, got, tc.want)
			// Split at every byte boundary (in a large frame, only those in
			// and near the header and the last few), and fed a byte at a time.
			for cut := 1; cut < len(tc.stream); cut++ {
				if len(tc.stream) > 1000 && cut > 16 && cut < len(tc.stream)-3 {
					continue
				}
				first := true
				got, err := wsFeed(t, newWSDecoder(max), slices.Clone(tc.stream), func() int {
					if first {
						first = false
						return cut
					}
					return len(tc.stream)
				})
				if err != nil {
					t.Fatalf("cut at %d: %v", cut, err)
				}
				wsSameMessages(t, got, tc.want)
			}
			got, err = wsFeed(t, newWSDecoder(max), slices.Clone(tc.stream), func() int { return 1 })
			if err != nil {
				t.Fatalf("a byte at a time: %v", err)
			}
			wsSameMessages(t, got, tc.want)
		})
	}
}

// A whole final frame decodes in place: the data aliases b.
func TestWSDecodeAliases(t *testing.T) {
	f := wsData(wsOpText, "hello, world")
	msg, n, _, ok, err := newWSDecoder(100).next(f)
	if err != nil || !ok || n != len(f) {
		t.Fatal(n, ok, err)
	}
	if &msg.data[0] != &f[6] || string(msg.data) != "hello, world" {
		t.Fatalf("data %q does not alias the frame", msg.data)
	}
}

func TestWSDecodeErrors(t *testing.T) {
	text := func(s wsFrameSpec) []byte { s.op = wsOpText; return wsTestFrame(s) }
	start := wsTestFrame(wsFrameSpec{op: wsOpText, payload: []byte("ab"), more: true})
	for _, tc := range []struct {
		name   string
		max    int
		stream []byte
		msgs   int // messages before the error
		tooBig bool
		says   string
	}{
		{name: "unmasked", stream: text(wsFrameSpec{payload: []byte("hi"), unmasked: true}), says: "unmasked"},
		{name: "RSV1", stream: text(wsFrameSpec{rsv: 0x40}), says: "RSV"},
		{name: "RSV2", stream: text(wsFrameSpec{rsv: 0x20}), says: "RSV"},
		{name: "RSV3", stream: text(wsFrameSpec{rsv: 0x10}), says: "RSV"},
		{name: "opcode 3", stream: wsTestFrame(wsFrameSpec{op: 3}), says: "reserved opcode 3"},
		{name: "opcode 7", stream: wsTestFrame(wsFrameSpec{op: 7}), says: "reserved opcode 7"},
		{name: "opcode 11", stream: wsTestFrame(wsFrameSpec{op: 11}), says: "reserved opcode 11"},
		{name: "opcode 15", stream: wsTestFrame(wsFrameSpec{op: 15}), says: "reserved opcode 15"},
		{name: "fragmented ping", stream: wsTestFrame(wsFrameSpec{op: wsOpPing, more: true}), says: "fragmented control"},
		{name: "fragmented close", stream: wsTestFrame(wsFrameSpec{op: wsOpClose, more: true}), says: "fragmented control"},
		{name: "126-byte ping", stream: wsTestFrame(wsFrameSpec{op: wsOpPing, payload: make([]byte, 126)}), says: "over 125"},
		{name: "pong in 16-bit form", stream: wsTestFrame(wsFrameSpec{op: wsOpPong, payload: []byte("x"), form: 126}), says: "over 125"},
		{name: "close in 64-bit form", stream: wsTestFrame(wsFrameSpec{op: wsOpClose, form: 127}), says: "over 125"},
		{name: "continuation first", stream: wsTestFrame(wsFrameSpec{op: wsOpContinuation, payload: []byte("x")}), says: "continuation frame without"},
		{name: "continuation after a whole message", stream: cat(wsData(wsOpText, "a"), wsTestFrame(wsFrameSpec{op: wsOpContinuation})), msgs: 1, says: "continuation frame without"},
		{name: "continuation after the last fragment", stream: cat(start, wsTestFrame(wsFrameSpec{op: wsOpContinuation}), wsTestFrame(wsFrameSpec{op: wsOpContinuation})), msgs: 1, says: "continuation frame without"},
		{name: "text inside a fragmented message", stream: cat(start, wsData(wsOpText, "x")), says: "inside a fragmented"},
		{name: "binary inside a fragmented message", stream: cat(start, wsData(wsOpPing, ""), wsData(wsOpBinary, "x")), msgs: 1, says: "inside a fragmented"},
		{name: "64-bit length, top bit", stream: text(wsFrameSpec{rawLen: ptr(uint64(1) << 63)}), says: "top bit"},
		{name: "64-bit length, all ones", stream: text(wsFrameSpec{rawLen: ptr(^uint64(0))}), says: "top bit"},
		{name: "64-bit length, 2^63-1", stream: text(wsFrameSpec{rawLen: ptr(uint64(1)<<63 - 1)}), tooBig: true},
		{name: "one over maxPayload", max: 300, stream: text(wsFrameSpec{payload: make([]byte, 301)}), tooBig: true},
		{name: "one over maxPayload 0", max: -1, stream: text(wsFrameSpec{payload: []byte("x")}), tooBig: true},
		{name: "ping over maxPayload", max: 64, stream: wsTestFrame(wsFrameSpec{op: wsOpPing, payload: make([]byte, 65)}), tooBig: true},
		{name: "fragments over maxPayload", max: 10, stream: cat(
			wsTestFrame(wsFrameSpec{op: wsOpText, payload: []byte("0123"), more: true}),
			wsTestFrame(wsFrameSpec{op: wsOpContinuation, payload: []byte("4567"), more: true}),
			wsData(wsOpPing, ""),
			wsTestFrame(wsFrameSpec{op: wsOpContinuation, payload: []byte("89A")}),
		), msgs: 1, tooBig: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			max := wsTestMax(tc.max)
			check := func(how string, msgs []wsMessage, err error) {
				t.Helper()
				if err == nil {
					t.Fatalf("%s: no error", how)
				}
				if len(msgs) != tc.msgs {
					t.Fatalf("%s: %d messages before the error, want %d", how, len(msgs), tc.msgs)
				}
				if tc.tooBig {
					if !errors.Is(err, errWSTooLarge) {
						t.Fatalf("%s: %v, want errWSTooLarge", how, err)
					}
					return
				}
				if !errors.Is(err, errWSProtocol) || !strings.Contains(err.Error(), tc.says) {
					t.Fatalf("%s: %v, want errWSProtocol saying %q", how, err, tc.says)
				}
			}
			msgs, err := wsFeedWhole(t, max, tc.stream)
			check("whole", msgs, err)
			d := newWSDecoder(max)
			msgs, err2 := wsFeed(t, d, slices.Clone(tc.stream), func() int { return 1 })
			check("a byte at a time", msgs, err2)
			if err2.Error() != err.Error() {
				t.Fatalf("a byte at a time: %v, whole: %v", err2, err)
			}
			// Errors are final.
			if _, n, need, ok, err3 := d.next(wsData(wsOpText, "ok")); err3 != err2 || n != 0 || need != 0 || ok {
				t.Fatalf("after the error: n %d need %d ok %v err %v", n, need, ok, err3)
			}
		})
	}
}

// The size is checked from the header: the payload is never needed.
func TestWSDecodeTooLargeFromHeader(t *testing.T) {
	for _, plen := range []uint64{1001, 65535, 65536, 1 << 40} {
		f := wsTestFrame(wsFrameSpec{op: wsOpBinary, rawLen: &plen})
		_, n, need, ok, err := newWSDecoder(1000).next(f)
		if !errors.Is(err, errWSTooLarge) || n != 0 || need != 0 || ok {
			t.Errorf("length %d, header only: n %d need %d ok %v err %v", plen, n, need, ok, err)
		}
		// Without the mask key, too: the length is all it takes.
		_, _, _, _, err = newWSDecoder(1000).next(f[:len(f)-4])
		if !errors.Is(err, errWSTooLarge) {
			t.Errorf("length %d, no mask key: %v", plen, err)
		}
	}
}

// need names the header's length while the header is incomplete, then the
// whole frame's.
func TestWSDecodeNeed(t *testing.T) {
	for _, tc := range []struct {
		plen  int
		needs []int // need after each prefix length 0, 1, 2, ...
	}{
		{plen: 0, needs: []int{2, 2, 6, 6, 6, 6}},
		{plen: 3, needs: []int{2, 2, 9, 9, 9, 9, 9, 9, 9}},
		{plen: 200, needs: []int{2, 2, 8, 8, 208, 208, 208, 208, 208}},
		{plen: 70000, needs: []int{2, 2, 14, 14, 14, 14, 14, 14, 14, 14, 70014, 70014, 70014, 70014, 70014}},
	} {
		f := wsTestFrame(wsFrameSpec{op: wsOpBinary, payload: make([]byte, tc.plen)})
		for i, want := range tc.needs {
			_, n, need, ok, err := newWSDecoder(1 << 20).next(f[:i])
			if err != nil || n != 0 || ok || need != want {
				t.Errorf("%d-byte payload, %d bytes: n %d need %d ok %v err %v; want need %d", tc.plen, i, n, need, ok, err, want)
			}
		}
		_, n, need, ok, err := newWSDecoder(1 << 20).next(f[:len(f)-1])
		if err != nil || n != 0 || ok || need != len(f) {
			t.Errorf("%d-byte payload, one byte short: n %d need %d ok %v err %v", tc.plen, n, need, ok, err)
		}
	}
}

// A non-final fragment is consumed with ok == false; the decoder keeps a
// small assembly buffer for the next message and drops a large one.
func TestWSDecodeFragmentBuffer(t *testing.T) {
	d := newWSDecoder(1 << 20)
	f := wsTestFrame(wsFrameSpec{op: wsOpText, payload: []byte("ab"), more: true})
	_, n, need, ok, err := d.next(f)
	if err != nil || ok || n != len(f) || need != 0 {
		t.Fatalf("first fragment: n %d need %d ok %v err %v", n, need, ok, err)
	}
	f = wsTestFrame(wsFrameSpec{op: wsOpContinuation, payload: []byte("c")})
	msg, _, _, ok, err := d.next(f)
	if err != nil || !ok || string(msg.data) != "abc" || msg.op != wsOpText {
		t.Fatalf("last fragment: %+v %v %v", msg, ok, err)
	}
	if d.frag == nil || len(d.frag) != 0 {
		t.Fatalf("small buffer not kept for reuse: %d/%d", len(d.frag), cap(d.frag))
	}
	stream := cat(
		wsTestFrame(wsFrameSpec{op: wsOpBinary, payload: make([]byte, wsFragKeep), more: true}),
		wsTestFrame(wsFrameSpec{op: wsOpContinuation, payload: make([]byte, 1)}),
	)
	msgs, err := wsFeed(t, d, stream, func() int { return len(stream) })
	if err != nil || len(msgs) != 1 || len(msgs[0].data) != wsFragKeep+1 {
		t.Fatalf("%d messages, %v", len(msgs), err)
	}
	if d.frag != nil {
		t.Fatalf("large buffer kept: %d", cap(d.frag))
	}
	// The buffer never grows past maxPayload.
	d = newWSDecoder(1000)
	stream = cat(
		wsTestFrame(wsFrameSpec{op: wsOpBinary, payload: make([]byte, 600), more: true}),
		wsTestFrame(wsFrameSpec{op: wsOpContinuation, payload: make([]byte, 300), more: true}),
	)
	if _, err := wsFeed(t, d, stream, func() int { return len(stream) }); err != nil {
		t.Fatal(err)
	}
	if cap(d.frag) > 1000 {
		t.Fatalf("assembly buffer of %d bytes, maxPayload 1000", cap(d.frag))
	}
}

func TestWSUnmask(t *testing.T) {
	key := binary.LittleEndian.Uint32(wsTestKey[:])
	for n := range 100 {
		p := make([]byte, n+3)
		for i := range p {
			p[i] = byte(i * 31)
		}
		want := slices.Clone(p)
		for i := range want[3:] {
			want[3+i] ^= wsTestKey[i&3]
		}
		wsUnmask(p[3:], key) // an unaligned start
		if !bytes.Equal(p, want) {
			t.Fatalf("%d bytes: % x, want % x", n, p, want)
		}
	}
}

func TestWSCloseCode(t *testing.T) {
	for _, tc := range []struct {
		data string
		code int
		ok   bool
	}{
		{"", 1005, true},
		{"\x03", 0, false},
		{"\x03\xe8", 1000, true},
		{"\x03\xe8bye", 1000, true},
		{"\x03\xe9", 1001, true},
		{"\x03\xeb", 1003, true},
		{"\x03\xec", 1004, false},
		{"\x03\xed", 1005, false},
		{"\x03\xee", 1006, false},
		{"\x03\xef", 1007, true},
		{"\x03\xf6", 1014, true},
		{"\x03\xf7", 1015, false},
		{"\x03\xe7", 999, false},
		{"\x00\x00", 0, false},
		{"\x0b\xb7", 2999, false},
		{"\x0b\xb8", 3000, true},
		{"\x13\x87", 4999, true},
		{"\x13\x88", 5000, false},
		{"\xff\xff", 65535, false},
		{"\x03\xe8\xff", 1000, false},     // reason not UTF-8
		{"\x03\xe8h\xc3\xa9", 1000, true}, // "hé"
		{"\x03\xe8" + strings.Repeat("x", 123), 1000, true},
		{"\x03\xe8" + strings.Repeat("x", 124), 1000, false},
	} {
		code, ok := wsCloseCode([]byte(tc.data))
		if code != tc.code || ok != tc.ok {
			t.Errorf("%q: %d %v, want %d %v", tc.data, code, ok, tc.code, tc.ok)
		}
	}
}

// gorillaSend is one thing the gorilla client writes.
type gorillaSend struct {
	op   int // websocket.TextMessage, ... as gorilla numbers them: the opcodes
	data []byte
}

// captureGorilla runs a real gorilla client against a server on loopback
// that upgrades with gorilla, then records the raw bytes the client sends,
// read from the connection as the hub's reader will. The client writes
// sends, then closes the TCP connection.
func captureGorilla(t *testing.T, writeBufferSize int, sends []gorillaSend) []byte {
	t.Helper()
	got := make(chan []byte, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			t.Error(err)
			got <- nil
			return
		}
		defer c.Close()
		raw, err := io.ReadAll(c.NetConn())
		if err != nil {
			t.Error(err)
		}
		got <- raw
	}))
	defer srv.Close()
	if !strings.HasPrefix(srv.Listener.Addr().String(), "127.0.0.1:") {
		t.Fatalf("server on %s, not loopback", srv.Listener.Addr())
	}
	dialer := websocket.Dialer{WriteBufferSize: writeBufferSize}
	c, resp, err := dialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, s := range sends {
		switch s.op {
		case websocket.TextMessage, websocket.BinaryMessage:
			err = c.WriteMessage(s.op, s.data)
		default:
			err = c.WriteControl(s.op, s.data, time.Time{})
		}
		if err != nil {
			t.Fatalf("gorilla wrote op %d: %v", s.op, err)
		}
	}
	c.Close() // closes the TCP connection, without a close frame of its own
	return <-got
}

// What a real gorilla client sends decodes to what it was asked to send,
// however the bytes arrive.
func TestWSDecodeGorillaClient(t *testing.T) {
	payload := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = 'a' + byte(i%26)
		}
		return b
	}
	sends := []gorillaSend{
		{websocket.TextMessage, []byte("40")},
		{websocket.TextMessage, []byte(`42["signal",{"to":"x","sdp":"v=0"}]`)},
		{websocket.TextMessage, nil},
		{websocket.BinaryMessage, []byte{0, 1, 2, 0xff}},
		{websocket.PingMessage, []byte("ping")},
		{websocket.TextMessage, payload(125)},
		{websocket.PongMessage, nil},
		{websocket.BinaryMessage, payload(126)},
		{websocket.TextMessage, payload(4096)}, // fragmented by the default 4 KiB write buffer
		{websocket.BinaryMessage, payload(65535)},
		{websocket.TextMessage, payload(65536)},
		{websocket.BinaryMessage, payload(300_000)},
		{websocket.PingMessage, payload(125)},
		{websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "bye")},
	}
	var want []wsMessage
	for _, s := range sends {
		want = append(want, wsMessage{op: byte(s.op), data: s.data})
	}
	for _, wbs := range []int{0, 100, 1 << 20} { // gorilla's default 4096, many fragments, one frame
		t.Run(fmt.Sprintf("write buffer %d", wbs), func(t *testing.T) {
			raw := captureGorilla(t, wbs, sends)
			got, err := wsFeedWhole(t, 1<<20, raw)
			if err != nil {
				t.Fatal(err)
			}
			wsSameMessages(t, got, want)
			frames := 0
			for d, b := newWSDecoder(1<<20), slices.Clone(raw); len(b) > 0; frames++ {
				_, n, _, _, _ := d.next(b)
				b = b[n:]
			}
			t.Logf("%d bytes, %d frames, %d messages", len(raw), frames, len(want))
			if (wbs == 1<<20) != (frames == len(want)) {
				t.Fatalf("%d frames for %d messages: gorilla fragmented %s", frames, len(want), map[bool]string{true: "nothing", false: "more than the 1 MiB buffer needed"}[frames == len(want)])
			}
			if code, ok := wsCloseCode(got[len(got)-1].data); code != websocket.CloseGoingAway || !ok {
				t.Fatalf("close code %d %v", code, ok)
			}
			rng := rand.New(rand.NewPCG(1, uint64(wbs)))
			for _, chunk := range []func() int{
				func() int { return 1 + rng.IntN(10) },
				func() int { return 1 + rng.IntN(5000) },
				func() int { return 256 },
				func() int { return 4096 },
			} {
				got, err := wsFeed(t, newWSDecoder(1<<20), slices.Clone(raw), chunk)
				if err != nil {
					t.Fatal(err)
				}
				wsSameMessages(t, got, want)
			}
			// A maxPayload just under the largest message stops there.
			got, err = wsFeedWhole(t, 300_000-1, raw)
			if !errors.Is(err, errWSTooLarge) || len(got) != 11 {
				t.Fatalf("maxPayload 299999: %d messages, %v", len(got), err)
			}
		})
	}
}

// TestCaptureGorillaWSFrames stores what a gorilla client sends as seeds
// of FuzzWSDecoder. Run it when gorilla/websocket changes:
//
//	NOOM_CAPTURE=1 go test -run TestCaptureGorillaWSFrames ./signaling/engineio/
func TestCaptureGorillaWSFrames(t *testing.T) {
	if os.Getenv("NOOM_CAPTURE") == "" {
		t.Skip("set NOOM_CAPTURE=1 to capture gorilla's client frames into testdata")
	}
	sends := []gorillaSend{
		{websocket.TextMessage, []byte("40")},
		{websocket.TextMessage, []byte(`42["signal",{"to":"x","candidate":"candidate:1 1 udp 2122260223 192.0.2.1 54321 typ host"}]`)},
		{websocket.PingMessage, []byte("p")},
		{websocket.BinaryMessage, bytes.Repeat([]byte{0, 1, 2, 0xff}, 40)},
		{websocket.PongMessage, nil},
		{websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")},
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzWSDecoder")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, wbs := range []int{0, 64} { // one frame per message; fragments of 64 bytes
		raw := captureGorilla(t, wbs, sends)
		seed := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n[]byte(%q)\nuint16(%d)\n", raw, []byte{3, 1, 200, 7}, 1000)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("gorilla-%03d", i)), []byte(seed), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// wsBenchFrame is a masked text frame of n bytes, an Engine.IO message as
// the call app sends them.
func wsBenchFrame(n int) []byte {
	p := []byte(`42["signal",{"to":"abcdefghijklmnopqrst","candidate":"candidate:1 1 udp 2122260223 192.0.2.1 54321 typ host"}]`)
	for len(p) < n {
		p = append(p, ' ')
	}
	return wsTestFrame(wsFrameSpec{op: wsOpText, payload: p[:n]})
}

// The decoder unmasks in place, so each iteration toggles the payload
// between masked and clear: the same work as a fresh frame, without
// copying one in.
func BenchmarkWSDecode(b *testing.B) {
	b.Run("one 300-byte frame", func(b *testing.B) {
		f := wsBenchFrame(300)
		d := newWSDecoder(1 << 20)
		b.SetBytes(int64(len(f)))
		b.ReportAllocs()
		for b.Loop() {
			msg, n, _, ok, err := d.next(f)
			if !ok || err != nil || n != len(f) || len(msg.data) != 300 {
				b.Fatal(n, ok, err)
			}
		}
	})
	b.Run("8 300-byte frames", func(b *testing.B) {
		f := wsBenchFrame(300)
		buf := bytes.Repeat(f, 8)
		d := newWSDecoder(1 << 20)
		b.SetBytes(int64(len(buf)))
		b.ReportAllocs()
		for b.Loop() {
			msgs := 0
			for p := buf; len(p) > 0; {
				_, n, _, ok, err := d.next(p)
				if !ok || err != nil {
					b.Fatal(n, ok, err)
				}
				msgs++
				p = p[n:]
			}
			if msgs != 8 {
				b.Fatal(msgs)
			}
		}
	})
	b.Run("one 64 KiB frame", func(b *testing.B) {
		f := wsTestFrame(wsFrameSpec{op: wsOpBinary, payload: make([]byte, 64<<10)})
		d := newWSDecoder(1 << 20)
		b.SetBytes(int64(len(f)))
		b.ReportAllocs()
		for b.Loop() {
			if _, n, _, ok, err := d.next(f); !ok || err != nil || n != len(f) {
				b.Fatal(n, ok, err)
			}
		}
	})
	b.Run("64 KiB in 4 KiB fragments", func(b *testing.B) { // as gorilla's client sends it by default
		var buf []byte
		for i := range 16 {
			op := byte(wsOpContinuation)
			if i == 0 {
				op = wsOpBinary
			}
			buf = append(buf, wsTestFrame(wsFrameSpec{op: op, payload: make([]byte, 4<<10), more: i < 15})...)
		}
		d := newWSDecoder(1 << 20)
		b.SetBytes(int64(len(buf)))
		b.ReportAllocs()
		for b.Loop() {
			msgs := 0
			for p := buf; len(p) > 0; {
				msg, n, _, ok, err := d.next(p)
				if err != nil || n == 0 {
					b.Fatal(n, err)
				}
				if ok {
					msgs++
					if len(msg.data) != 64<<10 {
						b.Fatal(len(msg.data))
					}
				}
				p = p[n:]
			}
			if msgs != 1 {
				b.Fatal(msgs)
			}
		}
	})
}

func BenchmarkWSUnmask(b *testing.B) {
	key := binary.LittleEndian.Uint32(wsTestKey[:])
	for _, n := range []int{300, 64 << 10} {
		p := make([]byte, n)
		b.Run(fmt.Sprintf("%d", n), func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				wsUnmask(p, key)
			}
		})
		// For comparison: the byte-by-byte loop wsUnmask replaces.
		b.Run(fmt.Sprintf("%d bytewise", n), func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				for i := range p {
					p[i] ^= wsTestKey[i&3]
				}
			}
		})
	}
}

// wsTestMax is a test case's maxPayload: 0 means 1 MiB, a negative value
// means 0.
func wsTestMax(m int) int {
	switch {
	case m == 0:
		return 1 << 20
	case m < 0:
		return 0
	}
	return m
}
