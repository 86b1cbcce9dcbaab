package stunturn

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/turn/v4"
)

// TestIssuerCoturnVector checks the password against one computed outside
// Go: echo -n 1700000000:alice | openssl dgst -sha1 -hmac secret -binary | base64
func TestIssuerCoturnVector(t *testing.T) {
	i := NewIssuer([]byte("secret"), time.Hour)
	if got, want := i.Password("1700000000:alice"), "d8soP47RbdIKLDUOpnJPVQyq5Ts="; got != want {
		t.Fatalf("password %q, want %q", got, want)
	}
}

func TestIssuer(t *testing.T) {
	now := time.Unix(1_700_000_000, 500_000_000)
	i := NewIssuer([]byte("secret"), 2*time.Hour)
	i.now = func() time.Time { return now }
	username, password, expires := i.Issue("alice:room/1")
	if username != "1700007200:alice:room/1" || !expires.Equal(time.Unix(1_700_007_200, 0)) {
		t.Fatalf("Issue = %q, %v", username, expires)
	}
	if user, err := i.Validate(username, password); err != nil || user != "alice:room/1" {
		t.Fatalf("Validate = %q, %v", user, err)
	}
	if _, err := i.Validate(username, password+"x"); !errors.Is(err, ErrBadPassword) {
		t.Errorf("wrong password: %v", err)
	}
	if _, err := i.Validate("alice", password); !errors.Is(err, ErrMalformedUsername) {
		t.Errorf("malformed: %v", err)
	}
	other := NewIssuer([]byte("other"), time.Hour)
	other.now = i.now
	if _, err := other.Validate(username, password); !errors.Is(err, ErrBadPassword) {
		t.Errorf("other secret: %v", err)
	}
	now = expires.Add(time.Second)
	if _, err := i.Validate(username, password); !errors.Is(err, ErrCredentialExpired) {
		t.Errorf("expired: %v", err)
	}
	if NewIssuer(nil, 0).TTL() != DefaultCredentialTTL {
		t.Error("default TTL")
	}
	a, b := NewIssuer(nil, 0), NewIssuer(nil, 0)
	if a.Password("1:x") == b.Password("1:x") {
		t.Error("two issuers without a secret share one")
	}
}

func TestParseUsername(t *testing.T) {
	tests := []struct {
		in   string
		exp  int64
		user string
		ok   bool
	}{
		{"1700000000:alice", 1700000000, "alice", true},
		{"1700000000:", 1700000000, "", true},
		{"1700000000", 1700000000, "", true},
		{"1700000000:a:b", 1700000000, "a:b", true},
		{"0:x", 0, "x", true},
		{"99999999999:x", 99999999999, "x", true},
		{"999999999999:x", 0, "", false}, // 12 digits
		{"alice:1700000000", 0, "", false},
		{"-1:x", 0, "", false},
		{"+1:x", 0, "", false},
		{" 1:x", 0, "", false},
		{":x", 0, "", false},
		{"", 0, "", false},
	}
	for _, tc := range tests {
		exp, user, err := ParseUsername(tc.in)
		if ok := err == nil; ok != tc.ok || (ok && (exp.Unix() != tc.exp || user != tc.user)) {
			t.Errorf("ParseUsername(%q) = %v, %q, %v", tc.in, exp.Unix(), user, err)
		}
	}
}

// FuzzParseUsername: what parses is digits, a colon and the rest, and
// mints back to itself.
func FuzzParseUsername(f *testing.F) {
	for _, s := range []string{"1700000000:alice", "1700000000", ":", "", "12345678901:é", "x:1", "1:2:3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		exp, user, err := ParseUsername(s)
		if err != nil {
			return
		}
		want := strconv.FormatInt(exp.Unix(), 10)
		if strings.Contains(s, ":") {
			want += ":" + user
		}
		if strings.TrimLeft(s, "0") != strings.TrimLeft(want, "0") && s != want {
			t.Fatalf("%q parsed to %d and %q", s, exp.Unix(), user)
		}
	})
}

// TestPionRESTCompat: credentials minted by pion's
// GenerateLongTermTURNRESTCredentials are ours, and pion's
// LongTermTURNRESTAuthHandler derives the same key from ours.
func TestPionRESTCompat(t *testing.T) {
	const secret = "shared"
	i := NewIssuer([]byte(secret), time.Hour)
	username, password, err := turn.GenerateLongTermTURNRESTCredentials(secret, "alice", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if user, err := i.Validate(username, password); err != nil || user != "alice" {
		t.Fatalf("pion's credential: %q, %v", user, err)
	}
	ours, _, _ := i.Issue("bob")
	key, ok := turn.LongTermTURNRESTAuthHandler(secret, nil)(ours, DefaultRealm, nil)
	if !ok || string(key) != string(longTermKey(ours, DefaultRealm, i.Password(ours))) {
		t.Fatal("pion derives another key from our credential")
	}
}
