package bolt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"slices"
)

// checkPages reads, with plain reads of the file (not through bbolt's
// memory map), every page that the tree of the meta page of transaction
// txid reaches, and checks what bbolt takes on trust:
//
//   - what bbolt checks when it rebuilds the free list at Open (the
//     file's free list is not written: Options.NoFreelistSync): every
//     page is a branch or a leaf page below the high-water mark, names
//     itself, and is reached once; keys are in order, within a page and
//     between a branch's keys. bbolt checks this on a goroutine of its
//     own, where a fault or a panic cannot be recovered, and goes on
//     checking after it reported the first problem, so that damage it
//     finds may crash the process with a stack trace instead of failing
//     Open;
//   - what bbolt never checks: that each element's key and value lie
//     within its page. A size or an offset changed on disk points the
//     slice bbolt hands out past its page, or past the end of the file,
//     and the first read of it (a Get, a task record's checksum) is a
//     SIGBUS or SIGSEGV that no recover catches.
//
// The file must be locked against writers (a read-only bbolt handle is).
func checkPages(r io.ReaderAt, pageSize int, txid uint64) error {
	m, err := readMeta(r, pageSize, txid)
	if err != nil {
		return err
	}
	c := &pageCheck{r: r, pageSize: uint64(pageSize), hwm: m.pgid, seen: map[uint64]bool{}}
	if m.freelist != math.MaxUint64 {
		// A free list written by another program: bbolt reads it at
		// Open instead of scanning. It is a page like the others.
		if _, err := c.page(m.freelist, flagFreelist); err != nil {
			return fmt.Errorf("free list: %w", err)
		}
	}
	return c.bucket(m.root, nil)
}

// Page flags and the leaf element flag of a bucket, as bbolt writes them.
const (
	flagBranch   uint16 = 0x01
	flagLeaf     uint16 = 0x02
	flagFreelist uint16 = 0x10
	flagBucket   uint32 = 0x01

	bboltMagic   = 0xED0CDAED
	bboltVersion = 2
	pageHeader   = 16 // id u64, flags u16, count u16, overflow u32
	elemSize     = 16 // both branch and leaf elements
	bucketHeader = 16 // root u64, sequence u64; an inline bucket's page follows
)

type meta struct{ root, freelist, pgid uint64 }

// readMeta returns the meta page of transaction txid, the one bbolt uses:
// valid (magic, version, checksum) and with that transaction id.
func readMeta(r io.ReaderAt, pageSize int, txid uint64) (meta, error) {
	for _, off := range []int64{0, int64(pageSize)} {
		b := make([]byte, pageHeader+64)
		if _, err := r.ReadAt(b, off); err != nil {
			return meta{}, fmt.Errorf("read the meta page at byte %d: %w", off, err)
		}
		b = b[pageHeader:]
		le := binary.LittleEndian
		h := fnv.New64a()
		h.Write(b[:56])
		if le.Uint32(b[0:]) != bboltMagic || le.Uint32(b[4:]) != bboltVersion || le.Uint64(b[56:]) != h.Sum64() || le.Uint64(b[48:]) != txid {
			continue
		}
		return meta{root: le.Uint64(b[16:]), freelist: le.Uint64(b[32:]), pgid: le.Uint64(b[40:])}, nil
	}
	return meta{}, fmt.Errorf("no valid meta page of transaction %d", txid)
}

// pageCheck walks the pages of one file.
type pageCheck struct {
	r        io.ReaderAt
	pageSize uint64
	hwm      uint64          // the high-water mark: pages at or above it are not in use
	seen     map[uint64]bool // every page reached, overflow pages too
}

// page reads page id and its overflow pages, after checking its header:
// it names itself, its flags are want, and it ends below the high-water
// mark. A page reached a second time is an error.
func (c *pageCheck) page(id uint64, want ...uint16) ([]byte, error) {
	if id < 2 || id >= c.hwm {
		return nil, fmt.Errorf("page %d: outside the pages in use [2, %d)", id, c.hwm)
	}
	hdr := make([]byte, pageHeader)
	if _, err := c.r.ReadAt(hdr, int64(id*c.pageSize)); err != nil {
		return nil, fmt.Errorf("page %d: %w", id, err)
	}
	le := binary.LittleEndian
	self, flags, overflow := le.Uint64(hdr), le.Uint16(hdr[8:]), uint64(le.Uint32(hdr[12:]))
	switch {
	case self != id:
		return nil, fmt.Errorf("page %d: its header names page %d", id, self)
	case !slices.Contains(want, flags):
		return nil, fmt.Errorf("page %d: unexpected type (flags %#x)", id, flags)
	case overflow >= c.hwm-id:
		return nil, fmt.Errorf("page %d: its %d overflow pages reach past the pages in use (%d)", id, overflow, c.hwm)
	}
	for i := id; i <= id+overflow; i++ {
		if c.seen[i] {
			return nil, fmt.Errorf("page %d: reached twice", i)
		}
		c.seen[i] = true
	}
	p := make([]byte, (overflow+1)*c.pageSize)
	if _, err := c.r.ReadAt(p, int64(id*c.pageSize)); err != nil {
		return nil, fmt.Errorf("page %d: %w", id, err)
	}
	return p, nil
}

