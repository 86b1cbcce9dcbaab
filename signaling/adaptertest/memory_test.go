package adaptertest_test

import (
	"testing"

	"github.com/noomrtc/noom/signaling"
	"github.com/noomrtc/noom/signaling/adaptertest"
	"github.com/prometheus/client_golang/prometheus"
)

// TestMemoryAdapter runs the contract against the default MemoryAdapter,
// which serves a cluster of one node.
func TestMemoryAdapter(t *testing.T) {
	adaptertest.Run(t, 1, func(t *testing.T, n int) []*signaling.Server {
		srv, err := signaling.New(signaling.Config{}, prometheus.NewRegistry())
		if err != nil {
			t.Fatal(err)
		}
		return []*signaling.Server{srv}
	})
}
