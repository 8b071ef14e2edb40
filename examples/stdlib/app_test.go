package main

import (
	"testing"

	"github.com/bulwark-go/bulwark/examples/shared/exampletest"
)

// TestAPI runs the suite every example passes (exampletest.Run) with the
// route labels this router gives the access log and the metrics.
func TestAPI(t *testing.T) {
	exampletest.Run(t, exampletest.Routes{List: "GET /api/items", Item: "GET /api/items/{id}", Health: "GET /healthz"}, New)
}
