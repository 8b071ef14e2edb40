package demo

import "github.com/bulwark-go/bulwark/password"

// PasswordVerifier returns a's password verifier.
func PasswordVerifier(a *App) *password.Verifier { return a.auth.passwords }
