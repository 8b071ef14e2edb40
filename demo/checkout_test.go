package demo_test

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/demo"
)

func checkoutBody(card string, month, year int) string {
	return fmt.Sprintf(`{"card_number":%q,"exp_month":%d,"exp_year":%d,"cvv":"123","amount":19.99,"email":"buyer@example.com"}`, card, month, year)
}

func checkoutFrom(t *testing.T, srv *httptest.Server, ip, body string) response {
	t.Helper()
	return do(t, srv, "POST", "/api/checkout", body, "Content-Type", "application/json", "X-Forwarded-For", ip)
}

// DESIGN's /api/checkout: the 4th distinct card (last four + expiry) from
// one IP within the restarting hour is refused, and so is every checkout
// from that IP after it, a card accepted before included; another IP
// still succeeds; an hour of silence lifts the block.
func TestCheckoutCardTesting(t *testing.T) {
	clock, advance := fakeClock()
	srv := newDemo(t, demo.Config{Now: clock, TrustedProxies: []string{"127.0.0.1/32", "::1/128"}})
	ip := "203.0.113.50"
	good := checkoutBody("4242424242424242", 12, 2030)
	for range 3 { // one card again and again counts once
		if r := checkoutFrom(t, srv, ip, good); r.status != 200 || r.body["status"] != "approved" {
			t.Fatalf("first card: %d %s", r.status, r.raw)
		}
	}
	for _, card := range []string{"4000056655665556", "5555555555554444"} {
		if r := checkoutFrom(t, srv, ip, checkoutBody(card, 11, 2031)); r.status != 200 {
			t.Fatalf("card %s: %d %s", card[12:], r.status, r.raw)
		}
	}
	r := checkoutFrom(t, srv, ip, checkoutBody("378282246310005", 10, 2032)) // the 4th distinct card
	wantProblem(t, r, 403)
	if r.body["type"] != "https://bulwark.dev/problems/abuse-detected" {
		t.Fatalf("type %v", r.body["type"])
	}
	wantProblem(t, checkoutFrom(t, srv, ip, good), 403) // accepted before, refused now
	if r := checkoutFrom(t, srv, "198.51.100.9", checkoutBody("378282246310005", 10, 2032)); r.status != 200 {
		t.Fatalf("another IP: %d %s", r.status, r.raw)
	}
	advance(59 * time.Minute)
	wantProblem(t, checkoutFrom(t, srv, ip, good), 403) // and that attempt restarted the hour
	advance(59 * time.Minute)
	wantProblem(t, checkoutFrom(t, srv, ip, good), 403)
	advance(time.Hour + time.Second)
	if r := checkoutFrom(t, srv, ip, good); r.status != 200 {
		t.Fatalf("after an hour of silence: %d %s", r.status, r.raw)
	}
}

// Bad input: 400 malformed, 422 per field (Luhn, expiry, missing fields).
func TestCheckoutValidation(t *testing.T) {
	clock, _ := fakeClock() // 2027-01-15
	srv := newDemo(t, demo.Config{Now: clock})
	wantProblem(t, do(t, srv, "POST", "/api/checkout", `{"card_number":`, "Content-Type", "application/json"), 400)
	r := do(t, srv, "POST", "/api/checkout", checkoutBody("4242424242424241", 12, 2030), "Content-Type", "application/json")
	wantProblem(t, r, 422)
	if fmt.Sprint(r.body["errors"]) == "" || !containsField(r, "card_number") {
		t.Fatalf("Luhn: %s", r.raw)
	}
	r = do(t, srv, "POST", "/api/checkout", checkoutBody("4242424242424242", 12, 2026), "Content-Type", "application/json")
	wantProblem(t, r, 422)
	if !containsField(r, "exp_year") {
		t.Fatalf("expired: %s", r.raw)
	}
	r = do(t, srv, "POST", "/api/checkout", `{"card_number":"4242424242424242"}`, "Content-Type", "application/json")
	wantProblem(t, r, 422)
	for _, f := range []string{"exp_month", "exp_year", "cvv", "amount", "email"} {
		if !containsField(r, f) {
			t.Fatalf("missing %s not listed: %s", f, r.raw)
		}
	}
	if r := do(t, srv, "POST", "/api/checkout", checkoutBody("4242424242424242", 1, 2027), "Content-Type", "application/json"); r.status != 200 {
		t.Fatalf("this month's expiry: %d %s", r.status, r.raw)
	}
}

func containsField(r response, field string) bool {
	errs, _ := r.body["errors"].([]any)
	for _, e := range errs {
		if m, ok := e.(map[string]any); ok && m["field"] == field {
			return true
		}
	}
	return false
}
