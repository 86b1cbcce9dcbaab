package engineio

import (
	"bytes"
	"fmt"
)

// DecodePayload splits an HTTP long-polling body into packets and calls fn
// for each, in order, stopping at the first error. An empty body, an empty
// segment or a malformed packet is an error wrapping ErrInvalidPayload;
// packets before the malformed one have already been passed to fn, which is
// what the protocol wants (they were valid and are delivered) while the
// session is then closed by the caller.
func DecodePayload(body []byte, fn func(Packet) error) error {
	if len(body) == 0 {
		return fmt.Errorf("%w: empty", ErrInvalidPayload)
	}
	for len(body) > 0 {
		seg := body
		i := bytes.IndexByte(body, Separator)
		if i >= 0 {
			seg, body = body[:i], body[i+1:]
			if len(body) == 0 {
				return fmt.Errorf("%w: trailing separator", ErrInvalidPayload)
			}
		} else {
			body = nil
		}
		p, err := DecodeText(seg)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidPayload, err)
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	return nil
}

// AppendPayload appends the polling encoding of pkts to dst.
func AppendPayload(dst []byte, pkts []Packet) []byte {
	for i, p := range pkts {
		if i > 0 {
			dst = append(dst, Separator)
		}
		dst = AppendText(dst, p)
	}
	return dst
}
