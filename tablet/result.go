package tablet

import (
	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/wire"
)

// Result is one statement's result as the backend sent it.
//
// Rows hold text-protocol values: one []byte per column, nil for NULL and
// a non-nil empty slice for ”. A Result from Execute owns its memory; its
// rows stay valid for as long as the caller keeps them.
type Result struct {
	// Fields are the column definitions exactly as the backend sent them
	// (Field.Data holds the raw packet). Nil for a statement without a
	// result set. Results of the same connection may share them (a
	// statement run again gets the same column definitions): never
	// modify a Field or the slice; copy it to change it.
	Fields []*mysql.Field
	// Rows are the result set's rows (nil from Stream).
	Rows [][][]byte
	// RowsAffected and InsertID come from the OK packet of a DML
	// statement.
	RowsAffected uint64
	InsertID     uint64
	// RowsMatched is an UPDATE's rows matched (changed or not), when
	// MatchedKnown (see wire.OK.Matched).
	RowsMatched  uint64
	MatchedKnown bool
	// Warnings and Status come from the final OK or EOF packet; Status
	// holds SERVER_STATUS_* flags (mysql.SERVER_STATUS_IN_TRANS, ...).
	Warnings uint16
	Status   uint16
}

// setOK keeps what the OK or EOF packet that ended the result reported.
func (r *Result) setOK(ok wire.OK) {
	r.RowsAffected, r.InsertID = ok.AffectedRows, ok.InsertID
	r.RowsMatched, r.MatchedKnown = ok.Matched, ok.HasMatched
	r.Status, r.Warnings = ok.Status, ok.Warnings
}

// arena hands out the memory of one buffered result: the bytes of field
// and row packets, and the [][]byte headers of rows, carved out of a few
// growing chunks instead of one allocation per row. Nothing carved out is
// ever reused, so everything stays valid for the Result's lifetime.
type arena struct {
	buf  []byte
	vals [][]byte
}

const (
	arenaMinChunk = 512
	arenaMaxChunk = 64 << 10
	arenaMinVals  = 16
	arenaMaxVals  = 4096
)

// copy returns a copy of b carved out of the arena. Its capacity ends at
// its length, so appending to it never overwrites a neighbour.
func (a *arena) copy(b []byte) []byte {
	if len(b) > cap(a.buf)-len(a.buf) {
		size := min(max(2*cap(a.buf), arenaMinChunk), arenaMaxChunk)
		if len(b) > size/2 {
			// Large packets get memory of their own, so the chunk in use
			// keeps serving the small ones.
			return append(make([]byte, 0, len(b)), b...)
		}
		a.buf = make([]byte, 0, size)
	}
	start := len(a.buf)
	a.buf = append(a.buf, b...)
	return a.buf[start:len(a.buf):len(a.buf)]
}

// values returns a zeroed [][]byte of length n carved out of the arena.
func (a *arena) values(n int) [][]byte {
	if n > cap(a.vals)-len(a.vals) {
		size := min(max(2*cap(a.vals), arenaMinVals), arenaMaxVals)
		a.vals = make([][]byte, 0, max(size, n))
	}
	start := len(a.vals)
	a.vals = a.vals[:start+n]
	return a.vals[start : start+n : start+n]
}
