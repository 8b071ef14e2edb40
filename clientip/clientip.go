// Package clientip is Bulwark's first guard: it decides who the client is.
//
// It resolves the client IP address with an explicit trust model, decides
// whether the client connected over HTTPS, assigns the request ID, and
// records all three in the request state (internal/reqctx) that every later
// guard, the audit log and the problem writer read.
//
// # Trust model
//
// No forwarding header is trusted by default: with neither TrustedProxies
// nor TrustedHops set, the client IP is the address of the TCP peer
// (r.RemoteAddr), full stop, whatever Forwarded, X-Forwarded-For or
// X-Real-IP say.
//
// When the peer is a trusted proxy, the forwarding header is walked from the
// right (the end the proxies append to), skipping addresses of trusted
// proxies; the first untrusted address is the client. With TrustedHops N the
// peer and the N-1 right-most entries are the trusted proxies and the N-th
// entry from the right is the client, whatever the addresses. That is
// brittle — a request that reaches the server without passing through
// every proxy can choose its IP — so prefer TrustedProxies when the
// proxies' addresses are known.
//
// Parsing fails closed: an entry that is not an address, an "unknown" or
// obfuscated identifier, or a malformed element stops the walk, and the
// client is the nearest trusted address reached so far (at worst the peer
// itself) — never a value a client could have written. At most 32 entries
// are walked, right to left, without splitting the header, so a header of
// 10,000 entries costs no more than one of 33.
//
// When several listed headers are present on one request (say Forwarded and
// X-Forwarded-For), each is resolved and they must name the same client. A
// proxy that appends to one header usually passes the other through
// untouched, so "use the first present header" would let any client spoof
// its address by sending the header the proxy ignores. List in Headers only
// the headers your proxies set; the default is X-Forwarded-For alone, the
// header nearly every proxy and load balancer appends to.
//
// The scheme is read from the same trusted hops. A request arrived over
// HTTPS when its connection is TLS; or, through a trusted peer, when the
// Forwarded element the client was read from says proto=https; or, when
// X-Forwarded-For or X-Real-IP is listed, when the right-most value of
// X-Forwarded-Proto is https — the value the trusted peer wrote, as
// anything to its left may be the client's. The headers guard (package
// headers) sends HSTS by this verdict.
//
// # Malformed forwarding headers
//
// A trusted proxy's forwarding header that cannot be parsed where the walk
// reads it, or two listed headers that name different clients, mean a
// misconfigured proxy or a spoofing attempt. Handler refuses such a request
// with a 400 problem (type forwarding-header-invalid) and one audit event,
// so that no client is silently keyed, limited and logged as the proxy.
// Options.TolerateInvalidForwarding keeps the request instead: the client
// is then the nearest trusted address reached (at worst the peer) and the
// event is a flag. Garbage a client writes to the left of the address its
// proxy appended is never read, so it cannot trigger either.
//
// This guard runs before the security headers (package headers), so its
// 400 carries, beside the request ID, only the headers problem.Write sets
// on every problem, not the rest of the profile: no HSTS, COOP, CORP or
// Permissions-Policy.
//
// r.RemoteAddr is never rewritten: the peer stays visible to handlers.
//
// # Request IDs
//
// Every request gets an ID, echoed in the response header and carried in
// every problem response, access-log line and audit event. An incoming ID
// is kept only when a trusted proxy sent the request (the peer is in
// TrustedProxies, or TrustedHops is set) and it is well formed (at most 64
// bytes of [A-Za-z0-9._:-]), so that a request can be followed from the
// proxy through the services behind it. From anyone else an ID is a
// client's word: kept, it would let any client plant misleading IDs in the
// audit log, or make many requests share one. Those get a fresh,
// unguessable ID (128 random bits, 26 base32 characters) instead. Your
// proxy must set the header itself or drop the client's; a proxy that
// passes it through vouches for it. Options.AcceptRequestIDFromAnyClient
// keeps well-formed IDs from every client (for a service only other
// services reach); Options.IgnoreIncomingRequestID keeps none.
//
// Place this guard outermost, with recovery (package recovery) directly
// inside it, so that every response — a 500 after a panic included — carries
// the request ID.
package clientip

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"strings"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/internal/httpsyntax"
	"github.com/bulwark-go/bulwark/internal/reqctx"
	"github.com/bulwark-go/bulwark/problem"
)

// MaxHops is the most forwarding-header entries walked for one request.
const MaxHops = 32

