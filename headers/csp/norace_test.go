//go:build !race

package csp_test

const raceEnabled = false
