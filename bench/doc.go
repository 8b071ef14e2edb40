// Package bench compares Bulwark's guards with the single-purpose libraries
// Go users stitch together today, in the same run on the same machine:
//
//	cd bench && go test -run '^$' -bench . -benchmem
//
// It is a module of its own so that the peers never become dependencies of
// the library.
package bench
