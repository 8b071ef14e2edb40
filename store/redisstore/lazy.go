package redisstore

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"
)

// Reconnection backoff while no connection was ever made.
const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = time.Second
)

// errNotConnected is the cause of every failure before the first connection.
var errNotConnected = errors.New("redisstore: not connected to Redis yet")

// noSlot is set in the slot of a command built by a non-cluster builder.
const noSlot = 1 << 15

// lazyClient is a rueidis.Client that exists before Redis answers. rueidis
// reconnects a client on its own once it has one, but rueidis.NewClient
// fails when it cannot connect, and only a connected client knows whether
// the server is a cluster. So until a first rueidis.NewClient succeeds,
// lazyClient fails every command with errNotConnected (after waiting, within
// the command's context, for a connection attempt it starts), and from then
// on it forwards everything to the connected client.
type lazyClient struct {
	opt  rueidis.ClientOption
	addr string // for messages

	cur atomic.Pointer[clientBox] // the connected client, once there is one

	// placeholder stands in before the first connection: a standalone
	// client that never touches the network. It supplies B(), Mode(),
	// Nodes() and Dedicate(), whose commands fail with errNotConnected.
	placeholder rueidis.Client

	mu      sync.Mutex
	attempt chan struct{} // closed when the running attempt ends; nil if none
	next    time.Time     // earliest start of the next attempt
	backoff time.Duration
	lastErr error
	closed  bool
	wg      sync.WaitGroup
}

type clientBox struct{ c rueidis.Client }

var _ rueidis.Client = (*lazyClient)(nil)

// newLazyClient makes one connection attempt (bounded by the dial timeout).
// It returns an error only if Redis answered and refused, or opt is
// invalid; a network failure yields a client that keeps trying.
func newLazyClient(opt rueidis.ClientOption, rawURL string) (*lazyClient, error) {
	l := &lazyClient{opt: opt, addr: redactURL(rawURL)}
	popt := opt
	popt.ForceSingleClient = true
	popt.DialCtxFn = func(context.Context, string, *net.Dialer, *tls.Config) (net.Conn, error) {
		return nil, errNotConnected
	}
	placeholder, err := rueidis.NewClient(popt)
	if placeholder == nil {
		return nil, fmt.Errorf("redisstore: %w", err)
	}
	l.placeholder = placeholder

	c, err := rueidis.NewClient(opt)
	if err == nil {
		l.cur.Store(&clientBox{c})
		return l, nil
	}
	if !isOutage(err) {
		placeholder.Close()
		return nil, fmt.Errorf("redisstore: connecting to %s: %s", l.addr, redactIn(err.Error(), rawURL))
	}
	l.fail(err)
	return l, nil
}

// isOutage reports whether err means Redis could not be reached (as opposed
// to Redis refusing the client).
func isOutage(err error) bool {
	return Unavailable("connect", err) != err
}

// fail records a failed attempt and schedules the next. l.mu is held or l is
// not yet shared.
func (l *lazyClient) fail(err error) {
	l.lastErr = err
	l.backoff = min(max(2*l.backoff, minBackoff), maxBackoff)
	l.next = time.Now().Add(l.backoff)
}

// client returns the connected client, starting or joining a connection
// attempt when there is none yet; it waits for the attempt at most until ctx
// is done. With no client it returns the error to report.
func (l *lazyClient) client(ctx context.Context) (rueidis.Client, error) {
	if b := l.cur.Load(); b != nil {
		return b.c, nil
	}
	l.mu.Lock()
	if b := l.cur.Load(); b != nil {
		l.mu.Unlock()
		return b.c, nil
	}
	if l.closed {
		l.mu.Unlock()
		return nil, rueidis.ErrClosing
	}
	ch := l.attempt
	if ch == nil {
		if time.Now().Before(l.next) {
			err := l.notConnected()
			l.mu.Unlock()
			return nil, err
		}
		ch = make(chan struct{})
		l.attempt = ch
		l.wg.Add(1)
		go l.connect(ch)
	}
	l.mu.Unlock()
	select {
	case <-ch:
		if b := l.cur.Load(); b != nil {
			return b.c, nil
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		return nil, l.notConnected()
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", errNotConnected, ctx.Err())
	}
}

// notConnected describes the last failure; l.mu is held.
func (l *lazyClient) notConnected() error {
	if l.lastErr == nil {
		return errNotConnected
	}
	return fmt.Errorf("%w (%s): %w", errNotConnected, l.addr, l.lastErr)
}

func (l *lazyClient) connect(done chan struct{}) {
	defer l.wg.Done()
	c, err := rueidis.NewClient(l.opt)
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case err == nil && !l.closed:
		l.cur.Store(&clientBox{c})
	case err == nil:
		c.Close()
	default:
		l.fail(err)
	}
	l.attempt = nil
	close(done)
}

// current returns the connected client or the placeholder, without waiting.
func (l *lazyClient) current() rueidis.Client {
	if b := l.cur.Load(); b != nil {
		return b.c
	}
	return l.placeholder
}

