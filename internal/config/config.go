// Package config reads settings from environment variables, as Lambda
// passes them, into structs whose fields name their variables in an env
// tag. Each problem is reported with the variable's name, and all of them at
// once, so a function that is misconfigured says so at start.
//
// Submit, Worker and Status are the Lambda functions' settings; the template
// test reflects on them (Vars) to check that template.yaml sets exactly the
// variables each function reads.
package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Submit is the submit function's environment.
type Submit struct {
	TableName string `env:"TABLE_NAME,required"`
	QueueURL  string `env:"QUEUE_URL,required"`
	// BigQueueURL is the queue of numbers beyond 64 bits; without it they
	// share QUEUE_URL.
	BigQueueURL string        `env:"BIG_QUEUE_URL"`
	Retention   time.Duration `env:"RESULT_RETENTION"` // task.DefaultRetention if unset
}

// Worker is the worker function's environment.
type Worker struct {
	TableName       string        `env:"TABLE_NAME,required"`
	MaxReceiveCount int           `env:"MAX_RECEIVE_COUNT"` // task.DefaultMaxReceiveCount if unset
	Retention       time.Duration `env:"RESULT_RETENTION"`  // task.DefaultRetention if unset
}

// Status is the status function's environment.
type Status struct {
	TableName string        `env:"TABLE_NAME,required"`
	Retention time.Duration `env:"RESULT_RETENTION"` // task.DefaultRetention if unset; a revoked task is kept as long
}

// DeadLetter is the dead-letter function's environment.
type DeadLetter struct {
	TableName string        `env:"TABLE_NAME,required"`
	Retention time.Duration `env:"RESULT_RETENTION"` // task.DefaultRetention if unset
	// The dead-letter queues it peeks at: the tasks queue's and the
	// big-tasks queue's.
	DeadLetterQueueURL    string `env:"DEAD_LETTER_QUEUE_URL,required"`
	BigDeadLetterQueueURL string `env:"BIG_DEAD_LETTER_QUEUE_URL,required"`
}

// Load sets the fields of the struct cfg points to from the environment. A
// field tagged `env:"NAME"` reads NAME, and `env:"NAME,required"` makes an
// unset or empty NAME an error. A variable that is unset or empty leaves its
// field as it was: set defaults before calling Load. Fields are strings,
// positive ints or positive time.Durations such as "90s" or "24h".
func Load(cfg any) error { return load(os.LookupEnv, cfg) }

func load(lookup func(string) (string, bool), cfg any) error {
	v := reflect.ValueOf(cfg).Elem()
	var errs []error
	for i := range v.NumField() {
		name, required := tag(v.Type().Field(i))
		if name == "" {
			continue
		}
		s, _ := lookup(name)
		if s == "" {
			if required {
				errs = append(errs, fmt.Errorf("environment variable %s is required but not set", name))
			}
			continue
		}
		if err := set(v.Field(i), s); err != nil {
			errs = append(errs, fmt.Errorf("environment variable %s=%q is not a %w", name, s, err))
		}
	}
	return errors.Join(errs...)
}

// Vars returns the names of the variables a struct of cfg's type reads.
func Vars(cfg any) []string {
	t := reflect.TypeOf(cfg)
	var names []string
	for i := range t.NumField() {
		if name, _ := tag(t.Field(i)); name != "" {
			names = append(names, name)
		}
	}
	return names
}

func tag(f reflect.StructField) (name string, required bool) {
	name, opt, _ := strings.Cut(f.Tag.Get("env"), ",")
	return name, opt == "required"
}

func set(f reflect.Value, s string) error {
	switch {
	case f.Type() == reflect.TypeFor[time.Duration]():
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return errors.New("positive duration like 30s or 24h")
		}
		f.SetInt(int64(d))
	case f.Kind() == reflect.Int:
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return errors.New("positive integer")
		}
		f.SetInt(int64(n))
	case f.Kind() == reflect.String:
		f.SetString(s)
	default:
		panic("config: a field of type " + f.Type().String())
	}
	return nil
}
