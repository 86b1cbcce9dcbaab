package redisadapter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/noomrtc/noom/signaling/socketio"
	"github.com/vmihailenco/msgpack/v5"
)

// This file is the wire format of @socket.io/redis-adapter 8.x (the
// classic pub/sub adapter): broadcasts are msgpack arrays [uid, packet,
// opts]; requests and responses are JSON objects, except the broadcast
// with acks (type 7) and each client's ack (type 9), which are msgpack
// maps. A receiver tells them apart by the first byte ('{' is JSON).

// Request and response types of the classic adapter (RequestType in
// lib/index.ts). 8 and 9 are responses only.
const (
	typeSockets          = 0
	typeAllRooms         = 1
	typeRemoteJoin       = 2
	typeRemoteLeave      = 3
	typeRemoteDisconnect = 4
	typeRemoteFetch      = 5
	typeServerSideEmit   = 6
	typeBroadcast        = 7
	typeBroadcastCount   = 8
	typeBroadcastAck     = 9
)

// packetEvent is Socket.IO's EVENT packet type: a broadcast's packet keeps
// it even when the arguments hold binary; each node's encoder makes it a
// BINARY_EVENT for its own clients.
const packetEvent = 2

// wireOpts are a broadcast's rooms, except and flags, as the Node adapter
// sends them (timeout in milliseconds; flags absent when unset).
type wireOpts struct {
	Rooms    []string
	Except   []string
	Volatile bool
	Timeout  time.Duration
}

func (o wireOpts) value() map[string]any {
	flags := map[string]any{}
	if o.Volatile {
		flags["volatile"] = true
	}
	if o.Timeout > 0 {
		flags["timeout"] = o.Timeout.Milliseconds()
	}
	return map[string]any{"rooms": nonNil(o.Rooms), "except": nonNil(o.Except), "flags": flags}
}

// maxTimeoutMs is the longest flags.timeout a time.Duration holds.
const maxTimeoutMs = math.MaxInt64 / int64(time.Millisecond)

// message is a decoded request or response: a JSON or msgpack object.
type message map[string]any

func (m message) str(k string) string {
	switch v := m[k].(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

func (m message) int(k string) (int64, bool) { return toInt(m[k]) }

func (m message) opts(k string) wireOpts {
	o, _ := m[k].(map[string]any)
	var w wireOpts
	w.Rooms = strs(o["rooms"])
	w.Except = strs(o["except"])
	if f, ok := o["flags"].(map[string]any); ok {
		w.Volatile, _ = f["volatile"].(bool)
		if ms, ok := toInt(f["timeout"]); ok && ms > 0 {
			w.Timeout = time.Duration(min(ms, maxTimeoutMs)) * time.Millisecond
		}
	}
	return w
}

// decodeMessage decodes a request or response: JSON when it starts with
// '{', msgpack otherwise.
func decodeMessage(b []byte) (message, error) {
	if len(b) > 0 && b[0] == '{' {
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		var m map[string]any
		if err := d.Decode(&m); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		return message(fromJSON(m).(map[string]any)), nil
	}
	v, err := unpack(b)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: message is %T, not a map", ErrMalformed, v)
	}
	return message(m), nil
}

// broadcastMsg is a decoded broadcast: [uid, {type, data, nsp}, opts].
type broadcastMsg struct {
	uid   string
	nsp   string
	event string
	args  []any
	opts  wireOpts
}

func decodeBroadcast(b []byte) (broadcastMsg, error) {
	var bm broadcastMsg
	v, err := unpack(b)
	if err != nil {
		return bm, err
	}
	arr, ok := v.([]any)
	if !ok || len(arr) < 3 {
		return bm, fmt.Errorf("%w: broadcast is not [uid, packet, opts]", ErrMalformed)
	}
	bm.uid, _ = arr[0].(string)
	pkt, ok := arr[1].(map[string]any)
	if !ok {
		return bm, fmt.Errorf("%w: broadcast packet is %T", ErrMalformed, arr[1])
	}
	if bm.event, bm.args, err = eventData(pkt["data"]); err != nil {
		return bm, err
	}
	bm.nsp, _ = pkt["nsp"].(string)
	if bm.nsp == "" {
		bm.nsp = "/"
	}
	bm.opts = message{"o": arr[2]}.opts("o")
	return bm, nil
}

// eventData splits [event, args...].
func eventData(v any) (string, []any, error) {
	data, ok := v.([]any)
	if !ok || len(data) == 0 {
		return "", nil, fmt.Errorf("%w: event data is not [event, ...args]", ErrMalformed)
	}
	event, ok := data[0].(string)
	if !ok {
		return "", nil, fmt.Errorf("%w: event name is %T", ErrMalformed, data[0])
	}
	return event, data[1:], nil
}

func encodeBroadcast(uid, nsp, event string, args []any, o wireOpts) ([]byte, error) {
	data, err := eventValues(event, args)
	if err != nil {
		return nil, err
	}
	return pack([]any{uid, map[string]any{"type": packetEvent, "data": data, "nsp": nsp}, o.value()})
}

// eventValues is [event, args...] as plain values (see toValue).
func eventValues(event string, args []any) ([]any, error) {
	data := make([]any, 1, 1+len(args))
	data[0] = event
	for _, a := range args {
		v, err := toValue(a)
		if err != nil {
			return nil, err
		}
		data = append(data, v)
	}
	return data, nil
}

func pack(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.UseCompactInts(true)
	enc.UseCompactFloats(true)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return buf.Bytes(), nil
}

// maxValueDepth bounds the nesting of decoded values.
const maxValueDepth = 32

// unpack decodes msgpack with the strict interface decoding: the loose
// one reads bin (a Node Buffer) as a Go string, which the hub would send
// its clients as text, not as a binary attachment.
func unpack(b []byte) (any, error) {
	if err := scanMsgpack(b); err != nil {
		return nil, err
	}
	dec := msgpack.NewDecoder(bytes.NewReader(b))
	v, err := dec.DecodeInterface()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return fromMsgpack(v, 0)
}

// fromMsgpack makes a decoded msgpack tree something the hub can encode
// for clients: integers of every width become int64 (uint64 above
// MaxInt64), NaN and infinities become null (as JSON.stringify does),
// timestamps become their ISO text, bin stays []byte, maps have string
// keys.
func fromMsgpack(v any, depth int) (any, error) {
	if depth > maxValueDepth {
		return nil, fmt.Errorf("%w: value nested too deep", ErrMalformed)
	}
	switch t := v.(type) {
	case int8:
		return int64(t), nil
	case int16:
		return int64(t), nil
	case int32:
		return int64(t), nil
	case uint8:
		return int64(t), nil
	case uint16:
		return int64(t), nil
	case uint32:
		return int64(t), nil
	case uint64:
		if t <= math.MaxInt64 {
			return int64(t), nil
		}
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return nil, nil
		}
	case float32:
		return fromMsgpack(float64(t), depth)
	case time.Time:
		return t.UTC().Format("2006-01-02T15:04:05.000Z"), nil
	case []any:
		for i, e := range t {
			var err error
			if t[i], err = fromMsgpack(e, depth+1); err != nil {
				return nil, err
			}
		}
	case map[string]any:
		for k, e := range t {
			var err error
			if t[k], err = fromMsgpack(e, depth+1); err != nil {
				return nil, err
			}
		}
	}
	return v, nil
}

