package mtls_test

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/authn/mtls"
)

// FuzzClientCert: any value parses or is refused, never panics; a byte
// sequence written by the RFC's rules comes back as it was.
func FuzzClientCert(f *testing.F) {
	for _, s := range []string{":YWJj:", " :YWJj: ", ":YWJj:;a=1;b;c=\"x\\\"y\";d=?1;e=:Zg==:;f=tok/x", ":YWJ:", "::", ":", "YWJj", ":YW Jj:", ":YWJj:;", ":YWJj:;A=1", ":YWJj:, :ZGVm:"} {
		f.Add(s, []byte("abc"))
	}
	f.Fuzz(func(t *testing.T, v string, b []byte) {
		der, err := mtls.ParseClientCert(v)
		if err == nil && (len(der) == 0 || len(v) > mtls.MaxCertHeaderLen) {
			t.Fatalf("%q: accepted %d bytes", v, len(der))
		}
		if len(b) == 0 {
			return
		}
		enc := ":" + base64.StdEncoding.EncodeToString(b) + ":"
		got, err := mtls.ParseClientCert(enc)
		if len(enc) <= mtls.MaxCertHeaderLen && (err != nil || !bytes.Equal(got, b)) {
			t.Fatalf("%x: %x, %v", b, got, err)
		}
	})
}

// FuzzClientCertChain: any lines parse or are refused; at most max
// certificates come back; a list written by the rules round-trips.
func FuzzClientCertChain(f *testing.F) {
	f.Add(":YWJj:, :ZGVm:", ":Z2hp:", []byte("a"), []byte("bc"))
	f.Add(":YWJj:,", "", []byte{0}, []byte{1, 2})
	f.Add(":YWJj:;x=1 , :ZGVm:", ",", []byte("x"), []byte("y"))
	f.Fuzz(func(t *testing.T, l1, l2 string, a, b []byte) {
		ders, err := mtls.ParseClientCertChain([]string{l1, l2}, 3)
		if err == nil && len(ders) > 3 {
			t.Fatalf("%d certificates", len(ders))
		}
		if len(a) == 0 || len(b) == 0 {
			return
		}
		line := strings.Join([]string{":" + base64.StdEncoding.EncodeToString(a) + ":", ":" + base64.StdEncoding.EncodeToString(b) + ":"}, ", ")
		ders, err = mtls.ParseClientCertChain([]string{line}, 3)
		if len(line) < mtls.MaxChainHeaderLen-2 && (err != nil || len(ders) != 2 || !bytes.Equal(ders[0], a) || !bytes.Equal(ders[1], b)) {
			t.Fatalf("round trip: %v %d", err, len(ders))
		}
	})
}
