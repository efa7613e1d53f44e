package bolt

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"math"
	"slices"
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

// A task record on disk is binary and checksummed:
//
//	'b'                      format mark
//	CRC-32C                  4 bytes, big-endian, of everything after it
//	status                   1 byte: index in statuses
//	flags                    1 byte: bit 0 is_prime
//	attempts                 uvarint
//	created_at, started_at,  4 varints: Unix nanoseconds, 0 for a zero time
//	finished_at, expires_at
//	number, error            each a uvarint length, then the bytes
//
// Records written by earlier versions are JSON (taskRecord): 'c', the
// CRC-32C as 8 hex digits, then the JSON; or, before checksums, the JSON
// alone, starting with '{'. They are read as they are, and written anew in
// binary by the next change of the task. The binary form decodes without
// reflection and with two allocations (the number and the error), which
// matters on the status path: every poll decodes one record.
const (
	binaryMark   = 'b'
	checksumMark = 'c'
	checksumLen  = 1 + 8
)

// statuses maps a binary record's status byte to its Status; 0 is unused,
// so that a zeroed record is damaged.
var statuses = [...]task.Status{1: task.StatusPending, 2: task.StatusStarted, 3: task.StatusSuccess, 4: task.StatusFailure, 5: task.StatusRevoked}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func encodeTask(t task.Task) ([]byte, error) {
	code := slices.Index(statuses[:], t.Status)
	if code <= 0 {
		return nil, fmt.Errorf("encode task %s: unknown status %q", t.ID, t.Status)
	}
	b := make([]byte, 5, 80+len(t.Number)+len(t.Error)) // the fixed fields and lengths take at most 77 bytes
	b[0] = binaryMark
	var flags byte
	if t.IsPrime {
		flags = 1
	}
	b = append(b, byte(code), flags)
	b = binary.AppendUvarint(b, uint64(t.Attempts))
	for _, at := range [...]time.Time{t.CreatedAt, t.StartedAt, t.FinishedAt, t.ExpiresAt} {
		b = binary.AppendVarint(b, nanos(at))
	}
	b = binary.AppendUvarint(b, uint64(len(t.Number)))
	b = append(b, t.Number...)
	b = binary.AppendUvarint(b, uint64(len(t.Error)))
	b = append(b, t.Error...)
	binary.BigEndian.PutUint32(b[1:5], crc32.Checksum(b[5:], castagnoli))
	return b, nil
}

// decodeTask decodes the record of task id and checks it: its checksum, its
// status and its number. A record that fails is task.ErrDamaged. b may be
// memory owned by a bbolt transaction; nothing of it is retained.
func decodeTask(id string, b []byte) (task.Task, error) {
	damaged := func(why string) (task.Task, error) {
		return task.Task{}, fmt.Errorf("decode task %s: %w: %s", id, task.ErrDamaged, why)
	}
	var t task.Task
	switch {
	case len(b) >= 5 && b[0] == binaryMark:
		if binary.BigEndian.Uint32(b[1:5]) != crc32.Checksum(b[5:], castagnoli) {
			return damaged("checksum mismatch")
		}
		var ok bool
		if t, ok = decodeBinary(b[5:]); !ok {
			return damaged("malformed record")
		}
	case len(b) >= checksumLen && b[0] == checksumMark:
		want, err := strconv.ParseUint(string(b[1:checksumLen]), 16, 32)
		b = b[checksumLen:]
		if err != nil || uint32(want) != crc32.Checksum(b, castagnoli) {
			return damaged("checksum mismatch")
		}
		fallthrough
	case len(b) > 0 && b[0] == '{': // JSON, written before the binary form
		var r taskRecord
		if err := json.Unmarshal(b, &r); err != nil {
			return damaged(err.Error())
		}
		t = task.Task{
			Status: r.Status, Number: task.Number(r.Number), IsPrime: r.IsPrime, Error: r.Error,
			Attempts: r.Attempts, CreatedAt: r.CreatedAt, StartedAt: r.StartedAt,
			FinishedAt: r.FinishedAt, ExpiresAt: r.ExpiresAt,
		}
	default:
		return damaged("unknown record format")
	}
	if !t.Status.Valid() {
		return damaged("unknown status " + task.Excerpt(string(t.Status)))
	}
	n, err := task.ParseNumber(string(t.Number))
	if err != nil || n != t.Number {
		return damaged("malformed number " + task.Excerpt(string(t.Number)))
	}
	t.ID = id
	return t, nil
}

// decodeBinary decodes the fields of a binary record, after its checksum.
func decodeBinary(b []byte) (t task.Task, ok bool) {
	if len(b) < 2 || int(b[0]) >= len(statuses) || b[0] == 0 || b[1]&^1 != 0 {
		return t, false
	}
	t.Status, t.IsPrime, b = statuses[b[0]], b[1] == 1, b[2:]
	attempts, n := binary.Uvarint(b)
	if n <= 0 || attempts > math.MaxInt32 {
		return t, false
	}
	t.Attempts, b = int(attempts), b[n:]
	for _, at := range [...]*time.Time{&t.CreatedAt, &t.StartedAt, &t.FinishedAt, &t.ExpiresAt} {
		ns, n := binary.Varint(b)
		if n <= 0 {
			return t, false
		}
		*at, b = fromNanos(ns), b[n:]
	}
	var number, errText string
	for _, s := range [...]*string{&number, &errText} {
		l, n := binary.Uvarint(b)
		if n <= 0 || l > uint64(len(b)-n) {
			return t, false
		}
		*s, b = string(b[n:n+int(l)]), b[n+int(l):]
	}
	t.Number, t.Error = task.Number(number), errText
	return t, len(b) == 0
}

// Times are stored as counts since the Unix epoch, 0 for the zero time:
// nanoseconds in task records, milliseconds (as SQS reports them) in
// message records.
func nanos(t time.Time) int64  { return sinceEpoch(t, time.Time.UnixNano) }
func millis(t time.Time) int64 { return sinceEpoch(t, time.Time.UnixMilli) }

func sinceEpoch(t time.Time, unix func(time.Time) int64) int64 {
	if t.IsZero() {
		return 0
	}
	return unix(t)
}

func fromNanos(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// taskRecord is the JSON form of a task record that earlier versions
// wrote. Times are RFC 3339 with nanoseconds; zero times are left out.
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

func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}
