package socketio

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"unicode"
)

// PacketType is the Socket.IO packet type, one ASCII digit on the wire.
type PacketType byte

// Packet types of Socket.IO v5.
const (
	Connect PacketType = iota
	Disconnect
	Event
	Ack
	ConnectError
	BinaryEvent
	BinaryAck
)

var typeNames = [...]string{"CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK"}

func (t PacketType) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("PacketType(%d)", byte(t))
}

// Limits the decoder enforces regardless of server configuration.
const (
	// MaxAttachments bounds the attachment count a packet may announce.
	MaxAttachments = 1000
	// maxIDDigits keeps ack ids within JavaScript's safe integers.
	maxIDDigits = 15
)

// ErrInvalidPacket is wrapped by every decoding error.
var ErrInvalidPacket = errors.New("socketio: invalid packet")

// NoID marks a packet without an ack id.
const NoID int64 = -1

// Packet is one decoded Socket.IO packet. Data is the raw JSON that follows
// the header (empty when absent); for decoded packets it aliases the input.
type Packet struct {
	Type        PacketType
	Namespace   string // "/" when absent on the wire
	ID          int64  // NoID when absent
	Attachments int    // BINARY_EVENT and BINARY_ACK only
	Data        []byte
}

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidPacket, fmt.Sprintf(format, a...))
}

// Decode parses one text packet (an Engine.IO message's data) and checks
// that its JSON data has the shape its type requires.
func Decode(b []byte) (Packet, error) {
	p := Packet{Namespace: "/", ID: NoID}
	if len(b) == 0 {
		return p, invalid("empty")
	}
	if b[0] < '0' || b[0] > '6' {
		return p, invalid("unknown type %q", b[0])
	}
	p.Type = PacketType(b[0] - '0')
	i := 1
	if p.Type == BinaryEvent || p.Type == BinaryAck {
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == start || i >= len(b) || b[i] != '-' || i-start > 4 {
			return p, invalid("bad attachment count")
		}
		n, _ := strconv.Atoi(string(b[start:i]))
		if n > MaxAttachments {
			return p, invalid("%d attachments, at most %d", n, MaxAttachments)
		}
		p.Attachments = n
		i++
	}
	if i < len(b) && b[i] == '/' {
		start := i
		for i < len(b) && b[i] != ',' {
			i++
		}
		p.Namespace = string(b[start:i])
		if i < len(b) {
			i++ // the comma
		}
	}
	start := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i > start {
		if i-start > maxIDDigits {
			return p, invalid("ack id too long")
		}
		id, err := strconv.ParseInt(string(b[start:i]), 10, 64)
		if err != nil {
			return p, invalid("bad ack id")
		}
		p.ID = id
	}
	p.Data = b[i:]
	return p, p.check()
}

func (p *Packet) check() error {
	d := p.Data
	if len(d) > 0 && !Valid(d) {
		return invalid("data is not JSON")
	}
	first := byte(0)
	if len(d) > 0 {
		first = d[0]
	}
	switch p.Type {
	case Connect:
		if len(d) > 0 && first != '{' {
			return invalid("CONNECT data must be an object")
		}
		if p.ID != NoID {
			return invalid("CONNECT with an ack id")
		}
	case Disconnect:
		if len(d) > 0 || p.ID != NoID {
			return invalid("DISCONNECT carries nothing")
		}
	case Event, BinaryEvent:
		if first != '[' {
			return invalid("EVENT data must be an array")
		}
		// The data is valid JSON starting with '[', so the first element
		// is a string exactly when the first non-space byte after it is a
		// quote; no need to split the array here (dispatch does).
		if i := bytes.IndexFunc(d[1:], func(r rune) bool { return !unicode.IsSpace(r) }); i < 0 || d[1+i] != '"' {
			return invalid("EVENT needs a name")
		}
	case Ack, BinaryAck:
		if first != '[' {
			return invalid("ACK data must be an array")
		}
		if p.ID == NoID {
			return invalid("ACK without an id")
		}
	case ConnectError:
		if len(d) > 0 && first != '{' && first != '"' {
			return invalid("CONNECT_ERROR data must be an object or a string")
		}
	}
	return nil
}

// Append appends the text encoding of p to dst. It does not check p.
func Append(dst []byte, p Packet) []byte {
	dst = append(dst, byte('0'+p.Type))
	if p.Type == BinaryEvent || p.Type == BinaryAck {
		dst = strconv.AppendInt(dst, int64(p.Attachments), 10)
		dst = append(dst, '-')
	}
	if p.Namespace != "" && p.Namespace != "/" {
		dst = append(dst, p.Namespace...)
		dst = append(dst, ',')
	}
	if p.ID >= 0 {
		dst = strconv.AppendInt(dst, p.ID, 10)
	}
	return append(dst, p.Data...)
}
