package callredis

import (
	"fmt"
	"strings"
	"unicode"
)

// member is a room member as Redis keeps it: the value of its field in
// P members:<room> is node "\n" fold "\n" name. node is a node id (no
// newline), fold the name's case fold (see fold), name the rest.
type member struct {
	node, fold, name string
}

func (m member) encode() string { return m.node + "\n" + m.fold + "\n" + m.name }

// decodeMember parses a member value.
func decodeMember(v string) (member, error) {
	node, rest, ok := strings.Cut(v, "\n")
	if !ok {
		return member{}, fmt.Errorf("%w: member value without a node", ErrMalformed)
	}
	f, name, ok := strings.Cut(rest, "\n")
	if !ok || node == "" || name == "" {
		return member{}, fmt.Errorf("%w: member value %q", ErrMalformed, v)
	}
	return member{node: node, fold: f, name: name}, nil
}

// fold maps a name to a key that two names share exactly when
// strings.EqualFold says they are equal: each rune becomes the smallest
// rune of its simple case-folding orbit, as EqualFold compares them. The
// join script compares keys, since Lua knows no Unicode case.
func fold(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	for _, r := range name {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		b.WriteRune(least)
	}
	return b.String()
}

// pairsOf reads a script's flat reply of string tuples: n strings each.
func pairsOf(reply any, n int) ([][]string, error) {
	list, ok := reply.([]any)
	if !ok || len(list)%n != 0 {
		return nil, fmt.Errorf("%w: reply %T of %d items, not tuples of %d", ErrMalformed, reply, lenOf(reply), n)
	}
	out := make([][]string, 0, len(list)/n)
	for i := 0; i < len(list); i += n {
		t := make([]string, n)
		for j := range n {
			s, ok := list[i+j].(string)
			if !ok {
				return nil, fmt.Errorf("%w: reply item %d is %T", ErrMalformed, i+j, list[i+j])
			}
			t[j] = s
		}
		out = append(out, t)
	}
	return out, nil
}

func lenOf(v any) int {
	if l, ok := v.([]any); ok {
		return len(l)
	}
	return -1
}

// strings reads a reply of n or more strings (the first n) and returns
// them, with the rest of the reply.
func stringsOf(reply any, n int) ([]string, []any, error) {
	list, ok := reply.([]any)
	if !ok || len(list) < n {
		return nil, nil, fmt.Errorf("%w: reply %T of %d items, want %d strings", ErrMalformed, reply, lenOf(reply), n)
	}
	out := make([]string, n)
	for i := range n {
		if out[i], ok = list[i].(string); !ok {
			return nil, nil, fmt.Errorf("%w: reply item %d is %T", ErrMalformed, i, list[i])
		}
	}
	return out, list[n:], nil
}
