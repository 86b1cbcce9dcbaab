package engineio

import "strconv"

// Handshake is the data of the OPEN packet.
type Handshake struct {
	SID          string
	Upgrades     []string
	PingInterval int // milliseconds
	PingTimeout  int // milliseconds
	MaxPayload   int // bytes
}

// AppendHandshake appends the JSON of an OPEN packet's data, with exactly the
// keys the protocol names, in the order the reference server sends them.
// The sid must be URL- and JSON-safe (the server generates base64url ids).
func AppendHandshake(dst []byte, h Handshake) []byte {
	dst = append(dst, `{"sid":"`...)
	dst = append(dst, h.SID...)
	dst = append(dst, `","upgrades":[`...)
	for i, u := range h.Upgrades {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendQuote(dst, u)
	}
	dst = append(dst, `],"pingInterval":`...)
	dst = strconv.AppendInt(dst, int64(h.PingInterval), 10)
	dst = append(dst, `,"pingTimeout":`...)
	dst = strconv.AppendInt(dst, int64(h.PingTimeout), 10)
	dst = append(dst, `,"maxPayload":`...)
	dst = strconv.AppendInt(dst, int64(h.MaxPayload), 10)
	return append(dst, '}')
}
