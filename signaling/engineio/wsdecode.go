package engineio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"
)

// This file decodes the WebSocket frames a client sends (RFC 6455 section
// 5): the parsing half of the hub's WebSocket reader, with no I/O. The
// HTTP upgrade is done elsewhere; after it, every byte the client sends
// goes through wsDecoder.next.
//
//	 0               1               2               3
//	 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7
//	+-+-+-+-+-------+-+-------------+-------------------------------+
//	|F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//	|I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//	|N|V|V|V|       |S|             |   (if payload len==126/127)   |
//	| |1|2|3|       |K|             |                               |
//	+-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//	|     Extended payload length continued, if payload len == 127  |
//	+ - - - - - - - - - - - - - - - +-------------------------------+
//	|                               |Masking-key, if MASK set to 1  |
//	+-------------------------------+-------------------------------+
//	| Masking-key (continued)       |          Payload Data         |
//	+-------------------------------- - - - - - - - - - - - - - - - +

// WebSocket opcodes.
const (
	wsOpContinuation = 0
	wsOpText         = 1
	wsOpBinary       = 2
	wsOpClose        = 8
	wsOpPing         = 9
	wsOpPong         = 10
)

// Errors of wsDecoder.next. The errors returned wrap one of them and say
// what was wrong.
var (
	// errWSProtocol: the client broke RFC 6455; the connection should be
	// closed with status 1002.
	errWSProtocol = errors.New("engineio: websocket protocol error")
	// errWSTooLarge: a message is over maxPayload; status 1009.
	errWSTooLarge = errors.New("engineio: websocket message too large")
)

const (
	wsMaxControlPayload = 125 // RFC 6455 section 5.5
	wsMinHeader         = 2   // the two fixed bytes; a client frame's header is 6, 8 or 14 bytes with the mask key
	// wsFragKeep is the largest fragment buffer the decoder keeps for the
	// next fragmented message; a larger one is left to the caller (who got
	// it as the message's data) and the garbage collector, so that an idle
	// connection holds no large buffer.
	wsFragKeep = 16 << 10
)

// wsDecoder parses the frames a client sends: masked, no extensions, RSV
// bits 0. It is a state machine with no I/O: the caller reads bytes and
// passes those not yet consumed to next. One goroutine at a time.
type wsDecoder struct {
	maxPayload int    // the largest message, all fragments together, and the largest control frame
	fragOp     byte   // opcode (text or binary) of the fragmented message being assembled; 0 when none
	frag       []byte // its payload so far, len(frag) <= maxPayload; capacity bounded by maxPayload
	err        error  // the first error: every later call returns it
}

// newWSDecoder returns a decoder that accepts messages of up to maxPayload
// bytes (a negative value counts as 0).
func newWSDecoder(maxPayload int) *wsDecoder {
	return &wsDecoder{maxPayload: max(maxPayload, 0)}
}

// wsMessage is one complete message or control frame.
type wsMessage struct {
	op   byte   // 1 text, 2 binary (whole messages, fragments joined), 8 close, 9 ping, 10 pong
	data []byte // unmasked payload; may alias the buffer passed to next (caller copies if it keeps it)
}

