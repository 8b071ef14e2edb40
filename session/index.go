package session

import (
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/bulwark-go/bulwark/audit"
)

// ErrNotSupported is returned by RevokeUser in encrypted-cookie mode,
// which keeps no list of a user's sessions.
var ErrNotSupported = errors.New("session: encrypted-cookie sessions cannot be ended server-side; use Options.Store")

// indexEntry is one session in a user's session list.
type indexEntry struct {
	ref               string // the session's reference (never its ID)
	created, deadline int64
}

// indexTries bounds the compare-and-swap retries of a list update.
const indexTries = 16

func (m *Manager) indexKey(subject string) string { return m.prefix + "u:" + subject }

func encodeIndex(es []indexEntry) []byte {
	b := binary.AppendUvarint(make([]byte, 0, 1+len(es)*(refLen+20)), uint64(len(es)))
	for _, e := range es {
		b = appendString(b, e.ref)
		b = binary.AppendVarint(b, e.created)
		b = binary.AppendVarint(b, e.deadline)
	}
	return b
}

func decodeIndex(b []byte) []indexEntry {
	d := decoder{s: string(b)}
	n := d.count(3)
	es := make([]indexEntry, 0, n+1)
	for range n {
		e := indexEntry{ref: d.string(), created: d.varint(), deadline: d.varint()}
		if d.err {
			return nil // a damaged list: start over rather than fail logins
		}
		es = append(es, e)
	}
	return es
}

// updateIndex changes subject's session list: it drops the references
// in remove ("" is none) and the sessions past their absolute timeout, adds add (may be
// nil) and, over Options.MaxSessionsPerUser, ends the oldest sessions and
// returns how many. The list lives as long as its longest session.
func (m *Manager) updateIndex(ctx context.Context, subject string, add *indexEntry, remove ...string) (evicted int, err error) {
	key := m.indexKey(subject)
	for range indexTries {
		old, found, err := m.kv.Get(ctx, key)
		if err != nil {
			return 0, err
		}
		if !found {
			old = nil
		}
		now := m.now().UnixNano()
		es := slices.DeleteFunc(decodeIndex(old), func(e indexEntry) bool {
			return e.deadline <= now || slices.Contains(remove, e.ref) || (add != nil && e.ref == add.ref)
		})
		if add != nil {
			es = append(es, *add)
		}
		var victims []string
		if m.maxPerUser > 0 && len(es) > m.maxPerUser {
			// Sessions that timed out early (idle) or ended still count
			// until checked: check them now, before ending a live one.
			es = slices.DeleteFunc(es, func(e indexEntry) bool {
				if add != nil && e.ref == add.ref {
					return false
				}
				_, ok, err := m.kv.Get(ctx, m.sPrefix+e.ref)
				return err == nil && !ok
			})
			slices.SortStableFunc(es, func(a, b indexEntry) int { return cmpInt64(a.created, b.created) })
			for len(es) > m.maxPerUser {
				i := 0
				if add != nil && es[0].ref == add.ref && len(es) > 1 {
					i = 1 // never the new one
				}
				victims = append(victims, es[i].ref)
				es = slices.Delete(es, i, i+1)
			}
		}
		var next []byte
		var ttl time.Duration
		if len(es) > 0 {
			var last int64
			for _, e := range es {
				last = max(last, e.deadline)
			}
			next, ttl = encodeIndex(es), time.Duration(last-now)
		}
		if old == nil && next == nil {
			return 0, nil
		}
		ok, err := m.cas(ctx, key, old, next, ttl)
		if err != nil {
			return 0, err
		}
		if !ok {
			continue // another login or logout of the user came first
		}
		for _, id := range victims {
			if err := m.kv.Delete(ctx, m.sPrefix+id); err != nil {
				return len(victims), err
			}
		}
		return len(victims), nil
	}
	return 0, errors.New("session: the user's session list kept changing; gave up updating it")
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// RevokeUser ends every session of the user subject ("log out
// everywhere": after a password change, or by an administrator) and
// returns how many it ended (audit reason sessions_revoked_all). It costs
// one store round trip for the user's list, one per session, and one or
// two to shorten the list. A login that completes while it runs survives
// it. When the store fails midway it returns the error and the sessions
// ended so far: the list still names every session not yet ended, so
// calling it again finishes the job. In encrypted-cookie mode it returns
// ErrNotSupported.
func (m *Manager) RevokeUser(ctx context.Context, subject string) (int, error) {
	return m.revokeUser(ctx, nil, subject)
}

func (m *Manager) revokeUser(ctx context.Context, r *http.Request, subject string) (int, error) {
	if m.aead != nil {
		return 0, ErrNotSupported
	}
	b, found, err := m.kv.Get(ctx, m.indexKey(subject))
	if err != nil || !found {
		return 0, err
	}
	// Sessions first, the list after: a failure leaves every session
	// not yet ended on the list, for a retry to find.
	es := decodeIndex(b)
	refs := make([]string, 0, len(es))
	n := 0
	for _, e := range es {
		_, found, err := m.kv.Take(ctx, m.sPrefix+e.ref)
		if err != nil {
			return n, err
		}
		if found {
			n++
		}
		refs = append(refs, e.ref)
	}
	if _, err := m.updateIndex(ctx, subject, nil, refs...); err != nil {
		return n, err
	}
	m.event(r, audit.Allow, "sessions_revoked_all", subject, slog.Int("sessions", n))
	return n, nil
}
