// Package openapi3 turns the Swagger 2.0 document protoc-gen-openapiv2 writes into an OpenAPI
// 3.0.3 document, then applies a checked-in overlay of what the generator cannot know (statuses,
// constraints, security). gateway/generate.sh runs it through cmd/openapi3.
//
// The conversion is the mechanical one of the OpenAPI 3 migration guide: non-body parameters get
// a `schema`, the body parameter becomes `requestBody`, response schemas move under `content` (by
// media type), `definitions` become `components/schemas` with every `$ref` rewritten, and
// `x-nullable` becomes `nullable`. A server-streaming route (protoc-gen-openapiv2 marks its 200
// with "(streaming responses)") is answered as application/x-ndjson, as the gateway sends it.
package openapi3

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Version is the OpenAPI version of the converted document.
const Version = "3.0.3"

// StreamMediaType is the media type of the gateway's streaming responses.
const StreamMediaType = "application/x-ndjson"

const streamingMarker = "(streaming responses)"

type object = map[string]any

// Convert converts a Swagger 2.0 document (JSON) into an OpenAPI 3.0.3 document.
func Convert(swaggerJSON []byte) (map[string]any, error) {
	var in object
	if err := json.Unmarshal(swaggerJSON, &in); err != nil {
		return nil, fmt.Errorf("reading the Swagger document: %w", err)
	}
	if v, _ := in["swagger"].(string); v != "2.0" {
		return nil, fmt.Errorf("not a Swagger 2.0 document (swagger: %q)", v)
	}
	out := object{"openapi": Version}
	for _, key := range []string{"info", "tags", "externalDocs", "security"} {
		if v, ok := in[key]; ok {
			out[key] = v
		}
	}
	for key, v := range in {
		if strings.HasPrefix(key, "x-") {
			out[key] = v
		}
	}
	if servers := convertServers(in); servers != nil {
		out["servers"] = servers
	}
	consumes := stringList(in["consumes"], []string{"application/json"})
	produces := stringList(in["produces"], []string{"application/json"})

	paths := object{}
	inPaths, _ := in["paths"].(object)
	for path, item := range inPaths {
		itemObj, ok := item.(object)
		if !ok {
			return nil, fmt.Errorf("path %s is not an object", path)
		}
		converted, err := convertPathItem(itemObj, consumes, produces)
		if err != nil {
			return nil, fmt.Errorf("path %s: %w", path, err)
		}
		paths[path] = converted
	}
	out["paths"] = paths

	components := object{}
	if defs, ok := in["definitions"].(object); ok {
		schemas := object{}
		for name, schema := range defs {
			schemas[name] = convertSchema(schema)
		}
		components["schemas"] = schemas
	}
	if defs, ok := in["securityDefinitions"].(object); ok {
		schemes := object{}
		for name, def := range defs {
			schemes[name] = convertSecurityScheme(def)
		}
		components["securitySchemes"] = schemes
	}
	if len(components) > 0 {
		out["components"] = components
	}
	return out, nil
}

func convertServers(in object) []any {
	host, _ := in["host"].(string)
	if host == "" {
		return nil
	}
	base, _ := in["basePath"].(string)
	schemes := stringList(in["schemes"], []string{"https"})
	var servers []any
	for _, scheme := range schemes {
		servers = append(servers, object{"url": scheme + "://" + host + base})
	}
	return servers
}

