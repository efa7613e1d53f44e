package bolt

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"strconv"
	"time"

	"go.etcd.io/bbolt"

	"github.com/asyncprime/asyncprime/internal/task"
)

// bucketClaims holds idempotency claims by key:
//
//	idempotency            bucket
//	  <key>                the Idempotency-Key → 'c', the CRC-32C of the
//	                       JSON as 8 hex digits, then the JSON
//	                       {"hash","batch","task_ids","created_at","expires_at"}
//
// A claim names the task ids a retry is answered with, so a record changed
// on disk must not be read as another claim: the checksum makes it
// task.ErrDamaged. Claims written before the checksum are the JSON alone,
// and are read as they are.
var bucketClaims = []byte("idempotency")

type claimRecord struct {
	Hash      string    `json:"hash"`
	Batch     bool      `json:"batch,omitempty"`
	TaskIDs   []string  `json:"task_ids"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

func encodeClaim(c task.Claim) ([]byte, error) {
	b, err := json.Marshal(claimRecord{Hash: c.Hash, Batch: c.Batch, TaskIDs: c.TaskIDs, CreatedAt: c.CreatedAt, ExpiresAt: c.ExpiresAt})
	if err != nil {
		return nil, err
	}
	return append(fmt.Appendf(nil, "%c%08x", checksumMark, crc32.Checksum(b, castagnoli)), b...), nil
}

func decodeClaim(key string, b []byte) (task.Claim, error) {
	damaged := func(why string) (task.Claim, error) {
		return task.Claim{}, fmt.Errorf("decode claim %s: %w: %s", task.Excerpt(key), task.ErrDamaged, why)
	}
	switch {
	case len(b) >= checksumLen && b[0] == checksumMark:
		want, err := strconv.ParseUint(string(b[1:checksumLen]), 16, 32)
		b = b[checksumLen:]
		if err != nil || uint32(want) != crc32.Checksum(b, castagnoli) {
			return damaged("checksum mismatch")
		}
	case len(b) > 0 && b[0] == '{': // written before the checksum
	default:
		return damaged("unknown record format")
	}
	var r claimRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return damaged(err.Error())
	}
	return task.Claim{Key: key, Hash: r.Hash, Batch: r.Batch, TaskIDs: r.TaskIDs, CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt}, nil
}

// Claim implements task.Store: the check and the write in one transaction.
func (s *Store) Claim(ctx context.Context, c task.Claim) (task.Claim, error) {
	val, err := encodeClaim(c)
	if err != nil {
		return task.Claim{}, fmt.Errorf("claim key %s: %w", task.Excerpt(c.Key), err)
	}
	var holder task.Claim
	err = s.db.c.Do(ctx, func(tx *txn) error {
		if v := tx.get(bucketClaims, []byte(c.Key)); v != nil {
			cur, err := decodeClaim(c.Key, v)
			if err != nil {
				return err
			}
			switch {
			case cur.Same(c) && cur.Released():
				return task.ErrReleased
			case cur.Same(c):
				return nil // a retry
			case !cur.Expired(c.CreatedAt):
				holder = cur
				return task.ErrClaimed
			}
		}
		return tx.put(bucketClaims, []byte(c.Key), val)
	})
	if err != nil {
		return holder, fmt.Errorf("claim key %s: %w", task.Excerpt(c.Key), err)
	}
	return c, nil
}

// Holder implements task.Store with a read transaction: it does not wait
// for the committer.
func (s *Store) Holder(_ context.Context, key string, at time.Time) (task.Claim, error) {
	if s.db.closed() {
		return task.Claim{}, fmt.Errorf("key %s: %w", task.Excerpt(key), ErrClosed)
	}
	var c task.Claim
	err := s.db.bolt.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketClaims).Get([]byte(key))
		if v == nil {
			return task.ErrNotFound
		}
		var err error
		if c, err = decodeClaim(key, v); err != nil {
			return err
		}
		if c.Expired(at) {
			return task.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return task.Claim{}, fmt.Errorf("key %s: %w", task.Excerpt(key), err)
	}
	return c, nil
}

// Release implements task.Store.
func (s *Store) Release(ctx context.Context, c task.Claim) error {
	err := s.db.c.Do(ctx, func(tx *txn) error {
		if v := tx.get(bucketClaims, []byte(c.Key)); v != nil {
			cur, err := decodeClaim(c.Key, v)
			if err != nil {
				return err
			}
			if !cur.Same(c) {
				return fmt.Errorf("held by another request: %w", task.ErrConflict)
			}
		}
		val, err := encodeClaim(c.Release())
		if err != nil {
			return err
		}
		return tx.put(bucketClaims, []byte(c.Key), val)
	})
	if err != nil {
		return fmt.Errorf("release key %s: %w", task.Excerpt(c.Key), err)
	}
	return nil
}
