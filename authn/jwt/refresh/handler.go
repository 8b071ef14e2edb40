package refresh

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/jwt/internal/lifecycle"
	"github.com/bulwark-go/bulwark/bind"
	"github.com/bulwark-go/bulwark/problem"
	"github.com/bulwark-go/bulwark/store"
)

// HandlerOptions configure the ready-made refresh and logout handlers.
type HandlerOptions struct {
	// Audit receives one event per denial. Default: none.
	Audit audit.Sink
	// ErrorHandler writes denials. Default problem.Write.
	ErrorHandler problem.Handler
	// Realm names the protection space of 401 challenges. Default "api",
	// authn.Guard's default; pass the guard's (guard.Realm()).
	Realm string
}

func (o HandlerOptions) realm() string {
	if o.Realm == "" {
		return "api"
	}
	return o.Realm
}

// maxBody caps the refresh and logout bodies (a token or two).
const maxBody = 16 << 10

// refreshRequest is the body of a refresh.
type refreshRequest struct {
	RefreshToken string `json:"refresh_token" validate:"required"`
}

// logoutRequest is the optional body of a logout.
type logoutRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// RefreshHandler returns a handler for POST /refresh: a JSON body
// {"refresh_token": "..."} → 200 and a new TokenPair (Cache-Control:
// no-store). The body is decoded as package bind does: a Content-Type
// other than JSON → 415; malformed JSON → 400 with the offset, line and
// column; an unknown field, data after the object, or a body over 16 KiB
// → 400 or 413; a missing or empty refresh_token → 422. A bad, expired,
// revoked or reused token → 401 with `WWW-Authenticate: Bearer
// realm="...", error="invalid_token", error_description="..."` (a reused
// one revokes its family); a store outage → 503. Every denial is audited
// once.
func (r *Refresher) RefreshHandler(opts HandlerOptions) http.Handler {
	deny := problem.Denier{Guard: "jwt", Audit: opts.Audit, Handler: opts.ErrorHandler}
	realm := opts.realm()
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Body != nil && req.Body != http.NoBody {
			req.Body = http.MaxBytesReader(w, req.Body, maxBody)
		}
		var body refreshRequest
		if prob := bind.JSON(w, req, &body); prob != nil {
			deny.Deny(w, req, prob)
			return
		}
		pair, err := r.Refresh(req.Context(), body.RefreshToken)
		if err != nil {
			deny.Deny(w, req, authn.BearerChallenge(asProblem(err), realm))
			return
		}
		WriteTokenPair(w, pair)
	})
}

// LogoutHandler returns a handler for POST /logout behind a Guard that
// requires the access token: it revokes the access token, its session and
// the refresh token in the optional JSON body {"refresh_token": "..."},
// then answers 204. An empty body is fine; a body that is present is
// decoded as RefreshHandler's (415, 400, 413). Without a principal (no
// guard in front) it answers 401 with `WWW-Authenticate: Bearer
// realm="..."`; a store outage → 503.
func (r *Refresher) LogoutHandler(opts HandlerOptions) http.Handler {
	deny := problem.Denier{Guard: "jwt", Audit: opts.Audit, Handler: opts.ErrorHandler}
	plain := problem.Challenge("Bearer", opts.realm())
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		p, ok := authn.FromContext(req.Context())
		if !ok {
			deny.Deny(w, req, problem.Unauthorized(problem.TypeUnauthorized, plain, "authentication is required").WithReason("token_missing"))
			return
		}
		var body logoutRequest
		if prob := optionalJSON(w, req, &body); prob != nil {
			deny.Deny(w, req, prob)
			return
		}
		if err := r.Logout(req.Context(), p, body.RefreshToken); err != nil {
			deny.Deny(w, req, asProblem(err))
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	})
}

// optionalJSON decodes req's body into dst with bind.JSON, capped at
// maxBody, unless the body is empty (no body, Content-Length: 0, or a
// chunked body with no bytes).
func optionalJSON(w http.ResponseWriter, req *http.Request, dst any) *problem.Problem {
	if req.Body == nil || req.Body == http.NoBody || req.ContentLength == 0 {
		return nil
	}
	capped := http.MaxBytesReader(w, req.Body, maxBody)
	br := bufio.NewReader(capped)
	if _, err := br.Peek(1); err == io.EOF {
		return nil
	}
	req.Body = http.MaxBytesReader(w, readCloser{br, capped}, maxBody)
	return bind.JSON(w, req, dst)
}

type readCloser struct {
	io.Reader
	io.Closer
}

// WriteTokenPair writes pair as a 200 JSON token response with
// Cache-Control: no-store (RFC 6749 §5.1).
func WriteTokenPair(w http.ResponseWriter, pair *TokenPair) {
	body, _ := json.Marshal(pair)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(append(body, '\n'))
}

func asProblem(err error) *problem.Problem {
	if p, ok := problem.As(err); ok {
		return p
	}
	if errors.Is(err, store.ErrUnavailable) {
		return lifecycle.StoreUnavailable(err)
	}
	return problem.New(http.StatusInternalServerError, problem.TypeInternal, "the request could not be completed").WithReason("internal").WithErr(err)
}
