package introspect

// Bearer exposes the header parser to the fuzz test.
var Bearer = bearer

// CacheLen is the number of entries in the memory cache.
func (a *Authenticator) CacheLen() int { return a.cache.len() }
