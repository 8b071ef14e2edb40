package demo

import (
	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/password"
)

// PasswordVerifier returns a's password verifier.
func PasswordVerifier(a *App) *password.Verifier { return a.auth.passwords }

// AdminAuthn returns the authentication /admin/security is to use: a
// bearer token first, else the session.
func AdminAuthn(a *App) *authn.Guard { return a.web.either }
