// Package config reads settings from environment variables, as Lambda
// passes them. Each problem is reported with the variable's name, and all of
// them at once, so a function that is misconfigured says so at start.
package config

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
)

// Env reads variables and collects the errors.
type Env struct {
	lookup func(string) (string, bool)
	errs   []error
}

// FromOS reads the process environment.
func FromOS() *Env { return &Env{lookup: os.LookupEnv} }

// FromMap reads m; for tests.
func FromMap(m map[string]string) *Env {
	return &Env{lookup: func(k string) (string, bool) { v, ok := m[k]; return v, ok }}
}

// String returns the variable, or def if it is unset or empty.
func (e *Env) String(name, def string) string {
	if v, ok := e.lookup(name); ok && v != "" {
		return v
	}
	return def
}

// Required returns the variable, and records an error if it is unset or empty.
func (e *Env) Required(name string) string {
	v, ok := e.lookup(name)
	if !ok || v == "" {
		e.errs = append(e.errs, fmt.Errorf("environment variable %s is required but not set", name))
	}
	return v
}

// Duration parses a Go duration such as "24h" or "90s"; def if unset.
func (e *Env) Duration(name string, def time.Duration) time.Duration {
	v, ok := e.lookup(name)
	if !ok || v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		e.errs = append(e.errs, fmt.Errorf("environment variable %s=%q is not a positive duration like 30s or 24h", name, v))
		return def
	}
	return d
}

// Int parses a positive integer; def if unset.
func (e *Env) Int(name string, def int) int {
	v, ok := e.lookup(name)
	if !ok || v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		e.errs = append(e.errs, fmt.Errorf("environment variable %s=%q is not a positive integer", name, v))
		return def
	}
	return n
}

// Err returns every problem found so far, or nil.
func (e *Env) Err() error { return errors.Join(e.errs...) }
