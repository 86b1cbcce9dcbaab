package socketio

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"
)

// SplitArray splits a JSON array into its top-level elements without
// decoding them. The elements alias data. data must already be valid JSON
// (Decode checks it); SplitArray itself only checks the brackets.
func SplitArray(data []byte) ([]json.RawMessage, error) {
	data = bytes.TrimSpace(data)
	if len(data) < 2 || data[0] != '[' || data[len(data)-1] != ']' {
		return nil, invalid("not an array")
	}
	var out []json.RawMessage
	depth, start, inStr, esc := 0, 1, false, false
	for i := 1; i < len(data)-1; i++ {
		c := data[i]
		switch {
		case inStr:
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '[' || c == '{':
			depth++
		case c == ']' || c == '}':
			depth--
			if depth < 0 {
				return nil, invalid("unbalanced array")
			}
		case c == ',' && depth == 0:
			out = append(out, json.RawMessage(bytes.TrimSpace(data[start:i])))
			start = i + 1
		}
	}
	if inStr || depth != 0 {
		return nil, invalid("unbalanced array")
	}
	if last := bytes.TrimSpace(data[start : len(data)-1]); len(last) > 0 {
		out = append(out, json.RawMessage(last))
	} else if len(out) > 0 {
		return nil, invalid("trailing comma")
	}
	return out, nil
}

var placeholderKey = []byte(`"_placeholder"`)

// Reconstruct turns the elements of a binary packet's array back into Go
// values: an element that is a placeholder becomes the []byte attachment it
// names; an element with placeholders nested inside is decoded into
// map[string]any / []any with []byte leaves; every other element stays a
// json.RawMessage, byte for byte. Each attachment must be used exactly as
// announced: a bad index is an error.
func Reconstruct(elems []json.RawMessage, attachments [][]byte) ([]any, error) {
	out := make([]any, len(elems))
	for i, e := range elems {
		if !bytes.Contains(e, placeholderKey) {
			out[i] = e
			continue
		}
		var v any
		dec := json.NewDecoder(bytes.NewReader(e))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			return nil, invalid("element %d: %v", i, err)
		}
		r, err := replacePlaceholders(v, attachments, 0)
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}

const maxDepth = 64

func replacePlaceholders(v any, atts [][]byte, depth int) (any, error) {
	if depth > maxDepth {
		return nil, invalid("nested too deep")
	}
	switch t := v.(type) {
	case map[string]any:
		if ph, ok := t["_placeholder"].(bool); ok && ph {
			n, ok := t["num"].(json.Number)
			if !ok {
				return nil, invalid("placeholder without num")
			}
			i, err := strconv.Atoi(n.String())
			if err != nil || i < 0 || i >= len(atts) {
				return nil, invalid("placeholder %s out of range", n)
			}
			return atts[i], nil
		}
		for k, e := range t {
			r, err := replacePlaceholders(e, atts, depth+1)
			if err != nil {
				return nil, err
			}
			t[k] = r
		}
	case []any:
		for k, e := range t {
			r, err := replacePlaceholders(e, atts, depth+1)
			if err != nil {
				return nil, err
			}
			t[k] = r
		}
	}
	return v, nil
}

// RawJSON is one JSON value known to be valid, such as an element of a
// packet Decode has checked. AppendArgs writes it verbatim without
// validating it again (a json.RawMessage is validated), so a RawJSON that
// is not valid JSON corrupts the packet: only make one from bytes that
// were validated.
type RawJSON []byte

// MarshalJSON returns r as it is.
func (r RawJSON) MarshalJSON() ([]byte, error) {
	if r == nil {
		return []byte("null"), nil
	}
	return r, nil
}

// AppendArgs appends the JSON array of values to dst and returns the binary
// attachments found, replaced by placeholders. Values are encoded as:
//   - json.RawMessage: verbatim (it must be valid JSON);
//   - RawJSON: verbatim, not validated;
//   - []byte: an attachment;
//   - string, bool, nil, numbers: as JSON, without HTML escaping;
//   - map[string]any and []any: walked, so []byte inside become attachments;
//   - anything else: encoding/json with HTML escaping off ([]byte fields of
//     structs are base64 strings there, as encoding/json does).
func AppendArgs(dst []byte, values []any, atts [][]byte) ([]byte, [][]byte, error) {
	dst = append(dst, '[')
	for i, v := range values {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		dst, atts, err = appendValue(dst, v, atts, 0)
		if err != nil {
			return dst, atts, err
		}
	}
	return append(dst, ']'), atts, nil
}

// AppendValue appends one value as AppendArgs encodes an element, and
// returns atts with the binary attachments found in it.
func AppendValue(dst []byte, v any, atts [][]byte) ([]byte, [][]byte, error) {
	return appendValue(dst, v, atts, 0)
}

func appendValue(dst []byte, v any, atts [][]byte, depth int) ([]byte, [][]byte, error) {
	if depth > maxDepth {
		return dst, atts, fmt.Errorf("socketio: value nested too deep")
	}
	switch t := v.(type) {
	case nil:
		return append(dst, "null"...), atts, nil
	case json.RawMessage:
		if !Valid(t) {
			return dst, atts, fmt.Errorf("socketio: json.RawMessage is not valid JSON")
		}
		return append(dst, t...), atts, nil
	case RawJSON:
		if len(t) == 0 {
			return append(dst, "null"...), atts, nil
		}
		return append(dst, t...), atts, nil
	case []byte:
		dst = append(dst, `{"_placeholder":true,"num":`...)
		dst = strconv.AppendInt(dst, int64(len(atts)), 10)
		return append(dst, '}'), append(atts, t), nil
	case string:
		return AppendString(dst, t), atts, nil
	case bool:
		return strconv.AppendBool(dst, t), atts, nil
	case int:
		return strconv.AppendInt(dst, int64(t), 10), atts, nil
	case int64:
		return strconv.AppendInt(dst, t, 10), atts, nil
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendString(dst, k)
			dst = append(dst, ':')
			var err error
			if dst, atts, err = appendValue(dst, t[k], atts, depth+1); err != nil {
				return dst, atts, err
			}
		}
		return append(dst, '}'), atts, nil
	case []any:
		dst = append(dst, '[')
		for i, e := range t {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, atts, err = appendValue(dst, e, atts, depth+1); err != nil {
				return dst, atts, err
			}
		}
		return append(dst, ']'), atts, nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return dst, atts, fmt.Errorf("socketio: %w", err)
	}
	return append(dst, bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})...), atts, nil
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string, escaping only what JSON requires
// (quote, backslash, control characters) plus U+2028/U+2029, and replacing
// invalid UTF-8 with U+FFFD, as encoding/json does, but without HTML escaping.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