// Header names this package understands in Options.Headers.
const (
	HeaderForwarded     = "Forwarded"       // RFC 7239
	HeaderXForwardedFor = "X-Forwarded-For" // de facto standard
	HeaderXRealIP       = "X-Real-IP"       // nginx; one address
)

// DefaultRequestIDHeader is the header that carries the request ID.
const DefaultRequestIDHeader = "X-Request-ID"

// Options configures an Identity. The zero value trusts no proxy: the
// client IP is the TCP peer's address.
type Options struct {
	// TrustedProxies lists the proxies whose forwarding headers are
	// believed: CIDR prefixes ("10.0.0.0/8", "2001:db8::/32"), single
	// addresses ("192.0.2.10"), or the keywords "loopback" (127.0.0.0/8,
	// ::1), "private" (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16,
	// fc00::/7), "linklocal" (169.254.0.0/16, fe80::/10) and "unix" (a peer
	// without an IP address, such as a Unix-socket connection).
	// Default: none. A prefix that covers every address ("0.0.0.0/0",
	// "::/0") is refused: it would let any client choose its IP.
	TrustedProxies []string `json:"trusted_proxies,omitempty" yaml:"trusted_proxies,omitempty"`

	// TrustedHops, as an alternative to TrustedProxies, trusts exactly this
	// many proxies in front of the server, whatever their addresses (see
	// the package documentation for its risk). Default 0 (off); at most
	// MaxHops; cannot be combined with TrustedProxies.
	TrustedHops int `json:"trusted_hops,omitempty" yaml:"trusted_hops,omitempty"`

	// Headers lists the forwarding headers consulted when the peer is
	// trusted: "Forwarded", "X-Forwarded-For" and/or "X-Real-IP" (case
	// does not matter). When more than one of them is present on a request
	// they must agree. X-Forwarded-Proto is consulted for the scheme when
	// X-Forwarded-For or X-Real-IP is listed, the Forwarded "proto"
	// parameter when Forwarded is (see the package documentation for both).
	// Default: X-Forwarded-For, the header nearly every proxy appends to.
	Headers []string `json:"headers,omitempty" yaml:"headers,omitempty"`

	// RequestIDHeader is the request and response header carrying the
	// request ID. Default "X-Request-ID".
	RequestIDHeader string `json:"request_id_header,omitempty" yaml:"request_id_header,omitempty"`

	// IgnoreIncomingRequestID makes every request get a fresh ID, even
	// one from a trusted proxy. Default false: a well-formed incoming ID
	// (1 to 64 bytes of [A-Za-z0-9._:-]) from a trusted proxy is kept; any
	// other incoming value is replaced.
	IgnoreIncomingRequestID bool `json:"ignore_incoming_request_id,omitempty" yaml:"ignore_incoming_request_id,omitempty"`

	// AcceptRequestIDFromAnyClient keeps a well-formed incoming ID from
	// any client, not only from trusted proxies. Default false: any client
	// could then choose the ID its requests are logged and audited under.
	// Set it only where every client is a service of yours. Cannot be
	// combined with IgnoreIncomingRequestID.
	AcceptRequestIDFromAnyClient bool `json:"accept_request_id_from_any_client,omitempty" yaml:"accept_request_id_from_any_client,omitempty"`

	// GenerateRequestID appends a new request ID to dst (which has room
	// for reqctx.MaxRequestIDLen bytes) and returns the extended slice. It
	// must return 1 to 64 bytes of [A-Za-z0-9._:-] and be safe for
	// concurrent use. Default: 128 random bits from the runtime's ChaCha8
	// generator, as 26 lower-case base32 characters, without allocating.
	GenerateRequestID func(dst []byte) []byte `json:"-" yaml:"-"`

	// TolerateInvalidForwarding keeps requests whose trusted forwarding
	// header is malformed, or whose listed headers disagree, instead of
	// refusing them with 400: the client is then the nearest trusted
	// address reached (at worst the peer) and the audit event is a flag.
	// Default false (refuse).
	TolerateInvalidForwarding bool `json:"tolerate_invalid_forwarding,omitempty" yaml:"tolerate_invalid_forwarding,omitempty"`

	// Audit receives one event per refused request ("deny", reason
	// forwarding_header_invalid or forwarding_headers_disagree) and a
	// "flag" event for a tolerated one (see TolerateInvalidForwarding) or a
	// walk cut at MaxHops trusted entries (forwarding_header_too_long).
	// Default: no audit.
	Audit audit.Sink `json:"-" yaml:"-"`

	// ErrorHandler writes the 400 problem for a refused request. Default
	// problem.Write.
	ErrorHandler problem.Handler `json:"-" yaml:"-"`
}

