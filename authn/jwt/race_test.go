//go:build race

package jwt_test

const raceEnabled = true