// routable reports whether c can run cmd: a command built by the
// placeholder's builder (no slot) must not reach a cluster client that
// replaced the placeholder in the meantime.
func routable(c rueidis.Client, cmd *rueidis.Completed) bool {
	return cmd.Slot()&noSlot == 0 || c.Mode() != rueidis.ClientModeCluster
}

var errRebuild = fmt.Errorf("%w: the command was built before the cluster connection was made; retry", errNotConnected)

// B implements rueidis.Client.
func (l *lazyClient) B() rueidis.Builder { return l.current().B() }

// Do implements rueidis.Client.
func (l *lazyClient) Do(ctx context.Context, cmd rueidis.Completed) rueidis.RedisResult {
	c, err := l.client(ctx)
	if err != nil {
		return rueidis.NewErrorResult(err)
	}
	if !routable(c, &cmd) {
		return rueidis.NewErrorResult(errRebuild)
	}
	return c.Do(ctx, cmd)
}

// DoMulti implements rueidis.Client.
func (l *lazyClient) DoMulti(ctx context.Context, multi ...rueidis.Completed) []rueidis.RedisResult {
	c, err := l.client(ctx)
	if err == nil {
		for i := range multi {
			if !routable(c, &multi[i]) {
				err = errRebuild
				break
			}
		}
	}
	if err != nil {
		return errResults(len(multi), err)
	}
	return c.DoMulti(ctx, multi...)
}

// DoCache implements rueidis.Client.
func (l *lazyClient) DoCache(ctx context.Context, cmd rueidis.Cacheable, ttl time.Duration) rueidis.RedisResult {
	c, err := l.client(ctx)
	if err != nil {
		return rueidis.NewErrorResult(err)
	}
	if cmd.Slot()&noSlot != 0 && c.Mode() == rueidis.ClientModeCluster {
		return rueidis.NewErrorResult(errRebuild)
	}
	return c.DoCache(ctx, cmd, ttl)
}

// DoMultiCache implements rueidis.Client.
func (l *lazyClient) DoMultiCache(ctx context.Context, multi ...rueidis.CacheableTTL) []rueidis.RedisResult {
	c, err := l.client(ctx)
	if err == nil && c.Mode() == rueidis.ClientModeCluster {
		for i := range multi {
			if multi[i].Cmd.Slot()&noSlot != 0 {
				err = errRebuild
				break
			}
		}
	}
	if err != nil {
		return errResults(len(multi), err)
	}
	return c.DoMultiCache(ctx, multi...)
}

// errResults is the answer of n commands that all failed with err.
func errResults(n int, err error) []rueidis.RedisResult {
	res := make([]rueidis.RedisResult, n)
	for i := range res {
		res[i] = rueidis.NewErrorResult(err)
	}
	return res
}

// DoStream implements rueidis.Client.
func (l *lazyClient) DoStream(ctx context.Context, cmd rueidis.Completed) rueidis.RedisResultStream {
	c, err := l.client(ctx)
	if err != nil {
		return rueidis.NewErrorResultStream(err)
	}
	if !routable(c, &cmd) {
		return rueidis.NewErrorResultStream(errRebuild)
	}
	return c.DoStream(ctx, cmd)
}

// DoMultiStream implements rueidis.Client.
func (l *lazyClient) DoMultiStream(ctx context.Context, multi ...rueidis.Completed) rueidis.MultiRedisResultStream {
	c, err := l.client(ctx)
	if err != nil {
		return rueidis.NewErrorResultStream(err)
	}
	for i := range multi {
		if !routable(c, &multi[i]) {
			return rueidis.NewErrorResultStream(errRebuild)
		}
	}
	return c.DoMultiStream(ctx, multi...)
}

// Receive implements rueidis.Client.
func (l *lazyClient) Receive(ctx context.Context, subscribe rueidis.Completed, fn func(msg rueidis.PubSubMessage)) error {
	c, err := l.client(ctx)
	if err != nil {
		return err
	}
	if !routable(c, &subscribe) {
		return errRebuild
	}
	return c.Receive(ctx, subscribe, fn)
}

// Dedicated implements rueidis.Client. Before the first connection fn runs
// with a client whose commands fail.
func (l *lazyClient) Dedicated(fn func(rueidis.DedicatedClient) error) error {
	return l.current().Dedicated(fn)
}

// Dedicate implements rueidis.Client. Before the first connection it
// returns a client whose commands fail.
func (l *lazyClient) Dedicate() (rueidis.DedicatedClient, func()) {
	return l.current().Dedicate()
}

// Nodes implements rueidis.Client.
func (l *lazyClient) Nodes() map[string]rueidis.Client { return l.current().Nodes() }

// Mode implements rueidis.Client. Before the first connection it reports
// standalone.
func (l *lazyClient) Mode() rueidis.ClientMode { return l.current().Mode() }

// Close implements rueidis.Client. It waits for a running connection
// attempt (at most the dial timeout) so that nothing outlives it.
func (l *lazyClient) Close() {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	l.mu.Unlock()
	l.wg.Wait()
	if b := l.cur.Load(); b != nil {
		b.c.Close()
	}
	l.placeholder.Close()
}
