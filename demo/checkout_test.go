package demo_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
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
	// Each wrong value is told what is wrong with it (a card already
	// counted, so the card-testing guard lets the checks through).
	for body, want := range map[string]string{
		`{"card_number":"4242424242424242","exp_month":12,"exp_year":2026,"cvv":"123","amount":0,"email":"a@example.com"}`:     "amount: must be greater than 0",
		`{"card_number":"4242424242424242","exp_month":0,"exp_year":2030,"cvv":"123","amount":5,"email":"a@example.com"}`:      "exp_month: must be at least 1",
		`{"card_number":"4242424242424242","exp_month":12,"exp_year":2026,"cvv":"123","amount":1e400,"email":"a@example.com"}`: "amount: is out of range",
	} {
		r := do(t, srv, "POST", "/api/checkout", body, "Content-Type", "application/json")
		wantProblem(t, r, 422)
		errs, _ := r.body["errors"].([]any)
		first, _ := errs[0].(map[string]any)
		if got := fmt.Sprint(first["field"], ": ", first["message"]); len(errs) != 1 || !strings.HasPrefix(got, want) {
			t.Fatalf("%s: %s, want %s", body, r.raw, want)
		}
	}
	// A body that is not an object: 400, saying so.
	r = do(t, srv, "POST", "/api/checkout", `[`+checkoutBody("4242424242424242", 12, 2030)+`]`, "Content-Type", "application/json")
	wantProblem(t, r, 400)
	if r.body["detail"] != "the request body must be a JSON object" {
		t.Fatalf("array body: %s", r.raw)
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

// A blocked address gets 403 even when its body cannot be read — a
// duplicate member (400 otherwise), a chunked body over the cap (413
// otherwise) — and each such attempt restarts the hour; an address that
// is not blocked gets the body's problem.
func TestCheckoutBlockedUnreadableBody(t *testing.T) {
	clock, advance := fakeClock()
	srv := newDemo(t, demo.Config{Now: clock, TrustedProxies: []string{"127.0.0.1/32", "::1/128"}})
	dup := `{"card_number":"4242424242424242","card_number":"4000056655665556","exp_month":12,"exp_year":2030,"cvv":"123","amount":5,"email":"a@example.com"}`
	chunked := func(ip string) response { // no Content-Length: the cap is met while reading
		req, err := http.NewRequest("POST", srv.URL+"/api/checkout", io.MultiReader(strings.NewReader(`{"card_number":"`), strings.NewReader(strings.Repeat("4", 80<<10)), strings.NewReader(`"}`)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", ip)
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		out := response{status: res.StatusCode, header: res.Header, raw: string(raw)}
		_ = json.Unmarshal(raw, &out.body)
		return out
	}
	ip, other := "203.0.113.51", "198.51.100.10"
	wantProblem(t, checkoutFrom(t, srv, other, dup), 400)
	wantProblem(t, chunked(other), 413)
	for i, card := range []string{"4242424242424242", "4000056655665556", "5555555555554444", "378282246310005"} {
		r := checkoutFrom(t, srv, ip, checkoutBody(card, 10, 2032))
		if want := map[bool]int{true: 403, false: 200}[i == 3]; r.status != want {
			t.Fatalf("card %d: %d, want %d", i+1, r.status, want)
		}
	}
	advance(59 * time.Minute)
	if r := checkoutFrom(t, srv, ip, dup); r.status != 403 || r.body["type"] != "https://bulwark.dev/problems/abuse-detected" {
		t.Fatalf("blocked address, duplicate member: %d %s", r.status, r.raw)
	}
	advance(59 * time.Minute)
	if r := chunked(ip); r.status != 403 || r.body["type"] != "https://bulwark.dev/problems/abuse-detected" {
		t.Fatalf("blocked address, body over the cap: %d %s", r.status, r.raw)
	}
	advance(59 * time.Minute) // 177 minutes after the last readable attempt
	wantProblem(t, checkoutFrom(t, srv, ip, checkoutBody("4242424242424242", 10, 2032)), 403)
	advance(time.Hour + time.Second)
	if r := checkoutFrom(t, srv, ip, checkoutBody("4242424242424242", 10, 2032)); r.status != 200 {
		t.Fatalf("after an hour of silence: %d %s", r.status, r.raw)
	}
}
