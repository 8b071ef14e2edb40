package password

import (
	"container/list"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/bulwark-go/bulwark/problem"
)

// MaxDefaultConcurrent caps the default Options.MaxConcurrent, whatever
// the number of cores: with Default parameters, 8 × 19 MiB = 152 MiB of
// argon2 memory at most.
const MaxDefaultConcurrent = 8

// DefaultMaxWait is the default Options.MaxWait.
const DefaultMaxWait = 250 * time.Millisecond

// MaxMaxWait is the longest Options.MaxWait New accepts: a login queued
// longer than this is one its user has likely given up on.
const MaxMaxWait = 10 * time.Second

// DefaultRetryAfter is the default Options.RetryAfter.
const DefaultRetryAfter = time.Second

// ErrBusy is returned by Verifier.Verify when the memory budget stayed
// full for Options.MaxWait: nothing was verified. Answer it with
// Verifier.Unavailable (503 with Retry-After), never as a failed login.
var ErrBusy = errors.New("password: too many verifications in progress")

// Options configure a Verifier. The zero value is usable.
type Options struct {
	// Params are the parameters the application's stored hashes use (the
	// ones it hashes new passwords with). The stand-in hash for a missing
	// user is made with them, so that it costs what a real one does; a
	// match with weaker ones reports needsRehash; MaxConcurrent counts
	// verifications of Params.Memory. Default: Default.
	Params Params
	// MaxConcurrent bounds the verifications computing at once: the memory
	// budget is MaxConcurrent × Params.Memory KiB, and a stored hash that
	// asks for more memory than Params.Memory takes a larger share (one
	// above the whole budget runs alone). Default: half of
	// runtime.GOMAXPROCS, at least 1, at most MaxDefaultConcurrent — each
	// check keeps a core busy, so more checks than cores buy no
	// throughput, and checks on every core starve the rest of the process
	// (the Redis round trips of the rate limits among them).
	MaxConcurrent int
	// MaxWait is how long a verification may wait for its share of the
	// budget before Verify gives up with ErrBusy. Waiters are served first
	// come, first served. Default DefaultMaxWait; negative: never wait; at
	// most MaxMaxWait.
	MaxWait time.Duration
	// RetryAfter is the Retry-After of the 503 that Unavailable returns.
	// Default DefaultRetryAfter.
	RetryAfter time.Duration
}

// Verifier verifies passwords within a memory budget: at most
// MaxConcurrent verifications compute at once, a few more wait briefly, the
// rest are refused at once with ErrBusy. Safe for concurrent use; build one
// per process and share it between every authenticator that checks
// passwords (a JSON login, a session login, HTTP Basic), since they share
// the memory.
type Verifier struct {
	params     Params
	maxWait    time.Duration
	retryAfter time.Duration
	dummy      string // stand-in hash for a missing user, of params
	maxConc    int

	mu      sync.Mutex
	size    int64     // budget, KiB
	used    int64     // KiB reserved by running verifications
	waiters list.List // of *waiter, first come first served
	stats   Stats
}

type waiter struct {
	n     int64
	ready chan struct{} // closed when the share is granted
}

// Stats describe a Verifier's use of its budget.
type Stats struct {
	// Running is the number of verifications computing now.
	Running int
	// Waiting is the number waiting for their share of the budget now.
	Waiting int
	// PeakRunning is the most verifications that computed at once since
	// NewVerifier.
	PeakRunning int
	// PeakMemory is the most argon2 memory, in bytes, reserved at once
	// since NewVerifier: never above MemoryBudget unless one stored hash
	// alone asks for more.
	PeakMemory int64
	// Verified counts the verifications computed (for missing users too).
	Verified uint64
	// Busy counts the verifications refused with ErrBusy.
	Busy uint64
}

