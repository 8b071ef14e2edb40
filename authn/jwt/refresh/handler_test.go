package refresh_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/jwt/refresh"
	"github.com/bulwark-go/bulwark/problem"
)

func TestRefreshAndLogoutHandlers(t *testing.T) {
	a, _ := memReplica(t)
	sink := audit.NewMemory()
	refreshHandler := a.r.RefreshHandler(refresh.HandlerOptions{Audit: sink})
	guard, err := authn.New(authn.Options{Authenticator: a.v, Audit: sink})
	if err != nil {
		t.Fatal(err)
	}
	logout := guard.Require(a.r.LogoutHandler(refresh.HandlerOptions{Audit: sink}))
	pair := a.login(t)
	post := func(h http.Handler, body, ctype, bearer string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/api/refresh", strings.NewReader(body))
		if ctype != "" {
			r.Header.Set("Content-Type", ctype)
		}
		if bearer != "" {
			r.Header.Set("Authorization", "Bearer "+bearer)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	for _, tc := range []struct {
		body, ctype string
		status      int
	}{
		{`{"refresh_token":`, "application/json", 400},
		{`{}`, "application/json", 422},
		{`refresh_token=x`, "application/x-www-form-urlencoded", 415},
		{`{"refresh_token":"garbage"}`, "application/json", 401},
	} {
		if w := post(refreshHandler, tc.body, tc.ctype, ""); w.Code != tc.status || w.Header().Get("Content-Type") != problem.ContentType {
			t.Errorf("body %q: %d %s, want %d problem", tc.body, w.Code, w.Header().Get("Content-Type"), tc.status)
		}
	}
	w := post(refreshHandler, `{"refresh_token":"`+pair.RefreshToken+`"}`, "application/json", "")
	if w.Code != 200 || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("refresh: %d %s", w.Code, w.Body)
	}
	var pair2 refresh.TokenPair
	if err := json.Unmarshal(w.Body.Bytes(), &pair2); err != nil || pair2.TokenType != "Bearer" || pair2.AccessToken == "" || pair2.RefreshToken == "" || pair2.ExpiresIn <= 0 {
		t.Fatalf("body %s: %v", w.Body, err)
	}
	before := len(sink.Events())
	w = post(refreshHandler, `{"refresh_token":"`+pair.RefreshToken+`"}`, "application/json", "")
	evs := sink.Events()
	if w.Code != 401 || len(evs) != before+1 || evs[len(evs)-1].Reason != "refresh_reused" {
		t.Fatalf("reuse: %d, events %+v", w.Code, evs[before:])
	}

	pair3 := a.login(t)
	if w := post(logout, `{"refresh_token":"`+pair3.RefreshToken+`"}`, "application/json", pair3.AccessToken); w.Code != 204 {
		t.Fatalf("logout: %d %s", w.Code, w.Body)
	}
	w = post(logout, ``, "", pair3.AccessToken)
	if w.Code != 401 || !strings.Contains(w.Header().Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("after logout: %d %q", w.Code, w.Header().Get("WWW-Authenticate"))
	}
}

// TestHandlersDecodeLikeBindAndChallenge: the refresh and logout bodies are
// decoded as package bind decodes (415, 400 with the position, unknown
// fields refused, 413, 422), logout's body stays optional, and 401s carry
// the RFC 6750 challenge with the configured realm. One audit event per
// denial.
func TestHandlersDecodeLikeBindAndChallenge(t *testing.T) {
	a, _ := memReplica(t)
	sink := audit.NewMemory()
	opts := refresh.HandlerOptions{Audit: sink, Realm: `bulwark "demo"`}
	refreshHandler := a.r.RefreshHandler(opts)
	logout := a.r.LogoutHandler(opts)
	type req struct {
		h            http.Handler
		body, ctype  string
		chunked      bool
		principal    bool
		status       int
		reason       string
		challenge    string
		wantPosition bool
	}
	pair := a.login(t)
	p, err := a.v.Verify(bg, pair.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	const js = "application/json"
	for i, tc := range []req{
		{h: refreshHandler, body: `{"refresh_token":"x"}`, status: 415, reason: "unsupported_media_type"},
		{h: refreshHandler, body: `{"refresh_token":"x"}`, ctype: "text/plain", status: 415, reason: "unsupported_media_type"},
		{h: refreshHandler, body: "{\n \"refresh_token\": x}", ctype: js, status: 400, reason: "malformed_json", wantPosition: true},
		{h: refreshHandler, body: `{"refresh_token":"x","scope":"admin"}`, ctype: js, status: 400, reason: "unknown_field", wantPosition: true},
		{h: refreshHandler, body: `{"refresh_token":"x"} {}`, ctype: js, status: 400, reason: "trailing_data", wantPosition: true},
		{h: refreshHandler, body: ``, ctype: js, status: 400, reason: "empty_body"},
		{h: refreshHandler, body: `{"refresh_token":""}`, ctype: js, status: 422},
		{h: refreshHandler, body: `{"refresh_token":42}`, ctype: js, status: 422, reason: "type_mismatch", wantPosition: true},
		{h: refreshHandler, body: `{"refresh_token":"` + strings.Repeat("a", 17<<10) + `"}`, ctype: js, status: 413},
		{h: refreshHandler, body: `{"refresh_token":"garbage"}`, ctype: "application/json; charset=utf-8", status: 401, reason: "token_malformed",
			challenge: `Bearer realm="bulwark \"demo\"", error="invalid_token", error_description="the token is malformed"`},
		{h: refreshHandler, body: `{"refresh_token":"` + pair.AccessToken + `"}`, ctype: js, status: 401, reason: "token_wrong_type",
			challenge: `Bearer realm="bulwark \"demo\"", error="invalid_token", error_description="an access token cannot be used as a refresh token"`},
		{h: logout, body: ``, status: 401, reason: "token_missing", challenge: `Bearer realm="bulwark \"demo\""`},
		{h: logout, body: `{"refresh_token":"x"}`, principal: true, status: 415, reason: "unsupported_media_type"},
		{h: logout, body: `{"refresh_token":"x","all":true}`, ctype: js, principal: true, status: 400, reason: "unknown_field", wantPosition: true},
		{h: logout, body: `{"refresh_token":`, ctype: js, principal: true, status: 400, reason: "malformed_json", wantPosition: true},
		{h: logout, body: `{"refresh_token":"x"}`, ctype: js, chunked: true, principal: true, status: 204}, // a chunked body is read
		{h: logout, body: ``, chunked: true, principal: true, status: 204},
		{h: logout, body: ``, principal: true, status: 204},
	} {
		r := httptest.NewRequest("POST", "/api/x", strings.NewReader(tc.body))
		if tc.chunked {
			r.ContentLength = -1
		}
		if tc.ctype != "" {
			r.Header.Set("Content-Type", tc.ctype)
		}
		if tc.principal {
			r = authn.WithPrincipal(r, p)
		}
		before := len(sink.Events())
		w := httptest.NewRecorder()
		tc.h.ServeHTTP(w, r)
		if w.Code != tc.status {
			t.Errorf("case %d (%.40q): status %d, want %d: %s", i, tc.body, w.Code, tc.status, w.Body)
			continue
		}
		if got := w.Header().Get("WWW-Authenticate"); got != tc.challenge {
			t.Errorf("case %d: WWW-Authenticate %s, want %s", i, got, tc.challenge)
		}
		evs := sink.Events()[before:]
		if tc.status < 400 {
			if len(evs) != 0 {
				t.Errorf("case %d: %d audit events for a success", i, len(evs))
			}
			continue
		}
		if w.Header().Get("Content-Type") != problem.ContentType || len(evs) != 1 || (tc.reason != "" && evs[0].Reason != tc.reason) {
			t.Errorf("case %d: %s, events %+v, want one with reason %q", i, w.Header().Get("Content-Type"), evs, tc.reason)
		}
		var doc map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
			t.Errorf("case %d: body %s", i, w.Body)
		}
		if _, ok := doc["line"]; ok != tc.wantPosition {
			t.Errorf("case %d: position in the problem %v, want %v: %s", i, ok, tc.wantPosition, w.Body)
		}
	}
}
