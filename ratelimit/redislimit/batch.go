package redislimit

import (
	"context"
	"errors"
	"hash/maphash"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/bulwark-go/bulwark/store"
)

// batcher coalesces concurrent decisions into one script run. A few worker
// goroutines each take whatever decisions are waiting (up to max), run them
// as one script — one atomic step per request, in order — and hand each
// caller its slice of the reply. Under no concurrency a decision goes out
// alone at once, so coalescing adds no waiting.
//
// On a standalone Redis (not Cluster or Sentinel), each worker keeps a
// connection of its own (a rueidis dedicated connection, see worker.conn),
// on which it writes a batch and reads the reply itself: no hand-off to the
// client's pipeline goroutines and back, which under load costs about as
// much client CPU as the rest of a decision. Until it has one (at start,
// after a lost connection or a timeout), it uses the shared client.
type batcher struct {
	s         *Store
	max       int
	queue     chan *call
	stop      chan struct{}
	done      atomic.Bool                                                           // close has begun: callers drain the queue themselves after queuing
	run       func(context.Context, rueidis.CoreClient, []request) ([]int64, error) // Store.eval (tests replace it)
	dedicated bool                                                                  // workers keep connections of their own (newBatcher; not in tests' stubs)
	owned     atomic.Int32                                                          // workers holding a connection of their own
	wg        sync.WaitGroup
	pool      sync.Pool // of *call
}

// call is one decision waiting for a worker. A caller that gives up
// (its context, the Store closing) before a worker takes the call abandons
// it, and the worker drops it unsent: its caller has been answered without
// Redis, so Redis must not charge for it. Once taken, it goes out; a
// caller that gives up then just stops waiting, and the decision may still
// be applied.
//
// The Store's timeout is kept by the workers, not by a timer per call: a
// call carries its deadline; a worker answers a call it takes past that
// deadline with a timeout (unsent, like an abandoned one), and while a
// batch is out at Redis, one timer per worker answers each of its calls
// whose deadline passes before the reply (see worker). So every call is
// answered by its deadline, give or take the scheduling of goroutines — as
// long as a worker is free to take it. A worker waits for a reply at most
// until the latest deadline of its batch (the client honours the context),
// and the queue is first in, first out.
//
// A call whose caller got its answer is reused (the batcher's pool), with
// its done channel: a call is answered once (answer), by a send, never a
// close. An abandoned call, and one answered by its deadline, are never
// reused, since a worker may still hold them.
type call struct {
	req      request
	state    atomic.Int32 // queued, taken, abandoned or answered
	deadline int64        // Store.mono: when the caller must have its answer
	vals     []int64
	err      error
	done     chan struct{} // one send when vals and err are set
	key      [1]string     // req.keys of a single-limit request
}

// getCall returns a queued call, from the pool or new.
func (b *batcher) getCall(req request) *call {
	c, _ := b.pool.Get().(*call)
	if c == nil {
		c = &call{done: make(chan struct{}, 1)}
	}
	c.req = req
	c.state.Store(queued)
	return c
}

// putCall recycles c, whose caller has received its answer.
func (b *batcher) putCall(c *call) {
	c.req, c.vals, c.err, c.key[0] = request{}, nil, nil, ""
	b.pool.Put(c)
}

// The states of a call.
const (
	queued int32 = iota
	taken
	abandoned
	answered
)

// answer gives c's caller its outcome unless c has been answered already:
// for the calls of a batch out at Redis, the worker's deadline timer and
// the reply race, and the first wins.
func (c *call) answer(vals []int64, err error) {
	if c.state.CompareAndSwap(taken, answered) {
		c.vals, c.err = vals, err
		c.done <- struct{}{}
	}
}

// take claims c for a run; false means its caller has abandoned it.
func (c *call) take() bool { return c.state.CompareAndSwap(queued, taken) }

// abandon gives c up unless a worker has taken it already; false means a
// worker has, and will answer it.
func (c *call) abandon() bool { return c.state.CompareAndSwap(queued, abandoned) }

// workers is the number of script runs in flight at once: enough to keep
// Redis busy while replies travel back, few enough that batches grow
// large under load (Redis and the client both spend less per decision in
// a large batch: with 64 callers, 2 workers make batches of about 18
// where 4 made about 10).
const workers = 2

func newBatcher(s *Store, max int) *batcher {
	b := &batcher{s: s, max: max, queue: make(chan *call, 4096), stop: make(chan struct{}), run: s.eval, dedicated: true}
	b.wg.Add(workers)
	for range workers {
		go b.work()
	}
	return b
}

