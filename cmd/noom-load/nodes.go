package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"time"

	"github.com/noomrtc/noom/internal/redistest"
)

// The cluster mode (-nodes N, N > 1) starts N hubs, each in a child
// process of its own, sharing rooms through the Redis adapter, and
// spreads the connections over them round-robin: a room's members sit on
// every node, so that a broadcast reaches most of its receivers through
// Redis. The broadcast phases then measure cross-node deliveries and
// their latency; run it with -nodes 1 for the same load on one node.
// Memory, connection rate and the relay probe are read on the first node.
// Without -redis-url it starts a redis-server of its own on a free
// loopback port.

// redisProc is a redis-server of this run.
type redisProc struct {
	cmd  *exec.Cmd
	exit <-chan struct{} // closed once it has exited
	url  string
}

// startRedis runs redis-server on a free loopback port, keeping nothing on
// disk, and waits until it is ready.
func startRedis() (*redisProc, error) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		return nil, fmt.Errorf("-nodes needs redis-server (apt-get install redis-server) or -redis-url: %w", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd, exit, err := redistest.Launch(port, dieWithParent)
	if err != nil {
		return nil, err
	}
	return &redisProc{cmd: cmd, exit: exit, url: fmt.Sprintf("redis://127.0.0.1:%d/0", port)}, nil
}

// stop ends redis-server, killing it if it has not ended within 10 s.
func (r *redisProc) stop() {
	r.cmd.Process.Signal(os.Interrupt)
	select {
	case <-r.exit:
	case <-time.After(10 * time.Second):
		r.cmd.Process.Kill()
		<-r.exit
	}
}

// startCluster starts the hubs of a run: one without Redis, or n sharing
// redisURL (a redis-server of its own when empty).
func startCluster(ctx context.Context, o loadOptions) (srvs []*server, stop func(), err error) {
	var rp *redisProc
	stop = func() {
		for _, s := range srvs {
			s.stop()
		}
		if rp != nil {
			rp.stop()
		}
	}
	redisURL := o.redisURL
	if o.nodes > 1 && redisURL == "" {
		if rp, err = startRedis(); err != nil {
			return nil, stop, err
		}
		redisURL = rp.url
	}
	for range o.nodes {
		s, err := startServer(ctx, o.hubProcs, o.hubMaxQueue, o.viewer, redisURL)
		if err != nil {
			return srvs, stop, err
		}
		srvs = append(srvs, s)
	}
	return srvs, stop, nil
}

// loopbackURL reports whether a redis:// URL names a loopback host.
func loopbackURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	if u.Hostname() == "localhost" {
		return true
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}
