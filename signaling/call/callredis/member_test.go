package callredis

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDecodeMember(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want member
		ok   bool
	}{
		{"n1\nann\nAnn", member{"n1", "ann", "Ann"}, true},
		{"n1\n\nx", member{"n1", "", "x"}, true},                                     // a fold may be empty only in theory
		{"n1\nk\nname\nwith newline", member{"n1", "k", "name\nwith newline"}, true}, // the name is the rest
		{"", member{}, false},
		{"n1", member{}, false},
		{"n1\nann", member{}, false},
		{"\nann\nAnn", member{}, false},
		{"n1\nann\n", member{}, false},
	} {
		got, err := decodeMember(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("decodeMember(%q) = %+v, %v", tc.in, got, err)
		}
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Errorf("decodeMember(%q): error %v is not ErrMalformed", tc.in, err)
		}
	}
}

// FuzzDecodeMember: any value decodes or fails cleanly, and what encode
// makes of valid parts decodes back to them.
func FuzzDecodeMember(f *testing.F) {
	for _, s := range []string{"n\nf\nname", "", "\n\n", "a\nb\nc\nd", "\xff\n\xfe\n\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		m, err := decodeMember(v)
		if err != nil {
			return
		}
		if m.encode() != v {
			t.Fatalf("decode(%q) = %+v encodes as %q", v, m, m.encode())
		}
		if strings.Contains(m.node, "\n") || strings.Contains(m.fold, "\n") {
			t.Fatalf("decode(%q) = %+v: a newline in node or fold", v, m)
		}
	})
}

func TestFold(t *testing.T) {
	for _, tc := range [][2]string{{"Ann", "aNN"}, {"k", "\u212a"}, {"Straße", "STRAßE"}, {"ſ", "S"}, {"Σίσυφος", "ΣΊΣΥΦΟΣ"}} {
		if fold(tc[0]) != fold(tc[1]) {
			t.Errorf("fold(%q) = %q, fold(%q) = %q", tc[0], fold(tc[0]), tc[1], fold(tc[1]))
		}
	}
	if fold("Ann") == fold("Anne") || fold("ss") == fold("ß") {
		t.Error("fold makes different names equal")
	}
}

// FuzzFold: two valid names have the same fold exactly when
// strings.EqualFold says they are equal, which the join script relies on.
func FuzzFold(f *testing.F) {
	f.Add("Ann", "aNN")
	f.Add("k", "\u212a")
	f.Add("ǅ", "ǆ")
	f.Add("ς", "Σ")
	f.Fuzz(func(t *testing.T, a, b string) {
		if !utf8.ValidString(a) || !utf8.ValidString(b) {
			return
		}
		if got, want := fold(a) == fold(b), strings.EqualFold(a, b); got != want {
			t.Fatalf("fold(%q) == fold(%q) is %v, EqualFold %v", a, b, got, want)
		}
		if strings.Contains(fold(a), "\n") != strings.Contains(a, "\n") {
			t.Fatalf("fold(%q) = %q changes newlines", a, fold(a))
		}
	})
}

func TestReplyDecoders(t *testing.T) {
	if got, err := pairsOf([]any{"r", "s", "r2", "s2"}, 2); err != nil || len(got) != 2 || got[1][1] != "s2" {
		t.Errorf("pairsOf: %v, %v", got, err)
	}
	if got, err := pairsOf([]any{}, 3); err != nil || len(got) != 0 {
		t.Errorf("pairsOf(empty): %v, %v", got, err)
	}
	for _, bad := range []any{nil, "x", []any{"a"}, []any{"a", int64(1)}, []any{[]any{}, "b"}} {
		if _, err := pairsOf(bad, 2); !errors.Is(err, ErrMalformed) {
			t.Errorf("pairsOf(%#v): %v", bad, err)
		}
	}
	head, rest, err := stringsOf([]any{"ok", "1", []any{}}, 2)
	if err != nil || head[0] != "ok" || len(rest) != 1 {
		t.Errorf("stringsOf: %v %v %v", head, rest, err)
	}
	for _, bad := range []any{nil, []any{"ok"}, []any{"ok", nil}, map[string]any{}} {
		if _, _, err := stringsOf(bad, 2); !errors.Is(err, ErrMalformed) {
			t.Errorf("stringsOf(%#v): %v", bad, err)
		}
	}
}
