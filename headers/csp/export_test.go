package csp

import "errors"

// ParseReports exposes the collector's body parser to the fuzz target.
func ParseReports(contentType string, body []byte, max int) ([]Report, int, error) {
	f, ok := reportFormat(contentType)
	if !ok {
		return nil, 0, errors.New("unsupported media type")
	}
	return parseReports(f, body, max)
}
