package openapi3

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// sharedKey is the overlay's top-level place for YAML anchors; it is not merged.
const sharedKey = "x-shared"

// ApplyOverlay merges a YAML overlay into doc (in place), like a JSON merge patch (RFC 7386):
// mappings merge key by key, `null` deletes a key, any other value replaces. Two additions:
//
//   - a mapping applied to a list of named objects (an operation's `parameters`) patches the
//     elements by name: `parameters: {symbol: {required: true}}`; a name the list lacks is added
//     when its mapping is a whole parameter (has `in`), and is an error otherwise;
//   - under `paths`, a path, an operation or a parameter that the generated document lacks is an
//     error, so the overlay can only describe routes that exist (a renamed route fails the
//     generation instead of leaving a stale description behind).
//
// The top-level `x-shared` mapping holds YAML anchors for the rest and is dropped.
func ApplyOverlay(doc map[string]any, overlayYAML []byte) error {
	var raw any
	if err := yaml.Unmarshal(overlayYAML, &raw); err != nil {
		return fmt.Errorf("reading the overlay: %w", err)
	}
	patch, ok := normalize(raw).(object)
	if !ok {
		return fmt.Errorf("the overlay is not a mapping")
	}
	delete(patch, sharedKey)
	return mergeObject(doc, patch, nil)
}

// normalize turns what YAML decodes (maps with any keys) into JSON-shaped values.
func normalize(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(object, len(t))
		for k, val := range t {
			out[k] = normalize(val)
		}
		return out
	case map[any]any:
		out := make(object, len(t))
		for k, val := range t {
			out[fmt.Sprint(k)] = normalize(val)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, val := range t {
			out[i] = normalize(val)
		}
		return out
	default:
		return v
	}
}

func mergeObject(target, patch object, at []string) error {
	for _, key := range sortedKeys(patch) {
		value := patch[key]
		where := append(append([]string{}, at...), key)
		if value == nil {
			delete(target, key)
			continue
		}
		existing, present := target[key]
		if _, isObject := value.(object); !present && isObject && key == "parameters" {
			existing, present = []any{}, true
		}
		if !present && mustExist(where) {
			return fmt.Errorf("overlay: %s is not in the generated document", strings.Join(where, " > "))
		}
		switch p := value.(type) {
		case object:
			switch e := existing.(type) {
			case object:
				if err := mergeObject(e, p, where); err != nil {
					return err
				}
				continue
			case []any:
				merged, err := mergeNamed(e, p, where)
				if err != nil {
					return err
				}
				target[key] = merged
				continue
			}
		}
		target[key] = deepCopy(value)
	}
	return nil
}

// mustExist: paths and their operations come from the protos and http.yaml only.
func mustExist(where []string) bool {
	if len(where) == 0 || where[0] != "paths" {
		return false
	}
	switch len(where) {
	case 2:
		return true
	case 3:
		return isMethod(where[2])
	}
	return false
}

func mergeNamed(list []any, patch object, at []string) ([]any, error) {
	for _, name := range sortedKeys(patch) {
		p, ok := patch[name].(object)
		if !ok {
			return nil, fmt.Errorf("overlay: %s > %s must be a mapping", strings.Join(at, " > "), name)
		}
		found := false
		for _, item := range list {
			element, ok := item.(object)
			if !ok || element["name"] != name {
				continue
			}
			found = true
			if err := mergeObject(element, p, append(append([]string{}, at...), name)); err != nil {
				return nil, err
			}
		}
		if found {
			continue
		}
		if _, whole := p["in"]; !whole {
			return nil, fmt.Errorf("overlay: %s > %s is not in the generated document", strings.Join(at, " > "), name)
		}
		added := deepCopy(p).(object)
		added["name"] = name
		list = append(list, added)
	}
	return list, nil
}
