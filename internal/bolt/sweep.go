package bolt

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.etcd.io/bbolt"
)

// DefaultSweepInterval is how often an open DB deletes expired tasks.
const DefaultSweepInterval = 10 * time.Minute

// sweepChunk bounds the deletes of one commit, so that a sweep never holds
// up submits for long.
const sweepChunk = 500

// Sweep deletes the tasks whose retention ran out by now and returns how
// many it deleted: what DynamoDB's TTL does for the deployed table. Reads
// already treat an expired task as gone; this gives the space back.
func (db *DB) Sweep(ctx context.Context, now time.Time) (int, error) {
	return db.sweep(ctx, bucketTasks, func(k, v []byte) bool {
		t, err := decodeTask(string(k), v)
		return err == nil && t.Expired(now)
	})
}

// sweepClaims deletes the idempotency claims expired at now, and those
// that cannot be read, as Sweep does the tasks; it returns how many.
func (db *DB) sweepClaims(ctx context.Context, now time.Time) (int, error) {
	return db.sweep(ctx, bucketClaims, func(k, v []byte) bool {
		c, err := decodeClaim(string(k), v)
		return err != nil || c.Expired(now)
	})
}

// sweep deletes the keys of bucket whose values expired says are, and
// returns how many. It reads the bucket in one read transaction (a
// background pass, never a lookup) and deletes in chunks through the
// committer, checking each key again in the write.
func (db *DB) sweep(ctx context.Context, bucket []byte, expired func(k, v []byte) bool) (int, error) {
	var keys [][]byte
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucket).ForEach(func(k, v []byte) error {
			if expired(k, v) {
				keys = append(keys, append([]byte(nil), k...))
			}
			return ctx.Err()
		})
	})
	if err != nil {
		return 0, fmt.Errorf("sweep %s: %w", bucket, err)
	}
	deleted := 0
	for len(keys) > 0 {
		chunk := keys[:min(sweepChunk, len(keys))]
		keys = keys[len(chunk):]
		n := 0
		err := db.c.Do(ctx, func(tx *txn) error {
			n = 0 // the batch may run again
			for _, k := range chunk {
				if v := tx.get(bucket, k); v == nil || !expired(k, v) {
					continue
				}
				if err := tx.delete(bucket, k); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return deleted, fmt.Errorf("sweep %s: %w", bucket, err)
		}
		deleted += n
	}
	return deleted, nil
}

// sweepLoop runs Sweep every interval until the DB closes.
func (db *DB) sweepLoop(interval time.Duration) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { <-db.closing; cancel() }()
	for {
		select {
		case <-db.closing:
			return
		case <-ticker.C:
		}
		n, err := db.Sweep(ctx, db.opts.Now())
		if _, cerr := db.sweepClaims(ctx, db.opts.Now()); err == nil {
			err = cerr
		}
		switch {
		case err != nil && !db.closed():
			db.log.Warn("bolt: sweeping expired tasks failed", slog.Any("error", err))
		case n > 0:
			db.log.Info("bolt: deleted expired tasks", slog.Int("tasks", n))
		}
	}
}
