package socketio

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// The seed corpora in testdata/fuzz hold packets captured from the real
// socket.io-client (files captured-*, written by the signaling package's
// TestCaptureClientFrames) besides the seeds added here.

func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`0`, `0{"token":"x"}`, `0/admin,{}`, `1`, `1/admin,`, `2["hello",1]`, `2/admin,13["x",{"a":[]}]`,
		`3/admin,13[]`, `4{"message":"no"}`, `4"plain"`, `51-["x",{"_placeholder":true,"num":0}]`,
		`61-7[{"_placeholder":true,"num":0}]`, `2[]`, `2[1]`, `3[]`, `7`, `5-[]`, `51-`, `2007["x"]`,
		`21234567890123456["x"]`, `59999-["x"]`, `2/a`, `0/a,12{}`, `2 ["x"]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Decode(b)
		if err != nil {
			if !errors.Is(err, ErrInvalidPacket) {
				t.Fatalf("error %v does not wrap ErrInvalidPacket", err)
			}
			return
		}
		if !strings.HasPrefix(p.Namespace, "/") || p.ID < NoID || p.Attachments < 0 || p.Attachments > MaxAttachments {
			t.Fatalf("decoded %+v", p)
		}
		if p.Type != BinaryEvent && p.Type != BinaryAck && p.Attachments != 0 {
			t.Fatalf("attachments on %v", p.Type)
		}
		// What the server does next with an event must not fail.
		if p.Type == Event || p.Type == BinaryEvent {
			elems, err := SplitArray(p.Data)
			if err != nil || len(elems) == 0 {
				t.Fatalf("an event whose data does not split: %v", err)
			}
			var name string
			if err := json.Unmarshal(elems[0], &name); err != nil {
				t.Fatalf("an event whose name is not a string: %s", elems[0])
			}
		}
		if p.Type == Ack || p.Type == BinaryAck {
			if _, err := SplitArray(p.Data); err != nil {
				t.Fatalf("an ack whose data does not split: %v", err)
			}
		}
		enc := Append(nil, p)
		q, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-encoded %+v as %q: %v", p, enc, err)
		}
		if q.Type != p.Type || q.Namespace != p.Namespace || q.ID != p.ID || q.Attachments != p.Attachments || !bytes.Equal(q.Data, p.Data) {
			t.Fatalf("round trip: %+v → %q → %+v", p, enc, q)
		}
	})
}

func FuzzSplitArray(f *testing.F) {
	for _, s := range []string{`[]`, `[1]`, ` [ 1 , "a,b" , {"x":[1,2]} , [[]] ] `, `["\"]",1]`, `[1,]`, `[`, `]`, `{}`, `["a\\"]`, `[[1],{"]":"["}]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		elems, err := SplitArray(b)
		if err != nil && !errors.Is(err, ErrInvalidPacket) {
			t.Fatalf("error %v does not wrap ErrInvalidPacket", err)
		}
		if !json.Valid(b) {
			return // SplitArray's input is valid JSON: only no panic matters
		}
		var want []json.RawMessage
		if json.Unmarshal(b, &want) != nil {
			if err == nil {
				t.Fatalf("split %q, which is not an array, into %q", b, elems)
			}
			return
		}
		if err != nil {
			t.Fatalf("SplitArray(%q): %v", b, err)
		}
		if len(elems) != len(want) {
			t.Fatalf("SplitArray(%q) = %q, want %q", b, elems, want)
		}
		for i := range want {
			if !bytes.Equal(elems[i], bytes.TrimSpace(want[i])) {
				t.Fatalf("element %d: %q, want %q", i, elems[i], want[i])
			}
		}
	})
}

