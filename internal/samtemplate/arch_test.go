package samtemplate

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestArchitecture: every function runs on the Architecture parameter,
// arm64 by default (what AWS deploys, and what docs/benchmarks.md prices)
// and x86_64 when it says so (sam local on x86_64 Docker without QEMU).
// The SAM transform leaves {"Ref": "Architecture"} for CloudFormation, or
// the SAM CLI, to resolve with the parameter's value, so the test renders
// the template with each value as its Default (which the transform and the
// SAM CLI take when no override is given, as for TestAuthModes), lints it,
// and resolves the Ref the same way.
func TestArchitecture(t *testing.T) {
	t.Parallel()
	cfnLint := lookPath(t, "cfn-lint")
	src := loaded(t).Source
	param := dig(src, "Parameters", "Architecture")
	if typ, def, allowed := dig(param, "Type"), dig(param, "Default"), fmt.Sprint(dig(param, "AllowedValues")); typ != "String" || def != "arm64" || allowed != "[arm64 x86_64]" {
		t.Errorf("parameter Architecture: Type %v, Default %v, AllowedValues %s; want String, arm64, [arm64 x86_64]", typ, def, allowed)
	}
	if d, _ := dig(param, "Description").(string); !strings.Contains(d, "sam local") || !strings.Contains(d, "QEMU") || !strings.Contains(d, "LAMBDA_ARCH") {
		t.Errorf("parameter Architecture Description %q; want it to say x86_64 is for sam local without QEMU, built with LAMBDA_ARCH", d)
	}
	if got, _ := json.Marshal(dig(src, "Globals", "Function", "Architectures")); string(got) != `[{"Ref":"Architecture"}]` {
		t.Errorf("Globals.Function.Architectures: got %s; want [!Ref Architecture]", got)
	}

	b, err := os.ReadFile(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	for _, arch := range []string{"arm64", "x86_64"} {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			ts := loaded(t)
			if arch != "arm64" {
				path := filepath.Join(t.TempDir(), "template.yaml")
				if err := os.WriteFile(path, []byte(setDefault(t, string(b), "Architecture", "arm64", arch)), 0o644); err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(t.Context(), loadTimeout)
				defer cancel()
				if ts, err = Load(ctx, path); err != nil {
					t.Fatalf("SAM transform with Architecture %s: %v", arch, err)
				}
				transformed := filepath.Join(t.TempDir(), "transformed.json")
				b, _ := json.Marshal(ts.Transformed)
				if err := os.WriteFile(transformed, b, 0o644); err != nil {
					t.Fatal(err)
				}
				if out, err := exec.CommandContext(ctx, cfnLint, "--", path, transformed).CombinedOutput(); err != nil || len(out) > 0 {
					t.Errorf("cfn-lint with Architecture %s: %v\n%s", arch, err, out)
				}
			}
			values := map[string]any{}
			for name, p := range dig(ts.Transformed, "Parameters").(map[string]any) {
				values[name] = dig(p, "Default")
			}
			for fn := range Functions {
				got, _ := json.Marshal(resolveRefs(dig(ts.Transformed.Properties(fn), "Architectures"), values))
				if want := `["` + arch + `"]`; string(got) != want {
					t.Errorf("%s Architectures with Architecture %s: got %s; want %s", fn, arch, got, want)
				}
			}
		})
	}
}

// TestNoOtherArchitecture: the Architecture parameter is the template's
// one word on the instruction set; no description, output, dashboard or
// mapping names one (it would be wrong for the other value).
func TestNoOtherArchitecture(t *testing.T) {
	t.Parallel()
	src := loaded(t).Source
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				walk(path+"."+k, e)
			}
		case []any:
			for i, e := range x {
				walk(fmt.Sprintf("%s.%d", path, i), e)
			}
		case string:
			for _, word := range []string{"arm64", "aarch64", "x86", "amd64", "graviton"} {
				if strings.Contains(strings.ToLower(x), word) {
					t.Errorf("template.yaml %s names %s: %q; want the Architecture parameter alone to", path, word, x)
				}
			}
		}
	}
	for k, v := range src {
		if k != "Parameters" {
			walk(k, v)
		}
	}
	for name, p := range dig(src, "Parameters").(map[string]any) {
		if name != "Architecture" {
			walk("Parameters."+name, p)
		}
	}
}

// resolveRefs replaces each {"Ref": name} in v whose name is in values by
// its value, as CloudFormation and the SAM CLI (build, local) resolve a
// Ref to a parameter. Other Refs are left as they are.
func resolveRefs(v any, values map[string]any) any {
	switch x := v.(type) {
	case map[string]any:
		if name, ok := ref(x); ok {
			if val, ok := values[name]; ok {
				return val
			}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = resolveRefs(e, values)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = resolveRefs(e, values)
		}
		return out
	}
	return v
}
