package problem

import "log/slog"

func slogError(err error) slog.Attr { return slog.String("error", err.Error()) }
