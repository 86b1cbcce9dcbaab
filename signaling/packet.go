package signaling

import (
	"encoding/json"
	"fmt"
	"strconv"
	"sync/atomic"

	"github.com/noomrtc/noom/signaling/engineio"
	"github.com/noomrtc/noom/signaling/socketio"
)

// Packet is an outgoing event as values: its namespace, name and
// arguments, which any node can encode (an adapter ships them to other
// nodes in its own format). The node that delivers it encodes it once, on
// first use, and caches the frames: every local recipient gets the same
// bytes.
//
// Args hold what Emit accepts: json.RawMessage (verbatim JSON),
// socketio.RawJSON (verbatim, known valid), []byte (a binary attachment),
// strings, numbers, bools, nil, map[string]any and []any trees (with
// []byte leaves for nested binary), and any value encoding/json can
// marshal. A Packet and its Args must not be modified once handed to an
// adapter.
type Packet struct {
	Namespace string // namespace name, such as "/"
	Event     string // event name
	Args      []any  // the event's arguments, after the name

	enc atomic.Pointer[encoded] // frames this node encoded, once
}

// encoded is a Packet's Socket.IO encoding: the JSON array of the event
// and its binary attachments, and the frames of the packet without an ack
// id.
type encoded struct {
	data   []byte   // `["event",args...]`, placeholders for attachments
	atts   [][]byte // binary attachments
	frames [][]byte // frames[0]: Engine.IO text message; then attachments
	err    error
}

// Frames returns the packet's frames without an ack id, encoding them on
// first use: frames[0] is the Engine.IO text message ("42..."), the rest
// are binary attachments.
func (p *Packet) Frames() ([][]byte, error) {
	e := p.encode()
	return e.frames, e.err
}

// Bytes is the packet's encoded size, attachments included.
func (p *Packet) Bytes() int {
	n := 0
	for _, f := range p.encode().frames {
		n += len(f)
	}
	return n
}

func (p *Packet) encode() *encoded { return p.encodeWith(nil) }

// encodeWith encodes the packet once, writing the arguments that are
// elements of trusted (see validated) without checking them again.
func (p *Packet) encodeWith(trusted []any) *encoded {
	if e := p.enc.Load(); e != nil {
		return e
	}
	e := &encoded{}
	text, off, atts, err := appendEvent(nil, p.Namespace, socketio.NoID, p.Event, p.Args, trusted)
	if err != nil {
		e.err = err
	} else {
		e.atts = atts
		e.data = text[off:]
		e.frames = append(make([][]byte, 0, 1+len(atts)), text)
		e.frames = append(e.frames, atts...)
	}
	// Two racing encoders make equal bytes: either may win.
	p.enc.CompareAndSwap(nil, e)
	return p.enc.Load()
}

// withID returns the frames of the packet carrying ack id id: the cached
// JSON with a header of its own (one copy, no re-encoding).
func (p *Packet) withID(id int64) (engineio.Frame, []engineio.Frame, error) {
	e := p.encode()
	if e.err != nil {
		return engineio.Frame{}, nil, e.err
	}
	// appendHeader makes EVENT a BINARY_EVENT when there are attachments.
	text := appendHeader(make([]byte, 0, 24+len(p.Namespace)+len(e.data)), socketio.Event, p.Namespace, id, len(e.atts))
	text = append(text, e.data...)
	return engineio.TextFrame(text), attFrames(e.atts), nil
}

// frames returns the packet's frames for a session, without an ack id.
func (p *Packet) frames() (engineio.Frame, []engineio.Frame, error) {
	e := p.encode()
	if e.err != nil {
		return engineio.Frame{}, nil, e.err
	}
	return engineio.TextFrame(e.frames[0]), attFrames(e.atts), nil
}

func attFrames(atts [][]byte) []engineio.Frame {
	if len(atts) == 0 {
		return nil
	}
	more := make([]engineio.Frame, len(atts))
	for i, b := range atts {
		more[i] = engineio.BinaryFrame(b)
	}
	return more
}

// appendHeader appends "4" (Engine.IO message) and the Socket.IO header.
func appendHeader(dst []byte, t socketio.PacketType, nsp string, id int64, atts int) []byte {
	if atts > 0 {
		t += socketio.BinaryEvent - socketio.Event // EVENT→BINARY_EVENT, ACK→BINARY_ACK
	}
	dst = append(dst, '4', byte('0'+t))
	if atts > 0 {
		dst = strconv.AppendInt(dst, int64(atts), 10)
		dst = append(dst, '-')
	}
	if nsp != "" && nsp != "/" {
		dst = append(dst, nsp...)
		dst = append(dst, ',')
	}
	if id >= 0 {
		dst = strconv.AppendInt(dst, id, 10)
	}
	return dst
}

