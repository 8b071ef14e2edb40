package abuse_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/abuse"
	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/internal/testclock"
	"github.com/bulwark-go/bulwark/store"
	"github.com/bulwark-go/bulwark/store/memstore"
)

func cardGuard(t *testing.T, st store.DistinctCounter, sink audit.Sink, mod func(*abuse.Options)) *abuse.Guard {
	t.Helper()
	o := abuse.Options{Name: "card-testing", Store: st, Fingerprint: abuse.Card("card_number", "exp_month", "exp_year"),
		Threshold: 3, Window: time.Hour, Secret: secret, Audit: sink}
	if mod != nil {
		mod(&o)
	}
	g, err := abuse.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func memStore(t *testing.T, c *testclock.Clock) *memstore.Store {
	st := memstore.New(memstore.Options{Now: c.Now})
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// echo answers 200 with the body it could read: proof the guard left the
// body for the handler.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	w.WriteHeader(200)
	_, _ = w.Write(b)
})

func checkout(h http.Handler, ip, card string, month int) *httptest.ResponseRecorder {
	body := fmt.Sprintf(`{"card_number":%q,"exp_month":%d,"exp_year":2030,"cvv":"123","amount":5,"email":"a@example.com"}`, card, month)
	r := httptest.NewRequest("POST", "/api/checkout", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.RemoteAddr = ip + ":5000"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code == 200 && w.Body.String() != body {
		panic("body not replayed: " + w.Body.String())
	}
	return w
}

// The seed, exactly: per client IP, distinct cards (last four + expiry);
// the same card again never counts; over the threshold every transaction
// from the IP is dropped, a previously accepted card included; every
// attempt, blocked ones included, restarts the hour; an hour of silence
// lifts the block; another IP is untouched.
func TestGuardSeedSemantics(t *testing.T) {
	c := testclock.New(time.Unix(1_700_000_000, 0))
	sink := audit.NewMemory()
	h := cardGuard(t, memStore(t, c), sink, nil).Handler(echo)
	ip := "203.0.113.9"
	// One card, many times, other CVVs and full numbers with the same last
	// four: one fingerprint.
	for i := range 10 {
		if w := checkout(h, ip, fmt.Sprintf("4000%012d", 4242+i*10000), 12); w.Code != 200 {
			t.Fatalf("same card, attempt %d: %d", i, w.Code)
		}
	}
	for _, m := range []int{1, 2} { // cards 2 and 3
		if w := checkout(h, ip, "4000000000001111", m); w.Code != 200 {
			t.Fatalf("card %d: %d", m, w.Code)
		}
	}
	w := checkout(h, ip, "4000000000009999", 3) // the 4th distinct card
	if w.Code != 403 || !strings.Contains(w.Body.String(), "abuse-detected") {
		t.Fatalf("4th distinct card: %d %s", w.Code, w.Body)
	}
	if w := checkout(h, ip, "4000000000004242", 12); w.Code != 403 {
		t.Fatalf("accepted card while blocked: %d", w.Code)
	}
	if w := checkout(h, "198.51.100.1", "4000000000009999", 3); w.Code != 200 {
		t.Fatalf("another IP: %d", w.Code)
	}
	// Blocked attempts restart the hour: 59 minutes apart, three times.
	for range 3 {
		c.Advance(59 * time.Minute)
		if w := checkout(h, ip, "4000000000004242", 12); w.Code != 403 {
			t.Fatalf("block lifted while attempts continued: %d", w.Code)
		}
	}
	c.Advance(time.Hour + time.Second)
	if w := checkout(h, ip, "4000000000004242", 12); w.Code != 200 {
		t.Fatalf("still blocked after an hour of silence: %d", w.Code)
	}
	denies := 0
	for _, e := range sink.Events() {
		if e.Decision == audit.Deny && e.Reason == "card-testing" {
			denies++
		}
		for _, a := range e.Attrs {
			if strings.Contains(a.Value.String(), "4242") {
				t.Fatalf("raw value in an audit event: %v", a)
			}
		}
	}
	if denies != 5 {
		t.Fatalf("%d deny events, want one per refusal (5)", denies)
	}
}

// A fixed window does not restart: an hour after the first card, the
// count is gone however often the client tried.
func TestGuardFixedWindow(t *testing.T) {
	c := testclock.New(time.Unix(1_700_000_000, 0))
	h := cardGuard(t, memStore(t, c), nil, func(o *abuse.Options) { o.FixedWindow = true }).Handler(echo)
	for m := 1; m <= 4; m++ {
		checkout(h, "203.0.113.9", "4000000000001111", m)
		c.Advance(10 * time.Minute)
	}
	if w := checkout(h, "203.0.113.9", "4000000000001111", 1); w.Code != 403 {
		t.Fatalf("not blocked: %d", w.Code)
	}
	c.Advance(21 * time.Minute) // 61 minutes after the first card
	if w := checkout(h, "203.0.113.9", "4000000000001111", 1); w.Code != 200 {
		t.Fatalf("fixed window restarted: %d", w.Code)
	}
}

// Flag mode: audited, never refused.
func TestGuardFlagOnly(t *testing.T) {
	c := testclock.New(time.Unix(1_700_000_000, 0))
	sink := audit.NewMemory()
	h := cardGuard(t, memStore(t, c), sink, func(o *abuse.Options) { o.Action = abuse.Flag }).Handler(echo)
	for m := 1; m <= 6; m++ {
		if w := checkout(h, "203.0.113.9", "4000000000001111", m); w.Code != 200 {
			t.Fatalf("flag mode refused: %d", w.Code)
		}
	}
	flags := 0
	for _, e := range sink.Events() {
		if e.Decision == audit.Flag && e.Reason == "card-testing" {
			flags++
		}
	}
	if flags != 3 {
		t.Fatalf("%d flags, want 3 (cards 4, 5, 6)", flags)
	}
}

func TestGuardAllowLists(t *testing.T) {
	c := testclock.New(time.Unix(1_700_000_000, 0))
	h := cardGuard(t, memStore(t, c), nil, func(o *abuse.Options) {
		o.AllowPrefixes = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
	}).Handler(echo)
	for m := 1; m <= 8; m++ {
		if w := checkout(h, "192.0.2.77", "4000000000001111", m); w.Code != 200 {
			t.Fatalf("allow-listed client refused: %d", w.Code)
		}
	}
}

// Attackers with many addresses: one card from many /24s (flag), many
// cards for one email (flag), a route-wide distinct-card rate (one alert
// per window). None of them blocks; the per-IP view never trips.
func TestGuardManyAddressViews(t *testing.T) {
	c := testclock.New(time.Unix(1_700_000_000, 0))
	sink := audit.NewMemory()
	card := abuse.Card("card_number", "exp_month", "exp_year")
	h := cardGuard(t, memStore(t, c), sink, func(o *abuse.Options) {
		o.Views = []abuse.View{
			{Name: "card-networks", Key: card, Value: abuse.ClientPrefix(24, 64), Threshold: 3},
			{Name: "email-cards", Key: abuse.JSONField("email"), Value: card, Threshold: 3},
			{Name: "route-cards", Key: abuse.Global(), Value: card, Threshold: 10, Action: abuse.Alert, Window: time.Minute, FixedWindow: true},
		}
	}).Handler(echo)
	// One card from 5 networks (two addresses each: one /24 counts once).
	for i := range 5 {
		for j := range 2 {
			if w := checkout(h, fmt.Sprintf("198.51.%d.%d", i, j+1), "4000000000004242", 12); w.Code != 200 {
				t.Fatalf("%d", w.Code)
			}
		}
	}
	// 12 cards, one per IP, same email: under the per-IP threshold.
	for i := range 12 {
		if w := checkout(h, fmt.Sprintf("203.0.%d.1", i), fmt.Sprintf("40000000000%05d", i), 1+i%12); w.Code != 200 {
			t.Fatalf("%d", w.Code)
		}
	}
	count := map[string]int{}
	handles := map[string]map[string]bool{} // reason → key handles
	for _, e := range sink.Events() {
		count[string(e.Decision)+" "+e.Reason]++
		for _, a := range e.Attrs {
			if a.Key == "key" {
				if handles[e.Reason] == nil {
					handles[e.Reason] = map[string]bool{}
				}
				handles[e.Reason][a.Value.String()] = true
			}
		}
	}
	// A flag when a key crosses its threshold, then one per further
	// distinct value — not one per request of a flagged key.
	if count["flag card-testing:card-networks"] != 2 { // the 4th and 5th network, once each
		t.Errorf("card-networks flags: %v", count)
	}
	// Cards 4..7 (the first was 4242): a flag view keeps 2×Threshold+1
	// values, so Threshold+1 flags per key and window at most.
	if count["flag card-testing:email-cards"] != 4 {
		t.Errorf("email-cards flags: %v", count)
	}
	// Each flag names its key by a handle: 12 hex characters of the key's
	// HMAC, one per key (one card; one email), never the raw value.
	for _, reason := range []string{"card-testing:card-networks", "card-testing:email-cards", "card-testing:route-cards"} {
		if len(handles[reason]) != 1 {
			t.Fatalf("%s: key handles %v, want one", reason, handles[reason])
		}
		for h := range handles[reason] {
			if len(h) != abuse.KeyHandleLen || strings.Trim(h, "0123456789abcdef") != "" {
				t.Fatalf("%s: key handle %q", reason, h)
			}
		}
	}
	if fmt.Sprint(handles["card-testing:card-networks"]) == fmt.Sprint(handles["card-testing:email-cards"]) {
		t.Fatalf("two keys, one handle: %v", handles)
	}
	if count["flag card-testing:route-cards"] != 1 {
		t.Errorf("route alert: %v", count)
	}
	// The next minute, the alert may fire again.
	c.Advance(61 * time.Second)
	for i := range 11 {
		checkout(h, fmt.Sprintf("192.0.2.%d", i+1), fmt.Sprintf("41000000000%05d", i), 5)
	}
	count = map[string]int{}
	for _, e := range sink.Events() {
		count[string(e.Decision)+" "+e.Reason]++
	}
	if count["flag card-testing:route-cards"] != 2 || count["deny card-testing"] != 0 {
		t.Errorf("after a minute: %v", count)
	}
}

// Credential stuffing: only failures count; the handler reports them.
func TestGuardCountFailures(t *testing.T) {
	c := testclock.New(time.Unix(1_700_000_000, 0))
	g, err := abuse.New(abuse.Options{Name: "credential-stuffing", Store: memStore(t, c), Fingerprint: abuse.JSONField("username"),
		Threshold: 2, Count: abuse.CountFailures, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	login := g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if strings.Contains(string(b), `"ok"`) {
			abuse.Report(w, r, abuse.Succeeded)
			w.WriteHeader(200)
			return
		}
		if abuse.Report(w, r, abuse.Failed) {
			return
		}
		w.WriteHeader(401)
	}))
	try := func(user, pw string) int {
		r := httptest.NewRequest("POST", "/login", strings.NewReader(fmt.Sprintf(`{"username":%q,"password":%q}`, user, pw)))
		r.Header.Set("Content-Type", "application/json")
		r.RemoteAddr = "203.0.113.5:1"
		w := httptest.NewRecorder()
		login.ServeHTTP(w, r)
		return w.Code
	}
	// Successful logins of many users count nothing (a shared office IP).
	for i := range 5 {
		if s := try(fmt.Sprint("user", i), "ok"); s != 200 {
			t.Fatalf("success %d: %d", i, s)
		}
	}
	if a, b := try("a", "x"), try("b", "x"); a != 401 || b != 401 {
		t.Fatalf("failures: %d %d", a, b)
	}
	if s := try("c", "x"); s != 403 {
		t.Fatalf("3rd distinct failing user: %d, want 403 from Report", s)
	}
	if s := try("user0", "ok"); s != 403 {
		t.Fatalf("while blocked: %d", s)
	}
}

