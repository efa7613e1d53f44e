package samtemplate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestEndpointVariable wants every function to declare AWS_ENDPOINT_URL as
// the EndpointUrl parameter, empty by default, and left out (AWS::NoValue)
// when empty: on AWS nothing changes, under sam local env.json can set it.
func TestEndpointVariable(t *testing.T) {
	t.Parallel()
	ts := loaded(t)
	if got := dig(ts.Source, "Parameters", "EndpointUrl", "Default"); got != "" {
		t.Errorf("parameter EndpointUrl default = %#v; want \"\"", got)
	}
	wantCond := map[string]any{"Fn::Not": []any{map[string]any{"Fn::Equals": []any{map[string]any{"Ref": "EndpointUrl"}, ""}}}}
	if got := dig(ts.Transformed, "Conditions", "HasEndpointUrl"); !reflect.DeepEqual(got, wantCond) {
		t.Errorf("condition HasEndpointUrl = %v; want %v", got, wantCond)
	}
	want := map[string]any{"Fn::If": []any{"HasEndpointUrl", map[string]any{"Ref": "EndpointUrl"}, map[string]any{"Ref": "AWS::NoValue"}}}
	for fn := range Functions {
		for name := range EndpointVariables {
			got := dig(ts.Transformed.Properties(fn), "Environment", "Variables", name)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s %s = %v; want %v", fn, name, got, want)
			}
		}
	}
}

// TestEnvJSON checks env.json, the --env-vars file for sam local: each
// variable it sets is one the functions it targets declare (sam local
// silently ignores the others), and every variable a function declares
// whose template value would reach sam local as a logical id (a Ref to a
// resource) or as "" (any other intrinsic) is set.
func TestEnvJSON(t *testing.T) {
	t.Parallel()
	tmpl := loaded(t).Transformed
	b, err := os.ReadFile(filepath.Join(root, "env.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file map[string]map[string]string
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatalf("env.json: %v", err)
	}
	params, _ := tmpl["Parameters"].(map[string]any)
	declared := map[string]map[string]any{}
	for fn := range Functions {
		vars, _ := dig(tmpl.Properties(fn), "Environment", "Variables").(map[string]any)
		declared[fn] = vars
	}
	for key, vars := range file {
		targets := []string{key}
		if key == "Parameters" {
			targets = nil
			for fn := range Functions {
				targets = append(targets, fn)
			}
		} else if _, ok := Functions[key]; !ok {
			t.Errorf("env.json has key %q; want Parameters or a function's logical id", key)
			continue
		}
		for name := range vars {
			used := false
			for _, fn := range targets {
				_, ok := declared[fn][name]
				used = used || ok
			}
			if !used {
				t.Errorf("env.json %s.%s: no function it applies to declares %s, so sam local ignores it", key, name, name)
			}
		}
	}
	for fn, vars := range declared {
		for name, v := range vars {
			m, isIntrinsic := v.(map[string]any)
			if !isIntrinsic {
				continue
			}
			if ref, ok := m["Ref"].(string); ok && len(m) == 1 {
				if _, isParam := params[ref]; isParam {
					continue // sam local gives the parameter's default
				}
			}
			_, global := file["Parameters"][name]
			_, own := file[fn][name]
			if !global && !own {
				t.Errorf("%s declares %s as %v, which sam local cannot resolve; env.json must set it", fn, name, v)
			}
		}
	}
}
