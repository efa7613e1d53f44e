package task

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"
)

// NewID returns a time-ordered (version 7, RFC 9562) UUID in its canonical
// lowercase form: 48 bits of Unix milliseconds, then 74 random bits. Ids
// made close in time sort close together, so the embedded store's B+tree
// takes a burst of new tasks, and their results a moment later, in a few
// adjacent pages per commit instead of one random page each (see
// docs/benchmarks.md); the random bits keep ids unguessable. The time they
// reveal is the task's created_at, which GET returns anyway.
func NewID() string {
	var b [16]byte
	rand.Read(b[:]) // never returns an error; see crypto/rand.Read
	stamp(&b, 0x70) // version 7
	return format(&b)
}

// NewBatchIDs returns the ids of the n tasks of one batch (n at most
// MaxBatchIDs): RFC 9562 version 8 UUIDs laid out as NewID's version 7
// ones (48 bits of Unix milliseconds, random bits, variant 10), that share
// every byte but the last two, which hold the task's index in the batch,
// 0 to n-1, big-endian. BatchOf reads the batch and the index back, so
// that a store can keep a batch as one record (internal/dynamo does). The
// 58 random bits they share keep a batch unguessable; its members are not
// hidden from one another, and every one of them was given to the same
// client.
func NewBatchIDs(n int) []string {
	if n < 0 || n > MaxBatchIDs {
		panic("task.NewBatchIDs: batch size out of range")
	}
	var b [16]byte
	rand.Read(b[:]) // never returns an error; see crypto/rand.Read
	stamp(&b, 0x80) // version 8
	ids := make([]string, n)
	for i := range ids {
		b[14], b[15] = byte(i>>8), byte(i)
		ids[i] = format(&b)
	}
	return ids
}

// MaxBatchIDs is the most ids NewBatchIDs returns: the index has 16 bits.
const MaxBatchIDs = 1 << 16

// BatchNameLen is the length of the batch name BatchOf returns: an id but
// its last four hex digits (the index).
const BatchNameLen = 32

// BatchOf returns the batch that id belongs to, named by the first
// BatchNameLen characters it shares with the batch's other ids, and its
// index in the batch, if id is a batch id (a valid version 8 id); ok is
// false for any other id.
func BatchOf(id string) (batch string, index int, ok bool) {
	if !ValidID(id) || id[14] != '8' {
		return "", 0, false
	}
	var ix [2]byte
	if _, err := hex.Decode(ix[:], []byte(id[BatchNameLen:])); err != nil {
		return "", 0, false
	}
	return id[:BatchNameLen], int(ix[0])<<8 | int(ix[1]), true
}

// stamp writes the current Unix milliseconds, the version and the variant
// into b.
func stamp(b *[16]byte, version byte) {
	ms := uint64(time.Now().UnixMilli())
	b[0], b[1], b[2], b[3], b[4], b[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	b[6] = b[6]&0x0f | version
	b[8] = b[8]&0x3f | 0x80 // variant 10 (RFC 9562)
}

// format returns b in the canonical lowercase form.
func format(b *[16]byte) string {
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// ParseID returns s as a task id in the lowercase form NewID writes, and
// whether it is one: UUIDs are read without regard to case (RFC 9562).
func ParseID(s string) (string, bool) {
	id := strings.ToLower(s)
	return id, ValidID(id)
}

// ValidID reports whether s has the form NewID or NewBatchIDs returns: a
// lowercase version 7 or 8 UUID, or version 4 as NewID made them before.
// Anything else cannot name a task, so lookups reject it without asking
// the store.
func ValidID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		case 14:
			if c != '4' && c != '7' && c != '8' {
				return false
			}
		case 19:
			if c != '8' && c != '9' && c != 'a' && c != 'b' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
	}
	return true
}
