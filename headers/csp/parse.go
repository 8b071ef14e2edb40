package csp

import (
	"fmt"
	"strings"
)

// maxHeaderLen bounds what Parse accepts.
const maxHeaderLen = 16 << 10

// Parse reads a Content-Security-Policy header value into Options, for
// migrating an existing policy string into typed configuration. It checks
// the structure (known directive names, no duplicates, no values where
// none belong); pass the result to New to validate the sources. A fixed
// 'nonce-…' is kept so that New can refuse it with its explanation.
// Obsolete directives (block-all-mixed-content, plugin-types, prefetch-src,
// navigate-to, referrer, reflected-xss) are refused with a suggestion.
func Parse(header string) (*Options, error) {
	if len(header) > maxHeaderLen {
		return nil, fmt.Errorf("csp: policy of %d bytes is longer than %d", len(header), maxHeaderLen)
	}
	if strings.ContainsRune(header, ',') {
		return nil, fmt.Errorf("csp: the policy contains ',', which separates several policies; parse them one at a time")
	}
	o := &Options{}
	seen := map[string]bool{}
	for raw := range strings.SplitSeq(header, ";") {
		fields := strings.FieldsFunc(raw, func(r rune) bool { return r == ' ' || r == '\t' })
		if len(fields) == 0 {
			continue
		}
		name := strings.ToLower(fields[0])
		values := fields[1:]
		if seen[name] {
			return nil, fmt.Errorf("csp: directive %s appears twice (browsers ignore the second); merge them", name)
		}
		seen[name] = true
		if err := parseDirective(o, name, values); err != nil {
			return nil, err
		}
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("csp: empty policy")
	}
	return o, nil
}

func parseDirective(o *Options, name string, values []string) error {
	for _, d := range directives {
		if d.name == name {
			if len(values) == 0 {
				// An empty source list means 'none'.
				values = []string{None}
			}
			*d.field(o) = values
			return nil
		}
	}
	noValue := func() error {
		if len(values) != 0 {
			return fmt.Errorf("csp: %s takes no value", name)
		}
		return nil
	}
	switch name {
	case "sandbox":
		o.Sandbox = true
		if len(values) > 0 {
			o.SandboxAllow = values
		}
	case "upgrade-insecure-requests":
		o.UpgradeInsecureRequests = true
		return noValue()
	case "report-to":
		if len(values) != 1 {
			return fmt.Errorf("csp: report-to takes one endpoint group name")
		}
		o.ReportTo = values[0]
	case "report-uri":
		if len(values) == 0 {
			return fmt.Errorf("csp: report-uri needs at least one URL")
		}
		o.ReportURI = values
	case "webrtc":
		if len(values) != 1 {
			return fmt.Errorf("csp: webrtc takes one value, %s or %s", WebRTCBlock, WebRTCAllow)
		}
		o.WebRTC = values[0]
	case "trusted-types":
		if len(values) == 0 {
			values = []string{None}
		}
		o.TrustedTypes = values
	case "require-trusted-types-for":
		o.RequireTrustedTypesFor = values
		if len(values) == 0 {
			return fmt.Errorf("csp: require-trusted-types-for needs %s", Script)
		}
	case "block-all-mixed-content":
		return fmt.Errorf("csp: block-all-mixed-content is obsolete (browsers block mixed content already); use upgrade-insecure-requests")
	case "plugin-types", "prefetch-src", "navigate-to", "referrer", "reflected-xss", "disown-opener":
		return fmt.Errorf("csp: %s was removed from CSP and browsers ignore it; drop it", name)
	default:
		return fmt.Errorf("csp: unknown directive %q", name)
	}
	return nil
}
