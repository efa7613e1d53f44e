// Package asyncprime holds what belongs to the repository as a whole: the
// API's OpenAPI document, openapi.yaml, the one contract of the HTTP API.
// The local mode serves it; the handler, end-to-end and template tests
// check the code and template.yaml against it.
package asyncprime

import _ "embed"

// OpenAPI is openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte
