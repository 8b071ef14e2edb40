package demo_test

import (
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/demo"
)

// TestBannerTellsWhatIsPublic: the accounts are public, the signing keys
// are not (each process draws them, or the replicas share them through
// Redis), and the warning says so rather than calling every key known.
func TestBannerTellsWhatIsPublic(t *testing.T) {
	for _, redis := range []bool{false, true} {
		b := demo.Banner("http://127.0.0.1:8000", redis)
		warning := b[strings.Index(b, "!! DEMO MODE"):]
		warning = warning[:strings.Index(warning, "\n")]
		if !strings.Contains(warning, "accounts below are public") || !strings.Contains(warning, "signing keys are drawn at random") ||
			strings.Contains(warning, "publicly known credentials and keys") {
			t.Errorf("redis %v: %s", redis, warning)
		}
		if strings.Contains(warning, "Redis") != redis {
			t.Errorf("redis %v: %s", redis, warning)
		}
	}
}
