package task

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// MaxDigits is the largest number of significant decimal digits a Number
// may have. It keeps the slowest check under the cap, a prime of that many
// digits, well inside the worker's timeout even on a 128 MB Lambda function,
// which gets a small share of a vCPU (figures in docs/benchmarks.md).
const MaxDigits = 1000

// Number is an integer of arbitrary precision, kept as its canonical decimal
// form: ASCII digits with an optional leading '-', no leading zeros, and "0"
// for zero. It never passes through float64, so every digit submitted comes
// back as it was.
type Number string

// String returns the canonical decimal form.
func (n Number) String() string { return string(n) }

// MarshalJSON writes the number as a JSON number with its exact digits.
func (n Number) MarshalJSON() ([]byte, error) {
	if n == "" {
		return []byte("null"), nil
	}
	return []byte(n), nil
}

// UnmarshalJSON reads a JSON integer, or a string of one, as ParseJSONNumber.
func (n *Number) UnmarshalJSON(b []byte) error {
	v, err := ParseJSONNumber(b)
	if err != nil {
		return err
	}
	*n = v
	return nil
}

// Int64 returns n as an int64 if it fits.
func (n Number) Int64() (int64, bool) {
	v, err := strconv.ParseInt(string(n), 10, 64)
	return v, err == nil
}

// Big returns n as a big.Int.
func (n Number) Big() (*big.Int, error) {
	v, ok := new(big.Int).SetString(string(n), 10)
	if !ok {
		return nil, fmt.Errorf("number %s is not a decimal integer", Excerpt(string(n)))
	}
	return v, nil
}

// NumberError says why a value is not an acceptable Number. Its message is
// meant for the client and quotes at most a short prefix of the input.
type NumberError struct{ msg string }

func (e *NumberError) Error() string { return e.msg }

func numberErrorf(format string, args ...any) error {
	return &NumberError{msg: fmt.Sprintf(format, args...)}
}

// ParseNumber parses the decimal form of an integer: ASCII digits with an
// optional leading '-'. Leading zeros are dropped and "-0" is 0. It rejects
// anything else, and numbers of more than MaxDigits significant digits,
// without allocating in proportion to the input.
func ParseNumber(s string) (Number, error) {
	digits := s
	neg := false
	if strings.HasPrefix(digits, "-") {
		neg, digits = true, digits[1:]
	}
	if digits == "" {
		return "", numberErrorf("%s is not an integer: expected decimal digits", Excerpt(s))
	}
	for i := 0; i < len(digits); i++ {
		if c := digits[i]; c < '0' || c > '9' {
			return "", numberErrorf("%s is not an integer: only the ASCII digits 0-9 and a leading '-' are allowed", Excerpt(s))
		}
	}
	digits = strings.TrimLeft(digits, "0")
	if len(digits) > MaxDigits {
		return "", numberErrorf("number has %d digits; the limit is %d", len(digits), MaxDigits)
	}
	switch {
	case digits == "":
		return "0", nil
	case neg:
		return Number("-" + digits), nil
	default:
		return Number(digits), nil
	}
}

// ParseJSONNumber parses the raw JSON value of the "number" field: a JSON
// integer, or a JSON string holding one (HTTPie's number=11 sends "11").
// Floats, exponents, hex, booleans, null, arrays and objects are rejected with
// a message that says what was found.
func ParseJSONNumber(raw json.RawMessage) (Number, error) {
	raw = json.RawMessage(strings.TrimSpace(string(raw)))
	if len(raw) == 0 {
		return "", numberErrorf(`"number" is empty`)
	}
	switch c := raw[0]; {
	case c == '-' || ('0' <= c && c <= '9'):
		if strings.ContainsAny(string(raw), ".eE") {
			return "", numberErrorf(`"number" must be an integer, got %s; send whole numbers only, e.g. {"number": 11}`, Excerpt(string(raw)))
		}
		return ParseNumber(string(raw))
	case c == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", numberErrorf(`"number" is not a valid JSON string`)
		}
		n, err := ParseNumber(s)
		if err != nil {
			return "", numberErrorf(`"number" as a string must hold a decimal integer: %v`, err)
		}
		return n, nil
	case c == 't' || c == 'f':
		return "", numberErrorf(`"number" must be an integer, got a boolean`)
	case c == 'n':
		return "", numberErrorf(`"number" must be an integer, got null`)
	case c == '[':
		return "", numberErrorf(`"number" must be an integer, got an array`)
	case c == '{':
		return "", numberErrorf(`"number" must be an integer, got an object`)
	default:
		return "", numberErrorf(`"number" must be an integer, got %s`, Excerpt(string(raw)))
	}
}

// excerptLen is how much of a client's input an error message quotes.
const excerptLen = 40

// Excerpt quotes at most a short prefix of s, escaped, for error messages
// and logs, so that a client's input is never echoed at length.
func Excerpt(s string) string {
	if len(s) <= excerptLen {
		return strconv.QuoteToASCII(s)
	}
	cut := excerptLen
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return strconv.QuoteToASCII(s[:cut]) + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