// NewVerifier validates opts and returns a Verifier. It hashes a random
// password once with opts.Params (the stand-in for missing users), so it
// takes as long as one verification.
func NewVerifier(opts Options) (*Verifier, error) {
	if opts.Params == (Params{}) {
		opts.Params = Default
	}
	p := opts.Params
	if err := checkParams(p); err != nil {
		return nil, err
	}
	if p.Memory > Limits.Memory || p.Time > Limits.Time || p.Threads > Limits.Threads || p.SaltLen > Limits.SaltLen || p.KeyLen > Limits.KeyLen {
		return nil, errors.New("password: Params above Limits: Verify would refuse every hash made with them")
	}
	switch {
	case opts.MaxConcurrent < 0:
		return nil, errors.New("password: MaxConcurrent must not be negative (0 means the default: half the cores, at most MaxDefaultConcurrent)")
	case opts.MaxConcurrent == 0:
		opts.MaxConcurrent = min(max(runtime.GOMAXPROCS(0)/2, 1), MaxDefaultConcurrent)
	case opts.MaxConcurrent > 1<<16:
		return nil, errors.New("password: MaxConcurrent above 65536: each verification takes Params.Memory KiB, so that is no bound")
	}
	switch {
	case opts.MaxWait > MaxMaxWait:
		return nil, fmt.Errorf("password: MaxWait %v above %v: a login queued that long is one its user has given up on; refuse it sooner (503 with Retry-After)", opts.MaxWait, MaxMaxWait)
	case opts.MaxWait == 0:
		opts.MaxWait = DefaultMaxWait
	case opts.MaxWait < 0:
		opts.MaxWait = 0
	}
	if opts.RetryAfter < 0 {
		return nil, errors.New("password: RetryAfter must not be negative (0 means DefaultRetryAfter)")
	}
	if opts.RetryAfter == 0 {
		opts.RetryAfter = DefaultRetryAfter
	}
	var secret [16]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return nil, err
	}
	dummy, err := HashWith(hex.EncodeToString(secret[:]), p)
	if err != nil {
		return nil, err
	}
	return &Verifier{
		params:     p,
		maxWait:    opts.MaxWait,
		retryAfter: opts.RetryAfter,
		dummy:      dummy,
		maxConc:    opts.MaxConcurrent,
		size:       int64(opts.MaxConcurrent) * int64(p.Memory),
	}, nil
}

// Verify checks pw against the PHC string encoded (argon2id, or bcrypt:
// see the package documentation), within the budget. It
// returns nil on a match, ErrMismatch on a wrong password, ErrMalformed on
// a bad hash (neither of which waits or takes budget), ErrBusy when the
// budget stayed full for MaxWait, and ctx's error when ctx ended while it
// waited. needsRehash is true on a match whose parameters are weaker than
// Options.Params.
//
// Pass "" as encoded for a user that does not exist (or has no password):
// Verify then checks pw against a stand-in hash of Options.Params and
// returns ErrMismatch, at the cost, and with the share of the budget, of a
// real user's check — so neither the time taken nor a 503 tells an
// attacker which usernames exist.
func (v *Verifier) Verify(ctx context.Context, pw, encoded string) (needsRehash bool, err error) {
	missing := encoded == ""
	if missing {
		encoded = v.dummy
	}
	if isBcrypt(encoded) {
		return v.verifyBcrypt(ctx, pw, encoded)
	}
	p, salt, want, err := decode(encoded)
	if err != nil {
		return false, err
	}
	if len(pw) > MaxPasswordLen {
		return false, ErrMismatch
	}
	n := min(int64(p.Memory), v.size)
	if err := v.acquire(ctx, n); err != nil {
		return false, err
	}
	defer v.release(n)
	ok := check(pw, p, salt, want)
	if !ok || missing {
		return false, ErrMismatch
	}
	return weaker(p, len(want), v.params), nil
}

