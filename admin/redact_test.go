package admin

import (
	"strings"
	"testing"

	"github.com/noomrtc/noom/admin/source"
)

func TestRedact(t *testing.T) {
	d := redact(source.SocketDetail{
		Headers: map[string][]string{"authorization": {"Bearer x1"}, "Cookie": {"a=x2"}, "User-Agent": {"ua"}},
		Query:   map[string][]string{"token": {"x3"}, "EIO": {"4"}},
		Auth:    `{"user":"bob","password":"x4","nested":{"apiKey":"x5"},"list":[{"secret":"x6"}]}`,
	})
	all := strings.Join(d.Headers["Authorization"], "") + strings.Join(d.Headers["Cookie"], "") + d.Auth + strings.Join(d.Query["token"], "")
	for _, s := range []string{"x1", "x2", "x3", "x4", "x5", "x6"} {
		if strings.Contains(all, s) {
			t.Errorf("%s not redacted: %+v", s, d)
		}
	}
	if d.Headers["User-Agent"][0] != "ua" || d.Query["EIO"][0] != "4" || !strings.Contains(d.Auth, "bob") {
		t.Errorf("too much redacted: %+v", d)
	}
	if got := redactJSON("not json"); got != redacted {
		t.Errorf("unparsable auth shown: %q", got)
	}
}

// FuzzRedactJSON: the output never contains a value under a secret key.
func FuzzRedactJSON(f *testing.F) {
	f.Add(`{"token":"abcdef"}`)
	f.Add(`[{"a":{"password":"zzzzzz"}}]`)
	f.Fuzz(func(t *testing.T, s string) {
		out := redactJSON(s)
		if out == redacted {
			return
		}
		if strings.Contains(out, `"token":"`) && !strings.Contains(out, `"token":"[redacted]"`) {
			t.Fatalf("%q → %q", s, out)
		}
	})
}

func TestTruncate(t *testing.T) {
	if got := truncate("héllo", 2); got != "h…" {
		t.Errorf("%q", got)
	}
	if got := truncate("abc", 3); got != "abc" {
		t.Errorf("%q", got)
	}
}
