package breaker

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/audit"
)

// Report records one audit event per change, with the guard, a stable
// reason, and the figures; with no sink, the event is a log line on
// slog.Default() as it is at that moment.
func TestReport(t *testing.T) {
	mem := audit.NewMemory()
	r := Report(mem, "redisstore", slog.String("prefix", "app:"))
	r(Change{To: Open, Err: errors.New("i/o timeout"), Backoff: 250 * time.Millisecond})
	r(Change{To: Open, Ongoing: true, Backoff: 2 * time.Second, Duration: time.Minute, Refused: 7, Probes: 30})
	r(Change{To: Closed, Duration: 70 * time.Second, Refused: 9, Probes: 35})
	ev := mem.Events()
	want := []struct {
		reason string
		d      audit.Decision
		attrs  string
	}{
		{ReasonUnavailable, audit.Flag, "prefix=app: backoff=250ms error=i/o timeout"},
		{ReasonStillUnavailable, audit.Flag, "prefix=app: backoff=2s outage=1m0s refused=7 failed_probes=30"},
		{ReasonRecovered, audit.Allow, "prefix=app: outage=1m10s refused=9 failed_probes=35"},
	}
	if len(ev) != len(want) {
		t.Fatalf("%d events, want %d", len(ev), len(want))
	}
	for i, w := range want {
		var attrs []string
		for _, a := range ev[i].Attrs {
			attrs = append(attrs, a.String())
		}
		if e := ev[i]; e.Guard != "redisstore" || e.Reason != w.reason || e.Decision != w.d || strings.Join(attrs, " ") != w.attrs {
			t.Errorf("event %d: %s %s %s [%s]; want %s %s [%s]", i, e.Guard, e.Decision, e.Reason, strings.Join(attrs, " "), w.d, w.reason, w.attrs)
		}
	}

	var buf bytes.Buffer
	def := Report(nil, "redislimit")
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	def(Change{To: Open, Backoff: time.Second})
	if got := buf.String(); strings.Count(got, "\n") != 1 || !strings.Contains(got, "guard=redislimit") || !strings.Contains(got, "reason=store_unavailable") || !strings.Contains(got, "level=WARN") {
		t.Fatalf("default log line: %q", got)
	}
}