// close stops the workers, then answers every call still queued with
// store.ErrClosed. A caller that queues a call after that last drain sees
// done set and drains the queue itself (do), so no call is left waiting.
func (b *batcher) close() {
	b.done.Store(true)
	close(b.stop)
	b.drain() // now, so that no call waits on a worker stuck in its client
	b.wg.Wait()
	b.drain()
}

// drain answers every queued call with store.ErrClosed.
func (b *batcher) drain() {
	for {
		select {
		case c := <-b.queue:
			if c.take() {
				c.answer(nil, errClosed)
			}
		default:
			return
		}
	}
}

// errTimeout is the answer to a decision that reached the Store's timeout.
var errTimeout = &store.UnavailableError{Op: "ratelimit", Err: context.DeadlineExceeded}

// do queues one decision and waits for its values: at most the store's
// timeout (an outage: store.ErrUnavailable, answered by a worker) or until
// ctx is done (the caller gave up: ctx.Err(), not an outage).
func (b *batcher) do(ctx context.Context, c *call) ([]int64, error) {
	c.deadline = b.s.mono() + int64(b.s.timeout)
	select {
	case b.queue <- c:
	default:
		if err := b.enqueueFull(ctx, c); err != nil {
			b.putCall(c) // never queued
			return nil, err
		}
	}
	if b.done.Load() {
		b.drain() // the Store is closing: its final drain may have run already
	}
	// Every queued call is answered: by a worker, by its deadline; or by
	// a drain, once the Store closes.
	if ctxDone := ctx.Done(); ctxDone == nil {
		<-c.done
	} else {
		select {
		case <-c.done:
		case <-ctxDone:
			c.abandon() // if a worker took it already, it is answered to no one
			return nil, ctx.Err()
		}
	}
	vals, err := c.vals, c.err
	if err != error(errTimeout) {
		// A call answered by its deadline may still be in its worker's
		// batch (worker.out): it is never reused.
		b.putCall(c)
	}
	return vals, err
}

// enqueueFull waits for room in a full queue (Redis far behind the load),
// at most until c's deadline.
func (b *batcher) enqueueFull(ctx context.Context, c *call) error {
	t := time.NewTimer(time.Duration(c.deadline - b.s.mono()))
	defer t.Stop()
	select {
	case b.queue <- c:
		return nil
	case <-t.C:
		return errTimeout
	case <-ctx.Done():
		return ctx.Err()
	case <-b.stop:
		return errClosed
	}
}

// worker runs batches, one at a time. While a batch is out at Redis, the
// worker's timer answers each call whose deadline comes first (errTimeout)
// and the reply answers the rest; the batch runs with the latest deadline
// of its calls as its context deadline, so that a call that waited in the
// queue does not shorten the others' time.
//
// out holds the calls of the batch out at Redis that the reply has not
// answered: each is taken (unanswered) or was answered by the timer — and
// a call answered by its deadline is never reused (do), so the timer never
// meets a call that has moved on to another decision. (Were it to, it
// would still answer that call only once past the call's own deadline,
// as the call's own worker would.)
//
// A worker whose every call has been answered by its deadline while the
// client still has not returned (a client that ignores its context: e.g.
// rueidis waiting for room in a full pipeline) hands over to a new worker
// (after handoverGrace) and exits once the client returns, so that the
// queue never waits on a stuck worker. While Redis is unreachable the
// breaker soon stops new decisions from queueing, which bounds how many
// workers can be stuck.
type worker struct {
	b        *batcher
	mu       sync.Mutex
	out      []*call // under mu
	timer    *time.Timer
	replaced bool // under mu: a new worker took over
	waited   bool // under mu: every call of the batch out was answered, and the grace began
	own      ownConn
}

