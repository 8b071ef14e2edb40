package main

import (
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
// principal), which the rest of the chain sees as c.Request. Middleware
// that wraps the ResponseWriter (the access log, metrics, headers) belongs
// in the site policy around the engine, not here.
func Wrap(mw func(http.Handler) http.Handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		passed := false
		mw(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			passed = true
			c.Request = r
			c.Next()
		})).ServeHTTP(c.Writer, c.Request)
		if !passed {
			c.Abort()
		}
	}
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
