package planner

import (
	"context"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/shardgate/shardgate/engine"
)

const pointSelect = "select id, name from user where id = ?"

// nopVCursor answers every query with one prepared result, allocating
// nothing of its own.
type nopVCursor struct {
	shards  []engine.ShardRange
	results []*engine.Result
}

func (n *nopVCursor) Shards(context.Context, string) ([]engine.ShardRange, error) {
	return n.shards, nil
}
func (n *nopVCursor) ExecuteMulti(_ context.Context, _ string, shards []string, _ []string) ([]*engine.Result, error) {
	return n.results[:len(shards)], nil
}
func (n *nopVCursor) StreamMulti(_ context.Context, _ string, shards []string, _ []string, fn func(int, *engine.Result) error) error {
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
func (n *nopVCursor) AddWarning(uint16, string)      {}
func (n *nopVCursor) Session() engine.SessionActions { return nil }

func (n *nopVCursor) NextSequenceValues(context.Context, string, string, int64) (int64, error) {
	return 1, nil
}

func newNopVCursor() *nopVCursor {
	r := &engine.Result{Fields: []*mysql.Field{{Name: []byte("id")}}, Rows: [][][]byte{{[]byte("1")}}}
	return &nopVCursor{shards: mustShards("-40", "40-80", "80-c0", "c0-"), results: []*engine.Result{r, r, r, r}}
}

func BenchmarkParse(b *testing.B) {
	p := NewParser()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Parse(pointSelect); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuildPointSelect(b *testing.B) {
	vs := loadVSchema(b)
	p := NewParser()
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		stmts, err := p.Parse(pointSelect)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := Build(stmts[0], pointSelect, vs, Target{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExecutePointSelect(b *testing.B) {
	vs := loadVSchema(b)
	stmts, err := NewParser().Parse(pointSelect)
	if err != nil {
		b.Fatal(err)
	}
	plan, err := Build(stmts[0], pointSelect, vs, Target{})
	if err != nil {
		b.Fatal(err)
	}
	vc := newNopVCursor()
	args := []any{int64(12345)}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := plan.Root.Execute(ctx, vc, args); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExecuteInScatter(b *testing.B) {
	vs := loadVSchema(b)
	const q = "select id from user where id in (?, ?, ?, ?, ?, ?, ?, ?)"
	stmts, err := NewParser().Parse(q)
	if err != nil {
		b.Fatal(err)
	}
	plan, err := Build(stmts[0], q, vs, Target{})
	if err != nil {
		b.Fatal(err)
	}
	vc := newNopVCursor()
	args := []any{int64(1), int64(2), int64(3), int64(4), int64(5), int64(6), int64(7), int64(8)}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := plan.Root.Execute(ctx, vc, args); err != nil {
			b.Fatal(err)
		}
	}
}
