package abuse

import "log/slog"

func slogInt(k string, v int64) slog.Attr { return slog.Int64(k, v) }