// element is a branch element (pgid set) or a leaf element (val set).
type element struct {
	key, val []byte
	pgid     uint64
	bucket   bool
}

// elements decodes the elements of page p (a branch or leaf page read from
// the file, or an inline bucket's page), each key and value within p.
func elements(p []byte) ([]element, error) {
	if len(p) < pageHeader {
		return nil, errors.New("shorter than a page header")
	}
	le := binary.LittleEndian
	flags, count := le.Uint16(p[8:]), int(le.Uint16(p[10:]))
	if flags != flagBranch && flags != flagLeaf {
		return nil, fmt.Errorf("unexpected type (flags %#x)", flags)
	}
	if pageHeader+count*elemSize > len(p) {
		return nil, fmt.Errorf("%d elements do not fit in %d bytes", count, len(p))
	}
	els := make([]element, count)
	for i := range els {
		at := pageHeader + i*elemSize
		e := p[at : at+elemSize]
		var pos, ksize, vsize uint64
		if flags == flagBranch {
			pos, ksize, els[i].pgid = uint64(le.Uint32(e)), uint64(le.Uint32(e[4:])), le.Uint64(e[8:])
		} else {
			els[i].bucket = le.Uint32(e)&flagBucket != 0
			pos, ksize, vsize = uint64(le.Uint32(e[4:])), uint64(le.Uint32(e[8:])), uint64(le.Uint32(e[12:]))
		}
		start := uint64(at) + pos
		if end := start + ksize + vsize; end > uint64(len(p)) {
			return nil, fmt.Errorf("element %d: its key and value (bytes %d to %d) end past its page (%d bytes)", i, start, end, len(p))
		}
		els[i].key, els[i].val = p[start:start+ksize], p[start+ksize:start+ksize+vsize]
	}
	return els, nil
}

// bucket checks the tree of a bucket whose root is page root, or, if root
// is 0, the inline bucket whose page is inline; then the buckets it holds.
func (c *pageCheck) bucket(root uint64, inline []byte) error {
	var buckets []element
	if root == 0 {
		els, err := elements(inline)
		if err == nil && binary.LittleEndian.Uint16(inline[8:]) != flagLeaf {
			err = errors.New("its page is not a leaf")
		}
		if err != nil {
			return fmt.Errorf("inline bucket: %w", err)
		}
		for _, e := range els {
			if e.bucket {
				buckets = append(buckets, e)
			}
		}
	} else if _, err := c.tree(root, nil, nil, &buckets); err != nil {
		return err
	}
	for _, b := range buckets {
		if len(b.val) < bucketHeader {
			return fmt.Errorf("bucket %q: its header is %d bytes, not %d", b.key, len(b.val), bucketHeader)
		}
		if err := c.bucket(binary.LittleEndian.Uint64(b.val), b.val[bucketHeader:]); err != nil {
			return fmt.Errorf("bucket %q: %w", b.key, err)
		}
	}
	return nil
}

// tree checks the subtree of page id, whose keys must be at least lo (if
// not nil) and less than hi (if not nil), as bbolt's check does. It
// appends the bucket elements of its leaves to buckets and returns the
// subtree's last key.
func (c *pageCheck) tree(id uint64, lo, hi []byte, buckets *[]element) ([]byte, error) {
	p, err := c.page(id, flagBranch, flagLeaf)
	if err != nil {
		return nil, err
	}
	els, err := elements(p)
	if err != nil {
		return nil, fmt.Errorf("page %d: %w", id, err)
	}
	leaf := binary.LittleEndian.Uint16(p[8:]) == flagLeaf
	var last []byte
	prev := lo
	for i, e := range els {
		if err := keyInOrder(i, e.key, prev, hi); err != nil {
			return nil, fmt.Errorf("page %d: %w", id, err)
		}
		if leaf {
			if e.bucket {
				*buckets = append(*buckets, e)
			}
			prev, last = e.key, e.key
			continue
		}
		next := hi
		if i < len(els)-1 {
			next = els[i+1].key
		}
		if last, err = c.tree(e.pgid, e.key, next, buckets); err != nil {
			return nil, err
		}
		prev = last
	}
	return last, nil
}

// keyInOrder is bbolt's verifyKeyOrder: key i of a page after prev (the
// previous key, or, first on its page, the least its parent allows) and
// before hi.
func keyInOrder(i int, key, prev, hi []byte) error {
	switch {
	case i == 0 && prev != nil && bytes.Compare(prev, key) > 0,
		i > 0 && bytes.Compare(prev, key) >= 0:
		return fmt.Errorf("key %d (%x) is not after %x", i, excerpt(key), excerpt(prev))
	case hi != nil && bytes.Compare(key, hi) >= 0:
		return fmt.Errorf("key %d (%x) is not before %x", i, excerpt(key), excerpt(hi))
	}
	return nil
}

// excerpt is at most the first 40 bytes of a key, for an error message.
func excerpt(key []byte) []byte { return key[:min(len(key), 40)] }