// Without Report, the response status decides.
func TestGuardFailedStatus(t *testing.T) {
	c := testclock.New(time.Unix(1_700_000_000, 0))
	g, _ := abuse.New(abuse.Options{Name: "s", Store: memStore(t, c), Fingerprint: abuse.Header("X-User"), Threshold: 1, Count: abuse.CountFailures, Secret: secret})
	h := g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(401) }))
	codes := []int{}
	for _, u := range []string{"a", "b", "c"} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("X-User", u)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		codes = append(codes, w.Code)
	}
	if fmt.Sprint(codes) != "[401 401 403]" {
		t.Fatalf("codes %v", codes)
	}
}

// flaky is a store that can be switched off.
type flaky struct {
	store.DistinctCounter
	down bool
}

func (f *flaky) CountDistinct(ctx context.Context, ops []store.DistinctOp) error {
	if f.down {
		return &store.UnavailableError{Op: "countdistinct", Err: errors.New("connection refused")}
	}
	return f.DistinctCounter.CountDistinct(ctx, ops)
}

// Store down: fail closed (503) or open (pass), one audit event per
// transition, not per request.
func TestGuardStoreDown(t *testing.T) {
	for _, open := range []bool{false, true} {
		c := testclock.New(time.Unix(1_700_000_000, 0))
		sink := audit.NewMemory()
		st := &flaky{DistinctCounter: memStore(t, c)}
		h := cardGuard(t, st, sink, func(o *abuse.Options) { o.FailOpen = open }).Handler(echo)
		st.down = true
		want := 503
		if open {
			want = 200
		}
		for range 3 {
			if w := checkout(h, "203.0.113.9", "4000000000001111", 1); w.Code != want {
				t.Fatalf("open=%v: %d", open, w.Code)
			}
		}
		st.down = false
		checkout(h, "203.0.113.9", "4000000000001111", 1)
		n := map[string]int{}
		for _, e := range sink.Events() {
			n[e.Reason]++
		}
		if n[abuse.ReasonStoreUnavailable] != 1+map[bool]int{false: 3, true: 0}[open] || n[abuse.ReasonStoreRecovered] != 1 {
			t.Fatalf("open=%v: events %v", open, n)
		}
	}
}

