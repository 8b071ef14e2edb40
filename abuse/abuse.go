package abuse

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/clientip"
	"github.com/bulwark-go/bulwark/problem"
	"github.com/bulwark-go/bulwark/store"
)

// DetectorOptions configure a Detector.
type DetectorOptions struct {
	// Name identifies the detector in keys and audit events, e.g.
	// "card-testing". Required; letters, digits, '-' and '_'.
	Name string
	// Store holds the sets. Required.
	Store store.Sets
	// Threshold is the number of distinct values a key may show within the
	// window; one more blocks (or flags) it. Required, > 0.
	Threshold int
	// Window is the retention window, restarted by every attempt.
	// Default 1 hour.
	Window time.Duration
	// Secret keys the fingerprint HMAC. Required: at least 32 bytes, so
	// that stored fingerprints cannot be reversed by brute force over the
	// small space of, say, last-four-digits × expiry.
	Secret []byte
	// FailOpen decides what happens when the store is unavailable: true
	// lets the request through (and audits the outage), false (the default)
	// refuses with 503.
	FailOpen bool
	// Audit receives one event per block or flag. Default: none.
	Audit audit.Sink
	// ErrorHandler writes denials. Default problem.Write.
	ErrorHandler problem.Handler
}

// Detector counts distinct values per key. Safe for concurrent use.
type Detector struct {
	opts DetectorOptions
	deny problem.Denier
}

// Verdict is the outcome of one observation.
type Verdict struct {
	// Distinct is the number of distinct values the key has shown within
	// the window, this one included.
	Distinct int64
	// Exceeded is true when Distinct is above the threshold.
	Exceeded bool
}

// NewDetector validates opts and returns a Detector: the mechanism a
// handler calls by hand. Most code wants the guard (New) instead.
func NewDetector(opts DetectorOptions) (*Detector, error) {
	switch {
	case opts.Name == "" || strings.Trim(opts.Name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "":
		return nil, fmt.Errorf("abuse: Name %q must be non-empty letters, digits, '-' or '_'", opts.Name)
	case opts.Store == nil:
		return nil, errors.New("abuse: Store is required (memstore for one process, redisstore for many)")
	case opts.Threshold <= 0:
		return nil, errors.New("abuse: Threshold must be positive")
	case len(opts.Secret) < 32:
		return nil, errors.New("abuse: Secret must be at least 32 random bytes (e.g. `openssl rand -base64 32`): fingerprints of low-entropy values are only safe under a strong key")
	}
	if opts.Window <= 0 {
		opts.Window = time.Hour
	}
	opts.Secret = append([]byte(nil), opts.Secret...)
	return &Detector{opts: opts, deny: problem.Denier{Guard: "abuse", Audit: opts.Audit, Handler: opts.ErrorHandler}}, nil
}

// Fingerprint returns a keyed hash of parts (joined unambiguously), to use
// as the observed value.
func (d *Detector) Fingerprint(parts ...string) string {
	m := hmac.New(sha256.New, d.opts.Secret)
	for _, p := range parts {
		fmt.Fprintf(m, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// UnknownClient is what ClientKey returns for a request whose client
// cannot be told: all such requests count as one client, so that they are
// counted together rather than not at all.
const UnknownClient = "unknown"

// ClientKey returns the key of r's client, for Observe and Exceeded (as
// the key of a detector per client, or the value of one per account):
// clientip.RequestKey(r) — the address the identity guard resolved, IPv6
// by /64 — or UnknownClient.
func ClientKey(r *http.Request) string {
	if k := clientip.RequestKey(r); k != "" {
		return k
	}
	return UnknownClient
}

// grouped returns s as a client key when it is an IP address (see "Keys by
// client" in the package documentation), else s unchanged.
func grouped(s string) string {
	if len(s) < 2 || len(s) > 64 || strings.IndexByte(s, '/') >= 0 {
		return s
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return s
	}
	var buf [48]byte
	return string(clientip.AppendKey(buf[:0], a))
}

func (d *Detector) key(k string) string { return "abuse:" + d.opts.Name + ":" + grouped(k) }

// Observe records value (already fingerprinted, or any non-secret string)
// for key, restarts key's window, and reports whether key is now over the
// threshold. A key or value that is an IP address counts as its client
// (IPv6 by /64); use ClientKey(r) to say so outright.
func (d *Detector) Observe(ctx context.Context, key, value string) (Verdict, error) {
	n, err := d.opts.Store.AddToSet(ctx, d.key(key), grouped(value), d.opts.Window)
	if err != nil {
		return Verdict{}, err
	}
	return Verdict{Distinct: n, Exceeded: n > int64(d.opts.Threshold)}, nil
}

// Exceeded reports whether key is over the threshold, recording no value
// but restarting key's window, as every attempt does (the seed: a blocked
// client that keeps trying stays blocked until the window passes in
// silence). The restart needs a store.DistinctCounter (memstore and
// redisstore are); on other stores Exceeded only reads. A key that is an
// IP address counts as its client, as in Observe.
func (d *Detector) Exceeded(ctx context.Context, key string) (bool, error) {
	if dc, ok := d.opts.Store.(store.DistinctCounter); ok {
		ops := [1]store.DistinctOp{{Key: d.key(key), TTL: d.opts.Window, Sliding: true}}
		err := dc.CountDistinct(ctx, ops[:])
		return ops[0].Size > int64(d.opts.Threshold), err
	}
	n, err := d.opts.Store.SetSize(ctx, d.key(key))
	return n > int64(d.opts.Threshold), err
}

// Deny refuses r with a 403 problem (type problem.TypeAbuse) and one
// audit event whose reason is Options.Name.
func (d *Detector) Deny(w http.ResponseWriter, r *http.Request, detail string) {
	d.deny.Deny(w, r, problem.Forbidden(problem.TypeAbuse, detail).WithReason(d.opts.Name))
}

// Flag records an audit event (decision "flag", reason Options.Name, and
// the attribute "distinct", v.Distinct) without refusing anything.
func (d *Detector) Flag(r *http.Request, v Verdict) {
	if d.opts.Audit == nil {
		return
	}
	e := audit.FromRequest(r, "abuse", audit.Flag, d.opts.Name)
	e.Attrs = append(e.Attrs, slogInt("distinct", v.Distinct))
	d.opts.Audit.Record(r.Context(), e)
}

// Unavailable handles a store error according to FailOpen: it returns true
// when the request may continue; otherwise it has written a 503.
func (d *Detector) Unavailable(w http.ResponseWriter, r *http.Request, err error) bool {
	if d.opts.FailOpen {
		if d.opts.Audit != nil {
			e := audit.FromRequest(r, "abuse", audit.Flag, "store_unavailable_fail_open")
			d.opts.Audit.Record(r.Context(), e)
		}
		return true
	}
	d.deny.Deny(w, r, problem.Unavailable(5*time.Second, "abuse detection is temporarily unavailable").WithReason("store_unavailable").WithErr(err))
	return false
}
