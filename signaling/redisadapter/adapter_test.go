package redisadapter_test

import (
	"testing"

	"github.com/noomrtc/noom/signaling"
	"github.com/noomrtc/noom/signaling/adaptertest"
	"github.com/noomrtc/noom/signaling/redisadapter"
)

// TestContract runs the adapter contract on three Noom nodes sharing one
// real redis-server: clients spread over the nodes, every cluster-wide
// operation crossing Redis.
func TestContract(t *testing.T) {
	adaptertest.Run(t, 3, func(t *testing.T, n int) []*signaling.Server {
		r := startRedis(t)
		var out []*signaling.Server
		for range n {
			out = append(out, newNode(t, r.addr(), redisadapter.Config{}).srv)
		}
		return out
	})
}
