package problem

import (
	"log/slog"

	"github.com/bulwark-go/bulwark/internal/logsafe"
)

// slogError is the audit attribute of a problem's internal cause, bounded
// and sanitised: a cause may quote what the client sent.
func slogError(err error) slog.Attr { return slog.String("error", logsafe.Text(err.Error())) }
