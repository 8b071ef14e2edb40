package headers

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
)

// Feature is a Permissions-Policy feature name ("camera", "geolocation").
type Feature string

// Features the restrictive default turns off, and others commonly named.
// Unknown feature names are refused by New (a typo would silently allow
// the feature); see KnownFeatures.
const (
	Accelerometer           Feature = "accelerometer"
	AmbientLightSensor      Feature = "ambient-light-sensor"
	Autoplay                Feature = "autoplay"
	Bluetooth               Feature = "bluetooth"
	BrowsingTopics          Feature = "browsing-topics"
	Camera                  Feature = "camera"
	ClipboardRead           Feature = "clipboard-read"
	ClipboardWrite          Feature = "clipboard-write"
	DisplayCapture          Feature = "display-capture"
	EncryptedMedia          Feature = "encrypted-media"
	Fullscreen              Feature = "fullscreen"
	Gamepad                 Feature = "gamepad"
	Geolocation             Feature = "geolocation"
	Gyroscope               Feature = "gyroscope"
	HID                     Feature = "hid"
	IdleDetection           Feature = "idle-detection"
	LocalFonts              Feature = "local-fonts"
	Magnetometer            Feature = "magnetometer"
	Microphone              Feature = "microphone"
	MIDI                    Feature = "midi"
	Payment                 Feature = "payment"
	PictureInPicture        Feature = "picture-in-picture"
	PublicKeyCredentialsGet Feature = "publickey-credentials-get"
	ScreenWakeLock          Feature = "screen-wake-lock"
	Serial                  Feature = "serial"
	SyncXHR                 Feature = "sync-xhr"
	USB                     Feature = "usb"
	WebShare                Feature = "web-share"
	WindowManagement        Feature = "window-management"
	XRSpatialTracking       Feature = "xr-spatial-tracking"
)

// knownFeatures are the policy-controlled features of the W3C registry
// and of shipping browsers.
var knownFeatures = map[Feature]bool{
	Accelerometer: true, AmbientLightSensor: true, "attribution-reporting": true,
	Autoplay: true, Bluetooth: true, BrowsingTopics: true, Camera: true,
	"captured-surface-control": true, ClipboardRead: true, ClipboardWrite: true,
	"compute-pressure": true, "cross-origin-isolated": true, "deferred-fetch": true,
	"digital-credentials-get": true, DisplayCapture: true, "document-domain": true,
	EncryptedMedia: true, "execution-while-not-rendered": true,
	"execution-while-out-of-viewport": true, Fullscreen: true, Gamepad: true,
	Geolocation: true, Gyroscope: true, HID: true, "identity-credentials-get": true,
	IdleDetection: true, "interest-cohort": true, "join-ad-interest-group": true,
	"keyboard-map": true, LocalFonts: true, Magnetometer: true, Microphone: true,
	MIDI: true, "otp-credentials": true, Payment: true, PictureInPicture: true,
	"private-state-token-issuance": true, "private-state-token-redemption": true,
	"publickey-credentials-create": true, PublicKeyCredentialsGet: true,
	"run-ad-auction": true, ScreenWakeLock: true, Serial: true,
	"shared-storage": true, "shared-storage-select-url": true,
	"speaker-selection": true, "storage-access": true, SyncXHR: true,
	"unload": true, USB: true, "vertical-scroll": true, WebShare: true,
	WindowManagement: true, XRSpatialTracking: true,
}

// KnownFeatures returns the feature names New accepts, sorted.
func KnownFeatures() []Feature {
	return slices.Sorted(maps.Keys(knownFeatures))
}

// Allowlist members with a meaning of their own; anything else must be an
// origin ("https://maps.example.com", "https://*.example.com").
const (
	AllowAll  = "*"    // every origin
	AllowSelf = "self" // the document's own origin
	AllowSrc  = "src"  // an iframe's src origin (in iframe allow attributes)
)

// PermissionsPolicy maps each feature to the origins allowed to use it;
// an empty allowlist turns the feature off everywhere ("camera=()").
// Build it as a literal or with Deny and Allow:
//
//	headers.DenyAll().Allow(headers.Geolocation, headers.AllowSelf, "https://maps.example")
//
// It doubles as configuration (a YAML or JSON object of lists).
type PermissionsPolicy map[Feature][]string