// Identity resolves client identity; build it with New. It is safe for
// concurrent use.
type Identity struct {
	prefixes  []netip.Prefix
	trustUnix bool
	hops      int
	sources   []source
	useXFP    bool
	ridKey    string
	keepID    bool // keep a well-formed incoming ID from a trusted proxy
	keepAnyID bool // … from any client
	gen       func([]byte) []byte
	audit     audit.Sink
	tolerate  bool
	deny      problem.Denier
}

type source struct {
	key  string // canonical header key
	kind uint8
}

const (
	kindForwarded uint8 = iota
	kindXFF
	kindXRealIP
)

var keywordPrefixes = map[string][]string{
	"loopback":  {"127.0.0.0/8", "::1/128"},
	"private":   {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"},
	"linklocal": {"169.254.0.0/16", "fe80::/10"},
}

// New validates opts and returns an Identity.
func New(opts Options) (*Identity, error) {
	id := &Identity{
		hops:      opts.TrustedHops,
		keepID:    !opts.IgnoreIncomingRequestID,
		keepAnyID: opts.AcceptRequestIDFromAnyClient,
		gen:       opts.GenerateRequestID,
		audit:     opts.Audit,
		tolerate:  opts.TolerateInvalidForwarding,
		deny:      problem.Denier{Guard: "clientip", Audit: opts.Audit, Handler: opts.ErrorHandler},
	}
	for _, s := range opts.TrustedProxies {
		s = strings.TrimSpace(s)
		if strings.EqualFold(s, "unix") {
			id.trustUnix = true
			continue
		}
		if kw, ok := keywordPrefixes[strings.ToLower(s)]; ok {
			for _, p := range kw {
				id.prefixes = append(id.prefixes, netip.MustParsePrefix(p))
			}
			continue
		}
		p, err := parseTrusted(s)
		if err != nil {
			return nil, err
		}
		id.prefixes = append(id.prefixes, p)
	}
	switch {
	case opts.TrustedHops < 0 || opts.TrustedHops > MaxHops:
		return nil, fmt.Errorf("clientip: TrustedHops is %d; it must be between 0 (off) and %d", opts.TrustedHops, MaxHops)
	case opts.TrustedHops > 0 && len(opts.TrustedProxies) > 0:
		return nil, errors.New("clientip: set TrustedProxies or TrustedHops, not both; prefer TrustedProxies with your proxies' addresses")
	case opts.IgnoreIncomingRequestID && opts.AcceptRequestIDFromAnyClient:
		return nil, errors.New("clientip: IgnoreIncomingRequestID and AcceptRequestIDFromAnyClient contradict each other; set at most one")
	}
	trusting := id.hops > 0 || len(opts.TrustedProxies) > 0

	headers := opts.Headers
	if len(headers) == 0 {
		headers = []string{HeaderXForwardedFor}
	} else if !trusting {
		return nil, errors.New("clientip: Headers has no effect without TrustedProxies or TrustedHops; list your proxies' addresses in TrustedProxies")
	}
	for _, h := range headers {
		var src source
		switch {
		case strings.EqualFold(h, HeaderForwarded):
			src = source{http.CanonicalHeaderKey(HeaderForwarded), kindForwarded}
		case strings.EqualFold(h, HeaderXForwardedFor):
			src = source{http.CanonicalHeaderKey(HeaderXForwardedFor), kindXFF}
			id.useXFP = true
		case strings.EqualFold(h, HeaderXRealIP):
			src = source{http.CanonicalHeaderKey(HeaderXRealIP), kindXRealIP}
			id.useXFP = true
		default:
			return nil, fmt.Errorf("clientip: unknown forwarding header %q in Headers; use %q, %q or %q", h, HeaderForwarded, HeaderXForwardedFor, HeaderXRealIP)
		}
		dup := false
		for _, s := range id.sources {
			dup = dup || s.kind == src.kind
		}
		if !dup {
			id.sources = append(id.sources, src)
		}
	}
	if !trusting {
		id.sources, id.useXFP = nil, false
	}

	rid := opts.RequestIDHeader
	if rid == "" {
		rid = DefaultRequestIDHeader
	}
	if !httpsyntax.IsToken(rid) {
		return nil, fmt.Errorf("clientip: RequestIDHeader %q is not a valid header name", rid)
	}
	id.ridKey = http.CanonicalHeaderKey(rid)
	if g := id.gen; g != nil && !ValidRequestID(string(g(nil))) {
		return nil, errors.New("clientip: GenerateRequestID returned an invalid ID; it must return 1 to 64 bytes of [A-Za-z0-9._:-]")
	}
	return id, nil
}

func parseTrusted(s string) (netip.Prefix, error) {
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		p, err = netip.ParsePrefix(s)
		if err != nil {
			return p, fmt.Errorf("clientip: TrustedProxies entry %q is not a CIDR prefix, an IP address or one of loopback, private, linklocal, unix", s)
		}
		if p.Addr().Is4In6() {
			if p.Bits() < 96 {
				return p, fmt.Errorf("clientip: TrustedProxies entry %q mixes IPv4-mapped and IPv6 addresses; write the IPv4 prefix instead", s)
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return p, fmt.Errorf("clientip: TrustedProxies entry %q is not a CIDR prefix, an IP address (without zone) or one of loopback, private, linklocal, unix", s)
		}
		a = a.Unmap()
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if p.Bits() == 0 {
		return p, fmt.Errorf("clientip: TrustedProxies entry %q trusts every address, which lets any client choose its IP; list your proxies' addresses", s)
	}
	return p.Masked(), nil
}

// ErrInvalidForwarding is the cause (problem.Err) of Check's refusal of a
// request whose trusted forwarding header is malformed or whose listed
// forwarding headers name different clients; test with errors.Is.
var ErrInvalidForwarding = errors.New("clientip: invalid forwarding header from a trusted proxy")

// Handler returns next wrapped so that it sees the request state: client
// IP, HTTPS and request ID (read them with FromContext, IsSecure and
// RequestID). The request ID is echoed in the response header. A request
// whose trusted forwarding header is invalid is refused with 400 unless
// Options.TolerateInvalidForwarding is set (see the package documentation).
func (id *Identity) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, st, flag := id.attach(r, false)
		w.Header()[id.ridKey] = st.HeaderValue()
		if p := id.refusal(flag); p != nil {
			id.deny.Deny(w, r, p)
			return
		}
		if flag != "" && id.audit != nil {
			id.audit.Record(r.Context(), audit.FromRequest(r, "clientip", audit.Flag, flag))
		}
		next.ServeHTTP(w, r)
	})
}

