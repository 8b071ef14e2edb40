// Package basic authenticates requests with HTTP Basic credentials
// (RFC 7617) against a table of users whose passwords are stored as
// password hashes: argon2id PHC strings (the default, made by
// password.Hash or `bulwark hash-password`) or bcrypt hashes (accepted for
// user bases migrated from elsewhere; see package password).
//
// # The user file
//
// One user per line, fields separated by colons; blank lines and lines
// starting with '#' are ignored:
//
//	# user:hash[:roles[:scopes]]
//	alice:$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$…:admin:read,write
//	bob:$argon2id$v=19$m=19456,t=2,p=1$…::read
//	carol:$2b$12$…
//
// Roles and scopes are comma-separated lists (empty when left out); they
// become the principal's Roles and Scopes, which package authz reads. A
// user name is 1 to MaxUserLen bytes of UTF-8 without control characters
// or ':' (RFC 7617 §2 forbids a colon in the user-id); names are compared
// byte for byte, case-sensitively and without Unicode normalization, so
// store them as your clients send them. Every hash is checked for form when
// the file is loaded (password.CheckHash), so a bad line fails New, never
// a login. Options.Users takes the same table in code, or from a gateway
// config.
//
// # No enumeration
//
// A user name that is not in the table is checked against the Verifier's
// stand-in hash (password.Verifier.Verify with ""), so it costs the same
// argon2id work and the same share of the concurrency budget as a real
// user with a wrong password, and is answered with the same 401: neither
// the time nor the answer tells which names exist. (A user still on bcrypt
// is the exception the password package describes: keep one algorithm.)
//
// # Bad input
//
// Every malformed Authorization header a client can send for Basic is a
// 401 with the Basic challenge and a specific audit reason, never a 500:
// the header over MaxHeaderLen bytes (basic_too_long), several
// Authorization headers or one without a scheme (authorization_malformed),
// "Basic" with no or non-base64 credentials (basic_malformed), decoded
// credentials without a colon (basic_no_colon), user or password that are
// not UTF-8 (basic_not_utf8) or contain control characters
// (basic_control_chars), a user name over MaxUserLen bytes
// (basic_user_too_long). A wrong password or an unknown user is
// bad_credentials. A full verification budget is a 503 (password_busy)
// with Retry-After, never a failed login. Another scheme (Bearer, ApiKey)
// is not Basic's: ErrNoCredentials, so that authn.AnyOf asks the next
// authenticator.
//
// # Trade-offs
//
// Each check is an argon2id computation by design (19 MiB and tens of
// milliseconds with the default parameters): Basic sends the password on
// every request, so a service that takes many requests per client should
// exchange it once for a token (a login route) rather than accept Basic
// everywhere. Share one password.Verifier between every authenticator that
// checks passwords, so that the memory budget is one budget, and put a
// per-client rate limit in front of Basic as in front of any login.
// Browsers remember Basic credentials once entered and send them again on
// their own, like cookies; a browser-facing route authenticated by Basic
// needs the same CSRF care as a cookie one.
package basic
