package main

import (
	"os"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/bulwark-go/bulwark/examples/shared/exampletest"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode) // no debug lines about every route
	os.Exit(m.Run())
}

// TestAPI runs the suite every example passes (exampletest.Run) with the
// route labels this router gives the access log and the metrics.
func TestAPI(t *testing.T) {
	exampletest.Run(t, exampletest.Routes{List: "/api/items", Item: "/api/items/:id", Health: "/healthz"}, New)
}
