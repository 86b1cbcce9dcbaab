package main

import (
	"log/slog"

	"github.com/noomrtc/noom/signaling/call/callredis"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// startCallRegistry shares the call rooms (members, passcodes,
// --max-room-size, the room list) with the other nodes on --redis-url.
// It has a redis client of its own, whose context deadlines bound each
// call, so that a slow Redis never holds a socket longer than the
// registry's OpTimeout. close stops it and the client (after the call
// service).
func startCallRegistry(o *options, reg prometheus.Registerer, log *slog.Logger) (*callredis.Registry, func(), error) {
	opts, err := redisOptions(o)
	if err != nil {
		return nil, nil, err
	}
	opts.ContextTimeoutEnabled = true
	rdb := redis.NewClient(opts)
	r, err := callredis.New(callredis.Config{Logger: log}, rdb, reg)
	if err != nil {
		rdb.Close()
		return nil, nil, err
	}
	return r, func() { r.Close(); rdb.Close() }, nil
}
