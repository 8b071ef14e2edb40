package bind

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/go-playground/validator/v10"
)

// MaxRuleNameLen is the longest name RegisterRule accepts.
const MaxRuleNameLen = 64

// ErrRuleDefined is returned (wrapped) by RegisterRule for a name that is
// taken: a rule registered before, or one of the validator's own tags.
var ErrRuleDefined = errors.New("bind: validation rule already defined")

// rules guards the validator against registration during validation (the
// validator's own RegisterValidation is not safe for concurrent use) and
// holds the messages of the application's rules.
var rules = struct {
	mu       sync.RWMutex
	messages map[string]string // rule name → message, {param} unexpanded
}{messages: map[string]string{}}

// RegisterRule adds an application validation rule to bind.JSON, Decode
// and Validate, for every struct: a field tagged `validate:"name"` (or
// `validate:"name=param"`, combined with other rules as usual) is valid
// when check returns true, and otherwise is listed in the 422 problem with
// message, where "{param}" stands for the tag's parameter ("" without
// one). It wraps go-playground/validator's RegisterValidation, the way
// Pydantic's field validators extend a model.
//
//	bind.RegisterRule("sku", func(v reflect.Value, _ string) bool {
//		return skuPattern.MatchString(v.String())
//	}, "must be a SKU such as AB-1234")
//
// check receives the field's value, pointers already followed, and the
// tag's parameter; it must be safe for concurrent use, quick, and must not
// panic. It is not called for a nil pointer, which fails the rule unless
// the field is also tagged omitempty (or omitnil). The message is sent to
// clients as it is: like the built-in messages, it must not repeat the
// value, which may be a password or a card number.
//
// name is letters, digits and '_', starting with a letter, at most
// MaxRuleNameLen bytes, and must not already name a rule: registering a
// name twice, or one of the validator's built-in tags (email, min,
// required…), returns an error wrapping ErrRuleDefined, so an application
// cannot silently change what a tag means for every other package.
//
// Register rules when the program starts (in main, or an init function),
// before any request is bound. RegisterRule is safe to call concurrently
// with validation — it waits for validations in progress — but a struct
// naming a rule not yet registered fails with a 500 problem (reason
// bind_misuse) rather than being validated without it.
func RegisterRule(name string, check func(field reflect.Value, param string) bool, message string) error {
	if err := validRuleName(name); err != nil {
		return err
	}
	if check == nil {
		return fmt.Errorf("bind: rule %q has no check function", name)
	}
	if strings.TrimSpace(message) == "" {
		return fmt.Errorf("bind: rule %q needs a message for the 422 field errors, such as \"must be a valid SKU\"", name)
	}
	if !printable(message) {
		return fmt.Errorf("bind: the message of rule %q has control characters", name)
	}
	rules.mu.Lock()
	defer rules.mu.Unlock()
	if _, ok := rules.messages[name]; ok {
		return fmt.Errorf("%w: %q is registered already; register each rule once, when the program starts", ErrRuleDefined, name)
	}
	if defined(name) {
		return fmt.Errorf("%w: %q is one of the validator's built-in rules; choose another name", ErrRuleDefined, name)
	}
	err := validate().RegisterValidation(name, func(fl validator.FieldLevel) bool {
		return check(fl.Field(), fl.Param())
	})
	if err != nil {
		return fmt.Errorf("bind: rule %q: %w", name, err)
	}
	rules.messages[name] = message
	return nil
}

func validRuleName(name string) error {
	if name == "" || len(name) > MaxRuleNameLen {
		return fmt.Errorf("bind: a rule name must be 1 to %d bytes long", MaxRuleNameLen)
	}
	for i, c := range name {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || !(c >= '0' && c <= '9' || c == '_')) {
			return fmt.Errorf("bind: rule name %q: use letters, digits and '_', starting with a letter", name)
		}
	}
	return nil
}

// defined reports whether the validator already knows name, as a rule,
// an alias or one of its keywords (omitempty, dive…). The validator has no
// lookup, so ask it to parse the tag: only an unknown name makes it panic
// with "Undefined validation function" (a known one may panic for want of
// a parameter, or run; either way it exists). Called with rules.mu held.
func defined(name string) (known bool) {
	defer func() {
		if e := recover(); e != nil {
			s, ok := e.(string)
			known = !ok || !strings.HasPrefix(s, "Undefined validation function")
		}
	}()
	_ = validate().Var("", name)
	return true
}
