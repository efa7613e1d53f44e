package task

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"
)

// MaxBatch is the most numbers one submit may carry.
const MaxBatch = 100

// MaxKeyLength is the longest Idempotency-Key accepted.
const MaxKeyLength = 255

// Request is one accepted submit: one number (POST {"number": n}) or a
// batch (POST {"numbers": [...]}), with an optional idempotency key.
type Request struct {
	Numbers []Number
	// Batch is true when the client sent "numbers": the answer then lists
	// task_ids, even for a batch of one.
	Batch bool
	// Key is the client's Idempotency-Key; "" for none.
	Key string
}

// Hash identifies what was asked, so that a key reused for another request
// is told apart: the SHA-256 of the canonical numbers and the form. Two
// bodies that parse to the same numbers ({"number": 11} and
// {"number": "11"}) are the same request.
func (r Request) Hash() string {
	h := sha256.New()
	if r.Batch {
		h.Write([]byte("numbers"))
	} else {
		h.Write([]byte("number"))
	}
	for _, n := range r.Numbers {
		h.Write([]byte{0})
		h.Write([]byte(n))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Receipt is the answer to an accepted request.
type Receipt struct {
	TaskIDs []string
	Batch   bool
	// Replayed is true when the idempotency key was claimed before by the
	// same request: TaskIDs are that request's.
	Replayed bool
}

// Claim is what an idempotency key stands for: the request (by its hash)
// and the tasks it created. It is kept for the retention, as the tasks.
type Claim struct {
	Key       string
	Hash      string
	Batch     bool
	TaskIDs   []string
	CreatedAt time.Time
	// ExpiresAt is when the key may be claimed again (DynamoDB's TTL
	// attribute expires_at, in epoch seconds).
	ExpiresAt time.Time
}

// Expired reports whether the claim no longer holds its key at now.
func (c Claim) Expired(now time.Time) bool { return !now.Before(c.ExpiresAt) }

// Released reports whether the claim was released: Store.Release sets its
// ExpiresAt to its CreatedAt.
func (c Claim) Released() bool { return c.Expired(c.CreatedAt) }

// Release returns c released, as Store.Release records it.
func (c Claim) Release() Claim {
	c.ExpiresAt = c.CreatedAt
	return c
}

// Same reports whether c and o are the same claim: key, request and tasks.
func (c Claim) Same(o Claim) bool {
	return c.Key == o.Key && c.Hash == o.Hash && c.Batch == o.Batch && slices.Equal(c.TaskIDs, o.TaskIDs)
}

var (
	// ErrClaimed means Store.Claim found the key held by another claim.
	ErrClaimed = errors.New("idempotency key already claimed")
	// ErrReleased means Store.Claim found its own claim released: the
	// request that made it gave up on it.
	ErrReleased = errors.New("the claim was released")
	// ErrKeyReused means the idempotency key was used before for another
	// request (other numbers, or the other body form).
	ErrKeyReused = errors.New("the Idempotency-Key was used for a different request")
)

// ValidKey checks an Idempotency-Key: 1 to MaxKeyLength characters, each a
// letter, a digit or one of - _ . : ~ + / = (a UUID, a ULID or base64 all
// fit).
func ValidKey(k string) error {
	if k == "" || len(k) > MaxKeyLength {
		return fmt.Errorf("the Idempotency-Key must be 1 to %d characters long, got %d", MaxKeyLength, len(k))
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			continue
		}
		switch c {
		case '-', '_', '.', ':', '~', '+', '/', '=':
			continue
		}
		return fmt.Errorf("the Idempotency-Key may hold only letters, digits and - _ . : ~ + / =; character %d is not one of them", i+1)
	}
	return nil
}

// BatchSender is a Sender that can queue several messages in one call, as
// SQS's SendMessageBatch. Submit uses it for batches when the queue has it.
type BatchSender interface {
	SendBatch(ctx context.Context, bodies []string) ([]string, error)
}