func FuzzReconstruct(f *testing.F) {
	f.Add([]byte(`[{"_placeholder":true,"num":0}]`), byte(1))
	f.Add([]byte(`[{"a":[{"_placeholder":true,"num":1}]},{"_placeholder":true,"num":0}]`), byte(2))
	f.Add([]byte(`[{"_placeholder":true,"num":5}]`), byte(1))
	f.Add([]byte(`[{"_placeholder":true,"num":-1}]`), byte(1))
	f.Add([]byte(`[{"_placeholder":true,"num":"0"}]`), byte(1))
	f.Add([]byte(`[{"_placeholder":true}]`), byte(1))
	f.Add([]byte(`[{"_placeholder":false,"num":0}]`), byte(1))
	f.Add([]byte(`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[{"_placeholder":true,"num":0}]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`), byte(1))
	f.Fuzz(func(t *testing.T, data []byte, n byte) {
		if !json.Valid(data) {
			return // Decode rejects it before
		}
		elems, err := SplitArray(data)
		if err != nil {
			return
		}
		atts := make([][]byte, n%16)
		for i := range atts {
			atts[i] = []byte{byte(i)}
		}
		args, err := Reconstruct(elems, atts)
		if err != nil {
			if !errors.Is(err, ErrInvalidPacket) {
				t.Fatalf("error %v does not wrap ErrInvalidPacket", err)
			}
			return
		}
		if len(args) != len(elems) {
			t.Fatalf("%d args for %d elements", len(args), len(elems))
		}
		for i, a := range args {
			if raw, ok := a.(json.RawMessage); ok && !bytes.Equal(raw, elems[i]) {
				t.Fatalf("element %d changed: %s → %s", i, elems[i], raw)
			}
		}
		// A handler may relay what it got: it must encode again.
		out, outAtts, err := AppendArgs(nil, args, nil)
		if err != nil {
			t.Fatalf("AppendArgs of reconstructed %#v: %v", args, err)
		}
		if !json.Valid(out) {
			t.Fatalf("AppendArgs wrote invalid JSON %q", out)
		}
		again, err := SplitArray(out)
		if err != nil {
			t.Fatal(err)
		}
		args2, err := Reconstruct(again, outAtts)
		if err != nil {
			t.Fatalf("reconstructing the relayed packet %s: %v", out, err)
		}
		if len(args2) != len(args) {
			t.Fatalf("relayed %d args as %d", len(args), len(args2))
		}
	})
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a", "é😀", "\u2028\u2029", "<script>&", "\x00\x1f\x7f", "\"\\/\b\f\n\r\t", "\xff", "a\xc3", "\xed\xa0\x80", "\U0010ffff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := AppendString([]byte("x"), s)
		if b[0] != 'x' {
			t.Fatal("AppendString overwrote dst")
		}
		b = b[1:]
		if !json.Valid(b) {
			t.Fatalf("AppendString(%q) = %q: not JSON", s, b)
		}
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if utf8.ValidString(s) {
			if got != s {
				t.Fatalf("AppendString(%q) decodes to %q", s, got)
			}
		} else {
			// Invalid UTF-8 becomes U+FFFD, as encoding/json does.
			ref, _ := json.Marshal(s)
			var want string
			json.Unmarshal(ref, &want)
			if got != want {
				t.Fatalf("AppendString(%q) decodes to %q, encoding/json to %q", s, got, want)
			}
		}
		if bytes.ContainsAny(b, "\u2028\u2029") {
			t.Fatalf("AppendString(%q) = %q: U+2028/U+2029 unescaped", s, b)
		}
		for _, c := range b {
			if c < 0x20 {
				t.Fatalf("AppendString(%q) = %q: control character unescaped", s, b)
			}
		}
	})
}

func FuzzAppendArgs(f *testing.F) {
	f.Add([]byte(`{"a":[1,2.5,"x",true,null],"b":{"c":"<&>"}}`), []byte{0, 1})
	f.Add([]byte(`"é😀\u2028"`), []byte{})
	f.Add([]byte(`[[],{},-0,1e300,12345678901234567890]`), []byte("bin"))
	f.Fuzz(func(t *testing.T, js []byte, blob []byte) {
		var v any
		if json.Unmarshal(js, &v) != nil || bytes.Contains(js, []byte("_placeholder")) {
			return
		}
		values := []any{v, blob, map[string]any{"k": blob, "v": v}, "s"}
		data, atts, err := AppendArgs(nil, values, nil)
		if err != nil {
			t.Fatalf("AppendArgs(%s): %v", js, err)
		}
		if len(atts) != 2 || !bytes.Equal(atts[0], blob) || !bytes.Equal(atts[1], blob) {
			t.Fatalf("attachments %q", atts)
		}
		if !json.Valid(data) {
			t.Fatalf("AppendArgs wrote invalid JSON %q", data)
		}
		// encoding/json reads back what was given.
		var back []any
		if err := json.Unmarshal(data, &back); err != nil || len(back) != 4 {
			t.Fatalf("unmarshal %s: %v", data, err)
		}
		if !reflect.DeepEqual(back[0], v) || !reflect.DeepEqual(back[2].(map[string]any)["v"], v) {
			t.Fatalf("AppendArgs(%s) = %s, which decodes to %#v", js, data, back[0])
		}
		// The server's decoding gives the attachments back in place.
		elems, err := SplitArray(data)
		if err != nil {
			t.Fatal(err)
		}
		args, err := Reconstruct(elems, atts)
		if err != nil {
			t.Fatalf("Reconstruct(%s): %v", data, err)
		}
		if !bytes.Equal(args[1].([]byte), blob) || !bytes.Equal(args[2].(map[string]any)["k"].([]byte), blob) {
			t.Fatalf("reconstructed %#v", args)
		}
	})
}
