package bind_test

import (
	"errors"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/bulwark-go/bulwark/bind"
	"github.com/bulwark-go/bulwark/problem"
)

// Rule names are global to the process: each test registers its own.

func mustRegister(t *testing.T, name string, check func(reflect.Value, string) bool, msg string) {
	t.Helper()
	if err := bind.RegisterRule(name, check, msg); err != nil {
		t.Fatal(err)
	}
}

func TestRegisterRule(t *testing.T) {
	mustRegister(t, "test_even", func(v reflect.Value, _ string) bool {
		return v.CanInt() && v.Int()%2 == 0
	}, "must be even")
	mustRegister(t, "test_multiple", func(v reflect.Value, param string) bool {
		n, err := strconv.ParseInt(param, 10, 64)
		return err == nil && n != 0 && v.CanInt() && v.Int()%n == 0
	}, "must be a multiple of {param}")

	type order struct {
		Quantity int    `json:"quantity" validate:"required,test_even"`
		Pack     int    `json:"pack" validate:"test_multiple=6"`
		Note     *int   `json:"note" validate:"omitempty,test_even"`
		Code     string `json:"code" validate:"required,max=4"`
	}
	tests := []struct {
		body   string
		status int
		errs   []problem.FieldError
	}{
		{`{"quantity":2,"pack":12,"code":"a"}`, 200, nil},
		{`{"quantity":3,"pack":12,"code":"a"}`, 422, []problem.FieldError{
			{Field: "quantity", Message: "must be even", Rule: "test_even"}}},
		{`{"quantity":4,"pack":7,"note":5,"code":"toolong"}`, 422, []problem.FieldError{
			{Field: "pack", Message: "must be a multiple of 6", Rule: "test_multiple"},
			{Field: "note", Message: "must be even", Rule: "test_even"},
			{Field: "code", Message: "must be at most 4 characters long", Rule: "max"}}},
	}
	for _, tt := range tests {
		w := httptest.NewRecorder()
		_, p := bind.Decode[order](w, post("application/json", tt.body))
		if tt.status == 200 {
			if p != nil {
				t.Errorf("%s: %d %s", tt.body, p.Status, p.Detail)
			}
			continue
		}
		if p == nil || p.Status != tt.status || p.Type != problem.TypeValidation {
			t.Fatalf("%s: got %+v, want %d", tt.body, p, tt.status)
		}
		if got := p.Extensions["errors"]; !reflect.DeepEqual(got, tt.errs) {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.body, got, tt.errs)
		}
	}
}

func TestRegisterRuleRefused(t *testing.T) {
	ok := func(reflect.Value, string) bool { return true }
	mustRegister(t, "test_once", ok, "is invalid")
	for _, name := range []string{
		"test_once",                // twice
		"email", "min", "required", // built-in rules
		"omitempty", "dive", "iscolor", // keywords and aliases
	} {
		if err := bind.RegisterRule(name, ok, "is wrong"); !errors.Is(err, bind.ErrRuleDefined) {
			t.Errorf("RegisterRule(%q) = %v, want ErrRuleDefined", name, err)
		}
	}
	for _, c := range []struct {
		name  string
		check func(reflect.Value, string) bool
		msg   string
	}{
		{"", ok, "m"},
		{"1abc", ok, "m"},
		{"a,b", ok, "m"},
		{"a=b", ok, "m"},
		{"a|b", ok, "m"},
		{"a b", ok, "m"},
		{strings.Repeat("a", bind.MaxRuleNameLen+1), ok, "m"},
		{"test_nocheck", nil, "m"},
		{"test_nomessage", ok, " "},
		{"test_ctlmessage", ok, "bad\nmessage"},
	} {
		err := bind.RegisterRule(c.name, c.check, c.msg)
		if err == nil || errors.Is(err, bind.ErrRuleDefined) {
			t.Errorf("RegisterRule(%q, %q) = %v, want a usage error", c.name, c.msg, err)
		}
	}
	// A refused registration leaves the name free.
	mustRegister(t, "test_nocheck", ok, "is invalid")
}

// A tag naming no rule — a typo, or a rule used before it is registered —
// is the program's mistake: a 500 problem with the cause for the audit
// log, not a panic.
func TestUnregisteredRule(t *testing.T) {
	type form struct {
		Name string `json:"name" validate:"test_unregistered"`
	}
	p := bind.Validate(form{Name: "x"})
	if p == nil || p.Status != 500 || p.Reason != "bind_misuse" || p.Detail != "" {
		t.Fatalf("got %+v, want a 500 bind_misuse problem", p)
	}
	if p.Err == nil || !strings.Contains(p.Err.Error(), "test_unregistered") {
		t.Errorf("the cause does not name the rule: %v", p.Err)
	}
	mustRegister(t, "test_unregistered", func(v reflect.Value, _ string) bool { return v.String() == "ok" }, "must be ok")
	if p := bind.Validate(form{Name: "x"}); p == nil || p.Status != 422 {
		t.Errorf("after registration: %+v, want 422", p)
	}
	if p := bind.Validate(form{Name: "ok"}); p != nil {
		t.Errorf("after registration: %+v, want nil", p)
	}
}

// Registering while other goroutines validate is safe (run with -race).
func TestRegisterRuleConcurrent(t *testing.T) {
	type form struct {
		A string `json:"a" validate:"required"`
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				if p := bind.Validate(form{}); p == nil || p.Status != 422 {
					t.Errorf("got %+v", p)
					return
				}
			}
		})
	}
	for i := range 20 {
		mustRegister(t, "test_conc"+strconv.Itoa(i), func(reflect.Value, string) bool { return true }, "is invalid")
	}
	wg.Wait()
}