// next parses from b, the bytes read and not yet consumed. It returns how
// many bytes it consumed (n > 0 whenever it made progress), and ok when msg
// holds a complete message or control frame. It consumes at most one frame
// per call: a non-final fragment gives n > 0 and ok == false.
//
// When b does not hold the whole next frame it returns n == 0, ok == false,
// and need: the total bytes that frame needs from the start of b (when the
// header itself is not complete, the header's length as far as it is known,
// always at least len(b)+1), so that the caller can grow its buffer to fit.
// need is 0 whenever n > 0 or err != nil. b is not modified then.
//
// msg.data aliases b (unmasked in place) for a control frame and for a
// message sent as one frame; a message sent in fragments is assembled in a
// buffer the decoder owns, valid until the next call. The caller copies
// what it keeps in either case.
//
// Errors are final (every later call returns the same error): they wrap
// errWSProtocol (an unmasked frame, RSV bits, a reserved opcode, a
// fragmented or oversized control frame, a continuation without a start, a
// new data frame inside a fragmented message, a 64-bit length with the top
// bit set) or errWSTooLarge (a message, all its fragments together, or a
// control frame over maxPayload). Both are detected from the header, before
// the payload has been read, so a caller never buffers more than
// maxPayload plus a header. The checks run in the order of the bytes they
// read, so the error does not depend on how the stream was split.
func (d *wsDecoder) next(b []byte) (msg wsMessage, n int, need int, ok bool, err error) {
	if d.err != nil {
		return wsMessage{}, 0, 0, false, d.err
	}
	if len(b) == 0 {
		return wsMessage{}, 0, wsMinHeader, false, nil
	}
	b0 := b[0]
	fin, op := b0&0x80 != 0, b0&0x0f
	if rsv := b0 & 0x70; rsv != 0 {
		return d.fail(fmt.Errorf("%w: RSV bits %#02x set (no extension was negotiated)", errWSProtocol, rsv))
	}
	switch op {
	case wsOpContinuation:
		if d.fragOp == 0 {
			return d.fail(fmt.Errorf("%w: continuation frame without a fragmented message", errWSProtocol))
		}
	case wsOpText, wsOpBinary:
		if d.fragOp != 0 {
			return d.fail(fmt.Errorf("%w: new data frame (opcode %d) inside a fragmented message", errWSProtocol, op))
		}
	case wsOpClose, wsOpPing, wsOpPong:
		if !fin {
			return d.fail(fmt.Errorf("%w: fragmented control frame (opcode %d)", errWSProtocol, op))
		}
	default:
		return d.fail(fmt.Errorf("%w: reserved opcode %d", errWSProtocol, op))
	}
	if len(b) < 2 {
		return wsMessage{}, 0, wsMinHeader, false, nil
	}
	b1 := b[1]
	if b1&0x80 == 0 {
		return d.fail(fmt.Errorf("%w: unmasked client frame", errWSProtocol))
	}
	plen := uint64(b1 & 0x7f)
	if op >= wsOpClose && plen > wsMaxControlPayload { // 126 and 127 (the extended forms) included
		return d.fail(fmt.Errorf("%w: control frame (opcode %d) with a payload over %d bytes", errWSProtocol, op, wsMaxControlPayload))
	}
	hdr := 2
	switch plen {
	case 126:
		hdr += 2
		if len(b) < hdr {
			return wsMessage{}, 0, hdr + 4, false, nil
		}
		plen = uint64(binary.BigEndian.Uint16(b[2:]))
	case 127:
		hdr += 8
		if len(b) < hdr {
			return wsMessage{}, 0, hdr + 4, false, nil
		}
		plen = binary.BigEndian.Uint64(b[2:])
		if plen>>63 != 0 {
			return d.fail(fmt.Errorf("%w: 64-bit payload length with the top bit set", errWSProtocol))
		}
	}
	hdr += 4 // the mask key
	// len(d.frag) <= maxPayload always, so room does not wrap.
	room := uint64(d.maxPayload)
	if op == wsOpContinuation {
		room -= uint64(len(d.frag))
	}
	if plen > room {
		if op == wsOpContinuation {
			return d.fail(fmt.Errorf("%w: fragmented message of %d+%d bytes, maxPayload %d", errWSTooLarge, len(d.frag), plen, d.maxPayload))
		}
		return d.fail(fmt.Errorf("%w: frame of %d bytes, maxPayload %d", errWSTooLarge, plen, d.maxPayload))
	}
	total := hdr + int(plen) // plen <= maxPayload: no overflow
	if len(b) < total {
		return wsMessage{}, 0, total, false, nil
	}
	p := b[hdr:total:total]
	wsUnmask(p, binary.LittleEndian.Uint32(b[hdr-4:]))

	switch {
	case op >= wsOpClose, op != wsOpContinuation && fin: // the common case: no copy
		return wsMessage{op: op, data: p}, total, 0, true, nil
	case op != wsOpContinuation: // the first fragment
		d.fragOp = op
		d.appendFrag(p)
		return wsMessage{}, total, 0, false, nil
	case !fin:
		d.appendFrag(p)
		return wsMessage{}, total, 0, false, nil
	}
	d.appendFrag(p)
	msg = wsMessage{op: d.fragOp, data: d.frag}
	d.fragOp = 0
	if cap(d.frag) > wsFragKeep {
		d.frag = nil
	} else {
		d.frag = d.frag[:0]
	}
	return msg, total, 0, true, nil
}

func (d *wsDecoder) fail(err error) (wsMessage, int, int, bool, error) {
	d.err = err
	d.fragOp, d.frag = 0, nil
	return wsMessage{}, 0, 0, false, err
}

// appendFrag appends p to the message being assembled, growing its buffer
// geometrically but never past maxPayload (the caller checked that
// len(d.frag)+len(p) <= maxPayload).
func (d *wsDecoder) appendFrag(p []byte) {
	n := len(d.frag) + len(p)
	if n > cap(d.frag) {
		c := min(max(2*cap(d.frag), n, 512), d.maxPayload)
		f := make([]byte, len(d.frag), c)
		copy(f, d.frag)
		d.frag = f
	}
	d.frag = append(d.frag, p...)
}

// wsUnmask XORs p with the mask key, whose four bytes, as sent, are key in
// little-endian order. p starts at the first payload byte. It works on
// 8 bytes at a time (32 in the main loop); only the last 7 at most go one
// by one.
func wsUnmask(p []byte, key uint32) {
	k := uint64(key) | uint64(key)<<32
	for len(p) >= 32 {
		q := p[:32:32]
		binary.LittleEndian.PutUint64(q[0:], binary.LittleEndian.Uint64(q[0:])^k)
		binary.LittleEndian.PutUint64(q[8:], binary.LittleEndian.Uint64(q[8:])^k)
		binary.LittleEndian.PutUint64(q[16:], binary.LittleEndian.Uint64(q[16:])^k)
		binary.LittleEndian.PutUint64(q[24:], binary.LittleEndian.Uint64(q[24:])^k)
		p = p[32:]
	}
	for len(p) >= 8 {
		binary.LittleEndian.PutUint64(p, binary.LittleEndian.Uint64(p)^k)
		p = p[8:]
	}
	// The tail starts at a multiple of 8, so at mask byte 0.
	for i := range p {
		p[i] ^= byte(key >> (8 * (i & 3)))
	}
}

// wsCloseCode returns the status code of a close frame's payload: 1005
// ("no status received") for an empty payload. ok is false when the payload
// is invalid: one byte, over 125 bytes, a code that may not be sent (below
// 1000, 1004-1006, 1015-2999, 5000 and up) or a reason that is not UTF-8;
// the code read, if any, is returned still. The caller then closes with 1002.
func wsCloseCode(data []byte) (code int, ok bool) {
	switch {
	case len(data) == 0:
		return 1005, true
	case len(data) == 1:
		return 0, false
	}
	code = int(binary.BigEndian.Uint16(data))
	if len(data) > wsMaxControlPayload || !utf8.Valid(data[2:]) {
		return code, false
	}
	switch {
	case 1000 <= code && code <= 1003, 1007 <= code && code <= 1014, 3000 <= code && code <= 4999:
		return code, true
	}
	return code, false
}
