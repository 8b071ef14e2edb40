package bench

// API-key checks with 100,000 keys: Bulwark's authenticator over its
// static (memory) store and over Redis with a warm cache, against the
// check Go users write by hand (a map from the SHA-256 of the key, hex).
//
//	go test -run '^$' -bench APIKey -benchmem ./bench

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/bulwark-go/bulwark/authn/apikey"
	"github.com/bulwark-go/bulwark/authn/apikey/rediskeys"
	"github.com/bulwark-go/bulwark/store/redisstore"
)

const apiKeyCount = 100_000

var apiKeySecret = []byte("bench-apikey-secret-0123456789abcdef0123")

var apiKeysOnce = sync.OnceValues(func() ([]string, []apikey.Record) {
	h, err := apikey.NewHasher(apiKeySecret)
	if err != nil {
		panic(err)
	}
	keys := make([]string, apiKeyCount)
	recs := make([]apikey.Record, apiKeyCount)
	for i := range keys {
		if keys[i], recs[i], err = apikey.Generate(h, apikey.Spec{Owner: "svc", Scopes: []string{"read"}}); err != nil {
			panic(err)
		}
	}
	return keys, recs
})

// benchKeys cycles r's X-API-Key through keys, checking each with auth.
func benchKeys(b *testing.B, keys []string, check func(*http.Request) bool) {
	r := httptest.NewRequest("GET", "/api/items", nil)
	r.Header["X-Api-Key"] = []string{keys[0]}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r.Header["X-Api-Key"][0] = keys[i]
		if !check(r) {
			b.Fatal("a valid key was refused")
		}
		i++
		if i == len(keys) {
			i = 0
		}
	}
}

func BenchmarkAPIKey(b *testing.B) {
	keys, recs := apiKeysOnce()

	b.Run("bulwark/memory", func(b *testing.B) {
		st, err := apikey.NewStatic(recs...)
		if err != nil {
			b.Fatal(err)
		}
		a, err := apikey.New(apikey.Options{Store: st, Secrets: [][]byte{apiKeySecret}})
		if err != nil {
			b.Fatal(err)
		}
		defer a.Close()
		warm(b, a, keys) // steady state: each key's use was reported this minute
		benchKeys(b, keys, func(r *http.Request) bool { _, err := a.Authenticate(r); return err == nil })
	})

	b.Run("bulwark/redis-warm", func(b *testing.B) {
		u := os.Getenv("REDIS_URL")
		if u == "" {
			u = "redis://127.0.0.1:6379/0"
		}
		client, err := redisstore.NewClient(redisstore.Options{URL: u})
		if err != nil {
			b.Fatal(err)
		}
		defer client.Close()
		prefix := "bulwark-bench:apikey:"
		// A generous timeout: the setup writes 100,000 records at once.
		rs, err := redisstore.Open(redisstore.Options{Client: client, Prefix: prefix, Timeout: 5 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		ks, err := rediskeys.New(rediskeys.Options{Redis: rs, MaxCached: apiKeyCount})
		if err != nil {
			b.Fatal(err)
		}
		defer ks.Close()
		defer deleteBenchPrefix(client, prefix)
		ctx := context.Background()
		parallel(len(recs), func(i int) {
			var err error
			for range 5 {
				if err = ks.Put(ctx, recs[i]); err == nil {
					return
				}
				time.Sleep(100 * time.Millisecond) // setup only: the shared Redis is busy
			}
			b.Error(err)
		})
		for !ks.Live() {
			_, _ = ks.Lookup(ctx, recs[0].ID) // the subscription is confirmed shortly after start
		}
		a, err := apikey.New(apikey.Options{Store: ks, Secrets: [][]byte{apiKeySecret}})
		if err != nil {
			b.Fatal(err)
		}
		defer a.Close()
		warm(b, a, keys)
		benchKeys(b, keys, func(r *http.Request) bool { _, err := a.Authenticate(r); return err == nil })
	})

	b.Run("floor/hmac-sha256", func(b *testing.B) {
		// The HMAC alone, for scale: the rest of a check costs the
		// difference.
		h := hmac.New(sha256.New, apiKeySecret)
		var out [sha256.Size]byte
		k := []byte(keys[0])
		b.ReportAllocs()
		for b.Loop() {
			h.Reset()
			h.Write(k)
			h.Sum(out[:0])
		}
	})

	b.Run("stdlib-sha256-map", func(b *testing.B) {
		// What is often written by hand: the hex SHA-256 of the key as a
		// map key (no server secret, no format check, no expiry).
		m := make(map[string][]string, len(keys))
		for _, k := range keys {
			s := sha256.Sum256([]byte(k))
			m[hex.EncodeToString(s[:])] = []string{"read"}
		}
		benchKeys(b, keys, func(r *http.Request) bool {
			s := sha256.Sum256([]byte(r.Header.Get("X-API-Key")))
			_, ok := m[hex.EncodeToString(s[:])]
			return ok
		})
	})
}

// warm checks every key once, so that the cache holds it and its use is
// reported (the benchmark then measures the steady state).
func warm(b *testing.B, a *apikey.Authenticator, keys []string) {
	parallel(len(keys), func(i int) {
		var err error
		for range 5 {
			if _, err = a.Verify(context.Background(), keys[i]); err == nil {
				return
			}
			time.Sleep(100 * time.Millisecond) // setup only
		}
		b.Error(err)
	})
	a.Flush()
}

func parallel(n int, f func(i int)) {
	var wg sync.WaitGroup
	const workers = 64
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				f(i)
			}
		})
	}
	wg.Wait()
}

func deleteBenchPrefix(c rueidis.Client, prefix string) {
	ctx := context.Background()
	var cursor uint64
	for {
		e, err := c.Do(ctx, c.B().Scan().Cursor(cursor).Match(prefix+"*").Count(1000).Build()).AsScanEntry()
		if err != nil {
			return
		}
		if len(e.Elements) > 0 {
			c.Do(ctx, c.B().Del().Key(e.Elements...).Build())
		}
		if cursor = e.Cursor; cursor == 0 {
			return
		}
	}
}
