// Package engineio encodes and decodes Engine.IO protocol v4 packets and
// HTTP long-polling payloads.
//
// It is a pure codec: no sockets, no goroutines, no shared state. Every
// function is safe for concurrent use. Decoders never panic on malformed
// input; they return an error wrapping ErrInvalidPacket or ErrInvalidPayload.
//
// Wire format (https://github.com/socketio/engine.io-protocol, v4):
//
//	packet    = type-digit [data]            ; text frame or polling segment
//	binary    = raw bytes                    ; WebSocket binary frame = message
//	            "b" base64(bytes)            ; binary message inside a polling payload
//	payload   = packet *( %x1E packet )      ; HTTP long-polling body
package engineio
