package password_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/password"
	"golang.org/x/crypto/bcrypt"
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

// bcrypt hashes verify (always asking for a rehash to argon2id), through
// the budget too; a cost above MaxBcryptCost is a malformed hash, not a
// minutes-long check.
func TestBcryptAccepted(t *testing.T) {
	h, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	enc := string(h)
	if rehash, err := password.Verify("s3cret", enc); err != nil || !rehash {
		t.Fatalf("Verify(right) = %v, %v; want true, nil", rehash, err)
	}
	if _, err := password.Verify("wrong", enc); !errors.Is(err, password.ErrMismatch) {
		t.Fatalf("Verify(wrong) = %v; want ErrMismatch", err)
	}
	v, err := password.NewVerifier(password.Options{Params: fast, MaxConcurrent: 1})
	if err != nil {
		t.Fatal(err)
	}
	if rehash, err := v.Verify(context.Background(), "s3cret", enc); err != nil || !rehash {
		t.Fatalf("Verifier.Verify(right) = %v, %v; want true, nil", rehash, err)
	}
	if _, err := v.Verify(context.Background(), "wrong", enc); !errors.Is(err, password.ErrMismatch) {
		t.Fatalf("Verifier.Verify(wrong) = %v; want ErrMismatch", err)
	}
	if s := v.Stats(); s.Verified != 2 {
		t.Fatalf("Verified = %d; want 2 (bcrypt checks go through the budget)", s.Verified)
	}
	costly := enc[:4] + "17" + enc[6:]
	if _, err := v.Verify(context.Background(), "s3cret", costly); !errors.Is(err, password.ErrMalformed) {
		t.Fatalf("cost 17: %v; want ErrMalformed", err)
	}
}
