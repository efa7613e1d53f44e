// Package samlocal is what `sam local` needs from this project and does not
// have: the --env-vars file that points the functions at the queue and table
// the local setup creates, and the SQS trigger (Trigger), which polls the
// queue and delivers each batch to `sam local start-lambda` through the
// Lambda Invoke API.
package samlocal

import (
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/asyncprime/asyncprime/internal/provision"
)

// Defaults of `make sam-local`, which env.json at the repository root names.
const (
	// ContainerEndpoint is where the functions, inside sam local's
	// containers, reach the emulator that `make sam-local` starts on port
	// MotoPort of the host (see the README for what each platform needs).
	ContainerEndpoint = "http://host.docker.internal:5050"
	// MotoPort is the host port of that emulator.
	MotoPort = 5050
	// WorkerFunction is the worker's logical id, its name under sam local.
	WorkerFunction = "WorkerFunction"
)

// EnvFile is the JSON file sam local reads with --env-vars: under
// "Parameters", variables for every function; under a function's logical
// id, variables for that function, which win. sam local sets a variable
// only if the function's template declares it; it ignores the others.
type EnvFile map[string]map[string]string

// GlobalKey is the EnvFile key whose variables apply to every function.
const GlobalKey = "Parameters"

// NewEnvFile returns the file that points the three functions at res on
// the emulator at endpoint, as seen from inside the containers. The queue
// URL gets the endpoint's scheme and host, so that it names the queue the
// same way from there.
func NewEnvFile(res provision.Resources, endpoint string) (EnvFile, error) {
	queueURL, err := rehost(res.QueueURL, endpoint)
	if err != nil {
		return nil, err
	}
	dlqURL, err := rehost(res.DeadLetterQueueURL, endpoint)
	if err != nil {
		return nil, err
	}
	// sam local has one SQS trigger (ours), on the tasks queue: big
	// numbers share it, and its dead-letter queue, there.
	return EnvFile{
		GlobalKey:            {"AWS_ENDPOINT_URL": endpoint, "TABLE_NAME": res.TableName},
		"SubmitFunction":     {"QUEUE_URL": queueURL, "BIG_QUEUE_URL": queueURL},
		"DeadLetterFunction": {"DEAD_LETTER_QUEUE_URL": dlqURL, "BIG_DEAD_LETTER_QUEUE_URL": dlqURL},
	}, nil
}

// rehost returns rawURL with the scheme and host of endpoint.
func rehost(rawURL, endpoint string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("queue URL %q is not a URL", rawURL)
	}
	e, err := url.Parse(endpoint)
	if err != nil || e.Host == "" {
		return "", fmt.Errorf("endpoint %q is not a URL such as http://host.docker.internal:5050", endpoint)
	}
	u.Scheme, u.Host = e.Scheme, e.Host
	return u.String(), nil
}

// Marshal encodes the file as env.json is written: indented, keys sorted.
func (f EnvFile) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
