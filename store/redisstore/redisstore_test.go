package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/internal/testlag"
	"github.com/bulwark-go/bulwark/internal/testredis"
	"github.com/bulwark-go/bulwark/internal/testsync"
	"github.com/bulwark-go/bulwark/store"
	"github.com/bulwark-go/bulwark/store/redisstore"
	"github.com/bulwark-go/bulwark/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Factory{
		New: func(t *testing.T, _ *storetest.Clock) store.Store {
			return open(t, testredis.URL(t), testredis.Prefix(t))
		},
		RealTime: true,
	})
}

// TestConformanceClient runs the suite on a Store wrapping a caller's
// client.
func TestConformanceClient(t *testing.T) {
	storetest.Run(t, storetest.Factory{
		New: func(t *testing.T, _ *storetest.Clock) store.Store {
			s, err := redisstore.Open(redisstore.Options{Client: testredis.Client(t), Prefix: testredis.Prefix(t), Timeout: testTimeout})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		RealTime: true,
	})
}

func open(t *testing.T, url, prefix string) *redisstore.Store {
	t.Helper()
	s, err := redisstore.Open(redisstore.Options{URL: url, Prefix: prefix, Timeout: testTimeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// testTimeout bounds commands in the tests that are not about timeouts:
// generous, as the race detector and other packages' tests share this
// machine and its Redis.
const testTimeout = 5 * time.Second

func TestOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts redisstore.Options
		want string // substring of the error
	}{
		{"no URL", redisstore.Options{}, "URL is required"},
		{"scheme", redisstore.Options{URL: "http://:hunter2@localhost:6379"}, "must start with redis://"},
		{"bad port", redisstore.Options{URL: "redis://user:hunter2@localhost:badport/0"}, "invalid URL"},
		{"control char", redisstore.Options{URL: "redis://user:hunter2\x7f@localhost:6379/0"}, "invalid URL"},
		{"bad db", redisstore.Options{URL: "redis://:hunter2@localhost:6379/notadb"}, "invalid URL"},
		{"brace prefix", redisstore.Options{URL: "redis://localhost:6379", Prefix: "app{1}:"}, "brace"},
		{"negative timeout", redisstore.Options{URL: "redis://localhost:6379", Timeout: -time.Second}, "must not be negative"},
		{"negative dial timeout", redisstore.Options{URL: "redis://localhost:6379", DialTimeout: -1}, "must not be negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := redisstore.Open(tc.opts)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded; want an error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q reveals the password", err)
			}
		})
	}
}

