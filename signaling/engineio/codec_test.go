package engineio

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestDecodeText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Packet
		err  bool
	}{
		{in: "0{\"sid\":\"x\"}", want: Packet{Type: Open, Data: []byte(`{"sid":"x"}`)}},
		{in: "1", want: Packet{Type: Close, Data: []byte{}}},
		{in: "2", want: Packet{Type: Ping, Data: []byte{}}},
		{in: "2probe", want: Packet{Type: Ping, Data: []byte("probe")}},
		{in: "3probe", want: Packet{Type: Pong, Data: []byte("probe")}},
		{in: "4hello é", want: Packet{Type: Message, Data: []byte("hello é")}},
		{in: "5", want: Packet{Type: Upgrade, Data: []byte{}}},
		{in: "6", want: Packet{Type: Noop, Data: []byte{}}},
		{in: "bAQL/", want: Packet{Type: Message, Data: []byte{1, 2, 255}, Binary: true}},
		{in: "bAAEC/w==", want: Packet{Type: Message, Data: []byte{0, 1, 2, 255}, Binary: true}},
		{in: "b", want: Packet{Type: Message, Data: []byte{}, Binary: true}}, // empty attachment, as socket.io-client sends it
		{in: "", err: true},
		{in: "7", err: true},
		{in: "9", err: true},
		{in: "/", err: true},
		{in: "a", err: true},
		{in: "\x00", err: true},
		{in: "b!!", err: true},
		{in: "bAQ=x", err: true},
	} {
		got, err := DecodeText([]byte(tc.in))
		if tc.err {
			if !errors.Is(err, ErrInvalidPacket) {
				t.Errorf("DecodeText(%q) = %v, %v; want ErrInvalidPacket", tc.in, got, err)
			}
			continue
		}
		if err != nil || got.Type != tc.want.Type || got.Binary != tc.want.Binary || !bytes.Equal(got.Data, tc.want.Data) {
			t.Errorf("DecodeText(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestDecodePayload(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string // AppendText of each packet
		err  bool
	}{
		{in: "4hello", want: []string{"4hello"}},
		{in: "4a\x1e4b\x1e2", want: []string{"4a", "4b", "2"}},
		{in: "bAQL/\x1ebb2s=", want: []string{"bAQL/", "bb2s="}},
		{in: "451-[\"x\",{\"_placeholder\":true,\"num\":0}]\x1eb", want: []string{"451-[\"x\",{\"_placeholder\":true,\"num\":0}]", "b"}},
		{in: "", err: true},
		{in: "\x1e", err: true},
		{in: "4a\x1e", err: true},
		{in: "\x1e4a", err: true},
		{in: "4a\x1e\x1e4b", want: []string{"4a"}, err: true},
		{in: "4a\x1e9", want: []string{"4a"}, err: true}, // the good packet is still delivered
	} {
		var got []string
		err := DecodePayload([]byte(tc.in), func(p Packet) error {
			got = append(got, string(AppendText(nil, p)))
			return nil
		})
		if tc.err != (err != nil) || (err != nil && !errors.Is(err, ErrInvalidPayload)) {
			t.Errorf("DecodePayload(%q): err %v", tc.in, err)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("DecodePayload(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// fn's error stops the decoding and is returned as it is.
	stop := errors.New("stop")
	n := 0
	err := DecodePayload([]byte("4a\x1e4b"), func(Packet) error { n++; return stop })
	if err != stop || n != 1 {
		t.Errorf("fn error: %v after %d packets", err, n)
	}
}

func TestAppend(t *testing.T) {
	pkts := []Packet{
		{Type: Message, Data: []byte("42[\"x\"]")},
		{Type: Message, Data: []byte{0, 0xff}, Binary: true},
		{Type: Ping},
		{Type: Message, Data: nil, Binary: true},
	}
	if got := string(AppendPayload(nil, pkts)); got != "442[\"x\"]\x1ebAP8=\x1e2\x1eb" {
		t.Errorf("AppendPayload = %q", got)
	}
	for _, p := range pkts {
		if n, got := EncodedLen(p), len(AppendText(nil, p)); n != got {
			t.Errorf("EncodedLen(%+v) = %d, AppendText wrote %d", p, n, got)
		}
	}
	if got := PacketType(9).String(); got != "PacketType(9)" {
		t.Errorf("String = %q", got)
	}
}

func TestAppendHandshake(t *testing.T) {
	b := AppendHandshake([]byte("0"), Handshake{SID: "abc_-1", Upgrades: []string{"websocket"}, PingInterval: 25000, PingTimeout: 20000, MaxPayload: 1000000})
	want := `0{"sid":"abc_-1","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`
	if string(b) != want {
		t.Errorf("got %s", b)
	}
	b = AppendHandshake(nil, Handshake{SID: "x", Upgrades: []string{}})
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil || len(v["upgrades"].([]any)) != 0 {
		t.Errorf("no upgrades: %s %v", b, err)
	}
}

// capturedFrame is one line of ../testdata/captured/socket.io-client.jsonl:
// a frame the real socket.io-client sent (recorded by
// ../testdata/interop/capture.mjs).
type capturedFrame struct {
	Run       string
	Transport string
	Kind      string // text, binary (WebSocket messages) or payload (a polling POST body)
	Data      string
	Hex       string
}

func readCaptured(t *testing.T) []capturedFrame {
	t.Helper()
	f, err := os.Open("../testdata/captured/socket.io-client.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []capturedFrame
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var c capturedFrame
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		if c.Kind != "" {
			out = append(out, c)
		}
	}
	if len(out) < 30 {
		t.Fatalf("only %d captured frames", len(out))
	}
	return out
}

// TestCapturedFrames decodes every frame socket.io-client sent, and checks
// that our encoder writes each polling payload back byte for byte.
func TestCapturedFrames(t *testing.T) {
	for _, c := range readCaptured(t) {
		switch c.Kind {
		case "text":
			p, err := DecodeText([]byte(c.Data))
			if err != nil || p.Binary {
				t.Errorf("%s: DecodeText(%q) = %+v, %v", c.Run, c.Data, p, err)
			}
		case "payload":
			var pkts []Packet
			if err := DecodePayload([]byte(c.Data), func(p Packet) error { pkts = append(pkts, p); return nil }); err != nil {
				t.Errorf("%s: DecodePayload(%q): %v", c.Run, c.Data, err)
			}
			if got := string(AppendPayload(nil, pkts)); got != c.Data {
				t.Errorf("%s: AppendPayload = %q, client sent %q", c.Run, got, c.Data)
			}
			for _, p := range pkts {
				if p.Binary != strings.HasPrefix(string(AppendText(nil, p)), "b") {
					t.Errorf("%s: binary packet %+v", c.Run, p)
				}
			}
		}
	}
}
