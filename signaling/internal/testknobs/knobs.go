// Package testknobs holds the signaling server's settings that exist only
// for the official protocol test suites (signaling/internal/conformance),
// kept out of the public signaling.Config. Being internal to signaling,
// nothing outside this module's signaling tree can set them.
package testknobs

import (
	"sync"
	"time"
)

// Knobs are the settings of the servers mounted at one path.
type Knobs struct {
	// PacketGap, if set, writes every packet to a WebSocket with its own
	// flush and waits this long between packets, instead of coalescing:
	// the suites assume one message per network read.
	PacketGap time.Duration
}

var (
	mu     sync.Mutex
	byPath = map[string]Knobs{}
)

// Set sets the knobs of servers made from now on with Config.Path path.
func Set(path string, k Knobs) {
	mu.Lock()
	byPath[path] = k
	mu.Unlock()
}

// For returns the knobs for path, zero when none were set.
func For(path string) Knobs {
	mu.Lock()
	defer mu.Unlock()
	return byPath[path]
}