func TestGuardConfigRefused(t *testing.T) {
	st := memstore.New(memstore.Options{})
	defer st.Close()
	fp := abuse.JSONField("x")
	t.Setenv("ABUSE_TEST_SECRET", "short")
	for _, o := range []abuse.Options{
		{Name: "x", Store: st, Fingerprint: fp, Threshold: 3, Secret: []byte("short")},
		{Name: "x", Store: st, Fingerprint: fp, Threshold: 3, SecretEnv: "ABUSE_TEST_SECRET"},
		{Name: "x", Store: st, Fingerprint: fp, Threshold: 3, SecretFile: "/nonexistent"},
		{Name: "x", Store: st, Fingerprint: fp, Threshold: 3, Secret: secret, SecretEnv: "X"},
		{Name: "x y", Store: st, Fingerprint: fp, Threshold: 3, Secret: secret},
		{Name: "x", Fingerprint: fp, Threshold: 3, Secret: secret},
		{Name: "x", Store: st, Threshold: 3, Secret: secret},
		{Name: "x", Store: st, Fingerprint: fp, Secret: secret},
		{Name: "x", Store: st, Fingerprint: fp, Threshold: 3, Secret: secret, Action: "drop"},
		{Name: "x", Store: st, Fingerprint: fp, Threshold: 3, Secret: secret, Views: []abuse.View{{Name: "v", Key: fp, Value: fp}}},
	} {
		if _, err := abuse.New(o); err == nil {
			t.Errorf("accepted %+v", o)
		}
	}
	t.Setenv("ABUSE_TEST_SECRET", strings.Repeat("s", 32))
	if _, err := abuse.New(abuse.Options{Name: "x", Store: st, Fingerprint: fp, Threshold: 3, SecretEnv: "ABUSE_TEST_SECRET"}); err != nil {
		t.Fatal(err)
	}
}

