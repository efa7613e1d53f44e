package samtemplate

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// bashScripts are the scripts and makefiles of the build, deploy and sam
// local path, which a developer runs with the bash their system has:
// macOS ships bash 3.2.
var bashScripts = []string{"Makefile", "sam.mk", "scripts/sam-local.sh", "localstack/deploy.sh"}

// bashNewer are constructs bash 3.2 does not have, or treats otherwise,
// each with the bash that brought it.
var bashNewer = []struct {
	what string
	re   *regexp.Regexp
}{
	{"case modification ${x^}, ${x,,} (bash 4.0)", regexp.MustCompile(`\$\{[#!]?[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?(\^|,)`)},
	{"a negative array subscript (bash 4.3)", regexp.MustCompile(`\[\s*-[0-9]+\s*\]\}`)},
	{"wait -n, -f or -p (bash 4.3 to 5.1)", regexp.MustCompile(`\bwait\s+-[a-z]`)},
	{"mapfile, readarray or coproc (bash 4.0)", regexp.MustCompile(`\b(mapfile|readarray|coproc)\b`)},
	{"associative arrays or namerefs (bash 4.0, 4.3)", regexp.MustCompile(`\b(declare|local|typeset)\s+-[a-zA-Z]*[An]`)},
	{"&>> or |& (bash 4.0)", regexp.MustCompile(`&>>|\|&`)},
	{"case fall-through ;& or ;;& (bash 4.0)", regexp.MustCompile(`;;?&\s*$`)},
	{"${x@Q} and other transformations (bash 4.4)", regexp.MustCompile(`\$\{[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?@[QEPAKaUuL]\}`)},
	{"$BASHPID, $EPOCHSECONDS, $EPOCHREALTIME, $BASH_ARGV0 (bash 4.0 to 5.0)", regexp.MustCompile(`\b(BASHPID|EPOCHSECONDS|EPOCHREALTIME|BASH_ARGV0)\b`)},
	{"a fractional read -t (bash 4.0)", regexp.MustCompile(`\bread\b[^;|&]*\s-t\s*[0-9]*\.`)},
	{"a bash 4+ shell option", regexp.MustCompile(`\bshopt\s+-s\s+(globstar|lastpipe|inherit_errexit|autocd|checkjobs|dirspell|direxpand|localvar_inherit|assoc_expand_once)\b`)},
	// Before 4.4, "${a[@]}" of an empty array is an unbound variable
	// under set -u; ${a[@]+"${a[@]}"} works in every bash.
	{`an unguarded "${a[@]}" (an empty array is unbound under set -u before bash 4.4)`, regexp.MustCompile(`(^|[^+])"\$\{[A-Za-z_][A-Za-z0-9_]*\[@\]\}"`)},
	{"GNU stat -c (macOS's stat has -f)", regexp.MustCompile(`\bstat\s+-c\b`)},
}

// TestScriptsKeepToBash32 wants the scripts and the make recipes free of
// the bash 4 and 5 constructs above, so that they run with macOS's bash
// 3.2. (No bash 3.2 runs here: this reads them, line by line, comments
// aside.)
func TestScriptsKeepToBash32(t *testing.T) {
	t.Parallel()
	for _, name := range bashScripts {
		b, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "#") {
				continue
			}
			for _, c := range bashNewer {
				if c.re.MatchString(line) {
					t.Errorf("%s:%d: %s: %s", name, i+1, c.what, strings.TrimSpace(line))
				}
			}
		}
	}
}

// TestBashNewerCatches: each pattern of bashNewer finds the construct it
// names, and leaves alone what bash 3.2 has.
func TestBashNewerCatches(t *testing.T) {
	t.Parallel()
	bad := []string{
		`id=$${fn^}`, `lower=${name,,}`, `kill -0 "${pids[-1]}"`, `wait -n "${pids[@]}"`,
		`mapfile -t lines < f`, `declare -A seen`, `local -n ref=x`, `cmd &>> log`, `cmd |& tee`,
		`a) x;;&`, `echo "${v@Q}"`, `echo $EPOCHSECONDS`, `read -t 0.5 x`, `shopt -s globstar`,
		`for p in "${pids[@]}"; do`, `n=$(stat -c %s f)`,
	}
	good := []string{
		`id=$(printf %s "${fn:0:1}" | tr '[:lower:]' '[:upper:]')${fn:1}`, `for p in ${pids[@]+"${pids[@]}"}; do`,
		`kill -0 "${pids[$((i-1))]}"`, `pids+=("$!")`, `wait "$tick" || true`, `[[ $a == *:* ]] && b=1`,
		`x=${y:-z}`, `echo "${#arr[@]}"`, `n=$(wc -c < f | tr -d ' ')`, `a) x;;`,
	}
	matches := func(line string) []string {
		var got []string
		for _, c := range bashNewer {
			if c.re.MatchString(line) {
				got = append(got, c.what)
			}
		}
		return got
	}
	for _, line := range bad {
		if len(matches(line)) == 0 {
			t.Errorf("%q: no pattern finds it; want one", line)
		}
	}
	for _, line := range good {
		if got := matches(line); len(got) > 0 {
			t.Errorf("%q: found as %v; want none (bash 3.2 has it)", line, got)
		}
	}
}
