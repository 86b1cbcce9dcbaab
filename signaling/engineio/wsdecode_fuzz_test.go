package engineio

import (
	"slices"
	"testing"
)

// FuzzWSDecoder feeds arbitrary bytes to the decoder in chunks of arbitrary
// sizes (cuts, cycled; an empty cuts means a byte at a time). It must not
// panic, must keep next's contract (wsFeed checks it on every call: n, need,
// b left alone when incomplete, data within maxPayload, known opcodes), and
// must give the same messages and the same error fed whole or split. The
// seeds gorilla-* hold what a gorilla client sends (TestCaptureGorillaWSFrames).
func FuzzWSDecoder(f *testing.F) {
	frag := func(op byte, s string) []byte {
		return wsTestFrame(wsFrameSpec{op: op, payload: []byte(s), more: true})
	}
	for _, s := range [][]byte{
		nil,
		wsData(wsOpText, `42["signal",{"to":"x"}]`),
		cat(wsData(wsOpText, "2probe"), wsData(wsOpText, "5"), wsData(wsOpPing, ""), wsData(wsOpClose, "\x03\xe8")),
		cat(frag(wsOpText, "he"), wsData(wsOpPing, "x"), frag(wsOpContinuation, "ll"), wsData(wsOpContinuation, "o")),
		cat(frag(wsOpBinary, "\x00\x01"), wsData(wsOpContinuation, "\x02"), wsData(wsOpBinary, "")),
		wsTestFrame(wsFrameSpec{op: wsOpBinary, payload: make([]byte, 126)}),
		wsTestFrame(wsFrameSpec{op: wsOpBinary, payload: make([]byte, 300), form: 127}),
		wsTestFrame(wsFrameSpec{op: wsOpText, payload: []byte("x"), unmasked: true}),
		wsTestFrame(wsFrameSpec{op: wsOpText, rsv: 0x40}),
		wsTestFrame(wsFrameSpec{op: wsOpPing, payload: make([]byte, 126)}),
		wsData(wsOpContinuation, "x"),
		wsTestFrame(wsFrameSpec{op: wsOpText, rawLen: ptr(uint64(1) << 63)}),
	} {
		f.Add(s, []byte{}, uint16(1000))
		f.Add(s, []byte{1, 7, 2, 0, 30}, uint16(100))
	}
	f.Fuzz(func(t *testing.T, stream, cuts []byte, max uint16) {
		maxPayload := int(max)
		whole, errWhole := wsFeedWhole(t, maxPayload, stream)
		i := 0
		split, errSplit := wsFeed(t, newWSDecoder(maxPayload), slices.Clone(stream), func() int {
			if len(cuts) == 0 {
				return 1
			}
			i++
			return int(cuts[i%len(cuts)])
		})
		wsSameMessages(t, split, whole)
		if (errWhole == nil) != (errSplit == nil) || errWhole != nil && errWhole.Error() != errSplit.Error() {
			t.Fatalf("fed whole: %v; split: %v", errWhole, errSplit)
		}
		for _, m := range whole {
			if m.op == wsOpClose {
				wsCloseCode(m.data)
			}
		}
	})
}
