package bolt

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"strconv"
	"time"

	"github.com/asyncprime/asyncprime/internal/task"
)

// Bucket names; see the package comment for the layout.
var (
	bucketMeta  = []byte("meta")
	bucketTasks = []byte("tasks")
	keyVersion  = []byte("version")
)

// schemaVersion is stored under meta/version. Open refuses a file with
// another version rather than misreading it.
const schemaVersion = "1"

// queueBucket names the bucket that holds the messages of the named queue.
func queueBucket(name string) []byte { return []byte("queue:" + name) }

// taskRecord is the JSON value stored under tasks/<id>. Times are RFC 3339
// with nanoseconds, as encoding/json writes a time.Time; zero times are
// left out.
type taskRecord struct {
	Status     task.Status `json:"status"`
	Number     string      `json:"number"`
	IsPrime    bool        `json:"is_prime,omitempty"`
	Error      string      `json:"error,omitempty"`
	Attempts   int         `json:"attempts,omitempty"`
	CreatedAt  time.Time   `json:"created_at,omitzero"`
	StartedAt  time.Time   `json:"started_at,omitzero"`
	FinishedAt time.Time   `json:"finished_at,omitzero"`
	ExpiresAt  time.Time   `json:"expires_at,omitzero"`
}

// A task record on disk is checksummed: the byte 'c', the CRC-32C of the
// JSON record as 8 hex digits, then the JSON. Records written before
// checksums were added start with '{' and are read without one.
const (
	checksumMark = 'c'
	checksumLen  = 1 + 8
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func encodeTask(t task.Task) ([]byte, error) {
	b, err := json.Marshal(taskRecord{
		Status: t.Status, Number: string(t.Number), IsPrime: t.IsPrime, Error: t.Error,
		Attempts: t.Attempts, CreatedAt: t.CreatedAt, StartedAt: t.StartedAt,
		FinishedAt: t.FinishedAt, ExpiresAt: t.ExpiresAt,
	})
	if err != nil {
		return nil, fmt.Errorf("encode task %s: %w", t.ID, err)
	}
	out := make([]byte, 0, checksumLen+len(b))
	out = fmt.Appendf(out, "%c%08x", checksumMark, crc32.Checksum(b, castagnoli))
	return append(out, b...), nil
}

// decodeTask decodes the record of task id and checks it: its checksum, its
// status and its number. A record that fails is task.ErrDamaged. b may be
// memory owned by a bbolt transaction; nothing of it is retained.
func decodeTask(id string, b []byte) (task.Task, error) {
	damaged := func(why string) (task.Task, error) {
		return task.Task{}, fmt.Errorf("decode task %s: %w: %s", id, task.ErrDamaged, why)
	}
	switch {
	case len(b) > 0 && b[0] == '{': // written before checksums
	case len(b) >= checksumLen && b[0] == checksumMark:
		want, err := strconv.ParseUint(string(b[1:checksumLen]), 16, 32)
		b = b[checksumLen:]
		if err != nil || uint32(want) != crc32.Checksum(b, castagnoli) {
			return damaged("checksum mismatch")
		}
	default:
		return damaged("unknown record format")
	}
	var r taskRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return damaged(err.Error())
	}
	if !r.Status.Valid() {
		return damaged("unknown status " + task.Excerpt(string(r.Status)))
	}
	n, err := task.ParseNumber(r.Number)
	if err != nil || string(n) != r.Number {
		return damaged("malformed number " + task.Excerpt(r.Number))
	}
	return task.Task{
		ID: id, Status: r.Status, Number: n, IsPrime: r.IsPrime, Error: r.Error,
		Attempts: r.Attempts, CreatedAt: r.CreatedAt, StartedAt: r.StartedAt,
		FinishedAt: r.FinishedAt, ExpiresAt: r.ExpiresAt,
	}, nil
}

// messageRecord is the JSON value stored under queue:<name>/<key>. Times
// are epoch milliseconds, as SQS reports them; zero means unset.
type messageRecord struct {
	ID           string `json:"id"`
	Body         string `json:"body"`
	MD5          string `json:"md5"`
	Sent         int64  `json:"sent"`
	Receives     int    `json:"receives,omitempty"`
	FirstReceive int64  `json:"first_receive,omitempty"`
	// VisibleAt is when a received message reappears; zero if it was
	// never received.
	VisibleAt int64 `json:"visible_at,omitempty"`
}

func encodeMessage(r messageRecord) ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode message %s: %w", r.ID, err)
	}
	return b, nil
}

func decodeMessage(key, b []byte) (messageRecord, error) {
	var r messageRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("decode message at key %x: %w", key, err)
	}
	return r, nil
}

// messageKey is a message's key in its queue bucket: an 8-byte big-endian
// sequence number, so that a cursor walks the queue in the order of sending.
func messageKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), seq) }

func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}