// DenyAll returns a policy that turns off every powerful feature a JSON API
// or a plain HTML app has no use for: sensors, camera, microphone,
// geolocation, payment, USB/HID/serial/Bluetooth, display capture,
// fullscreen, autoplay, sync XHR, Topics and more. It is the default.
// Rendered, with features sorted:
//
//	Permissions-Policy: accelerometer=(), autoplay=(), bluetooth=(),
//	browsing-topics=(), camera=(), display-capture=(), encrypted-media=(),
//	fullscreen=(), gamepad=(), geolocation=(), gyroscope=(), hid=(),
//	idle-detection=(), local-fonts=(), magnetometer=(), microphone=(),
//	midi=(), payment=(), picture-in-picture=(),
//	publickey-credentials-get=(), screen-wake-lock=(), serial=(),
//	sync-xhr=(), usb=(), web-share=(), window-management=(),
//	xr-spatial-tracking=()
func DenyAll() PermissionsPolicy {
	return PermissionsPolicy{}.Deny(
		Accelerometer, Autoplay, Bluetooth, BrowsingTopics, Camera, DisplayCapture,
		EncryptedMedia, Fullscreen, Gamepad, Geolocation, Gyroscope, HID,
		IdleDetection, LocalFonts, Magnetometer, Microphone, MIDI, Payment,
		PictureInPicture, PublicKeyCredentialsGet, ScreenWakeLock, Serial,
		SyncXHR, USB, WebShare, WindowManagement, XRSpatialTracking,
	)
}

// Deny turns the features off (an empty allowlist) and returns pp.
// A nil pp is replaced by a new policy.
func (pp PermissionsPolicy) Deny(features ...Feature) PermissionsPolicy {
	if pp == nil {
		pp = PermissionsPolicy{}
	}
	for _, f := range features {
		pp[f] = []string{}
	}
	return pp
}

// Allow sets feature's allowlist (AllowSelf, AllowAll, origins) and
// returns pp. A nil pp is replaced by a new policy.
func (pp PermissionsPolicy) Allow(feature Feature, allowlist ...string) PermissionsPolicy {
	if pp == nil {
		pp = PermissionsPolicy{}
	}
	pp[feature] = slices.Clone(allowlist)
	if pp[feature] == nil {
		pp[feature] = []string{}
	}
	return pp
}

// render validates pp and returns the header value (features sorted).
func (pp PermissionsPolicy) render() (string, error) {
	fs := make([]Feature, 0, len(pp))
	for f := range pp {
		fs = append(fs, f)
	}
	slices.Sort(fs)
	var b strings.Builder
	for i, f := range fs {
		if !knownFeatures[f] {
			return "", fmt.Errorf("headers: Permissions-Policy: unknown feature %q (a typo leaves the real feature allowed); see headers.KnownFeatures", f)
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(f))
		b.WriteByte('=')
		list := pp[f]
		if slices.Contains(list, AllowAll) {
			if len(list) > 1 {
				return "", fmt.Errorf("headers: Permissions-Policy: %s: * already allows every origin; remove the other entries", f)
			}
			b.WriteByte('*')
			continue
		}
		b.WriteByte('(')
		seen := map[string]bool{}
		for j, a := range list {
			v, err := allowlistItem(a)
			if err != nil {
				return "", fmt.Errorf("headers: Permissions-Policy: %s: %v", f, err)
			}
			if seen[v] {
				continue
			}
			seen[v] = true
			if j > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(v)
		}
		b.WriteByte(')')
	}
	return b.String(), nil
}

// allowlistItem validates one allowlist entry and returns it in
// structured-field syntax (self/src as tokens, origins quoted).
func allowlistItem(a string) (string, error) {
	switch strings.ToLower(a) {
	case AllowSelf, AllowSrc:
		return strings.ToLower(a), nil
	case "'self'", "'src'":
		return "", fmt.Errorf("%s: write %s without quotes in Permissions-Policy", a, strings.Trim(a, "'"))
	case "none", "'none'", "()":
		return "", fmt.Errorf("%s: an empty allowlist means none (use Deny)", a)
	}
	for i := 0; i < len(a); i++ {
		if c := a[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '\\' {
			return "", fmt.Errorf("origin %q contains %q", a, rune(c))
		}
	}
	u, err := url.Parse(a)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", fmt.Errorf("%q is not an origin (scheme://host[:port], e.g. https://maps.example.com), self, src or *", a)
	}
	host := strings.TrimPrefix(u.Hostname(), "*.")
	if host == "" || strings.ContainsAny(host, "*") {
		return "", fmt.Errorf("%q: a wildcard is allowed only as the first label (https://*.example.com)", a)
	}
	return `"` + strings.ToLower(u.Scheme+"://"+u.Host) + `"`, nil
}
