package signaling

import (
	"encoding/json"
	"testing"
)

var stringSeeds = []string{`"room"`, `""`, `"a\"b"`, `"\u00e9"`, "\"\xff\"", `"a"b"`, "\"a\x01\"", `"`, `12`, `null`, `"x" `, ` "x"`, `"é"`}

// FuzzDecodeString: Decode into a string and an event's name give what
// encoding/json gives (their fast paths skip it for plain strings).
func FuzzDecodeString(f *testing.F) {
	for _, s := range stringSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want string
		wantErr := json.Unmarshal(b, &want)
		var got string
		gotErr := Decode(json.RawMessage(b), &got)
		if (gotErr == nil) != (wantErr == nil) || got != want {
			t.Fatalf("Decode(%q) = %q, %v; encoding/json: %q, %v", b, got, gotErr, want, wantErr)
		}
		if !json.Valid(b) {
			return // eventName sees validated packets only
		}
		name, err := eventName(b)
		if (err == nil) != (wantErr == nil) || name != want {
			t.Fatalf("eventName(%q) = %q, %v; encoding/json: %q, %v", b, name, err, want, wantErr)
		}
	})
}
