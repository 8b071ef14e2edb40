package panel

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bulwark-go/bulwark/audit"
	"github.com/bulwark-go/bulwark/headers"
	"github.com/bulwark-go/bulwark/internal/logsafe"
)

// Window is the span the panel's counts cover: the last hour, in minute
// buckets.
const (
	Window  = time.Hour
	buckets = 60
)

// Defaults and bounds of Options.
const (
	DefaultMaxClients   = 1000
	DefaultRecentEvents = 200
	DefaultRefresh      = 2 * time.Second
	maxPairs            = 256 // distinct guard/reason/policy counts per minute
	maxComponents       = 64  // store-health rows
	maxStatusRows       = 100 // rows flattened from Options.Status
	maxAttrs            = 8   // attributes kept per recent event
	maxValue            = 200 // bytes kept of a displayed value
	shownClients        = 15
	shownRows           = 50
)

// Options configure a Panel. The zero value is ready to use.
type Options struct {
	// Title heads the page. Default "Bulwark security".
	Title string
	// MaxClients bounds the refused client keys counted for the "top
	// refused clients" table: the space-saving algorithm keeps at most
	// this many counters, so memory stays fixed however many clients an
	// attack uses, and any client refused more than 1/MaxClients of the
	// time is among them. Default 1000; at most 100,000.
	MaxClients int
	// RecentEvents is how many recent audit events the page lists.
	// Default 200; at most 10,000.
	RecentEvents int
	// Refresh is how often the page asks for fresh figures. Default 2s;
	// at least 500ms.
	Refresh time.Duration
	// Gatherer, when set, is read on every refresh for the requests and
	// 429s per route that package metrics counts
	// (bulwark_http_requests_total): pass metrics.Metrics.Registry().
	// Default: none (the table is left out).
	Gatherer prometheus.Gatherer
	// Status, when set, returns the current state of the application's
	// stores and outage policies (anything that encodes to JSON: a
	// readiness report, a map of breaker states), shown flattened beside
	// what the audit events told. It runs on every refresh and must be
	// quick. Default: none.
	Status func(context.Context) any
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Panel keeps bounded, in-memory figures from the audit stream and serves
// them as a live page. It is safe for concurrent use. Mount it behind
// authentication and an admin-only authorization check: it shows client
// addresses, principals and request IDs.
type Panel struct {
	opts  Options
	html  *headers.Profile // the page
	api   *headers.Profile // the JSON figures and problems
	mu    sync.Mutex
	st    state
	start time.Time
}

// New returns a Panel, or an error saying which option to fix.
func New(opts Options) (*Panel, error) {
	if opts.Title == "" {
		opts.Title = "Bulwark security"
	}
	switch {
	case opts.MaxClients < 0 || opts.MaxClients > 100_000:
		return nil, fmt.Errorf("panel: MaxClients %d is out of range: use 1 to 100000 (or 0 for %d)", opts.MaxClients, DefaultMaxClients)
	case opts.RecentEvents < 0 || opts.RecentEvents > 10_000:
		return nil, fmt.Errorf("panel: RecentEvents %d is out of range: use 1 to 10000 (or 0 for %d)", opts.RecentEvents, DefaultRecentEvents)
	case opts.Refresh != 0 && opts.Refresh < 500*time.Millisecond:
		return nil, fmt.Errorf("panel: Refresh %v is too short: use at least 500ms (or 0 for %v)", opts.Refresh, DefaultRefresh)
	}
	if opts.MaxClients == 0 {
		opts.MaxClients = DefaultMaxClients
	}
	if opts.RecentEvents == 0 {
		opts.RecentEvents = DefaultRecentEvents
	}
	if opts.Refresh == 0 {
		opts.Refresh = DefaultRefresh
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	html, err := headers.New(headers.HTML())
	if err != nil {
		return nil, err
	}
	api, err := headers.New(headers.API())
	if err != nil {
		return nil, err
	}
	p := &Panel{opts: opts, html: html, api: api, start: opts.Now()}
	p.st.top = newTopK(opts.MaxClients)
	p.st.epoch = p.start
	p.st.recent = make([]EventRow, opts.RecentEvents)
	p.st.components = map[string]*component{}
	return p, nil
}

// state is everything the panel keeps, under Panel.mu.
type state struct {
	minutes    [buckets]bucket
	top, prev  *topK     // refused client keys: this epoch's, the last one's
	epoch      time.Time // when top began; epochs last one Window
	prevEpoch  time.Time
	recent     []EventRow // a ring
	next       int        // where the next event goes in recent
	seen       int64      // events recorded since start
	components map[string]*component
	limits     map[string]string // policy → its description, from the events
}

// bucket holds one minute's counts.
type bucket struct {
	minute int64 // Unix minute; counts are stale when it is not the current one
	counts map[pair]int64
	deny   int64
	flag   int64
}

// pair is what a denial is counted by.
type pair struct{ guard, reason, policy string }

// component is what the audit events told of one store or remote
// dependency.
type component struct {
	guard, name string
	state       string // "ok" or "degraded"
	decision    string // the last reason: the outage policy at work
	since       time.Time
	last        time.Time
	events      int64
}

// Sink returns an audit sink that records every event in the panel and
// then passes it to next (which may be nil). Put it in the application's
// audit chain, next to the metrics sink: metrics.Sink(p.Sink(slogSink)).
func (p *Panel) Sink(next audit.Sink) audit.Sink {
	return sink{p: p, next: audit.OrNop(next)}
}

type sink struct {
	p    *Panel
	next audit.Sink
}

func (s sink) Record(ctx context.Context, e *audit.Event) {
	if e != nil {
		s.p.record(e)
	}
	s.next.Record(ctx, e)
}

// Reasons that tell of a store's or remote dependency's health: the
// outage policy deciding, and its end.
var degradedReasons = map[string]bool{
	"store_unavailable": true, "store_still_unavailable": true, "store_unavailable_fail_open": true,
	"ratelimit_fallback_local": true, "ratelimit_fail_open": true, "ratelimit_fail_closed": true,
	"ratelimit_still_degraded": true, "ratelimit_unavailable": true,
	"jwks_stale": true, "jwks_unavailable": true, "authn_unavailable": true,
}
var recoveredReasons = map[string]bool{"store_recovered": true, "ratelimit_recovered": true, "jwks_recovered": true}

func (p *Panel) record(e *audit.Event) {
	now := p.opts.Now()
	row := eventRow(e, now)
	guard, reason := row.Guard, row.Reason
	var policy, limit string
	if e.Guard == "ratelimit" && (e.Reason == "rate_limited" || e.Reason == "cost_exceeds_limit") {
		policy, limit = ratelimitPolicy(e.Attrs)
	}
	client := ""
	if e.Decision == audit.Deny {
		client = clientKey(e)
	}
	health := degradedReasons[e.Reason] || recoveredReasons[e.Reason]

	p.mu.Lock()
	defer p.mu.Unlock()
	st := &p.st
	st.seen++
	st.recent[st.next] = row
	st.next = (st.next + 1) % len(st.recent)

	b := st.bucket(now)
	switch e.Decision {
	case audit.Deny:
		b.deny++
		k := pair{guard, reason, policy}
		if _, ok := b.counts[k]; !ok && len(b.counts) >= maxPairs {
			k = pair{"(other)", "(other)", ""}
		}
		b.counts[k]++
		if policy != "" && limit != "" && (len(st.limits) < maxComponents || st.limits[policy] != "") {
			if st.limits == nil {
				st.limits = map[string]string{}
			}
			st.limits[policy] = limit
		}
		if client != "" {
			st.rotate(now)
			st.top.add(client)
		}
	case audit.Flag:
		b.flag++
	}
	if health {
		st.health(e, row, now)
	}
}

// bucket returns the current minute's bucket, emptied if it held an older
// minute's counts.
func (st *state) bucket(now time.Time) *bucket {
	m := now.Unix() / 60
	b := &st.minutes[int(m%buckets)]
	if b.minute != m || b.counts == nil {
		b.minute, b.deny, b.flag = m, 0, 0
		if b.counts == nil {
			b.counts = make(map[pair]int64)
		} else {
			clear(b.counts)
		}
	}
	return b
}

// rotate starts a new epoch of client counts once the current one is a
// Window old; the last epoch is kept so that the table never starts empty.
func (st *state) rotate(now time.Time) {
	if now.Sub(st.epoch) < Window {
		return
	}
	if now.Sub(st.epoch) < 2*Window {
		st.prev, st.prevEpoch = st.top, st.epoch
	} else {
		st.prev = nil
	}
	st.top = newTopK(st.top.capacity)
	st.epoch = now
}

func (st *state) health(e *audit.Event, row EventRow, now time.Time) {
	name := ""
	for _, a := range e.Attrs {
		switch a.Key {
		case "store", "limits", "url", "name":
			name = logsafe.String(a.Value.String(), 80)
		}
		if name != "" {
			break
		}
	}
	key := row.Guard + "\x00" + name
	c := st.components[key]
	if c == nil {
		if len(st.components) >= maxComponents {
			return
		}
		c = &component{guard: row.Guard, name: name}
		st.components[key] = c
	}
	state := "degraded"
	if recoveredReasons[e.Reason] {
		state = "ok"
	}
	if c.state != state {
		c.since = now
	}
	c.state, c.decision, c.last = state, row.Reason, now
	c.events++
}

// clientKey is what a denial is attributed to: the principal when the
// request authenticated (method:subject), else the client IP.
func clientKey(e *audit.Event) string {
	if e.Principal != "" {
		return logsafe.String(e.Principal, 256)
	}
	if e.ClientIP != "" {
		return logsafe.String(e.ClientIP, 64)
	}
	return ""
}

// ratelimitPolicy reads the binding limit's name and description from the
// cause package ratelimit puts in a 429's event (attribute "error":
// `ratelimit: rate limit exceeded (policy "api": 100 per 10s by ip)`).
func ratelimitPolicy(attrs []slog.Attr) (name, desc string) {
	for _, a := range attrs {
		if a.Key != "error" {
			continue
		}
		s := a.Value.String()
		i := strings.Index(s, `(policy "`)
		if i < 0 {
			return "", ""
		}
		s = s[i+len(`(policy `):]
		q, err := strconv.QuotedPrefix(s)
		if err != nil {
			return "", ""
		}
		name, _ = strconv.Unquote(q)
		desc = strings.TrimSuffix(strings.TrimPrefix(s[len(q):], ": "), ")")
		return logsafe.String(name, 64), logsafe.String(desc, 120)
	}
	return "", ""
}

// EventRow is one recent audit event as the page shows it: every field
// bounded and sanitised, attributes that could name a secret redacted.
type EventRow struct {
	Time      string `json:"time"`
	Decision  string `json:"decision"`
	Guard     string `json:"guard"`
	Reason    string `json:"reason"`
	Status    string `json:"status"`
	Method    string `json:"method"`
	Route     string `json:"route"`
	Client    string `json:"client"`
	Principal string `json:"principal"`
	RequestID string `json:"request_id"`
	Details   string `json:"details"`
}

func eventRow(e *audit.Event, now time.Time) EventRow {
	t := e.Time
	if t.IsZero() {
		t = now
	}
	r := EventRow{
		Time:      t.UTC().Format("15:04:05"),
		Decision:  logsafe.String(string(e.Decision), 16),
		Guard:     logsafe.String(e.Guard, 64),
		Reason:    logsafe.String(e.Reason, 96),
		Method:    logsafe.Method(e.Method),
		Route:     logsafe.String(e.Route, maxValue),
		Client:    logsafe.String(e.ClientIP, 64),
		Principal: logsafe.String(e.Principal, 128),
		RequestID: logsafe.String(e.RequestID, 64),
	}
	if e.Status != 0 {
		r.Status = strconv.Itoa(e.Status)
	}
	var d strings.Builder
	n := 0
	var add func(prefix string, as []slog.Attr)
	add = func(prefix string, as []slog.Attr) {
		for _, a := range as {
			if n >= maxAttrs {
				return
			}
			key := prefix + a.Key
			if a.Value.Kind() == slog.KindGroup {
				if prefix == "" { // one level of groups
					add(key+".", a.Value.Group())
				}
				continue
			}
			n++
			if d.Len() > 0 {
				d.WriteString("  ")
			}
			d.WriteString(logsafe.String(key, 48))
			d.WriteByte('=')
			d.WriteString(redactValue(key, a.Value))
		}
	}
	add("", e.Attrs)
	if n >= maxAttrs && len(e.Attrs) > maxAttrs {
		d.WriteString("  …")
	}
	r.Details = d.String()
	return r
}

// Redacted replaces a value the panel will not show.
const Redacted = "[redacted]"

// secretWords are attribute-name fragments that mark a value as a
// possible secret; secretParts must be a whole word of the name
// ("api_key", not "keys").
var (
	secretWords = []string{"token", "password", "passwd", "passphrase", "secret", "cookie", "authorization", "bearer", "signature", "private"}
	secretParts = map[string]bool{"key": true, "apikey": true, "pwd": true, "sid": true, "auth": true, "credentials": true}
	jwtLike     = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`)
)

// secretName reports whether an attribute name could hold a secret.
func secretName(name string) bool {
	l := strings.ToLower(name)
	for _, w := range secretWords {
		if strings.Contains(l, w) {
			return true
		}
	}
	for _, part := range strings.FieldsFunc(l, func(r rune) bool { return r == '_' || r == '-' || r == '.' || r == ' ' }) {
		if secretParts[part] {
			return true
		}
	}
	return false
}

func redactValue(key string, v slog.Value) string {
	if secretName(key) {
		return Redacted
	}
	s := v.Resolve().String()
	if strings.Contains(s, "eyJ") {
		s = jwtLike.ReplaceAllString(s, Redacted)
	}
	if i := strings.Index(strings.ToLower(s), "bearer "); i >= 0 {
		s = s[:i] + "Bearer " + Redacted
	}
	return logsafe.String(s, maxValue)
}

// Snapshot is what the panel shows at one moment; the page's JSON
// (?format=json) is its encoding.
type Snapshot struct {
	Title       string         `json:"title"`
	Generated   string         `json:"generated"` // RFC 3339, UTC
	DeniedHour  int64          `json:"denied_hour"`
	Denied5Min  int64          `json:"denied_5min"`
	FlaggedHour int64          `json:"flagged_hour"`
	EventsSeen  int64          `json:"events_seen"`
	Bars        []Bar          `json:"bars"`
	Denials     []DenialRow    `json:"denials"`
	ClientsFrom string         `json:"clients_from"` // when the counts of Clients began, HH:MM UTC
	Clients     []ClientRow    `json:"clients"`
	Policies    []PolicyRow    `json:"policies"`
	Routes      []RouteRow     `json:"routes"`
	Components  []ComponentRow `json:"components"`
	Status      []StatusRow    `json:"status"`
	Events      []EventRow     `json:"events"` // newest first
	HasRoutes   bool           `json:"has_routes"`
	HasStatus   bool           `json:"has_status"`
}

// Bar is one minute of the hour's denials, drawn as a bar 0–100 high.
type Bar struct {
	X      int    `json:"x"`
	Y      int    `json:"y"`
	Height int    `json:"h"`
	Label  string `json:"label"`
}

// DenialRow counts one guard's denials for one reason.
type DenialRow struct {
	Guard  string `json:"guard"`
	Reason string `json:"reason"`
	Hour   int64  `json:"hour"`
	Min5   int64  `json:"min5"`
}

// ClientRow is one of the most refused clients. Count may exceed the true
// count by at most Over (the space-saving bound).
type ClientRow struct {
	Client string `json:"client"`
	Count  int64  `json:"count"`
	Over   int64  `json:"over"`
}

// PolicyRow is a rate-limit policy's refusals.
type PolicyRow struct {
	Policy string `json:"policy"`
	Limit  string `json:"limit"`
	Hour   int64  `json:"hour"`
	Min5   int64  `json:"min5"`
	Min1   int64  `json:"min1"`
}

// RouteRow is a route's requests and 429s since the process started,
// from the metrics registry.
type RouteRow struct {
	Route    string `json:"route"`
	Requests int64  `json:"requests"`
	Limited  int64  `json:"limited"`
	Share    string `json:"share"`
}

// ComponentRow is a store or remote dependency as its audit events
// described it.
type ComponentRow struct {
	Component string `json:"component"`
	State     string `json:"state"`
	Decision  string `json:"decision"`
	Since     string `json:"since"`
	Last      string `json:"last"`
	Events    int64  `json:"events"`
}

// StatusRow is one value of Options.Status, flattened.
type StatusRow struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Snapshot returns the panel's figures now.
func (p *Panel) Snapshot(ctx context.Context) Snapshot {
	now := p.opts.Now()
	s := Snapshot{Title: p.opts.Title, Generated: now.UTC().Format(time.RFC3339)}
	cur := now.Unix() / 60

	p.mu.Lock()
	hour := map[pair]int64{}
	min5 := map[pair]int64{}
	min1 := map[pair]int64{}
	var perMinute [buckets]int64
	for i := range p.st.minutes {
		b := &p.st.minutes[i]
		age := cur - b.minute
		if b.counts == nil || age < 0 || age >= buckets {
			continue
		}
		perMinute[buckets-1-age] = b.deny
		s.DeniedHour += b.deny
		s.FlaggedHour += b.flag
		if age < 5 {
			s.Denied5Min += b.deny
		}
		for k, n := range b.counts {
			hour[k] += n
			if age < 5 {
				min5[k] += n
			}
			if age == 0 {
				min1[k] += n
			}
		}
	}
	s.EventsSeen = p.st.seen
	s.Clients, s.ClientsFrom = p.st.clients(now)
	for i := range len(p.st.recent) {
		j := (p.st.next - 1 - i + 2*len(p.st.recent)) % len(p.st.recent)
		if int64(i) >= p.st.seen {
			break
		}
		s.Events = append(s.Events, p.st.recent[j])
	}
	for _, c := range p.st.components {
		name := c.guard
		if c.name != "" {
			name += " (" + c.name + ")"
		}
		s.Components = append(s.Components, ComponentRow{Component: name, State: c.state, Decision: c.decision,
			Since: c.since.UTC().Format("15:04:05"), Last: c.last.UTC().Format("15:04:05"), Events: c.events})
	}
	limits := make(map[string]string, len(p.st.limits))
	for k, v := range p.st.limits {
		limits[k] = v
	}
	p.mu.Unlock()

	s.Bars = bars(perMinute[:], now)
	byReason := map[pair]*DenialRow{}
	policies := map[string]*PolicyRow{}
	for k, n := range hour {
		gr := pair{k.guard, k.reason, ""}
		d := byReason[gr]
		if d == nil {
			d = &DenialRow{Guard: k.guard, Reason: k.reason}
			byReason[gr] = d
		}
		d.Hour += n
		d.Min5 += min5[k]
		if k.policy != "" {
			pr := policies[k.policy]
			if pr == nil {
				pr = &PolicyRow{Policy: k.policy, Limit: limits[k.policy]}
				policies[k.policy] = pr
			}
			pr.Hour += n
			pr.Min5 += min5[k]
			pr.Min1 += min1[k]
		}
	}
	for _, d := range byReason {
		s.Denials = append(s.Denials, *d)
	}
	sort.Slice(s.Denials, func(i, j int) bool {
		a, b := s.Denials[i], s.Denials[j]
		if a.Hour != b.Hour {
			return a.Hour > b.Hour
		}
		return a.Guard+a.Reason < b.Guard+b.Reason
	})
	s.Denials = cut(s.Denials, shownRows)
	for _, pr := range policies {
		s.Policies = append(s.Policies, *pr)
	}
	sort.Slice(s.Policies, func(i, j int) bool {
		if s.Policies[i].Hour != s.Policies[j].Hour {
			return s.Policies[i].Hour > s.Policies[j].Hour
		}
		return s.Policies[i].Policy < s.Policies[j].Policy
	})
	sort.Slice(s.Components, func(i, j int) bool { return s.Components[i].Component < s.Components[j].Component })
	if p.opts.Gatherer != nil {
		s.HasRoutes = true
		s.Routes = routes(p.opts.Gatherer)
	}
	if p.opts.Status != nil {
		s.HasStatus = true
		s.Status = flatten(p.opts.Status(ctx))
	}
	return s
}

func cut[T any](s []T, n int) []T {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// clients merges this epoch's and the last epoch's counts.
func (st *state) clients(now time.Time) ([]ClientRow, string) {
	st.rotate(now)
	from := st.epoch
	merged := map[string]*ClientRow{}
	for _, t := range []*topK{st.prev, st.top} {
		if t == nil {
			continue
		}
		for _, e := range t.h {
			r := merged[e.key]
			if r == nil {
				r = &ClientRow{Client: e.key}
				merged[e.key] = r
			}
			r.Count += e.count
			r.Over += e.err
		}
	}
	if st.prev != nil {
		from = st.prevEpoch
	}
	rows := make([]ClientRow, 0, len(merged))
	for _, r := range merged {
		rows = append(rows, *r)
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Count != rows[j].Count {
			return rows[i].Count > rows[j].Count
		}
		return rows[i].Client < rows[j].Client
	})
	return cut(rows, shownClients), from.UTC().Format("15:04")
}

// bars scales the per-minute denials (oldest first) to bars 0–100 high.
func bars(perMinute []int64, now time.Time) []Bar {
	var top int64 = 1
	for _, n := range perMinute {
		top = max(top, n)
	}
	out := make([]Bar, len(perMinute))
	for i, n := range perMinute {
		h := int(n * 100 / top)
		if n > 0 && h == 0 {
			h = 1
		}
		at := now.Add(-time.Duration(len(perMinute)-1-i) * time.Minute).UTC().Format("15:04")
		out[i] = Bar{X: i * 10, Y: 100 - h, Height: h, Label: fmt.Sprintf("%s: %d denied", at, n)}
	}
	return out
}

// routes reads requests and 429s per route from bulwark_http_requests_total.
func routes(g prometheus.Gatherer) []RouteRow {
	mfs, err := g.Gather()
	if err != nil && len(mfs) == 0 {
		return nil
	}
	byRoute := map[string]*RouteRow{}
	for _, mf := range mfs {
		if mf.GetName() != "bulwark_http_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			var route, code string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "route":
					route = l.GetValue()
				case "code":
					code = l.GetValue()
				}
			}
			r := byRoute[route]
			if r == nil {
				r = &RouteRow{Route: logsafe.String(route, maxValue)}
				byRoute[route] = r
			}
			n := int64(m.GetCounter().GetValue())
			r.Requests += n
			if code == "429" {
				r.Limited += n
			}
		}
	}
	rows := make([]RouteRow, 0, len(byRoute))
	for _, r := range byRoute {
		if r.Requests > 0 {
			r.Share = strconv.FormatFloat(100*float64(r.Limited)/float64(r.Requests), 'f', 1, 64) + "%"
		}
		rows = append(rows, *r)
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Limited != rows[j].Limited {
			return rows[i].Limited > rows[j].Limited
		}
		if rows[i].Requests != rows[j].Requests {
			return rows[i].Requests > rows[j].Requests
		}
		return rows[i].Route < rows[j].Route
	})
	return cut(rows, shownRows)
}
