package apikey_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/apikey"
	"github.com/bulwark-go/bulwark/internal/testclock"
	"github.com/bulwark-go/bulwark/problem"
	"github.com/bulwark-go/bulwark/store"
)

var (
	secretA = []byte("0123456789abcdef0123456789abcdef-secret-A")
	secretB = []byte("fedcba9876543210fedcba9876543210-secret-B")
)

func hasher(t testing.TB, secrets ...[]byte) *apikey.Hasher {
	t.Helper()
	h, err := apikey.NewHasher(secrets...)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// countingStore counts lookups, and fails them with fail when set.
type countingStore struct {
	*apikey.Static
	lookups atomic.Int64
	fail    error
}

func (s *countingStore) Lookup(ctx context.Context, id string) (*apikey.Entry, error) {
	s.lookups.Add(1)
	if s.fail != nil {
		return nil, s.fail
	}
	return s.Static.Lookup(ctx, id)
}

func (s *countingStore) LookupDigest(ctx context.Context, sid string, d *[sha256.Size]byte) (*apikey.Entry, error) {
	s.lookups.Add(1)
	if s.fail != nil {
		return nil, s.fail
	}
	return s.Static.LookupDigest(ctx, sid, d)
}

type fixture struct {
	auth    *apikey.Authenticator
	store   *countingStore
	clock   *testclock.Clock
	key     string // read, write; owner alice
	rec     apikey.Record
	legacy  string
	expired string
}

func newFixture(t testing.TB, mod func(*apikey.Options)) *fixture {
	t.Helper()
	h := hasher(t, secretA)
	clock := testclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	key, rec, err := apikey.Generate(h, apikey.Spec{Owner: "alice", Scopes: []string{"read", "write"}, Roles: []string{"user"}, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	expired, erec, err := apikey.Generate(h, apikey.Spec{Owner: "bob", TTL: time.Hour, Now: func() time.Time { return clock.Now().Add(-2 * time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	lrec, err := apikey.LegacyRecord(h, "demo-read", "demo-read-key-0001", "read")
	if err != nil {
		t.Fatal(err)
	}
	st, err := apikey.NewStatic(rec, erec, lrec)
	if err != nil {
		t.Fatal(err)
	}
	cs := &countingStore{Static: st}
	opts := apikey.Options{Store: cs, Secrets: [][]byte{secretA}, Legacy: true, Now: clock.Now}
	if mod != nil {
		mod(&opts)
	}
	a, err := apikey.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return &fixture{auth: a, store: cs, clock: clock, key: key, rec: rec, legacy: "demo-read-key-0001", expired: expired}
}

var keyShape = regexp.MustCompile(`^bwk_live_[0-9A-Za-z]{14}_[0-9A-Za-z]{24}[0-9A-Za-z]{6}$`)

func TestGenerate(t *testing.T) {
	h := hasher(t, secretA)
	seen := map[string]bool{}
	for range 200 {
		key, rec, err := apikey.Generate(h, apikey.Spec{Scopes: []string{"read"}})
		if err != nil {
			t.Fatal(err)
		}
		if !keyShape.MatchString(key) {
			t.Fatalf("key %q does not have the documented shape", key)
		}
		if seen[key] || seen[rec.ID] {
			t.Fatal("a key or id repeats")
		}
		seen[key], seen[rec.ID] = true, true
		p, err := apikey.Parse(key, []string{apikey.DefaultPrefix})
		if err != nil || p.ID != rec.ID || p.Prefix != apikey.DefaultPrefix {
			t.Fatalf("Parse(%q) = %+v, %v; want id %s", key, p, err, rec.ID)
		}
		if strings.Contains(rec.Hash, key[len(apikey.DefaultPrefix)+apikey.IDLen+1:][:apikey.SecretLen]) {
			t.Fatal("the record contains the secret")
		}
		if !strings.HasPrefix(rec.Hash, "hmac-sha256:"+apikey.SecretID(secretA)+":") {
			t.Fatalf("hash %q: want it under the newest secret", rec.Hash)
		}
	}
	key, _, err := apikey.Generate(h, apikey.Spec{Prefix: "bwk_test_"})
	if err != nil || !strings.HasPrefix(key, "bwk_test_") {
		t.Fatalf("test prefix: %q, %v", key, err)
	}
	for _, bad := range []string{"BWK_", "bwk", "bwk-live_", "1bwk_", strings.Repeat("a", 40) + "_"} {
		if _, _, err := apikey.Generate(h, apikey.Spec{Prefix: bad}); err == nil {
			t.Errorf("prefix %q accepted", bad)
		}
	}
}

func TestNewHasherRefusesWeakSecrets(t *testing.T) {
	for _, secrets := range [][][]byte{nil, {[]byte("short")}, {secretA, secretA}} {
		if _, err := apikey.NewHasher(secrets...); err == nil {
			t.Errorf("NewHasher(%d secrets) accepted", len(secrets))
		}
	}
	if _, err := apikey.New(apikey.Options{Store: &apikey.Static{}}); err == nil || !strings.Contains(err.Error(), "openssl rand") {
		t.Errorf("New without secrets: %v; want a hint on how to make one", err)
	}
}

// TestChecksumBeforeStore: a key with a valid prefix and a wrong checksum,
// or a typo anywhere, is refused without a store lookup.
func TestChecksumBeforeStore(t *testing.T) {
	f := newFixture(t, nil)
	mutate := func(i int) string {
		b := []byte(f.key)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		return string(b)
	}
	for _, i := range []int{len(apikey.DefaultPrefix), len(apikey.DefaultPrefix) + apikey.IDLen + 3, len(f.key) - 1, len(f.key) - 6} {
		bad := mutate(i)
		_, err := f.auth.Verify(context.Background(), bad)
		if p, ok := problem.As(err); !ok || p.Reason != "apikey_checksum" || p.Status != 401 {
			t.Errorf("typo at %d: %v; want 401 apikey_checksum", i, err)
		}
	}
	if _, err := f.auth.Verify(context.Background(), f.key[:len(f.key)-1]); reasonOf(err) != "apikey_malformed" {
		t.Errorf("truncated key: %v", err)
	}
	if n := f.store.lookups.Load(); n != 0 {
		t.Fatalf("%d store lookups for keys with bad checksums; want 0", n)
	}
	if _, err := f.auth.Verify(context.Background(), f.key); err != nil {
		t.Fatal(err)
	}
	if n := f.store.lookups.Load(); n != 1 {
		t.Fatalf("%d lookups for a good key; want 1", n)
	}
}

func reasonOf(err error) string {
	if p, ok := problem.As(err); ok {
		return p.Reason
	}
	if err == nil {
		return ""
	}
	return "error:" + err.Error()
}

func TestAuthenticate(t *testing.T) {
	f := newFixture(t, nil)
	fq := newFixture(t, func(o *apikey.Options) { o.Cookie = "api_key"; o.Query = "api_key"; o.Legacy = false })
	other, _, _ := apikey.Generate(hasher(t, secretA), apikey.Spec{})
	wrongSecret := forge
	tests := []struct {
		name   string
		a      *fixture
		setup  func(r *http.Request)
		reason string // "" for success; "none" for ErrNoCredentials
		source authn.CredentialSource
	}{
		{"X-API-Key", f, func(r *http.Request) { r.Header.Set("X-API-Key", f.key) }, "", authn.SourceHeader},
		{"X-API-Key with spaces", f, func(r *http.Request) { r.Header.Set("X-API-Key", " \t"+f.key+" ") }, "", authn.SourceHeader},
		{"Authorization ApiKey", f, func(r *http.Request) { r.Header.Set("Authorization", "ApiKey "+f.key) }, "", authn.SourceHeader},
		{"Authorization apikey lower case", f, func(r *http.Request) { r.Header.Set("Authorization", "apikey  "+f.key) }, "", authn.SourceHeader},
		{"legacy key", f, func(r *http.Request) { r.Header.Set("X-API-Key", f.legacy) }, "", authn.SourceHeader},
		{"no credentials", f, func(r *http.Request) {}, "none", 0},
		{"Bearer is not ours", f, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+f.key) }, "none", 0},
		{"ApiKeyX is another scheme", f, func(r *http.Request) { r.Header.Set("Authorization", "ApiKeyX "+f.key) }, "none", 0},
		{"no scheme", f, func(r *http.Request) { r.Header.Set("Authorization", f.key) }, "none", 0},
		{"empty X-API-Key", f, func(r *http.Request) { r.Header.Set("X-API-Key", "  ") }, "apikey_empty", 0},
		{"header and another cookie key", fq, func(r *http.Request) {
			r.Header.Set("X-API-Key", fq.key)
			r.AddCookie(&http.Cookie{Name: "api_key", Value: "junk"})
		}, "apikey_ambiguous", 0},
		{"cookie off by default", f, func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "api_key", Value: f.key}) }, "none", 0},
		{"query off by default", f, func(r *http.Request) { r.URL.RawQuery = "api_key=" + f.key }, "none", 0},
		{"cookie when on", fq, func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "api_key", Value: fq.key}) }, "", authn.SourceCookie},
		{"query when on", fq, func(r *http.Request) { r.URL.RawQuery = "x=1&api_key=" + fq.key }, "", authn.SourceQuery},
		{"empty query value", fq, func(r *http.Request) { r.URL.RawQuery = "api_key=" }, "apikey_malformed", 0},
		{"bad query escape", fq, func(r *http.Request) { r.URL.RawQuery = "api_key=%zz" }, "apikey_malformed", 0},
		{"legacy off", fq, func(r *http.Request) { r.Header.Set("X-API-Key", "demo-read-key-0001") }, "apikey_unknown", 0},
		{"empty ApiKey credentials", f, func(r *http.Request) { r.Header.Set("Authorization", "ApiKey ") }, "apikey_empty", 0},
		{"bare ApiKey", f, func(r *http.Request) { r.Header.Set("Authorization", "ApiKey") }, "apikey_empty", 0},
		{"two X-API-Key headers", f, func(r *http.Request) { r.Header.Add("X-API-Key", f.key); r.Header.Add("X-API-Key", f.key) }, "apikey_ambiguous", 0},
		{"two ApiKey authorizations", f, func(r *http.Request) {
			r.Header.Add("Authorization", "ApiKey "+f.key)
			r.Header.Add("Authorization", "ApiKey "+f.key)
		}, "apikey_ambiguous", 0},
		{"64 KB value", f, func(r *http.Request) { r.Header.Set("X-API-Key", strings.Repeat("a", 64<<10)) }, "apikey_too_long", 0},
		{"64 KB Authorization", f, func(r *http.Request) { r.Header.Set("Authorization", "ApiKey "+strings.Repeat("b", 64<<10)) }, "apikey_too_long", 0},
		{"control byte", f, func(r *http.Request) { r.Header.Set("X-API-Key", f.key[:20]+"\x01"+f.key[21:]) }, "apikey_malformed", 0},
		{"NUL byte", f, func(r *http.Request) { r.Header.Set("X-API-Key", "\x00") }, "apikey_malformed", 0},
		{"non-UTF-8", f, func(r *http.Request) { r.Header.Set("X-API-Key", "key\xff\xfe") }, "apikey_malformed", 0},
		{"non-ASCII UTF-8", f, func(r *http.Request) { r.Header.Set("X-API-Key", "clé-secrète") }, "apikey_malformed", 0},
		{"inner space", f, func(r *http.Request) { r.Header.Set("Authorization", "ApiKey a b") }, "apikey_malformed", 0},
		{"unknown key", f, func(r *http.Request) { r.Header.Set("X-API-Key", other) }, "apikey_unknown", 0},
		{"known id, wrong secret", f, func(r *http.Request) { r.Header.Set("X-API-Key", wrongSecret(f.key)) }, "apikey_unknown", 0},
		{"expired", f, func(r *http.Request) { r.Header.Set("X-API-Key", f.expired) }, "apikey_expired", 0},
		{"unknown legacy key", f, func(r *http.Request) { r.Header.Set("X-API-Key", "demo-read-key-0002") }, "apikey_unknown", 0},
		{"header and another query key", fq, func(r *http.Request) {
			r.Header.Set("X-API-Key", fq.key)
			r.URL.RawQuery = "api_key=junk"
		}, "apikey_ambiguous", 0},
		{"the same key in header and query", fq, func(r *http.Request) {
			r.Header.Set("X-API-Key", fq.key)
			r.URL.RawQuery = "api_key=" + fq.key
		}, "", authn.SourceHeader},
		{"good header, bad ApiKey authorization", f, func(r *http.Request) {
			r.Header.Set("X-API-Key", f.key)
			r.Header.Set("Authorization", "ApiKey wrong")
		}, "apikey_ambiguous", 0},
		{"bad header, good ApiKey authorization", f, func(r *http.Request) {
			r.Header.Set("X-API-Key", "wrong")
			r.Header.Set("Authorization", "ApiKey "+f.key)
		}, "apikey_ambiguous", 0},
		{"the same key in header and ApiKey authorization", f, func(r *http.Request) {
			r.Header.Set("X-API-Key", f.key)
			r.Header.Set("Authorization", "ApiKey "+f.key)
		}, "", authn.SourceHeader},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			tc.setup(r)
			p, err := tc.a.auth.Authenticate(r)
			switch tc.reason {
			case "":
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if p.Method != "apikey" || p.Source != tc.source {
					t.Fatalf("principal %+v; want method apikey, source %v", p, tc.source)
				}
			case "none":
				if !errors.Is(err, authn.ErrNoCredentials) {
					t.Fatalf("got %v, %v; want ErrNoCredentials", p, err)
				}
			default:
				pr, ok := problem.As(err)
				if !ok || pr.Reason != tc.reason || pr.Status != http.StatusUnauthorized {
					t.Fatalf("got %v; want 401 %s", err, tc.reason)
				}
				if p != nil {
					t.Fatal("a principal with a refusal")
				}
			}
		})
	}
}

