package engine

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/shardgate/shardgate/vindex"
)

func mustShards(names ...string) []ShardRange {
	out := make([]ShardRange, len(names))
	for i, n := range names {
		kr, err := vindex.ParseKeyRange(n)
		if err != nil {
			panic(err)
		}
		out[i] = ShardRange{Name: n, KeyRange: kr}
	}
	return out
}

// fakeVCursor logs every call, in order, and answers queries with the
// results results makes up (or, if nil, one affected row). The planner's
// tests have a fuller fake that answers SELECTs by parsing them; the
// engine's tests give every answer themselves.
type fakeVCursor struct {
	seqUsed int64
	session *fakeSession
	shards  map[string][]ShardRange
	log     []string
	results func(keyspace, shard, query string) (*Result, error)
}

var _ VCursor = (*fakeVCursor)(nil)

func newFakeVCursor() *fakeVCursor {
	return &fakeVCursor{shards: map[string][]ShardRange{
		"global":  mustShards("-"),
		"service": mustShards("-40", "40-80", "80-c0", "c0-"),
	}}
}

func (f *fakeVCursor) Shards(_ context.Context, keyspace string) ([]ShardRange, error) {
	ss, ok := f.shards[keyspace]
	if !ok {
		return nil, fmt.Errorf("fake: no keyspace %q", keyspace)
	}
	return ss, nil
}

func (f *fakeVCursor) result(keyspace, shard, query string) (*Result, error) {
	if f.results != nil {
		return f.results(keyspace, shard, query)
	}
	return &Result{RowsAffected: 1}, nil
}

