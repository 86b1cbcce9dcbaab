package redisadapter

import (
	"encoding/binary"
	"fmt"
)

// scanMsgpack checks that b starts with one whole msgpack value nested at
// most maxValueDepth deep, without allocating. msgpack's decoder sizes a
// slice or map by the count the message claims before it reads a single
// element, so five bytes claiming 2^32 elements would cost gigabytes;
// after this scan every count is backed by bytes that are there.
func scanMsgpack(b []byte) error {
	_, err := scanValue(b, 0)
	return err
}

// scanValue returns the length of the value at the start of b.
func scanValue(b []byte, depth int) (int, error) {
	if len(b) == 0 {
		return 0, fmt.Errorf("%w: msgpack value truncated", ErrMalformed)
	}
	c := b[0]
	switch {
	case c <= 0x7f, c >= 0xe0, c == 0xc0, c == 0xc2, c == 0xc3: // fixints, nil, bools
		return 1, nil
	case c >= 0x80 && c <= 0x8f: // fixmap
		return scanItems(b, 1, 2*int(c&0x0f), depth)
	case c >= 0x90 && c <= 0x9f: // fixarray
		return scanItems(b, 1, int(c&0x0f), depth)
	case c >= 0xa0 && c <= 0xbf: // fixstr
		return sized(b, 1, int(c&0x1f))
	}
	switch c {
	case 0xcc, 0xd0: // uint8, int8
		return sized(b, 1, 1)
	case 0xcd, 0xd1: // uint16, int16
		return sized(b, 1, 2)
	case 0xca, 0xce, 0xd2: // float32, uint32, int32
		return sized(b, 1, 4)
	case 0xcb, 0xcf, 0xd3: // float64, uint64, int64
		return sized(b, 1, 8)
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext 1, 2, 4, 8, 16: type byte, data
		return sized(b, 1, 1+1<<(c-0xd4))
	case 0xc4, 0xd9: // bin8, str8
		return lengthPrefixed(b, 1, 0)
	case 0xc5, 0xda: // bin16, str16
		return lengthPrefixed(b, 2, 0)
	case 0xc6, 0xdb: // bin32, str32
		return lengthPrefixed(b, 4, 0)
	case 0xc7: // ext8: length, type byte, data
		return lengthPrefixed(b, 1, 1)
	case 0xc8: // ext16
		return lengthPrefixed(b, 2, 1)
	case 0xc9: // ext32
		return lengthPrefixed(b, 4, 1)
	case 0xdc, 0xdd, 0xde, 0xdf: // array16, array32, map16, map32
		w := 2 << ((c - 0xdc) & 1)
		if len(b) < 1+w {
			return 0, fmt.Errorf("%w: msgpack length truncated", ErrMalformed)
		}
		n := int(count(b[1 : 1+w]))
		if c >= 0xde {
			n *= 2
		}
		return scanItems(b, 1+w, n, depth)
	}
	return 0, fmt.Errorf("%w: msgpack code %#x", ErrMalformed, c)
}

// scanItems scans n values after a header of head bytes.
func scanItems(b []byte, head, n, depth int) (int, error) {
	if n > 0 && depth >= maxValueDepth {
		return 0, fmt.Errorf("%w: value nested too deep", ErrMalformed)
	}
	if n > len(b)-head { // every value takes a byte at least
		return 0, fmt.Errorf("%w: msgpack count %d exceeds the message", ErrMalformed, n)
	}
	off := head
	for range n {
		l, err := scanValue(b[off:], depth+1)
		if err != nil {
			return 0, err
		}
		off += l
	}
	return off, nil
}

// lengthPrefixed is a str, bin or ext: a big-endian length of w bytes,
// extra bytes (an ext's type), then the data.
func lengthPrefixed(b []byte, w, extra int) (int, error) {
	if len(b) < 1+w {
		return 0, fmt.Errorf("%w: msgpack length truncated", ErrMalformed)
	}
	n := count(b[1 : 1+w])
	if n > uint64(len(b)) {
		return 0, fmt.Errorf("%w: msgpack length %d exceeds the message", ErrMalformed, n)
	}
	return sized(b, 1+w, extra+int(n))
}

// sized is a value of head bytes then n bytes, all of which must be in b.
func sized(b []byte, head, n int) (int, error) {
	if head+n > len(b) {
		return 0, fmt.Errorf("%w: msgpack value truncated", ErrMalformed)
	}
	return head + n, nil
}

func count(b []byte) uint64 {
	switch len(b) {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(binary.BigEndian.Uint16(b))
	default:
		return uint64(binary.BigEndian.Uint32(b))
	}
}
