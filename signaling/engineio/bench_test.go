package engineio

import (
	"strings"
	"testing"
)

// A polling body as socket.io-client batches it: a few events, a pong and
// a binary attachment.
var benchPayload = []byte(strings.Join([]string{
	`42["signal",{"to":"abcdefghijklmnopqrst","candidate":"candidate:1 1 udp 2122260223 192.0.2.1 54321 typ host"}]`,
	`42["signal",{"to":"abcdefghijklmnopqrst","candidate":"candidate:2 1 udp 1686052607 198.51.100.7 54321 typ srflx"}]`,
	`3`,
	`451-["file",{"_placeholder":true,"num":0}]`,
	"b" + strings.Repeat("AAAA", 256),
}, "\x1e"))

func BenchmarkDecodePayload(b *testing.B) {
	b.SetBytes(int64(len(benchPayload)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		if err := DecodePayload(benchPayload, func(Packet) error { n++; return nil }); err != nil || n != 5 {
			b.Fatal(err, n)
		}
	}
}

func BenchmarkAppendPayload(b *testing.B) {
	var pkts []Packet
	DecodePayload(benchPayload, func(p Packet) error { pkts = append(pkts, p); return nil })
	buf := make([]byte, 0, 2*len(benchPayload))
	b.SetBytes(int64(len(benchPayload)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendPayload(buf[:0], pkts)
	}
}
