package abuse_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/abuse"
	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/internal/testclock"
	"github.com/bulwark-go/bulwark/store/memstore"
)

var secret = []byte(strings.Repeat("k", 32))

func newDetector(t *testing.T, c *testclock.Clock, sink audit.Sink) *abuse.Detector {
	t.Helper()
	st := memstore.New(memstore.Options{Now: c.Now})
	t.Cleanup(func() { _ = st.Close() })
	d, err := abuse.NewDetector(abuse.DetectorOptions{Name: "card-testing", Store: st, Threshold: 3, Window: time.Hour, Secret: secret, Audit: sink})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// The seed's card-testing rule: more than 3 distinct cards from one IP
// within an hour blocks it; every attempt restarts the hour.
func TestCardTesting(t *testing.T) {
	c := testclock.New(time.Unix(1_700_000_000, 0))
	d := newDetector(t, c, nil)
	ctx := context.Background()
	ip := "203.0.113.9"

	for i, card := range []string{"4242|12/30", "4242|12/30", "1111|01/29", "2222|02/29"} {
		v, err := d.Observe(ctx, ip, d.Fingerprint(card))
		if err != nil || v.Exceeded {
			t.Fatalf("attempt %d (%s): %+v %v", i, card, v, err)
		}
		c.Advance(10 * time.Minute)
	}
	v, _ := d.Observe(ctx, ip, d.Fingerprint("3333|03/29"))
	if !v.Exceeded || v.Distinct != 4 {
		t.Fatalf("4th distinct card not blocked: %+v", v)
	}
	// Attempts keep the block alive: 59 minutes later, still blocked, and
	// the attempt restarts the window again.
	c.Advance(59 * time.Minute)
	if v, _ := d.Observe(ctx, ip, d.Fingerprint("4242|12/30")); !v.Exceeded {
		t.Fatal("block lifted while attempts continued")
	}
	// An hour of silence lifts it.
	c.Advance(time.Hour + time.Second)
	if ex, _ := d.Exceeded(ctx, ip); ex {
		t.Fatal("still blocked after an hour of silence")
	}
	// Another IP was never affected.
	if ex, _ := d.Exceeded(ctx, "198.51.100.1"); ex {
		t.Fatal("block leaked to another key")
	}
}

func TestFingerprintKeyedAndUnambiguous(t *testing.T) {
	c := testclock.New(time.Now())
	d := newDetector(t, c, nil)
	if d.Fingerprint("ab", "c") == d.Fingerprint("a", "bc") {
		t.Fatal("fingerprint is ambiguous")
	}
	if strings.Contains(d.Fingerprint("4242", "12/30"), "4242") {
		t.Fatal("fingerprint leaks the value")
	}
}

func TestDenyAndFlagAudit(t *testing.T) {
	sink := audit.NewMemory()
	d := newDetector(t, testclock.New(time.Now()), sink)
	w := httptest.NewRecorder()
	r := httptest.NewRequest("POST", "/api/checkout", nil)
	d.Deny(w, r, "too many distinct cards")
	d.Flag(r, abuse.Verdict{Distinct: 9, Exceeded: true})
	if w.Code != 403 || !strings.Contains(w.Body.String(), "abuse-detected") {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	ev := sink.Events()
	if len(ev) != 2 || ev[0].Decision != audit.Deny || ev[1].Decision != audit.Flag {
		t.Fatalf("events %+v", ev)
	}
}

func TestConfigRefused(t *testing.T) {
	st := memstore.New(memstore.Options{})
	defer st.Close()
	for _, o := range []abuse.DetectorOptions{
		{Name: "x", Store: st, Threshold: 3, Secret: []byte("short")},
		{Name: "x y", Store: st, Threshold: 3, Secret: secret},
		{Name: "x", Threshold: 3, Secret: secret},
		{Name: "x", Store: st, Secret: secret},
	} {
		if _, err := abuse.NewDetector(o); err == nil {
			t.Errorf("accepted %+v", o)
		}
	}
}

// An IPv6 client rotating its interface ID inside its /64 stays one client,
// whether the caller keys by ClientKey(r) or by the address's own text:
// the limits group IPv6 by /64, and so must the detectors.
func TestIPv6ClientGroupedBy64(t *testing.T) {
	c := testclock.New(time.Unix(1_700_000_000, 0))
	d := newDetector(t, c, nil)
	ctx := context.Background()
	var v abuse.Verdict
	for i := range 4 {
		r := httptest.NewRequest("POST", "/api/checkout", nil)
		r.RemoteAddr = fmt.Sprintf("[2001:db8:1:2::%x]:4000", i+1)
		key := abuse.ClientKey(r)
		if key != "2001:db8:1:2::/64" {
			t.Fatalf("ClientKey = %q", key)
		}
		var err error
		if v, err = d.Observe(ctx, key, d.Fingerprint(fmt.Sprint("card", i))); err != nil {
			t.Fatal(err)
		}
	}
	if !v.Exceeded {
		t.Fatalf("4 cards from one /64 not counted together: %+v", v)
	}
	// The raw address of yet another interface ID is the same client.
	if ex, err := d.Exceeded(ctx, "2001:db8:1:2:dead:beef:0:1"); err != nil || !ex {
		t.Fatalf("raw IPv6 address escapes its /64: %v %v", ex, err)
	}
	if ex, _ := d.Exceeded(ctx, "2001:db8:1:3::1"); ex {
		t.Fatal("the next /64 is blocked too")
	}
	// IPv4 keys are the address itself, mapped or not.
	for i := range 4 {
		_, _ = d.Observe(ctx, "::ffff:198.51.100.7", d.Fingerprint(fmt.Sprint("card", i)))
	}
	if ex, _ := d.Exceeded(ctx, "198.51.100.7"); !ex {
		t.Fatal("IPv4-mapped and plain IPv4 are different clients")
	}
}

// A detector per account counts clients as values: distinct interface IDs
// of one /64 are one client.
func TestIPv6ClientValuesGroupedBy64(t *testing.T) {
	d := newDetector(t, testclock.New(time.Now()), nil)
	ctx := context.Background()
	var v abuse.Verdict
	for i := range 10 {
		v, _ = d.Observe(ctx, d.Fingerprint("alice"), fmt.Sprintf("2001:db8:1:2::%x", i+1))
	}
	if v.Distinct != 1 {
		t.Fatalf("one /64 counted as %d clients", v.Distinct)
	}
}

func TestClientKeyUnknown(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "pipe"
	if k := abuse.ClientKey(r); k != abuse.UnknownClient {
		t.Fatalf("ClientKey = %q", k)
	}
}
