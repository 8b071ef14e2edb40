package password_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bulwark-go/bulwark/password"
)

// gate replaces argon2id for a test: every call counts as running until
// the gate opens (or at once, when open), and the most running at once is
// recorded, along with each call's memory.
type gate struct {
	open     chan struct{}
	running  atomic.Int32
	peak     atomic.Int32
	mu       sync.Mutex
	memories []uint32
}

func newGate(t *testing.T) *gate {
	g := &gate{open: make(chan struct{})}
	t.Cleanup(password.SetIDKey(func(pw, salt []byte, tm, mem uint32, th uint8, kl uint32) []byte {
		n := g.running.Add(1)
		for {
			p := g.peak.Load()
			if n <= p || g.peak.CompareAndSwap(p, n) {
				break
			}
		}
		g.mu.Lock()
		g.memories = append(g.memories, mem)
		g.mu.Unlock()
		<-g.open
		defer g.running.Add(-1)
		return password.IDKey(pw, salt, tm, mem, th, kl)
	}))
	return g
}

func newVerifier(t *testing.T, o password.Options) *password.Verifier {
	t.Helper()
	if o.Params == (password.Params{}) {
		o.Params = fast
	}
	v, err := password.NewVerifier(o)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// The budget bounds the verifications computing at once to MaxConcurrent,
// however many arrive: the others wait MaxWait at most, then get ErrBusy
// (and Unavailable turns that into a 503 with Retry-After).
func TestVerifierBoundsConcurrency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, _ := password.HashWith("right", fast)
		v := newVerifier(t, password.Options{MaxConcurrent: 3, MaxWait: 100 * time.Millisecond})
		g := newGate(t) // from here on, the gate holds every argon2id run
		const n = 120
		errs := make(chan error, n)
		start := time.Now()
		var elapsed sync.Map
		for i := range n {
			go func() {
				_, err := v.Verify(context.Background(), "wrong", h)
				if errors.Is(err, password.ErrBusy) {
					elapsed.Store(i, time.Since(start))
				}
				errs <- err
			}()
		}
		synctest.Wait()
		if got := g.running.Load(); got != 3 {
			t.Fatalf("%d verifications computing, want 3", got)
		}
		if s := v.Stats(); s.Running != 3 || s.Waiting != n-3 {
			t.Fatalf("stats while saturated: %+v", s)
		}
		time.Sleep(100 * time.Millisecond) // MaxWait passes
		synctest.Wait()
		for range n - 3 {
			if err := <-errs; !errors.Is(err, password.ErrBusy) {
				t.Fatalf("a waiter got %v, want ErrBusy", err)
			}
		}
		elapsed.Range(func(_, d any) bool {
			if d.(time.Duration) != 100*time.Millisecond {
				t.Errorf("refused after %v, want MaxWait (100ms)", d)
			}
			return true
		})
		close(g.open)
		for range 3 {
			if err := <-errs; !errors.Is(err, password.ErrMismatch) {
				t.Fatalf("a running verification got %v, want ErrMismatch", err)
			}
		}
		if p := g.peak.Load(); p != 3 {
			t.Fatalf("%d verifications computed at once, want 3", p)
		}
		s := v.Stats()
		if s.PeakRunning != 3 || s.Busy != n-3 || s.Verified != 3 || s.Running != 0 || s.Waiting != 0 {
			t.Fatalf("final stats %+v", s)
		}
		if want := int64(3 * fast.Memory << 10); s.PeakMemory != want || v.MemoryBudget() != want {
			t.Fatalf("peak memory %d, budget %d, want %d", s.PeakMemory, v.MemoryBudget(), want)
		}
	})
}

// A verification that finds the budget full waits its turn, first come
// first served, and runs as soon as a share is free.
func TestVerifierWaitsInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, _ := password.HashWith("right", fast)
		v := newVerifier(t, password.Options{MaxConcurrent: 1, MaxWait: time.Second})
		g := newGate(t)
		var mu sync.Mutex
		var order []string
		run := func(name, pw string) chan error {
			c := make(chan error, 1)
			go func() {
				_, err := v.Verify(context.Background(), pw, h)
				mu.Lock()
				order = append(order, name)
				mu.Unlock()
				c <- err
			}()
			synctest.Wait() // queued before the next one starts
			return c
		}
		a, b, c := run("a", "wrong"), run("b", "right"), run("c", "wrong")
		time.Sleep(500 * time.Millisecond)
		close(g.open)
		if err := <-a; !errors.Is(err, password.ErrMismatch) {
			t.Fatal(err)
		}
		if err := <-b; err != nil {
			t.Fatalf("b waited 500ms of its 1s and should have run: %v", err)
		}
		if err := <-c; !errors.Is(err, password.ErrMismatch) {
			t.Fatal(err)
		}
		if o := order; len(o) != 3 || o[0] != "a" || o[1] != "b" || o[2] != "c" {
			t.Fatalf("order %v", o)
		}
		if s := v.Stats(); s.PeakRunning != 1 || s.Busy != 0 || s.Verified != 3 {
			t.Fatalf("stats %+v", s)
		}
	})
}

