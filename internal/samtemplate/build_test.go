package samtemplate

import (
	"context"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// buildTimeout bounds one function's cross-compilation.
const buildTimeout = 5 * time.Minute

// samBuild runs the make target `sam build` runs for function fn, with the
// environment the SAM CLI passes (its own, plus ARTIFACTS_DIR, here with a
// space in it) and
// LAMBDA_ARCH=arch ("": unset), and returns make's output and the
// bootstrap's path.
func samBuild(t *testing.T, fn, arch string) (out []byte, bootstrap string, err error) {
	t.Helper()
	makePath := lookPath(t, "make")
	// SAM's is <project>/.aws-sam/build/<function>: a project's path may
	// hold a space.
	artifacts := filepath.Join(t.TempDir(), "my project", fn)
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, makePath, "--no-print-directory", "-f", "sam.mk", "build-"+fn, "ARTIFACTS_DIR="+artifacts)
	cmd.Dir = root
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LAMBDA_ARCH=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if arch != "" {
		cmd.Env = append(cmd.Env, "LAMBDA_ARCH="+arch)
	}
	out, err = cmd.CombinedOutput()
	return out, filepath.Join(artifacts, "bootstrap"), err
}

// TestBuildTargets runs, for each function, the make target `sam build`
// runs, and wants a linux bootstrap in ARTIFACTS_DIR for the architecture
// LAMBDA_ARCH names, as template.yaml's Architecture parameter does: arm64
// unless it says x86_64.
func TestBuildTargets(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, arch string
		want       elf.Machine
	}{
		{"default", "", elf.EM_AARCH64},
		{"x86_64", "x86_64", elf.EM_X86_64},
	} {
		for fn, dir := range Functions {
			t.Run(tt.name+"/"+fn, func(t *testing.T) {
				t.Parallel()
				out, bin, err := samBuild(t, fn, tt.arch)
				if err != nil {
					t.Fatalf("LAMBDA_ARCH=%s make -f sam.mk build-%s: %v\n%s\nwant a bootstrap built from %s for linux, %v", tt.arch, fn, err, out, dir, tt.want)
				}
				f, err := elf.Open(bin)
				if err != nil {
					t.Fatalf("LAMBDA_ARCH=%s make -f sam.mk build-%s: %v; want an ELF executable at ARTIFACTS_DIR/bootstrap", tt.arch, fn, err)
				}
				defer f.Close()
				if f.Machine != tt.want || f.OSABI != elf.ELFOSABI_NONE || f.Type != elf.ET_EXEC {
					t.Errorf("%s bootstrap (LAMBDA_ARCH=%s): got machine %v, %v, %v; want %v, a static linux executable (%v, %v)", fn, tt.arch, f.Machine, f.OSABI, f.Type, tt.want, elf.ELFOSABI_NONE, elf.ET_EXEC)
				}
			})
		}
	}
}

// TestBuildTargetsRefuseOtherArchitectures: a LAMBDA_ARCH that is not one
// of the Architecture parameter's values stops the build with an error
// that names it, before anything is compiled.
func TestBuildTargetsRefuseOtherArchitectures(t *testing.T) {
	t.Parallel()
	for _, arch := range []string{"amd64", "aarch64", "x86_64 arm64"} {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			out, bin, err := samBuild(t, "StatusFunction", arch)
			want := "LAMBDA_ARCH is '" + arch + "'; want arm64 (the default) or x86_64"
			if err == nil || !strings.Contains(string(out), want) {
				t.Errorf("LAMBDA_ARCH=%s make -f sam.mk build-StatusFunction: %v\n%s\nwant it to fail, saying %q", arch, err, out, want)
			}
			if _, err := os.Stat(bin); err == nil {
				t.Errorf("LAMBDA_ARCH=%s: a bootstrap was built; want none", arch)
			}
		})
	}
}

// TestDeployRefusesOtherArchitectures: make deploy builds with sam.mk and
// deploys the template's default architecture, arm64; with LAMBDA_ARCH
// set to x86_64 (for sam local) the two would differ, so it stops before
// sam runs.
func TestDeployRefusesOtherArchitectures(t *testing.T) {
	t.Parallel()
	makePath := lookPath(t, "make")
	cmd := exec.CommandContext(t.Context(), makePath, "--no-print-directory", "deploy")
	cmd.Dir = root
	// No sam on this PATH: were the check skipped, make would fail
	// differently.
	cmd.Env = []string{"PATH=" + filepath.Dir(makePath) + ":/bin:/usr/bin", "HOME=" + t.TempDir(), "LAMBDA_ARCH=x86_64"}
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "LAMBDA_ARCH is 'x86_64', but the stack deploys arm64 functions") {
		t.Errorf("LAMBDA_ARCH=x86_64 make deploy: %v\n%s\nwant it to stop, saying the stack deploys arm64", err, out)
	}
	if strings.Contains(string(out), "sam build") {
		t.Errorf("LAMBDA_ARCH=x86_64 make deploy ran sam build:\n%s", out)
	}
}