// forge returns key with its secret changed and the checksum fixed: a key
// that passes the format checks and names a real id.
func forge(key string) string {
	n := len(apikey.DefaultPrefix) + apikey.IDLen + 1
	secret := []byte(key[n : n+apikey.SecretLen])
	if secret[0] == 'A' {
		secret[0] = 'B'
	} else {
		secret[0] = 'A'
	}
	head := key[:n] + string(secret)
	return head + apikey.Checksum(head)
}

func TestPrincipal(t *testing.T) {
	f := newFixture(t, nil)
	e, err := f.auth.Verify(context.Background(), f.key)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-API-Key", f.key)
	p, err := f.auth.Authenticate(r)
	if err != nil {
		t.Fatal(err)
	}
	if p.Subject != "alice" || p.Method != "apikey" || p.TokenID != e.ID() || p.ID != "apikey:alice" ||
		!p.HasScope("read") || !p.HasScope("write") || !p.HasRole("user") {
		t.Fatalf("principal %+v", p)
	}
	info, ok := apikey.InfoOf(p)
	if !ok || info.ID != f.rec.ID || info.Owner != "alice" {
		t.Fatalf("InfoOf = %+v, %v", info, ok)
	}
	r.Header.Set("X-API-Key", f.legacy)
	if p, err = f.auth.Authenticate(r); err != nil || p.Subject != "demo-read" || !p.HasScope("read") || p.HasScope("write") {
		t.Fatalf("legacy principal %+v, %v; want subject = the record id", p, err)
	}
}

