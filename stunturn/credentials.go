package stunturn

import (
	"crypto/hmac"
	"crypto/md5" //nolint:gosec // RFC 8489 long-term key: MD5(username:realm:password).
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // TURN REST API: HMAC-SHA1, as coturn's use-auth-secret.
	"crypto/subtle"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// maxExpiryDigits bounds the expiry field of a REST username: 11 digits
// reach the year 5138, more is not a timestamp anyone mints.
const maxExpiryDigits = 11

// Issuer mints and checks time-limited TURN credentials of the TURN REST
// API scheme (draft-uberti-behave-turn-rest), the scheme of coturn's
// use-auth-secret: the username is "<expiry-unix>:<user>" and the password
// is base64(HMAC-SHA1(secret, username)). A server holding the same secret
// accepts them until the expiry time, with no state shared at run time.
//
// An Issuer is safe for concurrent use.
type Issuer struct {
	secret []byte
	ttl    time.Duration
	now    func() time.Time // time.Now; tests replace it
}

// NewIssuer returns an Issuer minting credentials valid for ttl under
// secret. A ttl <= 0 means DefaultCredentialTTL. An empty secret means a
// random one, so that such credentials are never guessable; they are then
// only accepted by servers given the same Issuer.
func NewIssuer(secret []byte, ttl time.Duration) *Issuer {
	if ttl <= 0 {
		ttl = DefaultCredentialTTL
	}
	if len(secret) == 0 {
		secret = make([]byte, DefaultSecretLen)
		_, _ = rand.Read(secret) // crypto/rand.Read never fails (Go 1.24+).
	} else {
		secret = append([]byte(nil), secret...)
	}
	return &Issuer{secret: secret, ttl: ttl, now: time.Now}
}

// TTL returns how long minted credentials stay valid.
func (i *Issuer) TTL() time.Duration { return i.ttl }

// Issue mints a credential for user, valid until expires (now + TTL,
// truncated to the second as the username carries it).
func (i *Issuer) Issue(user string) (username, password string, expires time.Time) {
	expires = i.now().Add(i.ttl).Truncate(time.Second)
	username = strconv.FormatInt(expires.Unix(), 10) + ":" + user
	return username, i.Password(username), expires
}

// Password returns the password that belongs to username under the
// Issuer's secret: base64(HMAC-SHA1(secret, username)).
func (i *Issuer) Password(username string) string {
	mac := hmac.New(sha1.New, i.secret)
	mac.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Validate checks a credential: the username's form (ErrMalformedUsername),
// its expiry (ErrCredentialExpired) and the password (ErrBadPassword). It
// returns the <user> part of a valid credential.
func (i *Issuer) Validate(username, password string) (user string, err error) {
	user, want, err := i.verify(username)
	if err != nil {
		return "", err
	}
	if subtle.ConstantTimeCompare([]byte(password), []byte(want)) != 1 {
		return "", ErrBadPassword
	}
	return user, nil
}

// verify is the one credential check, which Validate, the gate and pion's
// AuthHandler share: it checks the username's form (ErrMalformedUsername)
// and expiry (ErrCredentialExpired), and returns its <user> part and the
// password the secret gives it.
func (i *Issuer) verify(username string) (user, password string, err error) {
	expires, user, err := ParseUsername(username)
	if err != nil {
		return "", "", err
	}
	if i.now().After(expires) {
		return "", "", ErrCredentialExpired
	}
	return user, i.Password(username), nil
}

// longTermKey returns the RFC 8489 long-term credential key:
// MD5(username ":" realm ":" password).
func longTermKey(username, realm, password string) []byte {
	h := md5.New() //nolint:gosec // mandated by RFC 8489 §9.2.2
	h.Write([]byte(username))
	h.Write([]byte{':'})
	h.Write([]byte(realm))
	h.Write([]byte{':'})
	h.Write([]byte(password))
	return h.Sum(nil)
}

// ParseUsername splits a TURN REST API username "<expiry-unix>:<user>" at
// its first colon. The expiry is decimal Unix seconds (digits only, at most
// 11). A username of digits alone, without a colon, is accepted as an
// expiry with an empty user, as coturn and pion accept it.
func ParseUsername(username string) (expires time.Time, user string, err error) {
	expiry, user, _ := strings.Cut(username, ":")
	if expiry == "" || len(expiry) > maxExpiryDigits {
		return time.Time{}, "", ErrMalformedUsername
	}
	var secs int64
	for _, c := range []byte(expiry) {
		if c < '0' || c > '9' {
			return time.Time{}, "", ErrMalformedUsername
		}
		secs = secs*10 + int64(c-'0')
	}
	return time.Unix(secs, 0), user, nil
}
