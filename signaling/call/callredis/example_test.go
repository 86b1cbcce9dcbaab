package callredis_test

import (
	"log"

	"github.com/noomrtc/noom/signaling"
	"github.com/noomrtc/noom/signaling/call"
	"github.com/noomrtc/noom/signaling/call/callredis"
	"github.com/noomrtc/noom/signaling/redisadapter"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// One node of a cluster: the hub's events cross nodes through the
// adapter, the call rooms through the registry; both on the same Redis.
// Shut down in the reverse order.
func Example() {
	reg := prometheus.NewRegistry()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", ContextTimeoutEnabled: true})
	cluster, err := redisadapter.New(redisadapter.Config{}, rdb, reg, nil)
	if err != nil {
		log.Fatal(err)
	}
	hub, err := signaling.New(signaling.Config{Adapter: cluster.Adapter}, reg)
	if err != nil {
		log.Fatal(err)
	}
	rooms, err := callredis.New(callredis.Config{}, rdb, reg)
	if err != nil {
		log.Fatal(err)
	}
	svc, err := call.New(call.Config{MaxRoomSize: 8, Registry: rooms}, hub.Of("/"), nil, reg)
	if err != nil {
		log.Fatal(err)
	}
	_ = svc // serve hub on /socket.io/; at the end: hub.Shutdown, svc.Close, rooms.Close, cluster.Close, rdb.Close
}
