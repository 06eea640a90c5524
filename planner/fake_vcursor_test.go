package planner

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/topo/vschema"
	"github.com/shardgate/shardgate/vindex"
)

// loadVSchema builds testdata/vschema.json.
func loadVSchema(t testing.TB) *vschema.VSchema {
	t.Helper()
	data, err := os.ReadFile("testdata/vschema.json")
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	kss := map[string]*vschema.Keyspace{}
	for name, r := range raw {
		k, err := vschema.Parse(r)
		if err != nil {
			t.Fatalf("keyspace %s: %v", name, err)
		}
		kss[name] = k
	}
	vs, err := vschema.Build(kss)
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

func mustShards(names ...string) []engine.ShardRange {
	out := make([]engine.ShardRange, len(names))
	for i, n := range names {
		kr, err := vindex.ParseKeyRange(n)
		if err != nil {
			panic(err)
		}
		out[i] = engine.ShardRange{Name: n, KeyRange: kr}
	}
	return out
}

// fakeVCursor logs every call, in order, and answers queries with results
// made up by results (or, if nil, made-up rows of integers).
type fakeVCursor struct {
	seqUsed int64
	shards  map[string][]engine.ShardRange
	log     []string
	results func(keyspace, shard, query string) (*engine.Result, error)
	// rowsPerShard is how many (identical) rows a made-up SELECT answer
	// has; 0 means one.
	rowsPerShard int
}

var _ engine.VCursor = (*fakeVCursor)(nil)

func newFakeVCursor() *fakeVCursor {
	return &fakeVCursor{shards: map[string][]engine.ShardRange{
		"global":  mustShards("-"),
		"service": mustShards("-40", "40-80", "80-c0", "c0-"),
	}}
}

// Session is a fixed session: the fake's keyspaces, one primary tablet
// a shard, one warning, last insert id 42, connection 7.
func (f *fakeVCursor) Session() engine.SessionActions { return fakeSession{f} }

type fakeSession struct{ f *fakeVCursor }

func (s fakeSession) Keyspaces() []engine.KeyspaceInfo {
	var out []engine.KeyspaceInfo
	for _, name := range slices.Sorted(maps.Keys(s.f.shards)) {
		ks := engine.KeyspaceInfo{Name: name, Sharded: name != "global"}
		for _, sh := range s.f.shards[name] {
			ks.Shards = append(ks.Shards, sh.Name)
		}
		out = append(out, ks)
	}
	return out
}

func (s fakeSession) Processes() []engine.ProcessInfo { return nil }

func (s fakeSession) Tablets() []engine.TabletInfo {
	var out []engine.TabletInfo
	for i, ks := range s.Keyspaces() {
		for j, sh := range ks.Shards {
			alias := fmt.Sprintf("zone1-%d", 100*(i+1)+j)
			out = append(out, engine.TabletInfo{Cell: "zone1", Keyspace: ks.Name, Shard: sh, Type: "primary", Alias: alias, Host: "127.0.0.1"})
		}
	}
	return out
}

func (s fakeSession) ShowWarnings() []engine.Warning {
	return []engine.Warning{{Level: "Warning", Code: 1265, Message: "Data truncated for column 'c' at row 1"}}
}

func (s fakeSession) SetAutocommit(_ context.Context, on bool) error {
	s.f.log = append(s.f.log, fmt.Sprintf("SetAutocommit %v", on))
	return nil
}

func (s fakeSession) SetTransactionMode(v string) error {
	s.f.log = append(s.f.log, "SetTransactionMode "+v)
	return nil
}

func (s fakeSession) SetReplicaReads(v string) error {
	s.f.log = append(s.f.log, "SetReplicaReads "+v)
	return nil
}

func (s fakeSession) SetStatementLimit(d time.Duration) {
	s.f.log = append(s.f.log, "SetStatementLimit "+d.String())
}

func (s fakeSession) SetNextTxIsolation(level string) {
	s.f.log = append(s.f.log, "SetNextTxIsolation "+level)
}

func (s fakeSession) SetNextTxReadOnly() {
	s.f.log = append(s.f.log, "SetNextTxReadOnly")
}

func (s fakeSession) SetShardSetting(key, assign, reset string) {
	s.f.log = append(s.f.log, fmt.Sprintf("SetShardSetting %s: %s / %s", key, assign, reset))
}

func (s fakeSession) EvalEnv() engine.EvalEnv { return engine.DefaultEvalEnv() }

func (s fakeSession) SetEvalVariable(name string, v uint64) {
	s.f.log = append(s.f.log, fmt.Sprintf("SetEvalVariable %s=%d", name, v))
}

func (s fakeSession) UnsetShardSetting(key string) {
	s.f.log = append(s.f.log, "UnsetShardSetting "+key)
}

func (s fakeSession) LastInsertID() uint64 { return 42 }
func (s fakeSession) ConnectionID() uint64 { return 7 }
func (s fakeSession) Grants(user string) (string, []string, error) {
	return "me@%", []string{"GRANT USAGE ON *.* TO `me`@`%`"}, nil
}

func (f *fakeVCursor) Shards(_ context.Context, keyspace string) ([]engine.ShardRange, error) {
	ss, ok := f.shards[keyspace]
	if !ok {
		return nil, fmt.Errorf("fake: no keyspace %q", keyspace)
	}
	return ss, nil
}

func (f *fakeVCursor) result(keyspace, shard, query string) (*engine.Result, error) {
	if f.results != nil {
		return f.results(keyspace, shard, query)
	}
	return madeUpResult(query, max(f.rowsPerShard, 1)), nil
}

func (f *fakeVCursor) ExecuteMulti(_ context.Context, keyspace string, shards []string, queries []string) ([]*engine.Result, error) {
	out := make([]*engine.Result, len(shards))
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

func (f *fakeVCursor) StreamMulti(_ context.Context, keyspace string, shards []string, queries []string, fn func(int, *engine.Result) error) error {
	var rs []*engine.Result
	for i, s := range shards {
		f.log = append(f.log, fmt.Sprintf("StreamMulti %s.%s: %s", keyspace, s, queries[i]))
		r, err := f.result(keyspace, s, queries[i])
		if err != nil {
			return err
		}
		rs = append(rs, r)
	}
	for i, r := range rs {
		if err := fn(i, &engine.Result{Fields: r.Fields}); err != nil {
			return err
		}
	}
	// Interleave one row at a time from each shard.
	for row := 0; ; row++ {
		more := false
		for i, r := range rs {
			if row < len(r.Rows) {
				more = true
				if err := fn(i, &engine.Result{Rows: r.Rows[row : row+1]}); err != nil {
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

func (f *fakeVCursor) AddWarning(code uint16, msg string) {
	f.log = append(f.log, fmt.Sprintf("AddWarning %d: %s", code, msg))
}

// madeUpResult answers a SELECT (or UNION) with one BIGINT column per
// select field (a * counts as one) and nrows rows of 1s; anything else
// affects one row.
func madeUpResult(query string, nrows int) *engine.Result {
	stmts, err := NewParser().Parse(query)
	if err != nil || len(stmts) != 1 {
		return &engine.Result{RowsAffected: 1}
	}
	switch stmts[0].(type) {
	case *ast.ShowStmt, *ast.ExplainStmt:
		// One text column, as a shard's SHOW or EXPLAIN would have.
		text := &mysql.Field{Name: []byte("c0"), Type: mysql.MYSQL_TYPE_VAR_STRING, Charset: 45}
		return &engine.Result{Fields: []*mysql.Field{text}, Rows: [][][]byte{{[]byte("1")}}}
	}
	sel, ok := stmts[0].(*ast.SelectStmt)
	if u, isUnion := stmts[0].(*ast.SetOprStmt); isUnion && u.SelectList != nil && len(u.SelectList.Selects) > 0 {
		// A UNION's columns are its first branch's.
		sel, ok = u.SelectList.Selects[0].(*ast.SelectStmt)
	}
	if !ok {
		return &engine.Result{RowsAffected: 1}
	}
	var fields []*mysql.Field
	var row [][]byte
	for i, f := range sel.Fields.Fields {
		name := fmt.Sprintf("c%d", i)
		if f.AsName.O != "" {
			name = f.AsName.O
		}
		typ := mysql.MYSQL_TYPE_LONGLONG
		if fc, ok := f.Expr.(*ast.FuncCallExpr); ok && strings.EqualFold(fc.FnName.O, "weight_string") {
			typ = mysql.MYSQL_TYPE_VAR_STRING
		}
		fields = append(fields, &mysql.Field{Name: []byte(name), Type: typ, Charset: binaryCharset})
		row = append(row, []byte("1"))
	}
	rows := make([][][]byte, nrows)
	for i := range rows {
		rows[i] = row
	}
	return &engine.Result{Fields: fields, Rows: rows}
}

// GatewayVariable answers the gateway's variables with their defaults.
func (fakeSession) GatewayVariable(name string) (any, bool) {
	switch name {
	case "transaction_mode":
		return "twopc", true
	case "replica_reads":
		return "fallback", true
	case "autocommit":
		return true, true
	case "max_execution_time":
		return int64(0), true
	}
	return nil, false
}