func TestRevoke(t *testing.T) {
	f := newFixture(t, nil)
	if _, err := f.auth.Verify(context.Background(), f.key); err != nil {
		t.Fatal(err)
	}
	if !f.store.Revoke(f.rec.ID, f.clock.Now()) {
		t.Fatal("Revoke found nothing")
	}
	if _, err := f.auth.Verify(context.Background(), f.key); reasonOf(err) != "apikey_revoked" {
		t.Fatalf("after Revoke: %v; want apikey_revoked", err)
	}
	// The wrong secret for a revoked id still says only "not valid".
	if _, err := f.auth.Verify(context.Background(), forge(f.key)); reasonOf(err) != "apikey_unknown" {
		t.Fatalf("forged key of a revoked id: %v; want apikey_unknown", err)
	}
}

// TestRotation: the newest secret hashes, every listed secret verifies,
// a dropped one no longer does.
func TestRotation(t *testing.T) {
	oldKey, oldRec, _ := apikey.Generate(hasher(t, secretA), apikey.Spec{Owner: "o"})
	newKey, newRec, _ := apikey.Generate(hasher(t, secretB, secretA), apikey.Spec{Owner: "o"})
	if !strings.Contains(newRec.Hash, apikey.SecretID(secretB)) {
		t.Fatal("the newest secret did not hash")
	}
	st, err := apikey.NewStatic(oldRec, newRec)
	if err != nil {
		t.Fatal(err)
	}
	both, _ := apikey.New(apikey.Options{Store: st, Secrets: [][]byte{secretB, secretA}})
	for _, k := range []string{oldKey, newKey} {
		if _, err := both.Verify(context.Background(), k); err != nil {
			t.Fatalf("with both secrets: %v", err)
		}
	}
	onlyNew, _ := apikey.New(apikey.Options{Store: st, Secrets: [][]byte{secretB}})
	if _, err := onlyNew.Verify(context.Background(), oldKey); reasonOf(err) != "apikey_unknown" {
		t.Fatalf("old key after the old secret was dropped: %v", err)
	}
	if _, err := onlyNew.Verify(context.Background(), newKey); err != nil {
		t.Fatal(err)
	}
	// Several active keys per owner: both worked above.
	if n := len(st.Records("o")); n != 2 {
		t.Fatalf("%d records for owner o; want 2", n)
	}
}