func stringList(v any, fallback []string) []string {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return fallback
	}
	out := make([]string, 0, len(list))
	for _, item := range list {
		if s, ok := item.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

var methods = []string{"get", "put", "post", "delete", "options", "head", "patch"}

func convertPathItem(item object, consumes, produces []string) (object, error) {
	out := object{}
	var shared []any
	if params, ok := item["parameters"].([]any); ok {
		shared = params
	}
	for key, v := range item {
		if key == "parameters" {
			continue
		}
		if !isMethod(key) {
			out[key] = v
			continue
		}
		op, ok := v.(object)
		if !ok {
			return nil, fmt.Errorf("%s is not an object", key)
		}
		converted, err := convertOperation(op, shared, consumes, produces)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		out[key] = converted
	}
	return out, nil
}

func isMethod(key string) bool {
	for _, m := range methods {
		if key == m {
			return true
		}
	}
	return false
}

func convertOperation(op object, shared []any, consumes, produces []string) (object, error) {
	out := object{}
	consumes = stringList(op["consumes"], consumes)
	produces = stringList(op["produces"], produces)
	for key, v := range op {
		switch key {
		case "consumes", "produces", "parameters", "responses", "schemes":
		default:
			out[key] = v
		}
	}
	var params []any
	all := append(append([]any{}, shared...), asList(op["parameters"])...)
	for _, p := range all {
		param, ok := p.(object)
		if !ok {
			return nil, fmt.Errorf("a parameter is not an object")
		}
		switch param["in"] {
		case "body":
			body := object{
				"content": mediaTypes(consumes, object{"schema": convertSchema(param["schema"])}),
			}
			if d, ok := param["description"]; ok {
				body["description"] = d
			}
			if r, ok := param["required"].(bool); ok && r {
				body["required"] = true
			}
			out["requestBody"] = body
		case "formData":
			return nil, fmt.Errorf("formData parameter %v is not supported", param["name"])
		default:
			params = append(params, convertParameter(param))
		}
	}
	if len(params) > 0 {
		out["parameters"] = params
	}
	responses := object{}
	inResponses, _ := op["responses"].(object)
	for code, r := range inResponses {
		resp, ok := r.(object)
		if !ok {
			return nil, fmt.Errorf("response %s is not an object", code)
		}
		responses[code] = convertResponse(resp, produces)
	}
	out["responses"] = responses
	return out, nil
}

func asList(v any) []any {
	list, _ := v.([]any)
	return list
}

func mediaTypes(types []string, media object) object {
	out := object{}
	for _, t := range types {
		out[t] = deepCopy(media)
	}
	return out
}

// Fields of a Swagger 2.0 non-body parameter that describe its value: they move into `schema`.
var parameterSchemaFields = []string{
	"type", "format", "items", "default", "maximum", "exclusiveMaximum", "minimum",
	"exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems",
	"uniqueItems", "enum", "multipleOf",
}

func convertParameter(param object) object {
	out := object{}
	schema := object{}
	for key, v := range param {
		switch {
		case key == "collectionFormat":
		case key == "allowEmptyValue":
			out[key] = v
		case key == "x-nullable":
			schema["nullable"] = v
		case contains(parameterSchemaFields, key):
			if key == "items" {
				v = convertSchema(v)
			}
			schema[key] = v
		default:
			out[key] = v
		}
	}
	out["schema"] = schema
	if param["type"] == "array" {
		switch format, _ := param["collectionFormat"].(string); format {
		case "multi":
			out["style"], out["explode"] = "form", true
		case "", "csv":
			out["style"], out["explode"] = styleFor(param), false
		case "ssv":
			out["style"] = "spaceDelimited"
		case "pipes":
			out["style"] = "pipeDelimited"
		}
	}
	return out
}

func styleFor(param object) string {
	if param["in"] == "query" || param["in"] == "cookie" {
		return "form"
	}
	return "simple"
}

func contains(list []string, s string) bool {
	for _, item := range list {
		if item == s {
			return true
		}
	}
	return false
}

func convertResponse(resp object, produces []string) object {
	out := object{}
	for key, v := range resp {
		switch key {
		case "schema", "examples":
		case "headers":
			headers := object{}
			for name, h := range v.(object) {
				headers[name] = convertHeader(h)
			}
			out["headers"] = headers
		default:
			out[key] = v
		}
	}
	description, _ := resp["description"].(string)
	if strings.HasSuffix(description, streamingMarker) {
		produces = []string{StreamMediaType}
		out["description"] = strings.TrimSpace(strings.TrimSuffix(description, streamingMarker))
	}
	if schema, ok := resp["schema"]; ok {
		out["content"] = mediaTypes(produces, object{"schema": convertSchema(schema)})
	}
	return out
}

func convertHeader(h any) object {
	header, _ := h.(object)
	out := object{}
	schema := object{}
	for key, v := range header {
		if contains(parameterSchemaFields, key) {
			schema[key] = v
		} else if key != "collectionFormat" {
			out[key] = v
		}
	}
	out["schema"] = schema
	return out
}

func convertSecurityScheme(def any) object {
	d, _ := def.(object)
	out := object{}
	for key, v := range d {
		out[key] = v
	}
	if d["type"] == "basic" {
		out["type"], out["scheme"] = "http", "basic"
	}
	return out
}

// convertSchema rewrites references and the Swagger-only keywords of a schema, recursively.
// Next to a $ref every other keyword is ignored in OpenAPI 3.0, so a $ref is left alone
// (protoc-gen-openapiv2 writes `"type": "object"` beside it in array items).
func convertSchema(v any) any {
	switch s := v.(type) {
	case object:
		if ref, ok := s["$ref"].(string); ok {
			return object{"$ref": rewriteRef(ref)}
		}
		out := object{}
		for key, value := range s {
			switch key {
			case "x-nullable":
				out["nullable"] = value
			case "properties", "definitions", "patternProperties":
				props := object{}
				for name, p := range value.(object) {
					props[name] = convertSchema(p)
				}
				out[key] = props
			case "items", "additionalProperties", "not":
				out[key] = convertSchema(value)
			case "allOf", "anyOf", "oneOf":
				list := []any{}
				for _, item := range asList(value) {
					list = append(list, convertSchema(item))
				}
				out[key] = list
			default:
				out[key] = value
			}
		}
		return out
	default:
		return v
	}
}

func rewriteRef(ref string) string {
	if name, ok := strings.CutPrefix(ref, "#/definitions/"); ok {
		return "#/components/schemas/" + name
	}
	return ref
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case object:
		out := make(object, len(t))
		for k, val := range t {
			out[k] = deepCopy(val)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, val := range t {
			out[i] = deepCopy(val)
		}
		return out
	default:
		return v
	}
}

// Marshal renders a document as indented JSON, keys sorted, HTML characters left as they are.
func Marshal(doc any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// sortedKeys is used where output order matters for messages.
func sortedKeys(m object) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