func (b *batcher) work() {
	defer b.wg.Done()
	w := &worker{b: b}
	defer w.own.exit(b)
	w.timer = time.AfterFunc(time.Hour, w.expire)
	w.timer.Stop()
	batch := make([]*call, 0, b.max)
	reqs := make([]request, 0, b.max)
	for {
		batch = batch[:0]
		select {
		case c := <-b.queue:
			if c.take() {
				batch = append(batch, c)
			}
		case <-b.stop:
			w.mu.Lock()
			w.timer.Stop()
			w.mu.Unlock()
			return
		}
	drain:
		for len(batch) < b.max {
			select {
			case c := <-b.queue:
				if c.take() { // else abandoned: dropped unsent
					batch = append(batch, c)
				}
			default:
				break drain
			}
		}
		// Calls past their deadline are answered now, unsent.
		now, n := b.s.mono(), 0
		first, last := int64(math.MaxInt64), int64(math.MinInt64)
		for _, c := range batch {
			if c.deadline <= now {
				c.answer(nil, errTimeout)
				continue
			}
			first, last = min(first, c.deadline), max(last, c.deadline)
			batch[n] = c
			n++
		}
		clear(batch[n:])
		batch = batch[:n]
		if len(batch) == 0 {
			continue
		}
		w.mu.Lock()
		w.out, w.waited = batch, false
		w.timer.Reset(time.Duration(first - now))
		w.mu.Unlock()
		ctx, cancel := context.WithDeadline(context.Background(), b.s.base.Add(time.Duration(last)))
		if len(batch) > 1 && b.s.cluster() {
			// Keys of different requests live in different slots: one
			// script run each, pipelined by the client.
			w.each(ctx, batch)
		} else {
			reqs = reqs[:0]
			for _, c := range batch {
				reqs = append(reqs, c.req)
			}
			client, own := w.conn()
			vals, err := b.run(ctx, client, reqs)
			if err != nil && own {
				w.own.failed(b, err)
			}
			w.mu.Lock()
			w.timer.Stop()
			off := 0
			for _, c := range batch {
				if err != nil {
					c.answer(nil, err)
				} else {
					n := c.req.b.width
					c.answer(vals[off:off+n:off+n], nil)
					off += n
				}
			}
			clear(batch)
			w.out = nil // in the same locked section as the answers
			w.mu.Unlock()
			clear(reqs)
		}
		cancel()
		w.mu.Lock()
		w.timer.Stop()
		w.out = nil
		replaced := w.replaced
		w.mu.Unlock()
		if replaced {
			return
		}
	}
}

// conn returns the client for w's next batch and whether it is w's own
// connection: its own when it has one, else the shared client — and then,
// unless an attempt is under way or one failed within the last
// ownConnRetry, it starts getting one in the background (dialing may take
// up to the dial timeout, which no decision may wait for). Only a
// standalone client gives connections of their own: a Cluster client's
// would be tied to one slot, and a Sentinel client's would stay with the
// old master after a failover.
func (w *worker) conn() (rueidis.CoreClient, bool) {
	s := w.b.s
	if !w.b.dedicated || s.client.Mode() != rueidis.ClientModeStandalone {
		return s.client, false
	}
	if c := w.own.get(); c != nil {
		return c, true
	}
	if w.own.begin(s.mono()) {
		go w.own.dial(w.b)
	}
	return s.client, false
}

// ownConnRetry is how long a worker uses the shared client after its own
// connection failed, or an attempt to get one did, before it tries again.
const ownConnRetry = time.Second

// ownConn is a worker's own connection and the attempt to get one. The
// worker and the goroutine dialing meet under mu: a connection that
// arrives after the worker exited is released at once.
type ownConn struct {
	mu      sync.Mutex
	c       rueidis.DedicatedClient
	release func()
	dialing bool
	retryAt int64 // Store.mono: no attempt before
	exited  bool
}

func (o *ownConn) get() rueidis.DedicatedClient {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.c
}

// begin reports whether the caller should start an attempt now.
func (o *ownConn) begin(now int64) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.c != nil || o.dialing || o.exited || now < o.retryAt {
		return false
	}
	o.dialing = true
	return true
}

// dial gets a dedicated connection and checks it with a PING within the
// Store's timeout. A connection that fails, or that a client no longer
// standalone gave (a lazy client that connected to a Cluster), is
// released, and the next attempt waits ownConnRetry.
func (o *ownConn) dial(b *batcher) {
	s := b.s
	c, release := s.client.Dedicate()
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	err := c.Do(ctx, c.B().Ping().Build()).Error()
	cancel()
	o.mu.Lock()
	defer o.mu.Unlock()
	o.dialing = false
	if err != nil || o.exited || s.client.Mode() != rueidis.ClientModeStandalone {
		go release() // it may wait for the connection to close
		o.retryAt = s.mono() + int64(ownConnRetry)
		return
	}
	o.c, o.release = c, release
	b.owned.Add(1)
}

