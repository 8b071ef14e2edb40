package main

import (
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/bulwark-go/bulwark"
	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/examples/shared"
)

// New returns the API: a gin engine inside Bulwark's site policy. The
// engine is an http.Handler, so the site policy's Handler wraps it as it
// would any router; gin's own Logger and Recovery are left out (gin.New,
// not gin.Default): Bulwark's access log and recovery take their place.
func New(cfg shared.Config) (http.Handler, error) {
	g, err := shared.NewGuards(cfg)
	if err != nil {
		return nil, err
	}
	e := gin.New()
	e.ContextWithFallback = true                     // c.Done, c.Value… follow c.Request.Context()
	if err := e.SetTrustedProxies(nil); err != nil { // the client IP is clientip's job
		return nil, err
	}
	e.Use(routeLabel)
	e.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	e.GET("/metrics", gin.WrapH(g.Metrics.Exposition())) // in production, on an admin listener
	e.GET("/api/items", Wrap(g.List.Handler), listItems)
	e.GET("/api/items/:id", Wrap(g.Read.Handler), getItem)
	e.DELETE("/api/items/:id", Wrap(g.Remove.Handler), deleteItem)
	return g.Site.Handler(e), nil
}

// Wrap adapts net/http middleware — a Bulwark guard's Handler or Require,
// a route's bulwark.Policy Handler — to a gin handler. A guard either
// answers the request itself (a 401, 403 or 429 problem), and the chain
// stops there, or passes the request on, often with a new context (the
// principal), which the rest of the chain sees as c.Request, and
// sometimes with a ResponseWriter of its own, which the rest of the chain
// writes through as c.Writer: an abuse guard counting failures
// (CountFailures) without the handler's abuse.Report reads the response
// status from it. The access log, metrics and headers still belong in the
// site policy around the engine: they see every response, unmatched
// routes included.
func Wrap(mw func(http.Handler) http.Handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		passed := false
		orig := c.Writer
		mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			passed = true
			c.Request = r
			if w != http.ResponseWriter(orig) {
				gw := &writer{ResponseWriter: orig, w: w, size: -1, status: http.StatusOK}
				c.Writer = gw
				defer gw.WriteHeaderNow() // a status alone (c.Status(401)) reaches the guard before it returns
			}
			c.Next()
		})).ServeHTTP(orig, c.Request)
		c.Writer = orig
		if !passed {
			c.Abort()
		}
	}
}

// writer is gin's ResponseWriter over a guard's ResponseWriter: gin's
// semantics (the status is held until the first write, so headers may be
// set after c.Status), every write going through the guard's w. Hijack,
// CloseNotify and Pusher are gin's own writer's.
type writer struct {
	gin.ResponseWriter // gin's: Hijack, CloseNotify, Pusher
	w                  http.ResponseWriter
	size, status       int
}

func (w *writer) Header() http.Header { return w.w.Header() }
func (w *writer) Status() int         { return w.status }
func (w *writer) Size() int           { return w.size }
func (w *writer) Written() bool       { return w.size != -1 }
func (w *writer) Unwrap() http.ResponseWriter {
	return w.w
}

func (w *writer) WriteHeader(code int) {
	if code > 0 && !w.Written() {
		w.status = code
	}
}

func (w *writer) WriteHeaderNow() {
	if !w.Written() {
		w.size = 0
		w.w.WriteHeader(w.status)
	}
}

func (w *writer) Write(b []byte) (int, error) {
	w.WriteHeaderNow()
	n, err := w.w.Write(b)
	w.size += n
	return n, err
}

func (w *writer) WriteString(s string) (int, error) {
	w.WriteHeaderNow()
	n, err := io.WriteString(w.w, s)
	w.size += n
	return n, err
}

func (w *writer) Flush() {
	w.WriteHeaderNow()
	_ = http.NewResponseController(w.w).Flush()
}

// routeLabel is the adapter that names the route in the access log and the
// metrics: gin knows the pattern it matched ("/api/items/:id") before the
// handlers run, as c.FullPath(), and SetRoute writes it into the request
// state the site policy shares. A request no route matched has no pattern;
// the log names its path, the metrics count it as "unmatched".
func routeLabel(c *gin.Context) {
	if p := c.FullPath(); p != "" {
		bulwark.SetRoute(c.Request, p)
	}
	c.Next()
}

// principal returns the caller the route's Authn guard recorded, read the
// gin way: from c.Request's context (not c.Keys).
func principal(c *gin.Context) *authn.Principal {
	p, _ := authn.FromContext(c.Request.Context())
	return p
}

func listItems(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"caller": principal(c).Subject, "items": []string{"1", "2"}})
}

func getItem(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"caller": principal(c).Subject, "id": c.Param("id")})
}

func deleteItem(c *gin.Context) {
	c.Status(http.StatusNoContent)
}
