package apikey

import "encoding/json"

// Checksum is checksum for tests: the checksum characters of head.
func Checksum(head string) string { c := checksum(head); return string(c[:]) }

func JSONLine(r Record) (string, error) { b, err := json.Marshal(r); return string(b), err }
