package bench

// Store benchmarks: the counter behind every rate limit and abuse detector.
// Bulwark's memstore and redisstore against ulule/limiter's stores (the
// common choice for a Go rate limiter with Redis) and a hand-written go-redis
// INCRBY + EXPIRE NX pipeline:
//
//	cd bench && go test -run '^$' -bench 'Store' -benchmem
//
// The Redis benchmarks use REDIS_URL (default redis://127.0.0.1:6379/0) and
// are skipped when no server answers; they write keys under a unique prefix
// and delete them afterwards.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/ulule/limiter/v3"
	ululememory "github.com/ulule/limiter/v3/drivers/store/memory"
	ululeredis "github.com/ulule/limiter/v3/drivers/store/redis"

	"github.com/bulwark-go/bulwark/store/memstore"
	"github.com/bulwark-go/bulwark/store/redisstore"
)

const storeKeys = 100_000

var storeKeyNames = func() []string {
	k := make([]string, storeKeys)
	for i := range k {
		k[i] = "ratelimit:203.0.113." + strconv.Itoa(i)
	}
	return k
}()

// parallelKeys runs f over the benchmark keys from parallelism×GOMAXPROCS
// goroutines, each starting at a different key.
func parallelKeys(b *testing.B, parallelism int, f func(key string) error) {
	var seq atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(parallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(seq.Add(1)*7919) % storeKeys
		for pb.Next() {
			if i++; i == storeKeys {
				i = 0
			}
			if err := f(storeKeyNames[i]); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkStoreIncrParallel: increments spread over 100,000 existing
// counters, in memory.
func BenchmarkStoreIncrParallel(b *testing.B) {
	ctx := context.Background()
	b.Run("bulwark-memstore", func(b *testing.B) {
		s := memstore.New(memstore.Options{})
		defer s.Close()
		for _, k := range storeKeyNames {
			if _, err := s.Incr(ctx, k, 1, time.Hour); err != nil {
				b.Fatal(err)
			}
		}
		parallelKeys(b, 1, func(k string) error {
			_, err := s.Incr(ctx, k, 1, time.Hour)
			return err
		})
	})
	b.Run("ulule-limiter-memory", func(b *testing.B) {
		s := ululememory.NewStore()
		rate := limiter.Rate{Period: time.Hour, Limit: 1 << 40}
		for _, k := range storeKeyNames {
			if _, err := s.Increment(ctx, k, 1, rate); err != nil {
				b.Fatal(err)
			}
		}
		parallelKeys(b, 1, func(k string) error {
			_, err := s.Increment(ctx, k, 1, rate)
			return err
		})
	})
}

func benchRedisURL(b *testing.B) string {
	u := os.Getenv("REDIS_URL")
	if u == "" {
		u = "redis://127.0.0.1:6379/0"
	}
	pu, err := url.Parse(u)
	if err != nil {
		b.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", pu.Host, time.Second)
	if err != nil {
		b.Skipf("no Redis at %s: %v", u, err)
	}
	c.Close()
	return u
}

func benchPrefix(b *testing.B, rdb *goredis.Client) string {
	var r [6]byte
	_, _ = rand.Read(r[:])
	p := "bulwark-bench:" + hex.EncodeToString(r[:]) + ":"
	b.Cleanup(func() {
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, p+"*", 1000).Iterator()
		var batch []string
		for iter.Next(ctx) {
			if batch = append(batch, iter.Val()); len(batch) == 1000 {
				rdb.Del(ctx, batch...)
				batch = batch[:0]
			}
		}
		if len(batch) > 0 {
			rdb.Del(ctx, batch...)
		}
	})
	return p
}

// redisParallelism models a server with many requests in flight: 16
// goroutines per CPU, each waiting on a round trip.
const redisParallelism = 16

// BenchmarkStoreIncrRedisParallel: the same increments on Redis, one round
// trip each, from 16 goroutines per CPU (the concurrency rueidis's
// auto-pipelining turns into fewer, larger writes).
func BenchmarkStoreIncrRedisParallel(b *testing.B) {
	u := benchRedisURL(b)
	ctx := context.Background()
	opt, err := goredis.ParseURL(u)
	if err != nil {
		b.Fatal(err)
	}
	rdb := goredis.NewClient(opt)
	defer rdb.Close()

	b.Run("bulwark-redisstore", func(b *testing.B) {
		s, err := redisstore.Open(redisstore.Options{URL: u, Prefix: benchPrefix(b, rdb)})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		parallelKeys(b, redisParallelism, func(k string) error {
			_, err := s.Incr(ctx, k, 1, time.Hour)
			return err
		})
	})
	b.Run("ulule-limiter-redis", func(b *testing.B) {
		s, err := ululeredis.NewStoreWithOptions(rdb, limiter.StoreOptions{Prefix: benchPrefix(b, rdb)})
		if err != nil {
			b.Fatal(err)
		}
		rate := limiter.Rate{Period: time.Hour, Limit: 1 << 40}
		parallelKeys(b, redisParallelism, func(k string) error {
			_, err := s.Increment(ctx, k, 1, rate)
			return err
		})
	})
	b.Run("go-redis-incr-expire-nx-pipeline", func(b *testing.B) {
		p := benchPrefix(b, rdb)
		parallelKeys(b, redisParallelism, func(k string) error {
			pipe := rdb.Pipeline()
			pipe.IncrBy(ctx, p+k, 1)
			pipe.ExpireNX(ctx, p+k, time.Hour)
			_, err := pipe.Exec(ctx)
			return err
		})
	})
}
