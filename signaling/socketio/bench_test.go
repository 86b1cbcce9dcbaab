package socketio

import (
	"encoding/json"
	"strings"
	"testing"
)

var benchSDP = strings.Repeat("a=candidate:1 1 udp 2122260223 192.0.2.1 54321 typ host\\r\\n", 20)

// A typical signaling event: an SDP relayed to a peer, about 1.3 KB.
var benchEvent = []byte(`2["signal",{"to":"abcdefghijklmnopqrst","type":"offer","sdp":"` + benchSDP + `"}]`)

// BenchmarkDecodeEvent decodes an event as the hub does: the packet (with
// its JSON check), the array split, and the event name.
func BenchmarkDecodeEvent(b *testing.B) {
	b.SetBytes(int64(len(benchEvent)))
	b.ReportAllocs()
	for b.Loop() {
		p, err := Decode(benchEvent)
		if err != nil {
			b.Fatal(err)
		}
		elems, err := SplitArray(p.Data)
		if err != nil {
			b.Fatal(err)
		}
		var name string
		if err := json.Unmarshal(elems[0], &name); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeEvent encodes the same event from Go values.
func BenchmarkEncodeEvent(b *testing.B) {
	sdp := strings.ReplaceAll(benchSDP, `\r\n`, "\r\n")
	values := []any{"signal", map[string]any{"to": "abcdefghijklmnopqrst", "type": "offer", "sdp": sdp}}
	buf := make([]byte, 0, 2048)
	b.ReportAllocs()
	for b.Loop() {
		data, _, err := AppendArgs(buf[:0], values, nil)
		if err != nil {
			b.Fatal(err)
		}
		buf = Append(buf[:0], Packet{Type: Event, Namespace: "/", ID: NoID, Data: data})
	}
	b.SetBytes(int64(len(buf)))
}

// BenchmarkEncodeEventRelay encodes arguments received as json.RawMessage
// (a handler relaying what it got): written back verbatim after a check.
func BenchmarkEncodeEventRelay(b *testing.B) {
	p, _ := Decode(benchEvent)
	elems, _ := SplitArray(p.Data)
	values := []any{"signal", elems[1]}
	buf := make([]byte, 0, 2048)
	b.SetBytes(int64(len(benchEvent)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, _, err = AppendArgs(buf[:0], values, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReconstructBinary decodes a binary event's nested placeholder.
func BenchmarkReconstructBinary(b *testing.B) {
	elems, _ := SplitArray([]byte(`[{"name":"photo.png","data":{"_placeholder":true,"num":0},"size":4096}]`))
	atts := [][]byte{make([]byte, 4096)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Reconstruct(elems, atts); err != nil {
			b.Fatal(err)
		}
	}
}