// A body that names a watched field twice (escapes decoded), or in
// another case, is refused as bind refuses it — 400, counting nothing —
// so that the guard and the handler cannot read one card two ways.
func TestGuardAmbiguousBody(t *testing.T) {
	st := memstore.New(memstore.Options{})
	defer st.Close()
	h := cardGuard(t, st, nil, nil).Handler(echo)
	for body, detail := range map[string]string{
		`{"card_number":"4000000000001111","exp_month":1,"exp_year":2030,"card\u005fnumber":"4000000000002222"}`: "twice",
		`{"card_number":"4000000000001111","exp_month":1,"exp_year":2030,"Exp_Year":2031}`:                       "case-sensitive",
	} {
		r := httptest.NewRequest("POST", "/api/checkout", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.RemoteAddr = "203.0.113.5:5000"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 400 || !strings.Contains(w.Body.String(), detail) {
			t.Fatalf("%s: %d %s", body, w.Code, w.Body.String())
		}
	}
	for m := 1; m <= 3; m++ { // nothing was counted: three cards still pass
		if w := checkout(h, "203.0.113.5", "4000000000001111", m); w.Code != 200 {
			t.Fatalf("card %d: %d", m, w.Code)
		}
	}
}

// One detector for a JSON login and an HTML form login: FormField reads the
// form's user name (and leaves the body for the handler's ParseForm), so
// failures on either route add up, and a guesser gains nothing by
// switching. A multipart body or a form without the field counts nothing.
func TestGuardFormField(t *testing.T) {
	c := testclock.New(time.Unix(1_700_000_000, 0))
	g, err := abuse.New(abuse.Options{Name: "credential-stuffing", Store: memStore(t, c),
		Fingerprint: abuse.FirstOf(abuse.JSONField("username"), abuse.FormField("username"), abuse.BasicAuthUser()),
		Threshold:   2, Count: abuse.CountFailures, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	var seen string
	login := g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Type") == "application/x-www-form-urlencoded" {
			seen = r.FormValue("username") + "/" + r.FormValue("password")
		}
		if abuse.Report(w, r, abuse.Failed) {
			return
		}
		w.WriteHeader(401)
	}))
	try := func(ct, body string) int {
		r := httptest.NewRequest("POST", "/login", strings.NewReader(body))
		r.Header.Set("Content-Type", ct)
		r.RemoteAddr = "203.0.113.5:1"
		w := httptest.NewRecorder()
		login.ServeHTTP(w, r)
		return w.Code
	}
	const form = "application/x-www-form-urlencoded"
	if s := try(form, "password=x"); s != 401 { // no user name: nothing counted
		t.Fatalf("form without username: %d", s)
	}
	if s := try("multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nm\r\n--b--\r\n"); s != 401 {
		t.Fatalf("multipart: %d", s)
	}
	if s := try(form, "username=a&password=x"); s != 401 || seen != "a/x" {
		t.Fatalf("form login: %d, handler read %q", s, seen)
	}
	if s := try("application/json", `{"username":"b","password":"x"}`); s != 401 {
		t.Fatalf("JSON login: %d", s)
	}
	if s := try(form, "username=c&password=x"); s != 403 {
		t.Fatalf("3rd distinct failing user across JSON and form: %d, want 403", s)
	}
}

