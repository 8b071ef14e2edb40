package jwt

import (
	"context"
	"errors"
	"time"

	"github.com/bulwark-go/bulwark/store"
)

// revocations is the denylist of revoked tokens (by jti) and sessions (by
// sid, the refresh-token family), kept in a store.Store shared by every
// replica. An entry lives until the last token it covers has expired, so
// the list never grows beyond the tokens still alive.
//
// Every verification, cached or not, asks the store: revocation takes
// effect on every replica at the next request. A token with both a jti and
// a sid is checked in one round trip when the store implements
// store.AnyExister (redisstore: two pipelined EXISTS); otherwise (memstore,
// in-process) with two lookups, the jti first and the sid only when the jti
// is not revoked.
type revocations struct {
	st     store.Store
	multi  store.AnyExister // st, when it can test both keys at once
	prefix string
	leeway time.Duration
}

var revokedValue = []byte{'1'}

func (rv *revocations) jtiKey(jti string) string {
	if jti == "" {
		return ""
	}
	return rv.prefix + "revoked:jti:" + jti
}

func (rv *revocations) sidKey(sid string) string {
	if sid == "" {
		return ""
	}
	return rv.prefix + "revoked:sid:" + sid
}

// ttl keeps an entry until until (+ leeway, since verification accepts a
// token that long past its exp), and at least a second.
func (rv *revocations) ttl(until, now time.Time) time.Duration {
	d := until.Sub(now) + rv.leeway + time.Second
	if d < time.Second {
		d = time.Second
	}
	return d
}

func (rv *revocations) revokeToken(ctx context.Context, jti string, until, now time.Time) error {
	if jti == "" {
		return errors.New("jwt: the token has no jti and cannot be revoked individually")
	}
	return rv.st.Set(ctx, rv.jtiKey(jti), revokedValue, rv.ttl(until, now))
}

func (rv *revocations) revokeSession(ctx context.Context, sid string, until, now time.Time) error {
	if sid == "" {
		return errors.New("jwt: no session to revoke")
	}
	return rv.st.Set(ctx, rv.sidKey(sid), revokedValue, rv.ttl(until, now))
}

// revoked reports whether either key is on the denylist.
func (rv *revocations) revoked(ctx context.Context, jtiKey, sidKey string) (bool, error) {
	if rv.multi != nil && jtiKey != "" && sidKey != "" {
		return rv.multi.ExistsAny(ctx, jtiKey, sidKey)
	}
	if jtiKey != "" {
		_, found, err := rv.st.Get(ctx, jtiKey)
		if err != nil || found {
			return found, err
		}
	}
	if sidKey != "" {
		_, found, err := rv.st.Get(ctx, sidKey)
		return found, err
	}
	return false, nil
}