func TestStoreDownIs503(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		f := newFixture(t, nil)
		f.store.fail = &store.UnavailableError{Op: "get", Err: errors.New("connection refused")}
		key := f.key
		if legacy {
			key = f.legacy
		}
		_, err := f.auth.Verify(context.Background(), key)
		p, ok := problem.As(err)
		if !ok || p.Status != http.StatusServiceUnavailable || p.Reason != "apikey_store_unavailable" {
			t.Fatalf("store down (legacy %v): %v; want 503", legacy, err)
		}
	}
}

// TestGuard: composed with another scheme, a request without credentials
// gets one 401 challenging both; every refusal is one audit event; no
// input makes a 500.
func TestGuard(t *testing.T) {
	f := newFixture(t, nil)
	bearer := authn.AuthenticatorFunc(func(r *http.Request) (*authn.Principal, error) { return nil, authn.ErrNoCredentials })
	mem := audit.NewMemory()
	g, err := authn.New(authn.Options{Authenticator: authn.AnyOf(bearer, f.auth), Realm: "demo", Audit: mem})
	if err != nil {
		t.Fatal(err)
	}
	h := g.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := authn.FromContext(r.Context())
		fmt.Fprint(w, p.Subject)
	}))
	do := func(set func(*http.Request)) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/", nil)
		set(r)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	w := do(func(r *http.Request) {})
	if w.Code != 401 || w.Header().Get("WWW-Authenticate") != `Bearer realm="demo", ApiKey realm="demo"` {
		t.Fatalf("no credentials: %d %q", w.Code, w.Header().Get("WWW-Authenticate"))
	}
	w = do(func(r *http.Request) { r.Header.Set("X-API-Key", f.key) })
	if w.Code != 200 || w.Body.String() != "alice" {
		t.Fatalf("good key: %d %s", w.Code, w.Body)
	}
	before := len(mem.Events())
	bad := []string{"x\x7fy", strings.Repeat("k", 64<<10), "bwk_live_" + strings.Repeat("A", 47), "\xc3\x28"}
	for _, v := range bad {
		w := do(func(r *http.Request) { r.Header["X-Api-Key"] = []string{v} })
		if w.Code != 401 || !strings.Contains(w.Header().Get("WWW-Authenticate"), "ApiKey") ||
			!strings.HasPrefix(w.Header().Get("Content-Type"), problem.ContentType) {
			t.Errorf("%.20q: %d %q", v, w.Code, w.Header().Get("WWW-Authenticate"))
		}
	}
	if got := len(mem.Events()) - before; got != len(bad) {
		t.Fatalf("%d audit events for %d refusals", got, len(bad))
	}
	f.store.fail = &store.UnavailableError{Op: "get", Err: errors.New("down")}
	if w := do(func(r *http.Request) { r.Header.Set("X-API-Key", f.key) }); w.Code != 503 {
		t.Fatalf("store down: %d; want 503", w.Code)
	}
}

