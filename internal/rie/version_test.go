package rie_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/asyncprime/asyncprime/internal/rie"
)

// TestVersionMatchesMakefile: the emulator the code names (in the message
// that says how to install it) is the one `make tools` installs.
func TestVersionMatchesMakefile(t *testing.T) {
	t.Parallel()
	mk, err := os.ReadFile(filepath.Join(moduleRoot, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^RIE_VERSION\s*:?=\s*(\S+)\s*$`).FindSubmatch(mk)
	if m == nil {
		t.Fatal("the Makefile sets no RIE_VERSION")
	}
	if got := string(m[1]); got != rie.Version {
		t.Errorf("Makefile RIE_VERSION = %s; want rie.Version, %s", got, rie.Version)
	}
	if install := rie.Package + "@$(RIE_VERSION)"; !strings.Contains(string(mk), install) {
		t.Errorf("the Makefile does not install %s", install)
	}
}
