package engineio

import (
	"encoding/base64"
	"errors"
	"fmt"
)

// PacketType is the Engine.IO packet type, sent as one ASCII digit.
type PacketType byte

// Packet types of Engine.IO v4.
const (
	Open PacketType = iota
	Close
	Ping
	Pong
	Message
	Upgrade
	Noop
)

var typeNames = [...]string{"open", "close", "ping", "pong", "message", "upgrade", "noop"}

func (t PacketType) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("PacketType(%d)", byte(t))
}

// Valid reports whether t is one of the seven packet types.
func (t PacketType) Valid() bool { return t <= Noop }

// Separator joins packets in an HTTP long-polling payload (ASCII record separator).
const Separator = 0x1e

// Errors returned by the decoders.
var (
	ErrInvalidPacket  = errors.New("engineio: invalid packet")
	ErrInvalidPayload = errors.New("engineio: invalid payload")
)

// Packet is one Engine.IO packet. Binary is only meaningful for Message
// packets: it marks data that travels as a WebSocket binary frame, or as
// "b"+base64 inside a polling payload.
type Packet struct {
	Type   PacketType
	Data   []byte
	Binary bool
}

// DecodeText decodes a text packet: a WebSocket text frame or one segment of
// a polling payload. A segment starting with 'b' is a base64 binary message.
// The returned Data aliases frame for text packets.
func DecodeText(frame []byte) (Packet, error) {
	if len(frame) == 0 {
		return Packet{}, fmt.Errorf("%w: empty", ErrInvalidPacket)
	}
	if frame[0] == 'b' {
		data := make([]byte, base64.StdEncoding.DecodedLen(len(frame)-1))
		n, err := base64.StdEncoding.Decode(data, frame[1:])
		if err != nil {
			return Packet{}, fmt.Errorf("%w: bad base64: %v", ErrInvalidPacket, err)
		}
		return Packet{Type: Message, Data: data[:n], Binary: true}, nil
	}
	t := PacketType(frame[0] - '0')
	if frame[0] < '0' || !t.Valid() {
		return Packet{}, fmt.Errorf("%w: unknown type %q", ErrInvalidPacket, frame[0])
	}
	return Packet{Type: t, Data: frame[1:]}, nil
}

// DecodeBinary decodes a WebSocket binary frame: always a binary message.
func DecodeBinary(frame []byte) Packet {
	return Packet{Type: Message, Data: frame, Binary: true}
}

// AppendText appends the text encoding of p to dst: the type digit and the
// data, or "b" and the base64 data for a binary packet (the polling form).
func AppendText(dst []byte, p Packet) []byte {
	if p.Binary {
		dst = append(dst, 'b')
		return base64.StdEncoding.AppendEncode(dst, p.Data)
	}
	dst = append(dst, byte('0'+p.Type))
	return append(dst, p.Data...)
}

// EncodedLen returns the length of AppendText's output for p.
func EncodedLen(p Packet) int {
	if p.Binary {
		return 1 + base64.StdEncoding.EncodedLen(len(p.Data))
	}
	return 1 + len(p.Data)
}