// A missing user ("" as the hash) costs what a real one does: one argon2id
// run with Options.Params, and one share of the budget, then ErrMismatch
// whatever the password.
func TestVerifierMissingUser(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, _ := password.HashWith("right", fast)
		g := newGate(t)
		close(g.open)
		v := newVerifier(t, password.Options{MaxConcurrent: 1})
		for _, pw := range []string{"right", "", "anything"} {
			if _, err := v.Verify(context.Background(), pw, ""); !errors.Is(err, password.ErrMismatch) {
				t.Fatalf("missing user, password %q: %v", pw, err)
			}
		}
		if _, err := v.Verify(context.Background(), "right", h); err != nil {
			t.Fatal(err)
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		// NewVerifier's own hash of the stand-in, then 3 missing, 1 real.
		if len(g.memories) != 5 {
			t.Fatalf("%d argon2id runs, want 5", len(g.memories))
		}
		for _, m := range g.memories {
			if m != fast.Memory {
				t.Fatalf("a run with m=%d, want %d for all", m, fast.Memory)
			}
		}
		if s := v.Stats(); s.Verified != 4 {
			t.Fatalf("missing users bypassed the budget: %+v", s)
		}
	})
}

// A stored hash asking for more memory than Params takes a larger share.
func TestVerifierWeighsByMemory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		big := fast
		big.Memory = 2 * fast.Memory
		hBig, _ := password.HashWith("x", big)
		h, _ := password.HashWith("x", fast)
		v := newVerifier(t, password.Options{MaxConcurrent: 2, MaxWait: -1})
		g := newGate(t)
		done := make(chan error, 1)
		go func() { _, err := v.Verify(context.Background(), "x", hBig); done <- err }()
		synctest.Wait()
		if _, err := v.Verify(context.Background(), "x", h); !errors.Is(err, password.ErrBusy) {
			t.Fatalf("budget of 2 took a double share and one more: %v", err)
		}
		close(g.open)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		// A hash above the whole budget runs alone rather than never.
		huge := fast
		huge.Memory = 8 * fast.Memory
		hHuge, _ := password.HashWith("x", huge)
		if _, err := v.Verify(context.Background(), "x", hHuge); err != nil {
			t.Fatal(err)
		}
	})
}

func TestVerifierContextEndsWhileWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, _ := password.HashWith("x", fast)
		v := newVerifier(t, password.Options{MaxConcurrent: 1, MaxWait: time.Second})
		g := newGate(t)
		go func() { _, _ = v.Verify(context.Background(), "x", h) }()
		synctest.Wait()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { _, err := v.Verify(ctx, "x", h); done <- err }()
		synctest.Wait()
		cancel()
		err := <-done
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v", err)
		}
		if p := v.Unavailable(err); p == nil || p.Status != 503 {
			t.Fatalf("Unavailable(%v) = %+v", err, p)
		}
		if s := v.Stats(); s.Waiting != 0 || s.Busy != 0 {
			t.Fatalf("stats %+v", s)
		}
		close(g.open)
	})
}

func TestVerifierUnavailable(t *testing.T) {
	v := newVerifier(t, password.Options{RetryAfter: 2 * time.Second})
	for _, err := range []error{nil, password.ErrMismatch, password.ErrMalformed} {
		if p := v.Unavailable(err); p != nil {
			t.Errorf("Unavailable(%v) = %+v, want nil", err, p)
		}
	}
	p := v.Unavailable(password.ErrBusy)
	if p == nil || p.Status != 503 || p.Reason != "password_busy" || p.Header("Retry-After") != "2" || !errors.Is(p.Err, password.ErrBusy) {
		t.Fatalf("Unavailable(ErrBusy) = %+v", p)
	}
}

func TestVerifierMatchAndRehash(t *testing.T) {
	v := newVerifier(t, password.Options{})
	h, _ := password.HashWith("pw", fast)
	if rehash, err := v.Verify(context.Background(), "pw", h); err != nil || rehash {
		t.Fatalf("Verify = %v, %v; want a match at Params", rehash, err)
	}
	stronger := fast
	stronger.Time = 2
	v2 := newVerifier(t, password.Options{Params: stronger})
	if rehash, err := v2.Verify(context.Background(), "pw", h); err != nil || !rehash {
		t.Fatalf("Verify = %v, %v; want a match needing rehash", rehash, err)
	}
	if _, err := v.Verify(context.Background(), "pw", "$argon2id$garbage"); !errors.Is(err, password.ErrMalformed) {
		t.Fatal(err)
	}
}

func TestNewVerifierRefuses(t *testing.T) {
	for _, o := range []password.Options{
		{MaxConcurrent: -1},
		{MaxWait: time.Minute},
		{RetryAfter: -time.Second},
		{Params: password.Params{Memory: 1, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}},
		{Params: password.Params{Memory: 1 << 30, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}},
	} {
		if _, err := password.NewVerifier(o); err == nil {
			t.Errorf("accepted %+v", o)
		}
	}
}

// By default the checks take half the cores (at least one, at most
// MaxDefaultConcurrent), so the rest of the process keeps a core.
func TestVerifierDefaultConcurrency(t *testing.T) {
	for _, procs := range []int{1, 2, 3, 8, 64} {
		old := runtime.GOMAXPROCS(procs)
		v := newVerifier(t, password.Options{})
		runtime.GOMAXPROCS(old)
		want := min(max(procs/2, 1), password.MaxDefaultConcurrent)
		if v.MaxConcurrent() != want || v.MemoryBudget() != int64(want)*int64(fast.Memory)<<10 {
			t.Errorf("GOMAXPROCS %d: MaxConcurrent %d, budget %d; want %d", procs, v.MaxConcurrent(), v.MemoryBudget(), want)
		}
	}
}