func (f *fakeVCursor) ExecuteMulti(_ context.Context, keyspace string, shards []string, queries []string) ([]*Result, error) {
	out := make([]*Result, len(shards))
	for i, s := range shards {
		f.log = append(f.log, fmt.Sprintf("ExecuteMulti %s.%s: %s", keyspace, s, queries[i]))
		r, err := f.result(keyspace, s, queries[i])
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}

func (f *fakeVCursor) StreamMulti(_ context.Context, keyspace string, shards []string, queries []string, fn func(int, *Result) error) error {
	var rs []*Result
	for i, s := range shards {
		f.log = append(f.log, fmt.Sprintf("StreamMulti %s.%s: %s", keyspace, s, queries[i]))
		r, err := f.result(keyspace, s, queries[i])
		if err != nil {
			return err
		}
		rs = append(rs, r)
	}
	for i, r := range rs {
		if err := fn(i, &Result{Fields: r.Fields}); err != nil {
			return err
		}
	}
	// Interleave one row at a time from each shard.
	for row := 0; ; row++ {
		more := false
		for i, r := range rs {
			if row < len(r.Rows) {
				more = true
				if err := fn(i, &Result{Rows: r.Rows[row : row+1]}); err != nil {
					return err
				}
			}
		}
		if !more {
			return nil
		}
	}
}

func (f *fakeVCursor) AutoAddTable(_ context.Context, keyspace, table, column string) (string, error) {
	f.log = append(f.log, fmt.Sprintf("AutoAddTable %s.%s(%s)", keyspace, table, column))
	return "hash", nil
}

// NextSequenceValues hands out ids from 1000, in order of the calls.
func (f *fakeVCursor) NextSequenceValues(_ context.Context, keyspace, table string, n int64) (int64, error) {
	f.log = append(f.log, fmt.Sprintf("NextSequenceValues %s.%s %d", keyspace, table, n))
	first := 1000 + f.seqUsed
	f.seqUsed += n
	return first, nil
}

// Session returns the fake's session, or nil (an offline cursor) when the
// test set none.
func (f *fakeVCursor) Session() SessionActions {
	if f.session == nil {
		return nil
	}
	return f.session
}

// fakeSession is a session with fixed state; ShowWarnings is logged.
type fakeSession struct {
	keyspaces []KeyspaceInfo
	tablets   []TabletInfo
	warnings  []Warning
	lastID    uint64
	connID    uint64
	shown     int
	log       []string // the SettingActions calls
	env       *EvalEnv // nil: MySQL's defaults
}

func (s *fakeSession) EvalEnv() EvalEnv {
	if s.env == nil {
		return DefaultEvalEnv()
	}
	return *s.env
}

func (s *fakeSession) SetEvalVariable(name string, v uint64) {
	s.log = append(s.log, fmt.Sprintf("eval %s=%d", name, v))
}

func (s *fakeSession) Keyspaces() []KeyspaceInfo { return s.keyspaces }
func (s *fakeSession) Tablets() []TabletInfo     { return s.tablets }
func (s *fakeSession) Processes() []ProcessInfo  { return nil }
func (s *fakeSession) ShowWarnings() []Warning {
	s.shown++
	return s.warnings
}
func (s *fakeSession) LastInsertID() uint64 { return s.lastID }

func (s *fakeSession) SetAutocommit(_ context.Context, on bool) error {
	s.log = append(s.log, fmt.Sprintf("autocommit %v", on))
	return nil
}
func (s *fakeSession) SetTransactionMode(v string) error {
	if v == "'bogus'" {
		return fmt.Errorf("bad transaction_mode %s", v)
	}
	s.log = append(s.log, "transaction_mode "+v)
	return nil
}
func (s *fakeSession) SetReplicaReads(v string) error {
	s.log = append(s.log, "replica_reads "+v)
	return nil
}
func (s *fakeSession) SetStatementLimit(d time.Duration) {
	s.log = append(s.log, "limit "+d.String())
}
func (s *fakeSession) SetNextTxIsolation(level string) {
	s.log = append(s.log, "isolation "+level)
}
func (s *fakeSession) SetNextTxReadOnly() {
	s.log = append(s.log, "next read only")
}
func (s *fakeSession) SetShardSetting(key, assign, reset string) {
	s.log = append(s.log, fmt.Sprintf("setting %s: %s / %s", key, assign, reset))
}
func (s *fakeSession) UnsetShardSetting(key string) { s.log = append(s.log, "unset "+key) }
func (s *fakeSession) ConnectionID() uint64         { return s.connID }
func (s *fakeSession) Grants(user string) (string, []string, error) {
	return "me@%", []string{"GRANT USAGE ON *.* TO `me`@`%`"}, nil
}

func (f *fakeVCursor) AddWarning(code uint16, msg string) {
	f.log = append(f.log, fmt.Sprintf("AddWarning %d: %s", code, msg))
}

// nopVCursor answers every query with one prepared result, allocating
// nothing of its own.
type nopVCursor struct {
	shards  []ShardRange
	results []*Result
}

func (n *nopVCursor) Shards(context.Context, string) ([]ShardRange, error) { return n.shards, nil }
func (n *nopVCursor) ExecuteMulti(_ context.Context, _ string, shards []string, _ []string) ([]*Result, error) {
	return n.results[:len(shards)], nil
}
func (n *nopVCursor) StreamMulti(_ context.Context, _ string, shards []string, _ []string, fn func(int, *Result) error) error {
	for i := range shards {
		if err := fn(i, n.results[i]); err != nil {
			return err
		}
	}
	return nil
}
func (n *nopVCursor) AutoAddTable(context.Context, string, string, string) (string, error) {
	return "hash", nil
}
func (n *nopVCursor) AddWarning(uint16, string) {}
func (n *nopVCursor) Session() SessionActions   { return nil }

func (n *nopVCursor) NextSequenceValues(context.Context, string, string, int64) (int64, error) {
	return 1, nil
}

func field(name string, typ uint8, charset uint16) *mysql.Field {
	return &mysql.Field{Name: []byte(name), Type: typ, Charset: charset}
}

const utf8mb4GeneralCI = 45

// rows builds rows from strings; "NULL" is a NULL.
func rows(vals ...[]string) [][][]byte {
	out := make([][][]byte, len(vals))
	for i, r := range vals {
		out[i] = make([][]byte, len(r))
		for j, v := range r {
			if v != "NULL" {
				out[i][j] = []byte(v)
			}
		}
	}
	return out
}

func show(rs [][][]byte) string {
	var parts []string
	for _, r := range rs {
		var cells []string
		for _, c := range r {
			if c == nil {
				cells = append(cells, "NULL")
			} else {
				cells = append(cells, string(c))
			}
		}
		parts = append(parts, "("+strings.Join(cells, ",")+")")
	}
	return strings.Join(parts, " ")
}

// shardResults makes a fake whose shard i of service answers perShard[i].
func shardResults(fields []*mysql.Field, perShard ...[][][]byte) *fakeVCursor {
	vc := newFakeVCursor()
	names := []string{"-40", "40-80", "80-c0", "c0-"}
	vc.results = func(_, shard, _ string) (*Result, error) {
		for i, n := range names {
			if n == shard && i < len(perShard) {
				return &Result{Fields: fields, Rows: perShard[i]}, nil
			}
		}
		return &Result{Fields: fields}, nil
	}
	return vc
}

func scatterRoute(query string) *Route {
	return &Route{Routing: Routing{Opcode: Scatter, Keyspace: "service", Sharded: true}, Query: TextTemplate(query)}
}
