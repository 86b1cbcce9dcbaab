// Package socketio encodes and decodes Socket.IO protocol v5 packets, and
// the JSON argument arrays they carry, including binary attachments.
//
// It is a pure codec: no sockets, no goroutines, no shared state; every
// function is safe for concurrent use, and decoders never panic on bad input
// (they return errors wrapping ErrInvalidPacket).
//
// Wire format (https://github.com/socketio/socket.io-protocol, v5):
//
//	<type>[<attachments>"-"][<namespace>","][<ack id>][<JSON data>]
//
// Binary attachments travel as separate Engine.IO binary messages after a
// BINARY_EVENT or BINARY_ACK packet, and the JSON holds placeholders
// {"_placeholder":true,"num":N} where they belong.
//
// Encoded JSON is byte-exact: JSON values received as json.RawMessage are
// written back unchanged, and nothing is HTML-escaped.
package socketio
