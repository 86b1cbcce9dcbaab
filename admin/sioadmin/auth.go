package sioadmin

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Authenticator checks an admin's credentials from ip (no port). It says
// whether they are right, or, when ip is throttled, how long to wait (ok
// false, retryAfter > 0). The admin console's login plugs in here, so both
// share their credentials and their per-IP throttle. It may block (bcrypt)
// but must honour ctx.
type Authenticator interface {
	Check(ctx context.Context, user, password, ip string) (ok bool, retryAfter time.Duration)
}

// Bcrypt is an Authenticator for one user whose password is a bcrypt hash
// ($2a$, $2b$ or $2y$), with a per-IP failure throttle: after MaxFailures
// failures from an IP within Window, that IP waits until the window ends.
type Bcrypt struct {
	user        string
	hash        []byte
	maxFailures int
	window      time.Duration
	now         func() time.Time

	mu sync.Mutex
	// mu guards failures.
	failures map[string]*failureCount
}

type failureCount struct {
	n     int
	since time.Time
}

// maxThrottled bounds the IPs Bcrypt remembers.
const maxThrottled = 100_000

// NewBcrypt checks hash and makes a Bcrypt. maxFailures defaults to 5 and
// window to a minute when zero.
func NewBcrypt(user string, hash []byte, maxFailures int, window time.Duration) (*Bcrypt, error) {
	if _, err := bcrypt.Cost(hash); err != nil {
		return nil, fmt.Errorf("%w: not a bcrypt hash: %v", ErrConfig, err)
	}
	if maxFailures <= 0 {
		maxFailures = 5
	}
	if window <= 0 {
		window = time.Minute
	}
	return &Bcrypt{user: user, hash: hash, maxFailures: maxFailures, window: window, now: time.Now,
		failures: map[string]*failureCount{}}, nil
}

// Check implements Authenticator. bcrypt runs whether or not the user name
// is right, so a wrong user and a wrong password look the same.
func (b *Bcrypt) Check(ctx context.Context, user, password, ip string) (bool, time.Duration) {
	now := b.now()
	b.mu.Lock()
	if f := b.failures[ip]; f != nil {
		if now.Sub(f.since) >= b.window {
			delete(b.failures, ip)
		} else if f.n >= b.maxFailures {
			b.mu.Unlock()
			return false, max(f.since.Add(b.window).Sub(now), time.Second)
		}
	}
	b.mu.Unlock()
	if ctx.Err() != nil {
		return false, 0
	}
	userOK := subtle.ConstantTimeCompare([]byte(user), []byte(b.user)) == 1
	passOK := bcrypt.CompareHashAndPassword(b.hash, []byte(password)) == nil
	b.mu.Lock()
	defer b.mu.Unlock()
	if userOK && passOK {
		delete(b.failures, ip)
		return true, 0
	}
	f := b.failures[ip]
	if f == nil {
		if len(b.failures) >= maxThrottled {
			clear(b.failures)
		}
		f = &failureCount{since: now}
		b.failures[ip] = f
	}
	f.n++
	return false, 0
}

// credentials are what the Admin UI puts in the CONNECT auth payload.
type credentials struct {
	Username  string `json:"username"`
	Password  string `json:"password"`
	SessionID string `json:"sessionId"`
}

// parseCredentials reads the CONNECT auth payload. Anything that is not
// an object of strings gives empty credentials.
func parseCredentials(auth json.RawMessage) credentials {
	var c credentials
	if len(auth) == 0 || json.Unmarshal(auth, &c) != nil {
		return credentials{}
	}
	return c
}

// sessions are the session ids handed out after password logins.
type sessions struct {
	ttl time.Duration
	max int

	mu sync.Mutex
	// mu guards ids.
	ids map[string]time.Time // id → expiry
}

func newSessions(ttl time.Duration, max int) *sessions {
	return &sessions{ttl: ttl, max: max, ids: map[string]time.Time{}}
}

// create makes a session id valid until now+ttl, forgetting expired ones
// and, past max, the one that expires first.
func (s *sessions) create(now time.Time) string {
	var b [16]byte
	rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, exp := range s.ids {
		if !now.Before(exp) {
			delete(s.ids, k)
		}
	}
	if s.max > 0 && len(s.ids) >= s.max {
		first := ""
		for k, exp := range s.ids {
			if first == "" || exp.Before(s.ids[first]) {
				first = k
			}
		}
		delete(s.ids, first)
	}
	s.ids[id] = now.Add(s.ttl)
	return id
}

// valid reports whether id is a live session.
func (s *sessions) valid(id string, now time.Time) bool {
	if id == "" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.ids[id]
	if ok && !now.Before(exp) {
		delete(s.ids, id)
		return false
	}
	return ok
}
