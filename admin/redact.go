package admin

import (
	"encoding/json"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/noomrtc/noom/admin/source"
)

// Redacted stands for a secret value in every admin view (the console and
// the Socket.IO Admin UI's).
const Redacted = "[redacted]"

const redacted = Redacted

// secretHeaders are never shown.
var secretHeaders = []string{"Authorization", "Cookie", "Proxy-Authorization", "X-Api-Key", "X-Auth-Token"}

// secretWords mark a query parameter or auth payload key as secret.
var secretWords = []string{"auth", "token", "password", "passwd", "secret", "key", "credential", "session", "cookie", "jwt"}

// IsSecretHeader reports whether a header (any case) carries credentials
// and is never shown.
func IsSecretHeader(name string) bool { return isSecret(name, secretHeaders) }

// IsSecretName reports whether a query parameter or auth payload key looks
// like it holds a secret.
func IsSecretName(name string) bool { return isSecretName(name) }

func isSecretName(name string) bool {
	n := strings.ToLower(name)
	for _, w := range secretWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// redact hides the handshake's secrets: credential headers, secret-looking
// query parameters, and every value of the auth payload whose key looks
// secret (at any depth). It works on copies.
func redact(d source.SocketDetail) source.SocketDetail {
	h := make(map[string][]string, len(d.Headers))
	for k, vs := range d.Headers {
		ck := http.CanonicalHeaderKey(k)
		if isSecret(ck, secretHeaders) {
			h[ck] = []string{redacted}
			continue
		}
		h[ck] = vs
	}
	d.Headers = h
	q := make(map[string][]string, len(d.Query))
	for k, vs := range d.Query {
		if isSecretName(k) {
			q[k] = []string{redacted}
			continue
		}
		q[k] = vs
	}
	d.Query = q
	d.Auth = redactJSON(d.Auth)
	return d
}

func isSecret(k string, set []string) bool {
	for _, s := range set {
		if strings.EqualFold(k, s) {
			return true
		}
	}
	return false
}

// redactJSON replaces secret-keyed values in a JSON document. Anything
// that does not parse is hidden whole.
func redactJSON(s string) string {
	if s == "" {
		return ""
	}
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return redacted
	}
	b, _ := json.Marshal(redactValue(v))
	return string(b)
}

func redactValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if isSecretName(k) {
				t[k] = redacted
			} else {
				t[k] = redactValue(x)
			}
		}
	case []any:
		for i, x := range t {
			t[i] = redactValue(x)
		}
	}
	return v
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
