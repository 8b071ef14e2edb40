package redislimit_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/bulwark-go/bulwark/internal/testredis"
	"github.com/bulwark-go/bulwark/ratelimit"
	"github.com/bulwark-go/bulwark/ratelimit/redislimit"
	"github.com/bulwark-go/bulwark/store/redisstore"
)

// A real (one-node) Redis Cluster: decisions alone and coalesced (one
// script run per decision, pipelined) are exact under 64 goroutines, with
// two limits on one key (one hash slot), and nothing panics.
func TestRedisCluster(t *testing.T) {
	srv := testredis.StartServer(t, "--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(t.TempDir(), "nodes.conf"))
	co, err := rueidis.ParseURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	co.DisableCache, co.ForceSingleClient = true, true
	admin, err := rueidis.NewClient(co)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	ctx := context.Background()
	if err := admin.Do(ctx, admin.B().Arbitrary("CLUSTER", "ADDSLOTSRANGE", "0", "16383").Build()).Error(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the cluster to be up", func() bool {
		info, err := admin.Do(ctx, admin.B().ClusterInfo().Build()).ToString()
		return err == nil && strings.Contains(info, "cluster_state:ok")
	})

	var client rueidis.Client
	waitFor(t, "a Cluster client", func() bool {
		c, err := redisstore.NewClient(redisstore.Options{URL: srv.URL(), Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if c.Do(ctx, c.B().Ping().Build()).Error() == nil && c.Mode() == rueidis.ClientModeCluster {
			client = c
			return true
		}
		c.Close()
		return false
	})
	defer client.Close()
	st, err := redislimit.New(redislimit.Options{Client: client, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	lim, err := ratelimit.New(ratelimit.Options{
		Limits: []ratelimit.Limit{
			ratelimit.GCRA(1, time.Hour, 100).Named("burst").By(ratelimit.Global()),
			ratelimit.FixedWindow(1000, ratelimit.MaxWindow).Named("total").By(ratelimit.Global()),
		},
		Store: st, Outage: ratelimit.FailClosed,
	})
	if err != nil {
		t.Fatal(err)
	}
	// One at a time: each a batch of one.
	for i := range 5 {
		d, err := lim.Allow(ctx, "solo")
		if err != nil || !d.Allowed || d.Remaining != 99-i {
			t.Fatalf("decision %d alone: %+v %v", i, d, err)
		}
	}
	// 64 goroutines over 4 keys, 192 attempts each: exactly 100 admitted
	// per key.
	var admitted [4]atomic.Int64
	var wg sync.WaitGroup
	for g := range 64 {
		wg.Go(func() {
			for i := range 12 {
				k := (g + i) % 4
				d, err := lim.Allow(ctx, fmt.Sprint("key-", k))
				if err != nil {
					t.Error(err)
					return
				}
				if d.Allowed {
					admitted[k].Add(1)
				}
			}
		})
	}
	wg.Wait()
	for k := range admitted {
		if n := admitted[k].Load(); n != 100 {
			t.Errorf("key-%d: %d admitted, want 100", k, n)
		}
	}
	if n := redislimit.OwnConns(st); n != 0 {
		t.Errorf("%d workers hold connections of their own on a Cluster", n)
	}
}