func TestKeys(t *testing.T) {
	s, err := redisstore.Open(redisstore.Options{URL: "redis://127.0.0.1:1/0", DialTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Prefix() != redisstore.DefaultPrefix || s.Key("a") != "bulwark:a" {
		t.Fatalf("Prefix %q, Key(a) %q", s.Prefix(), s.Key("a"))
	}
	if s.Timeout() != redisstore.DefaultTimeout {
		t.Fatalf("Timeout = %s", s.Timeout())
	}
	if got := s.Key(redisstore.Tag("fam1") + ":members"); got != "bulwark:{fam1}:members" {
		t.Fatalf("tagged key = %q", got)
	}
	if n := redisstore.New(nil, ""); n.Prefix() != redisstore.DefaultPrefix {
		t.Fatalf("New with an empty prefix: %q", n.Prefix())
	}
}

// Open on a caller's client: its prefix and timeout apply, Close leaves
// the client open, and a client given twice (with a URL, or to NewClient)
// is refused.
func TestOpenOnClient(t *testing.T) {
	c := testredis.Client(t)
	prefix := testredis.Prefix(t)
	s, err := redisstore.Open(redisstore.Options{Client: c, Prefix: prefix, Timeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if s.Timeout() != 3*time.Second || s.Prefix() != prefix || s.Client() != c {
		t.Fatalf("timeout %v, prefix %q", s.Timeout(), s.Prefix())
	}
	if err := s.Set(context.Background(), "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if v, err := c.Do(context.Background(), c.B().Get().Key(prefix+"k").Build()).ToString(); err != nil || v != "v" {
		t.Fatalf("the client after Close: %q %v", v, err)
	}
	c.Do(context.Background(), c.B().Del().Key(prefix+"k").Build())
	if _, err := redisstore.Open(redisstore.Options{Client: c, URL: "redis://127.0.0.1:6379"}); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Errorf("Client and URL: %v", err)
	}
	if _, err := redisstore.NewClient(redisstore.Options{Client: c}); err == nil {
		t.Error("NewClient accepted Options.Client")
	}
}

// TestTTLs reads the expiry Redis holds for each kind of write, without
// waiting for anything to expire.
func TestTTLs(t *testing.T) {
	ctx := context.Background()
	s := open(t, testredis.URL(t), testredis.Prefix(t))
	c := s.Client()
	pttl := func(key string) int64 {
		t.Helper()
		n, err := c.Do(ctx, c.B().Pttl().Key(s.Key(key)).Build()).AsInt64()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	within := func(key string, lo, hi int64) {
		t.Helper()
		if n := pttl(key); n < lo || n > hi {
			t.Fatalf("PTTL %s = %d; want %d..%d", key, n, lo, hi)
		}
	}
	if _, err := s.Incr(ctx, "c", 1, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	within("c", 9000, 10000)
	if _, err := s.Incr(ctx, "c", 1, time.Hour); err != nil {
		t.Fatal(err)
	}
	within("c", 9000, 10000) // a later Incr does not extend (or change) it
	if _, err := s.AddToSet(ctx, "s", "a", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddToSet(ctx, "s", "b", time.Hour); err != nil {
		t.Fatal(err)
	}
	within("s", 3_500_000, 3_600_000) // every AddToSet restarts it
	if err := s.Set(ctx, "v", []byte("x"), 500*time.Microsecond); err != nil {
		t.Fatalf("Set with a sub-millisecond TTL: %v", err)
	}
	if err := s.Set(ctx, "v", []byte("x"), 2*time.Second); err != nil {
		t.Fatal(err)
	}
	within("v", 1000, 2000)
	if ok, err := s.SetNX(ctx, "nx", []byte("x"), 1500*time.Millisecond); !ok || err != nil {
		t.Fatal(ok, err)
	}
	within("nx", 1000, 1500)
	// A counter key that lost its expiry (written by something else) gets
	// one back rather than living forever.
	if err := c.Do(ctx, c.B().Set().Key(s.Key("old")).Value("5").Build()).Error(); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Incr(ctx, "old", 1, 10*time.Second); n != 6 || err != nil {
		t.Fatal(n, err)
	}
	within("old", 9000, 10000)
}

// TestNewKeepsClient checks that Close on a Store made by New leaves the
// caller's client open.
func TestNewKeepsClient(t *testing.T) {
	ctx := context.Background()
	c := testredis.Client(t)
	s := redisstore.New(c, testredis.Prefix(t))
	if err := s.Set(ctx, "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := s.Set(ctx, "k", []byte("v"), time.Minute); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("Set after Close: %v", err)
	}
	if err := c.Do(ctx, c.B().Ping().Build()).Error(); err != nil {
		t.Fatalf("the caller's client was closed: %v", err)
	}
}

const outageTimeout = 150 * time.Millisecond

// every runs each Store method once and returns their errors, failing the
// test if any call takes more than twice the timeout.
func every(t *testing.T, s *redisstore.Store, lag *testlag.Monitor) map[string]error {
	t.Helper()
	ctx := context.Background()
	errs := map[string]error{}
	timed := func(op string, f func() error) {
		start := time.Now()
		err := f()
		if d := time.Since(start); lag.Over(d, 2*outageTimeout) {
			t.Errorf("%s took %s, more than twice the %s timeout (plus scheduler lag up to %s; err %v)", op, d, outageTimeout, lag.Max(), err)
		}
		errs[op] = err
	}
	timed("Incr", func() error { _, err := s.Incr(ctx, "c", 1, time.Minute); return err })
	timed("Set", func() error { return s.Set(ctx, "v", []byte("x"), time.Minute) })
	timed("Get", func() error { _, _, err := s.Get(ctx, "v"); return err })
	timed("SetNX", func() error { _, err := s.SetNX(ctx, "nx", []byte("x"), time.Minute); return err })
	timed("Take", func() error { _, _, err := s.Take(ctx, "v"); return err })
	timed("Delete", func() error { return s.Delete(ctx, "nx") })
	timed("AddToSet", func() error { _, err := s.AddToSet(ctx, "s", "m", time.Minute); return err })
	timed("SetSize", func() error { _, err := s.SetSize(ctx, "s"); return err })
	timed("IsMember", func() error { _, err := s.IsMember(ctx, "s", "m"); return err })
	timed("Client.Do", func() error {
		c := s.Client()
		ctx, cancel := s.Context(ctx)
		defer cancel()
		return redisstore.Unavailable("ping", c.Do(ctx, c.B().Ping().Build()).Error())
	})
	return errs
}

func wantAll(t *testing.T, errs map[string]error, unavailable bool) {
	t.Helper()
	for op, err := range errs {
		if unavailable && !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s during the outage: err = %v; want store.ErrUnavailable", op, err)
		}
		if !unavailable && err != nil {
			t.Errorf("%s: %v", op, err)
		}
	}
}

// recovered waits until the store answers again, without recreating it.
func recovered(t *testing.T, s *redisstore.Store) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := s.Incr(context.Background(), "probe", 1, time.Minute)
		if err == nil {
			return
		}
		if !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("while recovering: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the store did not recover: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// downThenUp checks that every call fails while srv is down, then starts
// srv and checks that the same Store works again.
func downThenUp(t *testing.T, srv *testredis.Server, s *redisstore.Store, lag *testlag.Monitor) {
	t.Helper()
	for range 3 {
		wantAll(t, every(t, s, lag), true)
	}
	srv.Start()
	recovered(t, s)
	wantAll(t, every(t, s, lag), false)
}

// load runs Incr from several goroutines until finish: every error must be
// an outage, and no call may overrun the timeout.
type load struct {
	t     *testing.T
	stop  chan struct{}
	wg    sync.WaitGroup
	bad   testsync.FirstError
	calls atomic.Int64
}

func startLoad(t *testing.T, s *redisstore.Store, lag *testlag.Monitor) *load {
	l := &load{t: t, stop: make(chan struct{})}
	for i := range 8 {
		l.wg.Go(func() {
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				start := time.Now()
				_, err := s.Incr(context.Background(), "load"+strconv.Itoa(i), 1, time.Minute)
				if err != nil && !errors.Is(err, store.ErrUnavailable) {
					l.bad.Set(err)
				}
				if d := time.Since(start); lag.Over(d, 2*outageTimeout) {
					l.bad.Set(fmt.Errorf("an Incr took %s (scheduler lag up to %s): %v", d, lag.Max(), err))
				}
				l.calls.Add(1)
				if err != nil {
					time.Sleep(5 * time.Millisecond)
				}
			}
		})
	}
	return l
}

func (l *load) finish() {
	l.t.Helper()
	close(l.stop)
	l.wg.Wait()
	if err := l.bad.Err(); err != nil {
		l.t.Fatal(err)
	}
	if l.calls.Load() == 0 {
		l.t.Fatal("no background calls ran")
	}
}

// TestOutage freezes, then kills Redis under a working Store, with calls in
// flight, and resumes or restarts it: calls fail within the timeout with
// store.ErrUnavailable, then work again without a new Store.
func TestOutage(t *testing.T) {
	lag := testlag.Start(t)
	srv := testredis.NewServer(t)
	srv.Start()
	s, err := redisstore.Open(redisstore.Options{URL: srv.URL(), Timeout: outageTimeout})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	wantAll(t, every(t, s, lag), false)

	load := startLoad(t, s, lag)
	time.Sleep(50 * time.Millisecond)

	// A frozen server accepts nothing and answers nothing: only the timeout
	// ends a call.
	srv.Signal(syscall.SIGSTOP)
	wantAll(t, every(t, s, lag), true)
	srv.Signal(syscall.SIGCONT)
	recovered(t, s)
	wantAll(t, every(t, s, lag), false)

	// A dead server refuses connections.
	srv.Stop()
	downThenUp(t, srv, s, lag)
	load.finish()
}

// TestOpenWhileDown opens a Store before Redis starts: Open succeeds, calls
// fail fast with store.ErrUnavailable, and once Redis is up the same Store
// (and the client it handed out before) works.
func TestOpenWhileDown(t *testing.T) {
	lag := testlag.Start(t)
	srv := testredis.NewServer(t)
	start := time.Now()
	s, err := redisstore.Open(redisstore.Options{URL: srv.URL(), Timeout: outageTimeout})
	if err != nil {
		t.Fatalf("Open with Redis down: %v", err)
	}
	defer s.Close()
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Open took %s", d)
	}
	early := s.Client()
	if early.Mode() == "" {
		t.Fatal("no mode before the first connection")
	}
	load := startLoad(t, s, lag)
	downThenUp(t, srv, s, lag)
	load.finish()
	ctx := context.Background()
	if err := early.Do(ctx, early.B().Ping().Build()).Error(); err != nil {
		t.Fatalf("the client handed out before Redis was up: %v", err)
	}
	// Scripts reach the new server too (EVALSHA falls back to EVAL).
	if n, err := s.AddToSet(ctx, "set", "a", time.Minute); n != 1 || err != nil {
		t.Fatal(n, err)
	}
}

func TestCloseWhileDown(t *testing.T) {
	lag := testlag.Start(t)
	srv := testredis.NewServer(t)
	s, err := redisstore.Open(redisstore.Options{URL: srv.URL(), Timeout: outageTimeout})
	if err != nil {
		t.Fatal(err)
	}
	wantAll(t, every(t, s, lag), true)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Incr(context.Background(), "c", 1, time.Minute); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("Incr after Close: %v", err)
	}
	c := s.Client()
	if err := c.Do(context.Background(), c.B().Ping().Build()).Error(); !errors.Is(redisstore.Unavailable("ping", err), store.ErrUnavailable) {
		t.Fatalf("client after Close: %v", err)
	}
}

// TestAuth checks that a rejected password fails Open with a message that
// does not reveal it, and that the right one works.
func TestAuth(t *testing.T) {
	srv := testredis.NewServer(t, "--requirepass", "right-pass-1234")
	srv.Start()
	wrong := strings.Replace(srv.URL(), "redis://", "redis://:wrong-pass-5678@", 1)
	if s, err := redisstore.Open(redisstore.Options{URL: wrong}); err == nil {
		s.Close()
		t.Fatal("Open with a wrong password succeeded")
	} else if strings.Contains(err.Error(), "wrong-pass-5678") {
		t.Fatalf("error reveals the password: %v", err)
	} else {
		t.Log(err)
	}
	right := strings.Replace(srv.URL(), "redis://", "redis://:right-pass-1234@", 1)
	s, err := redisstore.Open(redisstore.Options{URL: right})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n, err := s.Incr(context.Background(), "c", 2, time.Minute); n != 2 || err != nil {
		t.Fatal(n, err)
	}
}

// TestOpenWhileFrozen opens a Store on a server that accepts connections but
// never answers: Open gives up after the dial timeout, calls fail within
// their own timeout while connection attempts hang in the background, and
// the Store recovers when the server wakes.
func TestOpenWhileFrozen(t *testing.T) {
	lag := testlag.Start(t)
	srv := testredis.NewServer(t)
	srv.Start()
	srv.Signal(syscall.SIGSTOP)
	defer srv.Signal(syscall.SIGCONT)
	const dial = 300 * time.Millisecond
	start := time.Now()
	s, err := redisstore.Open(redisstore.Options{URL: srv.URL(), Timeout: outageTimeout, DialTimeout: dial})
	if err != nil {
		t.Fatalf("Open with Redis frozen: %v", err)
	}
	defer s.Close()
	if d := time.Since(start); lag.Over(d, 3*dial) {
		t.Fatalf("Open took %s with a %s dial timeout", d, dial)
	}
	wantAll(t, every(t, s, lag), true)
	srv.Signal(syscall.SIGCONT)
	recovered(t, s)
	wantAll(t, every(t, s, lag), false)
}
