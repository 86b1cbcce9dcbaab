package signaling

import (
	"encoding/json"
	"fmt"

	"github.com/noomrtc/noom/signaling/socketio"
)

// Packet is an outgoing Socket.IO packet encoded once, ready to be queued to
// any number of clients of one namespace: Frames[0] is the Engine.IO text
// message, the rest are binary attachments. Adapters pass it around without
// re-encoding; a node-to-node adapter can ship Frames as they are.
type Packet struct {
	Event     string   // event name, for observers; empty for acks
	Namespace string   // namespace name
	ID        int64    // ack id, socketio.NoID when none
	Frames    [][]byte // encoded frames
}

// Bytes is the packet's size on the wire, attachments included.
func (p *Packet) Bytes() int {
	n := 0
	for _, f := range p.Frames {
		n += len(f)
	}
	return n
}

func (p *Packet) frames() (frame, []frame) {
	first := frame{data: p.Frames[0], op: opText}
	if len(p.Frames) == 1 {
		return first, nil
	}
	more := make([]frame, len(p.Frames)-1)
	for i, b := range p.Frames[1:] {
		more[i] = frame{data: b, op: opBinary}
	}
	return first, more
}

// encodePacket builds the frames of a packet whose JSON data is values.
func encodePacket(t socketio.PacketType, nsp string, id int64, values []any) (*Packet, error) {
	data, atts, err := socketio.AppendArgs(make([]byte, 0, 64), values, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	if len(atts) > 0 {
		t += socketio.BinaryEvent - socketio.Event // EVENT→BINARY_EVENT, ACK→BINARY_ACK
	}
	p := &Packet{Namespace: nsp, ID: id, Frames: make([][]byte, 1, 1+len(atts))}
	head := socketio.Append(make([]byte, 0, 24+len(nsp)+len(data)), socketio.Packet{
		Type: t, Namespace: nsp, ID: id, Attachments: len(atts),
	})
	text := make([]byte, 0, 1+len(head)+len(data))
	text = append(text, '4')
	text = append(text, head...)
	p.Frames[0] = append(text, data...)
	p.Frames = append(p.Frames, atts...)
	return p, nil
}

// encodeEvent encodes EVENT [event, args...].
func encodeEvent(nsp string, id int64, event string, args []any) (*Packet, error) {
	values := make([]any, 0, 1+len(args))
	values = append(values, event)
	values = append(values, args...)
	p, err := encodePacket(socketio.Event, nsp, id, values)
	if err != nil {
		return nil, err
	}
	p.Event = event
	return p, nil
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
