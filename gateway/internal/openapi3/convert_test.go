package openapi3

import (
	"encoding/json"
	"strings"
	"testing"
)

const swagger = `{
  "swagger": "2.0",
  "info": {"title": "t", "version": "v1"},
  "consumes": ["application/json"],
  "produces": ["application/json"],
  "paths": {
    "/things/{id}": {
      "get": {
        "operationId": "Get",
        "parameters": [
          {"name": "id", "in": "path", "required": true, "type": "string"},
          {"name": "tags", "in": "query", "type": "array", "items": {"type": "string"}, "collectionFormat": "multi"},
          {"name": "limit", "in": "query", "type": "integer", "format": "int32"}
        ],
        "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/Thing"}}}
      }
    },
    "/things": {
      "post": {
        "parameters": [{"name": "body", "in": "body", "required": true, "schema": {"$ref": "#/definitions/Thing"}}],
        "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/Thing"}}}
      }
    },
    "/things/stream": {
      "get": {
        "responses": {"200": {"description": "A successful response.(streaming responses)",
          "schema": {"type": "object", "properties": {"result": {"$ref": "#/definitions/Thing"}}}}}
      }
    }
  },
  "definitions": {
    "Thing": {"type": "object", "properties": {
      "at": {"type": "string", "format": "date-time", "x-nullable": true},
      "parts": {"type": "array", "items": {"type": "object", "$ref": "#/definitions/Thing"}}}}
  }
}`

func convertForTest(t *testing.T) map[string]any {
	t.Helper()
	doc, err := Convert([]byte(swagger))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func at(t *testing.T, v any, path ...string) any {
	t.Helper()
	for _, p := range path {
		switch c := v.(type) {
		case map[string]any:
			v = c[p]
		case []any:
			i := 0
			for ; i < len(c); i++ {
				if m, ok := c[i].(map[string]any); ok && m["name"] == p {
					break
				}
			}
			if i == len(c) {
				t.Fatalf("no %s in %v", p, c)
			}
			v = c[i]
		default:
			t.Fatalf("cannot step into %v with %s", v, p)
		}
	}
	return v
}

func TestConvert(t *testing.T) {
	doc := convertForTest(t)
	if doc["openapi"] != "3.0.3" {
		t.Errorf("openapi = %v", doc["openapi"])
	}
	get := at(t, doc, "paths", "/things/{id}", "get")
	if s := at(t, get, "parameters", "limit", "schema"); s.(map[string]any)["type"] != "integer" {
		t.Errorf("limit schema = %v", s)
	}
	tags := at(t, get, "parameters", "tags").(map[string]any)
	if tags["style"] != "form" || tags["explode"] != true || tags["collectionFormat"] != nil {
		t.Errorf("tags = %v", tags)
	}
	if ref := at(t, get, "responses", "200", "content", "application/json", "schema", "$ref"); ref != "#/components/schemas/Thing" {
		t.Errorf("response $ref = %v", ref)
	}
	post := at(t, doc, "paths", "/things", "post").(map[string]any)
	if _, ok := post["parameters"]; ok {
		t.Errorf("body parameter left in parameters: %v", post["parameters"])
	}
	if at(t, post, "requestBody", "required") != true ||
		at(t, post, "requestBody", "content", "application/json", "schema", "$ref") != "#/components/schemas/Thing" {
		t.Errorf("requestBody = %v", post["requestBody"])
	}
	stream := at(t, doc, "paths", "/things/stream", "get", "responses", "200").(map[string]any)
	if at(t, stream, "content", StreamMediaType) == nil || stream["description"] != "A successful response." {
		t.Errorf("stream response = %v", stream)
	}
	thing := at(t, doc, "components", "schemas", "Thing", "properties")
	if at(t, thing, "at", "nullable") != true {
		t.Errorf("x-nullable not converted: %v", thing)
	}
	if items := at(t, thing, "parts", "items").(map[string]any); len(items) != 1 || items["$ref"] != "#/components/schemas/Thing" {
		t.Errorf("items = %v", items)
	}
	body, err := Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(body), "#/definitions/") {
		t.Errorf("a Swagger $ref is left:\n%s", body)
	}
}

func TestOverlay(t *testing.T) {
	doc := convertForTest(t)
	err := ApplyOverlay(doc, []byte(`
x-shared:
  err: &err {description: bad}
paths:
  /things/{id}:
    get:
      parameters:
        limit: {schema: {minimum: 0, maximum: 10}}
        X-Request-Id: {in: header, schema: {type: string}}
      responses:
        "400": *err
  /things:
    post:
      responses:
        "200": null
        "202": {description: accepted}
`))
	if err != nil {
		t.Fatal(err)
	}
	get := at(t, doc, "paths", "/things/{id}", "get")
	limit := at(t, get, "parameters", "limit", "schema").(map[string]any)
	if limit["type"] != "integer" || limit["maximum"] != 10 {
		t.Errorf("limit = %v", limit)
	}
	if at(t, get, "parameters", "X-Request-Id", "in") != "header" {
		t.Error("header parameter not added")
	}
	if at(t, get, "responses", "400", "description") != "bad" {
		t.Error("anchor not applied")
	}
	responses := at(t, doc, "paths", "/things", "post", "responses").(map[string]any)
	if _, ok := responses["200"]; ok || responses["202"] == nil {
		t.Errorf("responses = %v", responses)
	}
	if _, ok := doc["x-shared"]; ok {
		t.Error("x-shared was merged")
	}
	out, _ := json.Marshal(doc)
	if !strings.Contains(string(out), `"maximum":10`) {
		t.Errorf("%s", out)
	}
}

func TestOverlayCannotInventRoutes(t *testing.T) {
	for _, overlay := range []string{
		"paths: {/nothing: {get: {summary: x}}}",
		"paths: {/things: {get: {summary: x}}}",
		"paths: {/things/{id}: {get: {parameters: {nope: {description: x}}}}}",
	} {
		if err := ApplyOverlay(convertForTest(t), []byte(overlay)); err == nil {
			t.Errorf("overlay %q was accepted", overlay)
		}
	}
}

func TestConvertRefusesOtherVersions(t *testing.T) {
	if _, err := Convert([]byte(`{"openapi": "3.0.0"}`)); err == nil {
		t.Error("an OpenAPI 3 document was taken for Swagger 2.0")
	}
}
