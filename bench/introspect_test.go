package bench

// Token introspection (RFC 7662) with the answer cached, the path every
// request after a token's first takes:
//
//	go test -run '^$' -bench 'Introspect' -benchmem
//
// No Go library Go users reach for caches introspection answers (they
// make one round trip per request), so the comparison is with that round
// trip: a hand-written net/http + encoding/json client (PeerRoundTrip) and
// Bulwark with its caches off (BulwarkUncached), both against a loopback
// authorization server in the same process — the best case for a round
// trip; a real one adds network latency.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/authn/introspect"
)

const introspectToken = "2YotnFZFEjr1zCsicMWpAA-opaque.access_token_of_typical_length_0123456789"

func introspectAS(b *testing.B) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.PostFormValue("token") != introspectToken {
			fmt.Fprint(w, `{"active":false}`)
			return
		}
		fmt.Fprint(w, `{"active":true,"sub":"alice","client_id":"app","scope":"read write","exp":4102444800,"iss":"https://as.example"}`)
	}))
	b.Cleanup(srv.Close)
	return srv
}

func benchIntrospect(b *testing.B, cacheTTL time.Duration) {
	srv := introspectAS(b)
	a, err := introspect.New(introspect.Options{Endpoint: srv.URL, ClientID: "bench", ClientSecret: "0123456789abcdef0123", CacheTTL: cacheTTL})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if p, err := a.Introspect(ctx, introspectToken); err != nil || p.Subject != "alice" {
			b.Fatal(p, err)
		}
	}
}

func BenchmarkIntrospect_BulwarkCached(b *testing.B)   { benchIntrospect(b, 0) }
func BenchmarkIntrospect_BulwarkUncached(b *testing.B) { benchIntrospect(b, -1) }

// BenchmarkIntrospect_BulwarkCachedParallel: the cache under contention
// from every core.
func BenchmarkIntrospect_BulwarkCachedParallel(b *testing.B) {
	srv := introspectAS(b)
	a, err := introspect.New(introspect.Options{Endpoint: srv.URL, ClientID: "bench", ClientSecret: "0123456789abcdef0123"})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := a.Introspect(ctx, introspectToken); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkIntrospect_PeerRoundTrip is the introspection a hand-written
// middleware does: one POST and a json.Unmarshal per request.
func BenchmarkIntrospect_PeerRoundTrip(b *testing.B) {
	srv := introspectAS(b)
	client := srv.Client()
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(url.Values{"token": {introspectToken}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("bench", "0123456789abcdef0123")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var out struct {
			Active bool   `json:"active"`
			Sub    string `json:"sub"`
			Scope  string `json:"scope"`
		}
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err != nil || !out.Active {
			b.Fatal(err)
		}
	}
}
