package main

import (
	"net/http"
	"reflect"

	"github.com/labstack/echo/v4"

	"github.com/bulwark-go/bulwark"
	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/examples/shared"
)

// New returns the API: an echo server inside Bulwark's site policy. The
// *echo.Echo is an http.Handler, so the site policy's Handler wraps it as
// it would any router; each route's policy is net/http middleware, which
// echo.WrapMiddleware adapts. Echo's own Logger and Recover middleware are
// left out: Bulwark's access log and recovery take their place.
func New(cfg shared.Config) (http.Handler, error) {
	g, err := shared.NewGuards(cfg)
	if err != nil {
		return nil, err
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Use(routeLabel)
	e.GET("/healthz", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"status": "ok"}) })
	e.GET("/metrics", echo.WrapHandler(g.Metrics.Exposition())) // in production, on an admin listener
	e.GET("/api/items", listItems, echo.WrapMiddleware(g.List.Handler))
	e.GET("/api/items/:id", getItem, echo.WrapMiddleware(g.Read.Handler))
	e.DELETE("/api/items/:id", deleteItem, echo.WrapMiddleware(g.Remove.Handler))
	return g.Site.Handler(e), nil
}

// routerHandlers are the handlers echo picks when no route matched.
var routerHandlers = [...]uintptr{
	reflect.ValueOf(echo.NotFoundHandler).Pointer(),
	reflect.ValueOf(echo.MethodNotAllowedHandler).Pointer(),
}

// routeLabel is the adapter that names the route in the access log and the
// metrics: echo knows the pattern it matched ("/api/items/:id") before the
// handlers run, as c.Path(), and SetRoute writes it into the request state
// the site policy shares. But for a request no route matched, c.Path() can
// still name the nearest route (a 405, or "/api/items/1/x" → its
// "/api/items/:id"), so the label is recorded only when echo found a
// handler, not its NotFoundHandler or MethodNotAllowedHandler: an unmatched
// request is logged by its path and counted as "unmatched".
func routeLabel(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if p := c.Path(); p != "" && c.Handler() != nil {
			h := reflect.ValueOf(c.Handler()).Pointer()
			if h != routerHandlers[0] && h != routerHandlers[1] {
				bulwark.SetRoute(c.Request(), p)
			}
		}
		return next(c)
	}
}

// principal returns the caller the route's Authn guard recorded, from
// c.Request()'s context.
func principal(c echo.Context) *authn.Principal {
	p, _ := authn.FromContext(c.Request().Context())
	return p
}

func listItems(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{"caller": principal(c).Subject, "items": []string{"1", "2"}})
}

func getItem(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{"caller": principal(c).Subject, "id": c.Param("id")})
}

func deleteItem(c echo.Context) error {
	return c.NoContent(http.StatusNoContent)
}
