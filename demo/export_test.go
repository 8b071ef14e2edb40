package demo

import "github.com/bulwark-go/bulwark/password"

// PasswordStats returns the counters of a's password verifier.
func PasswordStats(a *App) password.Stats { return a.auth.passwords.Stats() }

// PasswordBudget returns a's password verifier's memory budget, in bytes.
func PasswordBudget(a *App) int64 { return a.auth.passwords.MemoryBudget() }