// appendPacket appends the Engine.IO text message of a Socket.IO packet of
// type t (Event or Ack) whose data is the JSON array of head (if not
// empty) followed by values, into one buffer. It returns the buffer, the
// offset of the JSON data in it, and the binary attachments found in
// values. A value that is one of the json.RawMessage elements of trusted
// (the arguments of an event the hub decoded and validated) is written as
// it is, without validating it again.
func appendPacket(dst []byte, t socketio.PacketType, nsp string, id int64, head string, values, trusted []any) ([]byte, int, [][]byte, error) {
	start := len(dst)
	dst = appendHeader(dst, t, nsp, id, 0)
	hdrEnd := len(dst)
	dst = append(dst, '[')
	if head != "" {
		dst = socketio.AppendString(dst, head)
	}
	var atts [][]byte
	for i, v := range values {
		if i > 0 || head != "" {
			dst = append(dst, ',')
		}
		if raw, ok := v.(json.RawMessage); ok && isElement(raw, trusted) {
			dst = append(dst, raw...)
			continue
		}
		var err error
		if dst, atts, err = socketio.AppendValue(dst, v, atts); err != nil {
			return dst[:start], 0, nil, fmt.Errorf("%w: %w", ErrInvalidArgument, err)
		}
	}
	dst = append(dst, ']')
	if len(atts) == 0 {
		return dst, hdrEnd, nil, nil
	}
	// Binary: the header names the attachments; rebuild it (rare).
	out := appendHeader(make([]byte, 0, len(dst)+8), t, nsp, id, len(atts))
	off := len(out)
	return append(out, dst[hdrEnd:]...), off, atts, nil
}

// appendEvent encodes EVENT [event, args...] into one buffer.
func appendEvent(dst []byte, nsp string, id int64, event string, args, trusted []any) ([]byte, int, [][]byte, error) {
	if dst == nil {
		dst = make([]byte, 0, 32+len(nsp)+len(event)+argsSize(args))
	}
	return appendPacket(dst, socketio.Event, nsp, id, event, args, trusted)
}

// isElement reports whether raw is, byte for byte in the same memory, one
// of the json.RawMessage values of elems: an element of an array the
// decoder validated is valid JSON, so it needs no second check.
func isElement(raw json.RawMessage, elems []any) bool {
	if len(raw) == 0 {
		return false
	}
	for _, e := range elems {
		if r, ok := e.(json.RawMessage); ok && len(r) == len(raw) && &r[0] == &raw[0] {
			return true
		}
	}
	return false
}

// argsSize guesses the encoded size of args, so that one buffer holds the
// packet without growing.
func argsSize(args []any) int {
	n := 0
	for _, a := range args {
		switch v := a.(type) {
		case json.RawMessage:
			n += len(v) + 1
		case socketio.RawJSON:
			n += len(v) + 1
		case string:
			n += len(v) + 8
		default:
			n += 32
		}
	}
	return n
}

// encodeControl encodes CONNECT, CONNECT_ERROR and DISCONNECT packets,
// whose data is one JSON value or nothing.
func encodeControl(t socketio.PacketType, nsp string, data []byte) []byte {
	b := append([]byte{'4'}, socketio.Append(nil, socketio.Packet{Type: t, Namespace: nsp, ID: socketio.NoID})...)
	return append(b, data...)
}

// Decode unmarshals an event argument into v. An argument is a
// json.RawMessage (the JSON value as the client sent it), a []byte (a
// binary attachment), or, when binary attachments are nested inside it, a
// tree of map[string]any, []any and []byte.
func Decode(arg any, v any) error {
	switch a := arg.(type) {
	case json.RawMessage:
		if p, ok := v.(*string); ok { // a socket id, a room: the common case
			if str, ok := plainString(a); ok {
				*p = str
				return nil
			}
		}
		return json.Unmarshal(a, v)
	case socketio.RawJSON:
		return json.Unmarshal(a, v)
	case []byte:
		if p, ok := v.(*[]byte); ok {
			*p = a
			return nil
		}
		return fmt.Errorf("%w: binary argument into %T", ErrInvalidArgument, v)
	case nil:
		return fmt.Errorf("%w: missing argument", ErrInvalidArgument)
	default:
		b, err := json.Marshal(a)
		if err != nil {
			return err
		}
		return json.Unmarshal(b, v)
	}
}
