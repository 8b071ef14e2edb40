package password_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/password"
)

var fast = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashVerify(t *testing.T) {
	h, err := password.HashWith("wonderland-2026", fast)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("unexpected format %q", h)
	}
	rehash, err := password.Verify("wonderland-2026", h)
	if err != nil || !rehash {
		t.Fatalf("Verify = %v, %v; want match needing rehash (weak params)", rehash, err)
	}
	if _, err := password.Verify("wonderland-2025", h); !errors.Is(err, password.ErrMismatch) {
		t.Fatalf("wrong password: %v", err)
	}
	h2, _ := password.HashWith("wonderland-2026", fast)
	if h == h2 {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
}

func TestDefaultNeedsNoRehash(t *testing.T) {
	h, err := password.Hash("pw-for-default")
	if err != nil {
		t.Fatal(err)
	}
	if rehash, err := password.Verify("pw-for-default", h); err != nil || rehash {
		t.Fatalf("Verify = %v, %v", rehash, err)
	}
}

func TestMalformed(t *testing.T) {
	for _, s := range []string{
		"", "plain", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=18$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA", // memory bomb
		"$argon2id$v=19$m=64,t=1000,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1,p=1$!!!$aGFzaGhhc2hoYXNoaGFzaA",
	} {
		if _, err := password.Verify("x", s); !errors.Is(err, password.ErrMalformed) {
			t.Errorf("Verify(%q) = %v, want ErrMalformed", s, err)
		}
	}
}

func TestWeakParamsRefused(t *testing.T) {
	if _, err := password.HashWith("x", password.Params{Memory: 1, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}); err == nil {
		t.Fatal("weak params accepted")
	}
}

func FuzzVerify(f *testing.F) {
	h, _ := password.HashWith("pw", fast)
	f.Add("pw", h)
	f.Add("x", "$argon2id$v=19$m=64,t=1,p=1$$")
	f.Fuzz(func(t *testing.T, pw, enc string) {
		_, _ = password.Verify(pw, enc) // must not panic or hang
	})
}
