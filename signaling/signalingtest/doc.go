// Package signalingtest is a Go Socket.IO v5 client over Engine.IO v4 for
// tests and load tools, as net/http/httptest is for HTTP: it speaks to a
// signaling.Server (or any Socket.IO 4.x server) the way socket.io-client
// does, so a test can drive the hub through the wire without a browser or
// Node.js.
//
// What it speaks:
//
//   - the transports: WebSocket (the default), HTTP long-polling, and
//     long-polling upgraded to WebSocket (the probe, the pause and the
//     UPGRADE packet), chosen with Options.Transport;
//   - several namespaces over one connection (Conn.Connect), each with its
//     own CONNECT payload (auth), and the server's CONNECT_ERROR;
//   - events to the server with or without an ack (Emit, EmitWithAck, Call);
//   - events from the server, in order (Events, Next, or Options.OnEvent),
//     and the acks the server asks for (Event.Ack);
//   - binary attachments both ways: a []byte argument, at any depth of a
//     map[string]any or []any, travels as an attachment, and a received
//     event's attachments are in Event.Attachments (Event.Values puts them
//     back in place);
//   - the heartbeat: it answers every ping.
//
// It does not reconnect, buffer while disconnected, or retry: a test sees
// every failure as it happens.
//
// # Concurrency contract
//
// Conn and Client are safe for concurrent use. Each Conn has one reading
// goroutine, started by Open and ended by Close or by the end of the
// connection; writes are serialized by the Conn, one packet (with its
// attachments) at a time. Events are delivered on the reading goroutine:
// into the Client's buffered channel (Options.Buffer), or to
// Options.OnEvent, which must not block for long and must not wait for an
// ack of the same connection. A test that stops reading its events stops
// reading the connection once the buffer is full, as a slow client would:
// that is how a test makes a slow consumer. Close never waits for a reader
// that is not reading.
package signalingtest
