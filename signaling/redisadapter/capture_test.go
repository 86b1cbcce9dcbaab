package redisadapter

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// capture is one message Node's @socket.io/redis-adapter 8.3.0 published
// (testdata/capture, recorded by capture.js there).
type capture struct {
	name, channel string
	payload       []byte
}

// kind tells the decoder a message's channel calls for.
func (c capture) kind() string {
	switch {
	case strings.HasPrefix(c.channel, "socket.io-request#"):
		return "request"
	case strings.HasPrefix(c.channel, "socket.io-response#"):
		return "response"
	}
	return "broadcast"
}

func readCaptures(tb testing.TB) []capture {
	tb.Helper()
	f, err := os.Open("testdata/capture/channels.txt")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []capture
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, channel, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			tb.Fatalf("channels.txt: %q", sc.Text())
		}
		b, err := os.ReadFile(filepath.Join("testdata/capture", name))
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, capture{name, channel, b})
	}
	if len(out) < 20 {
		tb.Fatalf("%d captures", len(out))
	}
	return out
}

func captureNamed(t *testing.T, name string) capture {
	t.Helper()
	for _, c := range readCaptures(t) {
		if c.name == name {
			return c
		}
	}
	t.Fatalf("no capture %s", name)
	return capture{}
}

// TestCapturesDecode decodes every captured message with the decoder its
// channel calls for.
func TestCapturesDecode(t *testing.T) {
	for _, c := range readCaptures(t) {
		var err error
		switch c.kind() {
		case "broadcast":
			_, err = decodeBroadcast(c.payload)
		default:
			_, err = decodeMessage(c.payload)
		}
		if err != nil {
			t.Errorf("%s (%s): %v", c.name, c.channel, err)
		}
	}
}

// TestCaptureValues checks what the decoders make of Node's encodings:
// every msgpack integer width, floats, NaN and infinities, binary, a Date,
// undefined, numeric rooms, flags in milliseconds, and the JSON answers.
func TestCaptureValues(t *testing.T) {
	bm, err := decodeBroadcast(captureNamed(t, "002-mixed-args.bin").payload)
	if err != nil {
		t.Fatal(err)
	}
	// io.emit("mixed", 1, -1, 300, -70000, 2**40, 1.5, NaN, Infinity, true,
	// null, [1,[2]], {a:{b:"c"}}, Buffer.from("bin"), new Date(Date.UTC(2000,
	// 5, 13)), undefined, "é✓", 2**53+2)
	want := []any{int64(1), int64(-1), int64(300), int64(-70000), int64(1 << 40), 1.5, nil, nil, true, nil,
		[]any{int64(1), []any{int64(2)}}, map[string]any{"a": map[string]any{"b": "c"}}, []byte("bin"),
		"2000-06-13T00:00:00.000Z", nil, "é✓", int64(1<<53 + 2)}
	if bm.event != "mixed" || bm.nsp != "/" || len(bm.args) != len(want) {
		t.Fatalf("decoded %+v", bm)
	}
	for i := range want {
		if !reflect.DeepEqual(normInt(bm.args[i]), want[i]) {
			t.Errorf("argument %d: %#v, want %#v", i, bm.args[i], want[i])
		}
	}

	for _, tc := range []struct {
		name  string
		rooms []string
		opts  wireOpts
		nsp   string
	}{
		{"001-to-room.bin", nil, wireOpts{Rooms: []string{"room1"}, Except: []string{}}, "/"},
		{"003-except.bin", nil, wireOpts{Rooms: []string{"room2", "room3"}, Except: []string{"room1"}}, "/"},
		{"004-numeric-room.bin", nil, wireOpts{Rooms: []string{"42"}, Except: []string{}}, "/"},
		{"005-volatile.bin", nil, wireOpts{Rooms: []string{}, Except: []string{}, Volatile: true}, "/"},
		{"007-namespace.bin", nil, wireOpts{Rooms: []string{"r"}, Except: []string{}}, "/chat"},
	} {
		bm, err := decodeBroadcast(captureNamed(t, tc.name).payload)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(bm.opts, tc.opts) || bm.nsp != tc.nsp || bm.uid == "" {
			t.Errorf("%s: %+v", tc.name, bm)
		}
	}

	req, err := decodeMessage(captureNamed(t, "008-emit-with-ack.bin").payload)
	if err != nil {
		t.Fatal(err)
	}
	if typ, _ := req.int("type"); typ != typeBroadcast || req.opts("opts").Timeout != 2*time.Second {
		t.Errorf("broadcast with ack: %+v", req)
	}
	ack, err := decodeMessage(captureNamed(t, "010-emit-with-ack.bin").payload)
	if err != nil {
		t.Fatal(err)
	}
	if typ, _ := ack.int("type"); typ != typeBroadcastAck || !reflect.DeepEqual(ack["packet"],
		map[string]any{"answer": int64(42), "bin": []byte{1, 2, 3}}) {
		t.Errorf("client ack: %#v", ack)
	}

	res, err := decodeMessage(captureNamed(t, "012-fetch-sockets.bin").payload)
	if err != nil {
		t.Fatal(err)
	}
	socks := decodeSockets(res["sockets"], "/")
	if len(socks) != 1 {
		t.Fatalf("sockets %+v", socks)
	}
	s := socks[0]
	if len(s.ID) != 20 || !reflect.DeepEqual(s.Rooms, []string{s.ID, "room1", "42"}) ||
		fmt.Sprintf("%s", s.Data) != `{"n":1,"name":"bob"}` || string(s.Handshake.Auth) != `{"token":"t"}` ||
		s.Handshake.Query.Get("q") != "1" || s.Handshake.RemoteAddr != "127.0.0.1" ||
		s.Handshake.Headers.Get("Upgrade") != "websocket" || s.Handshake.Time.IsZero() {
		t.Errorf("socket %+v", s)
	}
	emit, err := decodeMessage(captureNamed(t, "019-server-side-emit.bin").payload)
	if err != nil {
		t.Fatal(err)
	}
	event, args, err := eventData(emit["data"])
	if b, _ := json.Marshal(args); err != nil || event != "ping" || string(b) != `[1,"two",{"data":[255],"type":"Buffer"}]` {
		t.Errorf("server-side emit %q %s %v", event, b, err)
	}
}

// normInt makes a uint64 that fits an int64 an int64, for comparing.
func normInt(v any) any {
	if u, ok := v.(uint64); ok && u <= math.MaxInt64 {
		return int64(u)
	}
	return v
}
