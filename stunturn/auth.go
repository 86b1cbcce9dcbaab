package stunturn

import (
	"errors"
	"net"
	"sync"

	"github.com/pion/stun/v3"
)

// One credential check serves every TURN request: the gate runs it
// (Issuer.verify, then MESSAGE-INTEGRITY) before pion sees the request,
// and hands the key it derived to pion's AuthHandler through keyCache, so
// that a request costs one HMAC-SHA1 and one MD5.

// authenticate checks the long-term credentials of m: realm, username,
// expiry and MESSAGE-INTEGRITY. It returns the <user> part and the key.
func (s *Server) authenticate(m *stun.Message, username, realm string) (user string, key []byte, res authResult) {
	if realm != s.cfg.Realm {
		return "", nil, authUnknown
	}
	user, password, err := s.issuer.verify(username)
	switch {
	case errors.Is(err, ErrCredentialExpired):
		return user, nil, authExpired
	case err != nil:
		return "", nil, authUnknown
	}
	key = longTermKey(username, realm, password)
	if stun.MessageIntegrity(key).Check(m) != nil {
		return user, nil, authBadIntegrity
	}
	return user, key, authOK
}

// authHandler is pion's AuthHandler. pion calls it from the goroutine that
// read the request, after the gate passed it on; the gate's key is then
// waiting in the cache. Anything else is derived again.
func (s *Server) authHandler(username, realm string, src net.Addr) ([]byte, bool) {
	if key := s.keys.take(srcKeyOf(src), username, realm); key != nil {
		return key, true
	}
	if realm != s.cfg.Realm {
		return nil, false
	}
	_, password, err := s.issuer.verify(username)
	if err != nil {
		return nil, false
	}
	return longTermKey(username, realm, password), true
}

// cachedKey is the key the gate derived for the request in flight from a
// client address.
type cachedKey struct {
	username, realm string
	key             []byte
}

// keyCache holds at most one key per request in flight: an entry is put
// when the gate passes a request to pion and removed when pion asks for
// it or when the request is done (inflight), so it is bounded by the
// number of readers.
type keyCache struct {
	mu sync.Mutex
	m  map[srcKey]cachedKey
}

func (c *keyCache) put(src srcKey, k cachedKey) {
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[srcKey]cachedKey)
	}
	c.m[src] = k
	c.mu.Unlock()
}

// take returns and forgets the key cached for src, if it was derived for
// this username and realm.
func (c *keyCache) take(src srcKey, username, realm string) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.m[src]
	if !ok || k.username != username || k.realm != realm {
		return nil
	}
	delete(c.m, src)
	return k.key
}

func (c *keyCache) drop(src srcKey) {
	c.mu.Lock()
	delete(c.m, src)
	c.mu.Unlock()
}

func (c *keyCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
