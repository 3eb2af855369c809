// Command openapi3 converts the Swagger 2.0 document of protoc-gen-openapiv2 into the gateway's
// OpenAPI 3.0.3 document and applies the overlay (see package openapi3). gateway/generate.sh
// runs it:
//
//	go run ./cmd/openapi3 -in marketdata.swagger.json -overlay openapi/overlay.yaml -out openapi/openapi.json
package main

import (
	"flag"
	"fmt"
	"os"

	"marketdata/gateway/internal/openapi3"
)

func main() {
	in := flag.String("in", "", "Swagger 2.0 document (JSON) written by protoc-gen-openapiv2")
	overlay := flag.String("overlay", "", "YAML overlay applied after the conversion (optional)")
	out := flag.String("out", "", "where the OpenAPI 3 document (JSON) is written")
	flag.Parse()
	if *in == "" || *out == "" || flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*in, *overlay, *out); err != nil {
		fmt.Fprintf(os.Stderr, "openapi3: %v\n", err)
		os.Exit(1)
	}
}

func run(in, overlay, out string) error {
	swagger, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	doc, err := openapi3.Convert(swagger)
	if err != nil {
		return err
	}
	if overlay != "" {
		patch, err := os.ReadFile(overlay)
		if err != nil {
			return err
		}
		if err := openapi3.ApplyOverlay(doc, patch); err != nil {
			return err
		}
	}
	body, err := openapi3.Marshal(doc)
	if err != nil {
		return err
	}
	return os.WriteFile(out, body, 0o644)
}
