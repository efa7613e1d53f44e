package samtemplate

import (
	"context"
	"debug/elf"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// buildTimeout bounds one function's cross-compilation.
const buildTimeout = 5 * time.Minute

// TestBuildTargets runs, for each function, the make target `sam build`
// runs, and wants a linux/arm64 bootstrap in ARTIFACTS_DIR.
func TestBuildTargets(t *testing.T) {
	t.Parallel()
	makePath := lookPath(t, "make")
	for fn, dir := range Functions {
		t.Run(fn, func(t *testing.T) {
			t.Parallel()
			artifacts := t.TempDir()
			ctx, cancel := context.WithTimeout(t.Context(), buildTimeout)
			defer cancel()
			cmd := exec.CommandContext(ctx, makePath, "--no-print-directory", "-f", "sam.mk", "build-"+fn, "ARTIFACTS_DIR="+artifacts)
			cmd.Dir = root
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("make -f sam.mk build-%s: %v\n%s\nwant a bootstrap built from %s for linux/arm64", fn, err, out, dir)
			}
			bin := filepath.Join(artifacts, "bootstrap")
			f, err := elf.Open(bin)
			if err != nil {
				t.Fatalf("make -f sam.mk build-%s: %v; want an ELF executable at ARTIFACTS_DIR/bootstrap", fn, err)
			}
			defer f.Close()
			if f.Machine != elf.EM_AARCH64 {
				t.Errorf("%s bootstrap: got machine %v; want %v", fn, f.Machine, elf.EM_AARCH64)
			}
		})
	}
}