// verifyBcrypt checks a bcrypt hash within the budget: it takes the share
// of one check of Options.Params, so that MaxConcurrent bounds bcrypt's
// CPU as it bounds argon2id's memory.
func (v *Verifier) verifyBcrypt(ctx context.Context, pw, encoded string) (bool, error) {
	if _, err := bcryptCost(encoded); err != nil {
		return false, err
	}
	if len(pw) > MaxPasswordLen {
		return false, ErrMismatch
	}
	n := min(int64(v.params.Memory), v.size)
	if err := v.acquire(ctx, n); err != nil {
		return false, err
	}
	defer v.release(n)
	if !checkBcrypt(pw, encoded) {
		return false, ErrMismatch
	}
	return true, nil
}

// Unavailable returns the 503 problem (Retry-After: Options.RetryAfter,
// reason "password_busy") that answers an error of Verify that says
// nothing about the password — ErrBusy, or ctx ending while Verify waited
// — and nil for nil, ErrMismatch and ErrMalformed, which are failed logins
// to be answered as such.
func (v *Verifier) Unavailable(err error) *problem.Problem {
	if err == nil || errors.Is(err, ErrMismatch) || errors.Is(err, ErrMalformed) {
		return nil
	}
	return problem.Unavailable(v.retryAfter, "too many sign-ins are being checked right now; try again shortly").
		WithReason("password_busy").WithErr(err)
}

// MemoryBudget returns the argon2 memory, in bytes, that the verifications
// computing at once may reserve: Options.MaxConcurrent × Params.Memory KiB.
func (v *Verifier) MemoryBudget() int64 { return v.size << 10 }

// MaxConcurrent returns the number of checks of Options.Params that may
// compute at once (Options.MaxConcurrent, or its default).
func (v *Verifier) MaxConcurrent() int { return v.maxConc }

// Stats returns the Verifier's counters.
func (v *Verifier) Stats() Stats {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.stats
	s.Waiting = v.waiters.Len()
	return s
}

// acquire reserves n KiB of the budget, waiting at most maxWait behind
// earlier waiters.
func (v *Verifier) acquire(ctx context.Context, n int64) error {
	v.mu.Lock()
	if v.waiters.Len() == 0 && v.used+n <= v.size {
		v.grant(n)
		v.mu.Unlock()
		return nil
	}
	if v.maxWait <= 0 {
		v.stats.Busy++
		v.mu.Unlock()
		return ErrBusy
	}
	w := &waiter{n: n, ready: make(chan struct{})}
	e := v.waiters.PushBack(w)
	v.mu.Unlock()

	t := time.NewTimer(v.maxWait)
	defer t.Stop()
	var err error
	select {
	case <-w.ready:
		return nil
	case <-t.C:
		err = ErrBusy
	case <-ctx.Done():
		err = ctx.Err()
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	select {
	case <-w.ready: // granted as the wait ended
		if err == ErrBusy {
			return nil // the share is ours: use it
		}
		v.stats.Verified-- // given back unused
		v.releaseLocked(n)
		return err
	default:
	}
	v.waiters.Remove(e)
	if err == ErrBusy {
		v.stats.Busy++
	}
	v.wake() // a smaller waiter behind this one may fit now
	return err
}

func (v *Verifier) release(n int64) {
	v.mu.Lock()
	v.releaseLocked(n)
	v.mu.Unlock()
}

func (v *Verifier) releaseLocked(n int64) {
	v.used -= n
	v.stats.Running--
	v.wake()
}

// grant reserves n; v.mu is held.
func (v *Verifier) grant(n int64) {
	v.used += n
	v.stats.Running++
	v.stats.Verified++
	v.stats.PeakRunning = max(v.stats.PeakRunning, v.stats.Running)
	v.stats.PeakMemory = max(v.stats.PeakMemory, v.used<<10)
}

// wake grants waiters in order while the next one fits; v.mu is held.
// Stopping at the first that does not fit keeps a large share from
// waiting forever behind a stream of small ones.
func (v *Verifier) wake() {
	for e := v.waiters.Front(); e != nil; e = v.waiters.Front() {
		w := e.Value.(*waiter)
		if v.used+w.n > v.size {
			return
		}
		v.grant(w.n)
		v.waiters.Remove(e)
		close(w.ready)
	}
}
