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
	ms := uint64(time.Now().UnixMilli())
	b[0], b[1], b[2], b[3], b[4], b[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	b[6] = b[6]&0x0f | 0x70 // version 7
	b[8] = b[8]&0x3f | 0x80 // variant 10 (RFC 9562)
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

// ValidID reports whether s has the form NewID returns: a lowercase version
// 7 UUID, or version 4 as NewID made them before. Anything else cannot name
// a task, so lookups reject it without asking the store.
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
			if c != '4' && c != '7' {
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