// fromJSON turns json.Number leaves into int64 or float64.
func fromJSON(v any) any {
	switch t := v.(type) {
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		f, _ := t.Float64()
		return f
	case []any:
		for i, e := range t {
			t[i] = fromJSON(e)
		}
	case map[string]any:
		for k, e := range t {
			t[k] = fromJSON(e)
		}
	}
	return v
}

// toValue makes an event argument (anything signaling.Packet.Args holds)
// a tree of nil, bool, int64, float64, string, []byte, []any and
// map[string]any that msgpack carries as Node's notepack does: binary as
// bin, inline.
func toValue(a any) (any, error) {
	switch t := a.(type) {
	case nil, bool, string, []byte, int, int64, float64, uint64:
		return t, nil
	case json.RawMessage:
		return jsonValue(t)
	case socketio.RawJSON:
		return jsonValue(t)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			v, err := toValue(e)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			v, err := toValue(e)
			if err != nil {
				return nil, err
			}
			out[k] = v
		}
		return out, nil
	default:
		b, err := json.Marshal(a)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		return jsonValue(b)
	}
}

func jsonValue(b []byte) (any, error) {
	if len(b) == 0 {
		return nil, nil
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return fromJSON(v), nil
}

func toInt(v any) (int64, bool) {
	switch t := v.(type) {
	case int64:
		return t, true
	case uint64:
		return int64(t), t <= math.MaxInt64
	case float64: // whole, and within int64 (2^63 itself is not)
		return int64(t), t == math.Trunc(t) && t >= math.MinInt64 && t < math.MaxInt64
	case string:
		i, err := strconv.ParseInt(t, 10, 64)
		return i, err == nil
	}
	return 0, false
}

// strs reads a list of room names; Node apps may use numbers as rooms.
func strs(v any) []string {
	arr, _ := v.([]any)
	out := make([]string, 0, len(arr))
	for _, e := range arr {
		switch t := e.(type) {
		case string:
			out = append(out, t)
		case int64, uint64:
			out = append(out, fmt.Sprint(t))
		case float64:
			out = append(out, strconv.FormatFloat(t, 'f', -1, 64))
		}
	}
	return out
}

// nonNil is s, or an empty list: Node counts a null list as an answer
// that never resolves.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