// failed drops the connection after err, unless err is Redis's own error
// reply (a script error, OOM, LOADING: the connection is still in step).
// rueidis closes a dedicated connection on any other error, a timeout
// included (its late reply would otherwise be read as the next batch's).
func (o *ownConn) failed(b *batcher, err error) {
	if re := (*rueidis.RedisError)(nil); !errors.As(err, &re) {
		o.drop(b, false)
	}
}

// exit releases the connection as its worker exits.
func (o *ownConn) exit(b *batcher) { o.drop(b, true) }

func (o *ownConn) drop(b *batcher, exit bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.exited = o.exited || exit
	if o.c != nil {
		go o.release() // it may wait for the connection to close
		o.c, o.release = nil, nil
		o.retryAt = b.s.mono() + int64(ownConnRetry)
		b.owned.Add(-1)
	}
}

// expire answers the calls out at Redis whose deadline has passed, and
// sets the timer for the next deadline.
func (w *worker) expire() {
	w.mu.Lock()
	defer w.mu.Unlock()
	now, next, out := w.b.s.mono(), int64(math.MaxInt64), false
	for _, c := range w.out {
		switch {
		case c == nil: // answered by its own reply (Cluster mode)
			continue
		case c.deadline <= now:
			c.answer(nil, errTimeout)
		case c.state.Load() == taken:
			next = min(next, c.deadline)
		}
		out = true
	}
	switch {
	case next != math.MaxInt64:
		w.timer.Reset(time.Duration(next - now))
	case !out || w.replaced || w.b.done.Load():
	case !w.waited:
		// Every call answered. A client that honours the context returns
		// about now: hand over only if it has not within a grace period.
		w.waited = true
		w.timer.Reset(handoverGrace)
	default:
		// The client has not returned: it ignores the context.
		w.replaced = true
		w.b.wg.Add(1) // w has not called Done (it still has calls out): the count is positive
		go w.b.work()
	}
}

// handoverGrace is how long a worker whose calls have all been answered
// by their deadlines waits for its client before handing over (see
// worker): a client that honours the context returns at the batch's last
// deadline, so no handover is needed then. Calls queued behind a stuck
// client are answered up to this much past their deadlines.
const handoverGrace = 5 * time.Millisecond

// each runs every call of batch (w.out) as its own script, concurrently.
func (w *worker) each(ctx context.Context, batch []*call) {
	var wg sync.WaitGroup
	for i, c := range batch {
		wg.Go(func() {
			vals, err := w.b.run(ctx, w.b.s.client, []request{c.req})
			w.mu.Lock()
			c.answer(vals, err)
			batch[i] = nil // answered by its reply: out of the timer's sight
			w.mu.Unlock()
		})
	}
	wg.Wait()
}

// denyCache remembers keys that Redis refused, until the time Redis said
// the same request could be retried.
type denyCache struct {
	seed   maphash.Seed
	max    int // per shard
	shards [16]denyShard
}

type denyShard struct {
	mu sync.Mutex
	m  map[uint64]denyEntry
	_  [40]byte
}

type denyEntry struct {
	until     int64 // the Store's clock: when the refused request may be retried
	reset     int64 // when the limit is back to full
	cost      int   // the cost refused
	remaining int   // units left when refused (a lower bound until then)
}

func newDenyCache(n int) *denyCache {
	d := &denyCache{seed: maphash.MakeSeed(), max: max(1, n/16)}
	for i := range d.shards {
		d.shards[i].m = make(map[uint64]denyEntry)
	}
	return d
}

// get reports whether a request of cost for key hash h is known to be
// refused at now.
func (d *denyCache) get(h uint64, now int64, cost int) (denyEntry, bool) {
	sh := &d.shards[h&15]
	sh.mu.Lock()
	e, ok := sh.m[h]
	if ok && now >= e.until {
		delete(sh.m, h)
		ok = false
	}
	sh.mu.Unlock()
	// Only the same cost: a larger one is refused too, but its retry time
	// would be later than the one remembered.
	return e, ok && cost == e.cost
}

func (d *denyCache) put(h uint64, e denyEntry) {
	sh := &d.shards[h&15]
	sh.mu.Lock()
	// A newer refusal replaces an older one: each is true on its own, a
	// merge of the two might not be.
	if _, ok := sh.m[h]; !ok && len(sh.m) >= d.max {
		// Full: drop an arbitrary entry (map order is random). Losing one
		// costs a round trip, never a wrong admission.
		for k := range sh.m {
			delete(sh.m, k)
			break
		}
	}
	sh.m[h] = e
	sh.mu.Unlock()
}
