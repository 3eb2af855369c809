// Package openapi holds the OpenAPI 3.0.3 document of the REST API: protoc-gen-openapiv2's
// Swagger 2.0 from proto/marketdata/v1 and http.yaml, converted by cmd/openapi3 and completed
// by overlay.yaml (see gateway/generate.sh).
package openapi

import _ "embed"

// Document is the generated openapi.json.
//
//go:embed openapi.json
var Document []byte
