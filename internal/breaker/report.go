package breaker

import (
	"context"
	"log/slog"
	"time"

	"github.com/bulwark-go/bulwark/audit"
)

// Reason codes of the audit events Report records.
const (
	// ReasonUnavailable (a flag): the breaker opened; calls fail at once.
	ReasonUnavailable = "store_unavailable"
	// ReasonStillUnavailable (a flag): the outage goes on (a summary, at
	// most once per Options.Summary).
	ReasonStillUnavailable = "store_still_unavailable"
	// ReasonRecovered (an allow): Redis answered; the breaker closed.
	ReasonRecovered = "store_recovered"
)

// Report returns an Options.OnChange that records each Change as one
// audit event of guard in sink: reason ReasonUnavailable,
// ReasonStillUnavailable (decision Flag) or ReasonRecovered (Allow), with
// attrs and the figures of the change. A nil sink is Log(nil).
func Report(sink audit.Sink, guard string, attrs ...slog.Attr) func(Change) {
	if sink == nil {
		sink = Log(nil)
	}
	return func(c Change) {
		e := &audit.Event{Time: time.Now(), Guard: guard, Decision: audit.Flag, Reason: ReasonUnavailable}
		e.Attrs = append(e.Attrs, attrs...)
		switch {
		case c.To == Closed:
			e.Decision, e.Reason = audit.Allow, ReasonRecovered
		case c.Ongoing:
			e.Reason = ReasonStillUnavailable
		}
		if c.To == Open {
			e.Attrs = append(e.Attrs, slog.Duration("backoff", c.Backoff))
		}
		if c.To == Closed || c.Ongoing {
			e.Attrs = append(e.Attrs, slog.Duration("outage", c.Duration), slog.Int64("refused", c.Refused), slog.Int64("failed_probes", c.Probes))
		}
		if c.Err != nil {
			e.Attrs = append(e.Attrs, slog.String("error", c.Err.Error()))
		}
		sink.Record(context.Background(), e)
	}
}

// Log returns the sink of events that have no other: an audit.SlogSink on
// l, or on slog.Default() as it is when an event comes (so that a program
// that sets its default logger after building its stores still sees the
// line) when l is nil.
func Log(l *slog.Logger) audit.Sink {
	if l != nil {
		return audit.NewSlog(l)
	}
	return defaultLog{}
}

type defaultLog struct{}

func (defaultLog) Record(ctx context.Context, e *audit.Event) {
	audit.NewSlog(slog.Default()).Record(ctx, e)
}