// Check is the guard's decision: it returns a request carrying the request
// state (client IP, HTTPS, request ID; read them with FromContext,
// IsSecure and RequestID) and, when Handler would refuse r, the 400
// problem — a trusted forwarding header that is malformed or contradicts
// another, unless Options.TolerateInvalidForwarding is set. It writes
// nothing and leaves r as it was: what it resolves goes into a copy of r's
// request state.
func (id *Identity) Check(r *http.Request) (*http.Request, *problem.Problem) {
	r, _, flag := id.attach(r, true)
	return r, id.refusal(flag)
}

// attach resolves r's client and returns r carrying the request state, the
// state, and the resolver's flag ("" when the forwarding was clean). A
// state that an outer guard (the access log, metrics) attached is filled
// in, so that it sees what this guard decided — or, with fork, a copy of
// it; a request ID already in it is kept.
func (id *Identity) attach(r *http.Request, fork bool) (*http.Request, *reqctx.State, string) {
	var st *reqctx.State
	if fork {
		r, st = reqctx.Fork(r)
	} else {
		st = reqctx.From(r.Context())
	}
	if st == nil {
		var ctx context.Context
		ctx, st = reqctx.New(r.Context())
		r = r.WithContext(ctx)
	}
	client, secure, flag := id.resolve(r)
	st.ClientIP = client
	st.Secure = secure
	if st.RequestID() == "" {
		id.setRequestID(st, r)
	}
	return r, st, flag
}

// refusal is the problem for a resolver flag that refuses the request.
func (id *Identity) refusal(flag string) *problem.Problem {
	if flag == "" || !refusable(flag) || id.tolerate {
		return nil
	}
	return problem.New(http.StatusBadRequest, problem.TypeForwardingHeader,
		"a forwarding header set by a trusted proxy is malformed or contradicts another").
		WithReason(flag).WithErr(fmt.Errorf("%w (%s)", ErrInvalidForwarding, flag))
}

