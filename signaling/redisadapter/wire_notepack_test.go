package redisadapter

import (
	"encoding/hex"
	"reflect"
	"testing"
	"time"
)

// notepackBroadcast is what Node's adapter 8.3.0 publishes (notepack.io
// 3.0.1 encoding) for io.to(["a", 42]).except("b").volatile.timeout(1500)
// emitting "ev" with a Buffer, then an object holding a Buffer, numbers
// of every msgpack width, null, undefined and a Date, from uid "Ab3dE_"
// (encoded by notepack under Node 20).
const notepackBroadcast = "93a641623364455f83a47479706502a46461746193a26576c40301020383a16bc40104a16e9901ffccc8d1ff38ce00011170cf0000010000000000cb3ff8000000000000c0c0a164d6ff39457980a36e7370a12f83a5726f6f6d7392a1612aa665786365707491a162a5666c61677382a8766f6c6174696c65c3a774696d656f7574cd05dc"

// TestDecodeNotepack checks that a broadcast from Node decodes with its
// binary as []byte (a Buffer, which the hub sends its clients as an
// attachment), its integers, of any width, as int64, a Date as the text
// JSON.stringify makes of it, and a numeric room as its decimal name.
func TestDecodeNotepack(t *testing.T) {
	b, err := hex.DecodeString(notepackBroadcast)
	if err != nil {
		t.Fatal(err)
	}
	bm, err := decodeBroadcast(b)
	if err != nil {
		t.Fatal(err)
	}
	want := broadcastMsg{uid: "Ab3dE_", nsp: "/", event: "ev",
		args: []any{[]byte{1, 2, 3}, map[string]any{"k": []byte{4}, "d": "2000-06-13T00:00:00.000Z",
			"n": []any{int64(1), int64(-1), int64(200), int64(-200), int64(70000), int64(1 << 40), 1.5, nil, nil}}},
		opts: wireOpts{Rooms: []string{"a", "42"}, Except: []string{"b"}, Volatile: true, Timeout: 1500 * time.Millisecond}}
	if !reflect.DeepEqual(bm, want) {
		t.Errorf("decoded\n%#v\nwant\n%#v", bm, want)
	}
}
