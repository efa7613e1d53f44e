package bolt_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"go.etcd.io/bbolt"

	"github.com/asyncprime/asyncprime/internal/bolt"
)

// openHelperEnv names the file TestOpenHelper opens.
const openHelperEnv = "BOLT_OPEN_HELPER_DB"

// TestOpenHelper is the process TestOpenDamagedElements runs: it opens the
// file and prints "opened" or Open's error. A fault or a panic that Open
// does not catch kills it with a stack trace instead.
func TestOpenHelper(t *testing.T) {
	path := os.Getenv(openHelperEnv)
	if path == "" {
		t.Skip("run by TestOpenDamagedElements")
	}
	db, err := bolt.Open(path, bolt.Options{Logger: discard, SweepInterval: -1})
	if err != nil {
		fmt.Println("error:", err, "damaged:", errors.Is(err, bolt.ErrDamagedFile))
		os.Exit(0)
	}
	db.Close()
	fmt.Println("opened")
	os.Exit(0)
}

// TestOpenDamagedElements: an element of a page changed on disk (its
// flags, its key's place, its value's length) makes Open fail with
// ErrDamagedFile. bbolt checks none of that, or checks it on a goroutine
// of its own where a fault crashes the process: without the check, Open
// succeeds and the first read of the value is a SIGBUS, or Open crashes
// with a stack trace. Each Open runs in a process of its own.
func TestOpenDamagedElements(t *testing.T) {
	t.Parallel()
	if os.Getenv(openHelperEnv) != "" {
		t.Skip("in the helper process")
	}
	le := binary.LittleEndian
	// Each change gets the file and the tasks bucket's root page, a
	// branch page, and its first leaf page; elements start 16 bytes into a
	// page, 16 bytes each.
	tests := []struct {
		name   string
		change func(b []byte, root, leaf int)
	}{
		{"value past its page", func(b []byte, _, leaf int) {
			le.PutUint32(b[leaf+16+12:], 1<<29) // element 0's vsize
		}},
		{"branch key outside the file", func(b []byte, root, _ int) {
			le.PutUint32(b[root+16+16:], 1<<30) // element 1's pos
		}},
		{"record marked as a bucket", func(b []byte, _, leaf int) {
			le.PutUint32(b[leaf+16:], 1) // element 0's flags
		}},
		{"keys out of order", func(b []byte, _, leaf int) {
			key := func(i int) []byte {
				at := leaf + 16 + 16*i
				pos, ksize := int(le.Uint32(b[at+4:])), int(le.Uint32(b[at+8:]))
				return b[at+pos : at+pos+ksize]
			}
			copy(key(1), key(2))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path, b := manyPages(t)
			page := os.Getpagesize()
			root := tasksRoot(t, path) * page
			if flags := le.Uint16(b[root+8:]); flags != 0x01 {
				t.Fatalf("the tasks bucket's root page has flags %#x; want a branch page (0x01)", flags)
			}
			leaf := int(le.Uint64(b[root+16+8:])) * page
			tt.change(b, root, leaf)
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(os.Args[0], "-test.run=^TestOpenHelper$", "-test.count=1")
			cmd.Env = append(os.Environ(), openHelperEnv+"="+path)
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "damaged: true") || !strings.Contains(string(out), path) {
				t.Errorf("Open in a process of its own: %v, output:\n%.3000s\nwant ErrDamagedFile naming the file", err, out)
			}
		})
	}
}

// tasksRoot is the page number of the tasks bucket's root.
func tasksRoot(t *testing.T, path string) int {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var root int
	if err := db.View(func(tx *bbolt.Tx) error { root = int(tx.Bucket([]byte("tasks")).RootPage()); return nil }); err != nil {
		t.Fatal(err)
	}
	return root
}
