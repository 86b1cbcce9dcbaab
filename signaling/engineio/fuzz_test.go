package engineio

import (
	"bytes"
	"errors"
	"testing"
)

// The seed corpora in testdata/fuzz hold frames captured from the real
// socket.io-client (files captured-*, written by the signaling package's
// TestCaptureClientFrames) besides the seeds added here.

func FuzzDecodeText(f *testing.F) {
	for _, s := range []string{"0{}", "1", "2probe", "3", "4hello", "5", "6", "bAQL/", "b", "b\n", "7", "", "bAQ="} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		p, err := DecodeText(frame)
		if err != nil {
			if !errors.Is(err, ErrInvalidPacket) {
				t.Fatalf("error %v does not wrap ErrInvalidPacket", err)
			}
			return
		}
		if !p.Type.Valid() {
			t.Fatalf("invalid type %v", p.Type)
		}
		enc := AppendText(nil, p)
		if len(enc) != EncodedLen(p) {
			t.Fatalf("EncodedLen %d, AppendText wrote %d", EncodedLen(p), len(enc))
		}
		if !p.Binary && !bytes.Equal(enc, frame) {
			t.Fatalf("text packet re-encoded as %q, was %q", enc, frame)
		}
		q, err := DecodeText(enc)
		if err != nil || q.Type != p.Type || q.Binary != p.Binary || !bytes.Equal(q.Data, p.Data) {
			t.Fatalf("round trip: %+v → %q → %+v, %v", p, enc, q, err)
		}
	})
}

func FuzzDecodePayload(f *testing.F) {
	for _, s := range []string{"4a\x1e4b", "bAQL/\x1e2\x1e3probe", "4a\x1e", "\x1e", "", "451-[\"x\",{\"_placeholder\":true,\"num\":0}]\x1eb"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var pkts []Packet
		err := DecodePayload(body, func(p Packet) error {
			pkts = append(pkts, p)
			return nil
		})
		if err != nil {
			if !errors.Is(err, ErrInvalidPayload) {
				t.Fatalf("error %v does not wrap ErrInvalidPayload", err)
			}
			return
		}
		if len(pkts) == 0 {
			t.Fatal("a valid payload without packets")
		}
		enc := AppendPayload(nil, pkts)
		binary := false
		for _, p := range pkts {
			binary = binary || p.Binary
		}
		if !binary && !bytes.Equal(enc, body) {
			t.Fatalf("re-encoded as %q, was %q", enc, body)
		}
		var again []Packet
		if err := DecodePayload(enc, func(p Packet) error { again = append(again, p); return nil }); err != nil {
			t.Fatalf("re-encoded payload %q: %v", enc, err)
		}
		if len(again) != len(pkts) {
			t.Fatalf("%d packets, then %d", len(pkts), len(again))
		}
		for i := range pkts {
			if again[i].Type != pkts[i].Type || again[i].Binary != pkts[i].Binary || !bytes.Equal(again[i].Data, pkts[i].Data) {
				t.Fatalf("packet %d: %+v, then %+v", i, pkts[i], again[i])
			}
		}
	})
}
