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
// already treat an expired task as gone; this gives the space back. It
// reads the tasks bucket in one read transaction (a background pass, never
// a lookup) and deletes in chunks through the committer, checking each
// task's expiry again in the write.
func (db *DB) Sweep(ctx context.Context, now time.Time) (int, error) {
	var expired [][]byte
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketTasks).ForEach(func(k, v []byte) error {
			t, err := decodeTask(string(k), v)
			if err == nil && t.Expired(now) {
				expired = append(expired, append([]byte(nil), k...))
			}
			return ctx.Err()
		})
	})
	if err != nil {
		return 0, fmt.Errorf("sweep: %w", err)
	}
	deleted := 0
	for len(expired) > 0 {
		chunk := expired[:min(sweepChunk, len(expired))]
		expired = expired[len(chunk):]
		n := 0
		err := db.c.Do(ctx, func(tx *txn) error {
			n = 0 // the batch may run again
			for _, k := range chunk {
				v := tx.get(bucketTasks, k)
				if v == nil {
					continue
				}
				if t, err := decodeTask(string(k), v); err != nil || !t.Expired(now) {
					continue
				}
				if err := tx.delete(bucketTasks, k); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return deleted, fmt.Errorf("sweep: %w", err)
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