type touchStore struct {
	*apikey.Static
	mu      sync.Mutex
	batches []map[string]time.Time
}

func (s *touchStore) Touch(_ context.Context, used map[string]time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.batches = append(s.batches, used)
	return nil
}

// TestLastUsedCoalesced: many uses within the interval are one write.
func TestLastUsedCoalesced(t *testing.T) {
	h := hasher(t, secretA)
	k1, r1, _ := apikey.Generate(h, apikey.Spec{})
	k2, r2, _ := apikey.Generate(h, apikey.Spec{})
	st, _ := apikey.NewStatic(r1, r2)
	ts := &touchStore{Static: st}
	clock := testclock.New(time.Unix(1_800_000_000, 0))
	a, err := apikey.New(apikey.Options{Store: ts, Secrets: [][]byte{secretA}, Now: clock.Now, LastUsedInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for i := range 1000 {
		for _, k := range []string{k1, k2} {
			if _, err := a.Verify(context.Background(), k); err != nil {
				t.Fatal(err)
			}
		}
		if i == 500 {
			clock.Advance(30 * time.Minute)
		}
	}
	a.Flush()
	clock.Advance(61 * time.Minute)
	for range 10 {
		a.Verify(context.Background(), k1)
	}
	a.Flush()
	ts.mu.Lock()
	defer ts.mu.Unlock()
	writes := 0
	for _, b := range ts.batches {
		writes += len(b)
	}
	if writes != 3 || len(ts.batches) != 2 {
		t.Fatalf("batches %v: want 2 batches, 3 key writes for 2010 uses", ts.batches)
	}
	if got := ts.batches[1][r1.ID]; !got.Equal(clock.Now().Truncate(time.Second)) {
		t.Fatalf("last used %v; want %v", got, clock.Now())
	}
}

func TestReadRecords(t *testing.T) {
	h := hasher(t, secretA)
	_, r1, _ := apikey.Generate(h, apikey.Spec{Owner: "a", Scopes: []string{"read"}})
	line, _ := apikey.JSONLine(r1)
	recs, err := apikey.ReadRecords(strings.NewReader("# keys\n\n" + line + "\n"))
	if err != nil || len(recs) != 1 || recs[0].ID != r1.ID {
		t.Fatalf("JSON Lines: %v, %v", recs, err)
	}
	recs, err = apikey.ReadRecords(strings.NewReader("[" + line + "]"))
	if err != nil || len(recs) != 1 {
		t.Fatalf("array: %v, %v", recs, err)
	}
	if _, err := apikey.ReadRecords(strings.NewReader(`{"id":"x","hash":"y","scope":["read"]}`)); err == nil {
		t.Fatal("an unknown field was accepted")
	}
	if _, err := apikey.NewStatic(apikey.Record{ID: "abc", Hash: "plain"}); err == nil {
		t.Fatal("a record without a valid hash was accepted")
	}
	if _, err := apikey.NewStatic(r1, r1); err == nil {
		t.Fatal("duplicate records accepted")
	}
}