// A guard-wide FixedWindow fixes its views' windows too (View.FixedWindow:
// "fixed when the view or the guard says so"): the many-address view below
// counts two networks a minute apart, then forgets both at the first
// network's deadline even though the second arrived later.
func TestGuardFixedWindowReachesViews(t *testing.T) {
	c := testclock.New(time.Unix(1_700_000_000, 0))
	var events audit.Memory
	g, err := abuse.New(abuse.Options{Name: "cards", Store: memStore(t, c), Fingerprint: abuse.Card("card_number", "exp_month", "exp_year"),
		Threshold: 100, Window: 10 * time.Minute, FixedWindow: true, Secret: secret, Audit: &events,
		Views: []abuse.View{{Name: "networks", Key: abuse.Card("card_number", "exp_month", "exp_year"), Value: abuse.ClientPrefix(24, 64), Threshold: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	h := g.Handler(echo)
	checkout(h, "198.51.100.1", "4000000000001111", 1)
	c.Advance(time.Minute)
	checkout(h, "198.51.101.1", "4000000000001111", 1)
	c.Advance(9*time.Minute + time.Second) // past the first attempt's deadline, not the second's
	checkout(h, "198.51.102.1", "4000000000001111", 1)
	for _, e := range events.Events() {
		if e.Reason == "cards:networks" {
			t.Fatalf("the view's window restarted with the second attempt: it flagged %+v", e)
		}
	}
}

// A blocked client whose body cannot be read — a duplicate member (400),
// a body over the cap (413) — is still refused with 403, and the attempt
// restarts its window like any blocked one: the client view needs no
// body. A client that is not blocked gets the body's problem, and nothing
// is counted.
func TestGuardBlockedUnreadableBody(t *testing.T) {
	c := testclock.New(time.Unix(1_700_000_000, 0))
	g := cardGuard(t, memStore(t, c), nil, nil)
	h := g.Handler(echo)
	send := func(ip, body string) int {
		r := httptest.NewRequest("POST", "/api/checkout", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.RemoteAddr = ip + ":5000"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code == 403 && !strings.Contains(w.Body.String(), "abuse-detected") {
			t.Fatalf("403 without the abuse problem: %s", w.Body)
		}
		// The pure decision agrees with the handler.
		r2 := httptest.NewRequest("POST", "/api/checkout", strings.NewReader(body))
		r2.Header.Set("Content-Type", "application/json")
		r2.RemoteAddr = ip + ":5000"
		if _, p := g.Check(r2); p == nil || p.Status != w.Code {
			t.Fatalf("Check: %v, handler: %d", p, w.Code)
		}
		return w.Code
	}
	dup := `{"card_number":"4000000000001111","card_number":"4000000000002222","exp_month":1,"exp_year":2030}`
	huge := `{"card_number":"` + strings.Repeat("4", 1<<20+1) + `"}`
	ip, other := "203.0.113.9", "198.51.100.1"
	if got := send(other, dup); got != 400 {
		t.Fatalf("duplicate member, client not blocked: %d, want 400", got)
	}
	if got := send(other, huge); got != 413 {
		t.Fatalf("body over the cap, client not blocked: %d, want 413", got)
	}
	for m := 1; m <= 4; m++ {
		checkout(h, ip, "4000000000001111", m)
	}
	if w := checkout(h, ip, "4000000000001111", 1); w.Code != 403 {
		t.Fatalf("not blocked: %d", w.Code)
	}
	// Unreadable bodies, 59 minutes apart: each refused and each
	// restarting the hour (send runs the handler and Check: two attempts).
	for _, body := range []string{dup, huge, dup} {
		c.Advance(59 * time.Minute)
		if got := send(ip, body); got != 403 {
			t.Fatalf("blocked client, unreadable body: %d, want 403", got)
		}
	}
	c.Advance(59 * time.Minute)
	if w := checkout(h, ip, "4000000000001111", 1); w.Code != 403 {
		t.Fatalf("the unreadable attempts did not restart the window: %d", w.Code)
	}
	c.Advance(time.Hour + time.Second)
	if w := checkout(h, ip, "4000000000001111", 1); w.Code != 200 {
		t.Fatalf("still blocked after an hour of silence: %d", w.Code)
	}
	// The other client's unreadable bodies counted nothing.
	for m := 1; m <= 3; m++ {
		if w := checkout(h, other, "4000000000001111", m); w.Code != 200 {
			t.Fatalf("other client, card %d: %d", m, w.Code)
		}
	}
}

// Describe reads the effective configuration back: each view with its
// sources, threshold, action and window (defaults applied), the count
// mode and the outage policy — one for every view — and never the secret.
func TestGuardDescribe(t *testing.T) {
	st := memstore.New(memstore.Options{})
	defer st.Close()
	username := abuse.JSONField("username")
	g, err := abuse.New(abuse.Options{
		Name: "credential-stuffing", Store: st, Fingerprint: username, Threshold: 5, Count: abuse.CountFailures,
		Views:         []abuse.View{{Name: "account-targeted", Key: username, Value: abuse.Client(), Threshold: 7}},
		AllowPrefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.9/24")}, Secret: secret,
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(g.Describe())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"name":"credential-stuffing","count":"failures","outage":"fail_closed","views":[` +
		`{"name":"credential-stuffing","key":"client","value":"json:username","threshold":5,"action":"block","window":"1h0m0s","fixed_window":false,"approximate":false},` +
		`{"name":"credential-stuffing:account-targeted","key":"json:username","value":"client","threshold":7,"action":"flag","window":"1h0m0s","fixed_window":false,"approximate":false}],` +
		`"allow_prefixes":["192.0.2.0/24"]}`
	if string(b) != want {
		t.Fatalf("Describe:\n got %s\nwant %s", b, want)
	}
	if strings.Contains(string(b), string(secret)) {
		t.Fatal("the secret is in the description")
	}
	open := cardGuard(t, st, nil, func(o *abuse.Options) { o.FailOpen = true })
	if d := open.Describe(); d.Outage != abuse.OutageFailOpen || d.Count != abuse.CountAttempts || len(d.Views) != 1 {
		t.Fatalf("fail-open guard: %+v", d)
	}
}
