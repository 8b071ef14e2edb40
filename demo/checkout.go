package demo

import (
	"net/http"

	"github.com/bulwark-go/bulwark/bind"
	"github.com/bulwark-go/bulwark/problem"
)

// checkoutRequest is the body of POST /api/checkout. The numbers are
// pointers so that a missing one "is required" while a 0 is told what is
// wrong with it ("must be greater than 0"): the validator's required
// takes a number's zero for missing.
type checkoutRequest struct {
	CardNumber string   `json:"card_number" validate:"required,numeric,min=12,max=19"`
	ExpMonth   *int     `json:"exp_month" validate:"required,min=1,max=12"`
	ExpYear    *int     `json:"exp_year" validate:"required,min=2000,max=2100"`
	CVV        string   `json:"cvv" validate:"required,numeric,min=3,max=4"`
	Amount     *float64 `json:"amount" validate:"required,gt=0,lte=1000000"`
	Email      string   `json:"email" validate:"required,email,max=254"`
}

// checkout is POST /api/checkout, a demo payment (nothing is charged): the
// card-testing guard has counted the attempt (and refused the address if
// it has tried more than 3 cards within the restarting hour); here the
// body, the Luhn check and the expiry.
func (a *App) checkout(w http.ResponseWriter, r *http.Request) {
	deny := a.deny("checkout")
	in, p := bind.Decode[checkoutRequest](w, r)
	if p != nil {
		deny.Deny(w, r, p)
		return
	}
	var errs []problem.FieldError
	if !luhn(in.CardNumber) {
		errs = append(errs, problem.FieldError{Field: "card_number", Message: "is not a valid card number (Luhn check)", Rule: "luhn"})
	}
	now := a.cfg.Now()
	if y, m := now.Year(), int(now.Month()); *in.ExpYear < y || *in.ExpYear == y && *in.ExpMonth < m {
		errs = append(errs, problem.FieldError{Field: "exp_year", Message: "the card has expired", Rule: "not_expired"})
	}
	if len(errs) > 0 {
		deny.Deny(w, r, problem.Validation(errs).WithReason("invalid_card"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "approved"})
}

// luhn reports whether the digits of s pass the Luhn check.
func luhn(s string) bool {
	sum, double := 0, false
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		if c < '0' || c > '9' {
			return false
		}
		d := int(c - '0')
		if double {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return len(s) > 0 && sum%10 == 0
}
