package call

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzText checks the text rules: whatever is accepted is valid UTF-8,
// within its length, and has no control or format character but the
// zero-width joiners.
func FuzzText(f *testing.F) {
	for _, s := range []string{"Ann", "gnp\u202Eexe", "a\u2066b\u2069", "👩‍👩‍👧", "می‌خواهم", " pad ", "\x00", "\xff", "a\u00A0b", "\u200E"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range []struct {
			ok  bool
			max int
		}{{validText(s, MaxNameLen), MaxNameLen}, {validChat(s), MaxChatLen}} {
			if !c.ok {
				continue
			}
			if !utf8.ValidString(s) || utf8.RuneCountInString(s) > c.max || s == "" {
				t.Fatalf("accepted %q", s)
			}
			for _, r := range s {
				if unicode.Is(unicode.Cc, r) || (unicode.Is(unicode.Cf, r) && r != zwj && r != zwnj) {
					t.Fatalf("accepted %q with %U", s, r)
				}
			}
		}
	})
}

// FuzzSignalData checks a signal's data: accepted means a JSON object of at
// most MaxSignalBytes, kept byte for byte, whose type is what it says.
func FuzzSignalData(f *testing.F) {
	for _, s := range []string{`{"type":"offer","sdp":"v=0\r\n"}`, `{"type":"candidate","candidate":{}}`, `[]`, `{"type":1}`, `{"type":"answer"`, `"x"`, `{"Type":"offer"}`, `{"type":"a","type":"offer"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var d signalData
		if err := d.UnmarshalJSON(b); err != nil {
			return
		}
		if len(d.raw) > MaxSignalBytes || string(d.raw) != string(b) || !json.Valid(d.raw) {
			t.Fatalf("accepted %q as %q", b, d.raw)
		}
		var obj map[string]any
		if err := json.Unmarshal(d.raw, &obj); err != nil {
			t.Fatalf("accepted a non-object %q", b)
		}
		// encoding/json matches the key case-insensitively, the last one
		// winning; with one such key, it is the type.
		var keys []string
		for k := range obj {
			if strings.EqualFold(k, "type") {
				keys = append(keys, k)
			}
		}
		if len(keys) == 1 {
			if typ, _ := obj[keys[0]].(string); typ != d.Type {
				t.Fatalf("type %q, object says %v", d.Type, obj[keys[0]])
			}
		}
	})
}
