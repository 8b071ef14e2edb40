// Package migrate proves the migration guides in docs/migrate: each test runs
// a peer library and the Bulwark guard that replaces it on the same requests,
// and asserts both answers — where the guide says they agree, and where it
// says Bulwark deliberately differs.
//
//	cd bench && go test ./migrate
//
// It lives in the bench module because it imports the peers.
package migrate