// refusable reports whether a resolve flag means the request cannot be
// attributed to a client (as opposed to a walk cut short at MaxHops, whose
// result is still an address only trusted proxies wrote).
func refusable(flag string) bool { return flag != flagTooLong }

const (
	flagInvalid  = "forwarding_header_invalid"
	flagDisagree = "forwarding_headers_disagree"
	flagTooLong  = "forwarding_header_too_long"
)

// Resolve returns r's client IP under the trust model, without recording
// anything. The zero Addr means the peer has no IP address (such as an
// untrusted Unix-socket peer). For a request Check refuses, Resolve
// returns the fail-closed answer: the nearest trusted address reached, at
// worst the peer.
func (id *Identity) Resolve(r *http.Request) netip.Addr {
	a, _, _ := id.resolve(r)
	return a
}

// PeerTrusted reports whether r's peer — the connection's other end,
// r.RemoteAddr — is a trusted proxy: in TrustedProxies, or any peer under
// TrustedHops. Guards that read what a proxy vouches for in headers of its
// own (package authn/mtls, the RFC 9440 Client-Cert header) believe them
// only when it is true.
func (id *Identity) PeerTrusted(r *http.Request) bool {
	return id.peerTrusted(parseRemote(r.RemoteAddr))
}

// IsSecure reports whether r's client connected over HTTPS: directly
// (r.TLS is set) or, only when the peer is a trusted proxy, as that proxy
// reports through X-Forwarded-Proto or the Forwarded "proto" parameter.
func (id *Identity) IsSecure(r *http.Request) bool {
	_, s, _ := id.resolve(r)
	return s
}

// setRequestID records r's request ID: the incoming one when it is well
// formed and its sender may choose it (a trusted proxy, or anyone under
// AcceptRequestIDFromAnyClient), else a new one.
func (id *Identity) setRequestID(st *reqctx.State, r *http.Request) {
	var buf [reqctx.MaxRequestIDLen]byte
	if id.keepID {
		if v := r.Header[id.ridKey]; len(v) == 1 && ValidRequestID(v[0]) &&
			(id.keepAnyID || id.peerTrusted(parseRemote(r.RemoteAddr))) {
			n := copy(buf[:], v[0])
			st.SetRequestID(buf[:n])
			return
		}
	}
	if id.gen == nil {
		st.SetRequestID(AppendRequestID(buf[:0]))
		return
	}
	// A custom generator may keep its argument, so its buffer is its own.
	gbuf := make([]byte, 0, reqctx.MaxRequestIDLen)
	st.SetRequestID(id.gen(gbuf))
}

// FromContext returns the client IP recorded by Identity.Handler, or the
// zero Addr when the identity guard did not run.
func FromContext(ctx context.Context) netip.Addr {
	if st := reqctx.From(ctx); st != nil {
		return st.ClientIP
	}
	return netip.Addr{}
}

// RequestID returns the request ID recorded by Identity.Handler, or "".
func RequestID(ctx context.Context) string {
	return reqctx.From(ctx).RequestID()
}

// IsSecure reports whether the client connected over HTTPS, as recorded by
// Identity.Handler; false when the identity guard did not run.
func IsSecure(ctx context.Context) bool {
	if st := reqctx.From(ctx); st != nil {
		return st.Secure
	}
	return false
}

// ValidRequestID reports whether s is an acceptable request ID: 1 to 64
// bytes of [A-Za-z0-9._:-].
func ValidRequestID(s string) bool {
	if len(s) == 0 || len(s) > reqctx.MaxRequestIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !idChars[s[i]] {
			return false
		}
	}
	return true
}

var idChars = func() (t [256]bool) {
	for c := range 256 {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-'
	}
	return t
}()

const idAlphabet = "0123456789abcdefghjkmnpqrstvwxyz" // Crockford's base32, lower case

// AppendRequestID appends a new request ID to dst: 128 bits from the
// runtime's per-thread ChaCha8 generator (math/rand/v2), as 26 base32
// characters. It does not allocate when dst has room for 26 bytes.
func AppendRequestID(dst []byte) []byte {
	var b [26]byte
	for half := range 2 {
		v := rand.Uint64()
		for i := 13*half + 12; i >= 13*half; i-- { // 13 characters carry 64 bits
			b[i] = idAlphabet[v&31]
			v >>= 5
		}
	}
	return append(dst, b[:]...)
}
