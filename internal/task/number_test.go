package task

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParseJSONNumber(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("9", MaxDigits)
	tests := []struct {
		name    string
		raw     string
		want    Number
		wantErr string // substring of the error; "" means no error
	}{
		{name: "integer", raw: `11`, want: "11"},
		{name: "negative", raw: `-7`, want: "-7"},
		{name: "zero", raw: `0`, want: "0"},
		{name: "minus zero", raw: `-0`, want: "0"},
		{name: "beyond float64", raw: `2305843009213693951`, want: "2305843009213693951"},
		{name: "beyond uint64", raw: `340282366920938463463374607431768211457`, want: "340282366920938463463374607431768211457"},
		{name: "at the cap", raw: long, want: Number(long)},
		{name: "string", raw: `"11"`, want: "11"},
		{name: "negative string", raw: `"-11"`, want: "-11"},
		{name: "string with leading zeros", raw: `"007"`, want: "7"},
		{name: "escaped digits in a string", raw: `"\u0031\u0031"`, want: "11"},
		{name: "float", raw: `1.5`, wantErr: "must be an integer"},
		{name: "float with zero fraction", raw: `11.0`, wantErr: "must be an integer"},
		{name: "exponent", raw: `1e3`, wantErr: "must be an integer"},
		{name: "capital exponent", raw: `1E3`, wantErr: "must be an integer"},
		{name: "over the cap", raw: long + "9", wantErr: "the limit is"},
		{name: "string over the cap", raw: `"` + long + `9"`, wantErr: "the limit is"},
		{name: "hex string", raw: `"0x1F"`, wantErr: "only the ASCII digits"},
		{name: "float string", raw: `"1.5"`, wantErr: "only the ASCII digits"},
		{name: "exponent string", raw: `"1e3"`, wantErr: "only the ASCII digits"},
		{name: "plus sign", raw: `"+11"`, wantErr: "only the ASCII digits"},
		{name: "spaces in string", raw: `" 11"`, wantErr: "only the ASCII digits"},
		{name: "arabic-indic digits", raw: `"١١"`, wantErr: "only the ASCII digits"},
		{name: "fullwidth digits", raw: `"１１"`, wantErr: "only the ASCII digits"},
		{name: "empty string", raw: `""`, wantErr: "expected decimal digits"},
		{name: "lone minus", raw: `"-"`, wantErr: "expected decimal digits"},
		{name: "true", raw: `true`, wantErr: "boolean"},
		{name: "false", raw: `false`, wantErr: "boolean"},
		{name: "null", raw: `null`, wantErr: "null"},
		{name: "array", raw: `[11]`, wantErr: "array"},
		{name: "object", raw: `{"n":11}`, wantErr: "object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseJSONNumber(json.RawMessage(tt.raw))
			if tt.wantErr == "" {
				if err != nil || got != tt.want {
					t.Fatalf("ParseJSONNumber(%.30s) = %.30q, %v; want %.30q, nil", tt.raw, got, err, tt.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ParseJSONNumber(%.30s) error = %v; want one containing %q", tt.raw, err, tt.wantErr)
			}
			var ne *NumberError
			if !errors.As(err, &ne) {
				t.Errorf("error %T is not a *NumberError", err)
			}
			if len(err.Error()) > 200 {
				t.Errorf("error message is %d bytes long; want a short one that does not echo the input", len(err.Error()))
			}
		})
	}
}

func TestNumberJSONKeepsDigits(t *testing.T) {
	t.Parallel()
	n := Number("2305843009213693951")
	b, err := json.Marshal(struct {
		N Number `json:"number"`
	}{n})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"number":2305843009213693951}`; got != want {
		t.Errorf("json = %s; want %s", got, want)
	}
}

func TestExcerpt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{name: "short", in: "abc", want: `"abc"`},
		{name: "control characters are escaped", in: "a\nb\x00", want: `"a\nb\x00"`},
		{name: "long is cut", in: strings.Repeat("x", 1000), want: `"` + strings.Repeat("x", excerptLen) + `"…`},
		{name: "cut never splits a rune", in: strings.Repeat("x", excerptLen-1) + "é", want: `"` + strings.Repeat("x", excerptLen-1) + `"…`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Excerpt(tt.in); got != tt.want {
				t.Errorf("Excerpt = %s; want %s", got, tt.want)
			}
		})
	}
}

func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"11", "-0", "007", "", "-", "1e3", "０", strings.Repeat("1", MaxDigits+1)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseNumber(s)
		if err != nil {
			return
		}
		// Accepted numbers are canonical and round-trip through math/big.
		b, err := n.Big()
		if err != nil {
			t.Fatalf("ParseNumber(%q) = %q, which math/big cannot read: %v", s, n, err)
		}
		if b.String() != string(n) {
			t.Fatalf("ParseNumber(%q) = %q; math/big reads it as %s", s, n, b)
		}
		if d := strings.TrimPrefix(string(n), "-"); len(d) > MaxDigits {
			t.Fatalf("ParseNumber accepted %d digits; the cap is %d", len(d), MaxDigits)
		}
	})
}

func TestIDs(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	prev := ""
	for range 1000 {
		id := NewID()
		if !ValidID(id) {
			t.Fatalf("ValidID(NewID()=%q) = false", id)
		}
		if id[14] != '7' {
			t.Fatalf("NewID() = %q; want version 7", id)
		}
		if seen[id] {
			t.Fatalf("NewID repeated %q", id)
		}
		// Time-ordered: the millisecond prefix never goes backwards.
		if prev != "" && id[:13] < prev[:13] {
			t.Fatalf("NewID() = %q after %q; want the time prefix not to decrease", id, prev)
		}
		seen[id], prev = true, id
	}
	if !ValidID("3f2b8c1e-7d4a-8e59-9b1c-2a6f0e8d0005") {
		t.Error("ValidID rejects a version 8 id, the form of a batch's ids")
	}
	if !ValidID("3f2b8c1e-7d4a-4e59-9b1c-2a6f0e8d4c71") {
		t.Error("ValidID rejects a version 4 id, the form of ids issued before version 7")
	}
	for _, bad := range []string{"", "nope", "3F2B8C1E-7D4A-4E59-9B1C-2A6F0E8D4C71", "3f2b8c1e-7d4a-1e59-9b1c-2a6f0e8d4c71", "3f2b8c1e-7d4a-4e59-7b1c-2a6f0e8d4c71", "3f2b8c1e7d4a-4e59-9b1c-2a6f0e8d4c71-", "../../etc/passwd"} {
		if ValidID(bad) {
			t.Errorf("ValidID(%q) = true; want false", bad)
		}
	}
	if id, ok := ParseID("3F2B8C1E-7D4A-4E59-9B1C-2A6F0E8D4C71"); !ok || id != "3f2b8c1e-7d4a-4e59-9b1c-2a6f0e8d4c71" {
		t.Errorf("ParseID of an uppercase id = %q, %v; want its lowercase form, true", id, ok)
	}
	if _, ok := ParseID("../../ETC/PASSWD"); ok {
		t.Error("ParseID accepts a path")
	}
}
