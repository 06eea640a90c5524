package planner

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/shardgate/shardgate/engine"
)

// Production runs SELECTs through Stream and everything else through
// Execute; the golden cases record Execute. checkStreamAgrees runs a SELECT
// plan again through Stream, on a fresh fake, and fails unless it sends the
// same shard queries in the same order and returns the same fields, rows
// (in the same order: the fake's answers are deterministic) and error.

// streamed is what a plan's Stream delivered, put together.
type streamed struct {
	res   *engine.Result
	calls int
}

func streamPlan(p engine.Primitive, vc engine.VCursor, args []any) (streamed, error) {
	var s streamed
	err := p.Stream(context.Background(), vc, args, func(r *engine.Result) error {
		s.calls++
		if s.res == nil {
			if r.Fields == nil {
				return fmt.Errorf("first callback carries no fields")
			}
			s.res = &engine.Result{Fields: r.Fields}
		} else if r.Fields != nil {
			return fmt.Errorf("callback %d carries fields again", s.calls)
		}
		s.res.Rows = append(s.res.Rows, r.Rows...)
		s.res.RowsAffected += r.RowsAffected
		return nil
	})
	return s, err
}

// shardCalls drops the VCursor method from a fake's log: Execute and
// Stream ask for the same queries through ExecuteMulti, StreamMulti and
// StreamShard.
func shardCalls(log []string) []string {
	out := make([]string, len(log))
	for i, l := range log {
		for _, method := range []string{"ExecuteMulti ", "StreamMulti ", "StreamShard "} {
			l = strings.TrimPrefix(l, method)
		}
		out[i] = l
	}
	return out
}

func checkStreamAgrees(t *testing.T, c goldenCase, plan *Plan, args []any, rowsPerShard int) {
	t.Helper()
	evc := newFakeVCursor()
	evc.rowsPerShard = rowsPerShard
	exec, execErr := plan.Root.Execute(context.Background(), evc, slices.Clone(args))
	for _, perShard := range []bool{false, true} {
		fake := newFakeVCursor()
		fake.rowsPerShard = rowsPerShard
		var vc engine.VCursor = fake
		if perShard {
			vc = &shardStreamingFake{fakeVCursor: fake, at: map[string]int{}}
		}
		got, err := streamPlan(plan.Root, vc, slices.Clone(args))
		how := fmt.Sprintf("%d rows a shard, ShardStreamer %v", rowsPerShard, perShard)
		if !sameError(err, execErr) {
			t.Errorf("%q (%s): Stream error %v, Execute error %v", c.Query, how, err, execErr)
		}
		if g, w := shardCalls(fake.log), shardCalls(evc.log); !slices.Equal(g, w) {
			t.Errorf("%q (%s): shard calls differ\nStream:  %q\nExecute: %q", c.Query, how, g, w)
		}
		if err != nil || execErr != nil {
			continue
		}
		if !sameFields(got.res.Fields, exec.Fields) {
			t.Errorf("%q (%s): Stream fields %s, Execute fields %s", c.Query, how, fieldNames(got.res.Fields), fieldNames(exec.Fields))
		}
		if !sameRows(got.res.Rows, exec.Rows) {
			t.Errorf("%q (%s): Stream rows %q, Execute rows %q", c.Query, how, got.res.Rows, exec.Rows)
		}
	}
}

// checkStreamAgreesNoRows runs a plan without a result set (SET) through
// Stream: it must make the same calls, return the same error and hand on
// one Result without columns, as the DML primitives do.
func checkStreamAgreesNoRows(t *testing.T, c goldenCase, plan *Plan, args []any) {
	t.Helper()
	evc := newFakeVCursor()
	_, execErr := plan.Root.Execute(context.Background(), evc, slices.Clone(args))
	fake := newFakeVCursor()
	var got []*engine.Result
	err := plan.Root.Stream(context.Background(), fake, slices.Clone(args), func(r *engine.Result) error {
		got = append(got, r)
		return nil
	})
	if !sameError(err, execErr) {
		t.Errorf("%q: Stream error %v, Execute error %v", c.Query, err, execErr)
	}
	if g, w := shardCalls(fake.log), shardCalls(evc.log); !slices.Equal(g, w) {
		t.Errorf("%q: calls differ\nStream:  %q\nExecute: %q", c.Query, g, w)
	}
	if err == nil && (len(got) != 1 || got[0].Fields != nil) {
		t.Errorf("%q: Stream handed on %d results, want one without columns", c.Query, len(got))
	}
}

// shardStreamingFake is the logging fake as an engine.ShardStreamer. Its
// shards are read from concurrent goroutines, so each StreamShard fills
// the log line BeginShards reserved for its shard: the log stays in shard
// order, as ExecuteMulti's is.
type shardStreamingFake struct {
	*fakeVCursor
	mu sync.Mutex
	at map[string]int // keyspace.shard -> its reserved log line
}

var _ engine.ShardStreamer = (*shardStreamingFake)(nil)

func (f *shardStreamingFake) BeginShards(_ context.Context, keyspace string, shards []string) (func(error) error, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range shards {
		f.at[keyspace+"."+s] = len(f.log)
		f.log = append(f.log, "StreamShard "+keyspace+"."+s+": (never started)")
	}
	return func(err error) error { return err }, nil
}

func (f *shardStreamingFake) StreamShard(_ context.Context, keyspace, shard, query string, fn func(*engine.Result) error) error {
	f.mu.Lock()
	line := fmt.Sprintf("StreamShard %s.%s: %s", keyspace, shard, query)
	if i, ok := f.at[keyspace+"."+shard]; ok {
		f.log[i] = line
		delete(f.at, keyspace+"."+shard)
	} else {
		f.log = append(f.log, line)
	}
	r, err := f.result(keyspace, shard, query)
	f.mu.Unlock()
	if err != nil {
		return err
	}
	if err := fn(&engine.Result{Fields: r.Fields}); err != nil {
		return err
	}
	for i := range r.Rows {
		if err := fn(&engine.Result{Rows: r.Rows[i : i+1]}); err != nil {
			return err
		}
	}
	return nil
}

func sameError(a, b error) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Error() == b.Error()
}

func sameFields(a, b []*mysql.Field) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !reflect.DeepEqual(*a[i], *b[i]) {
			return false
		}
	}
	return true
}

func sameRows(a, b [][][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !reflect.DeepEqual(a[i], b[i]) {
			return false
		}
	}
	return true
}

func fieldNames(fs []*mysql.Field) string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = fmt.Sprintf("%s:%d", f.Name, f.Type)
	}
	return "[" + strings.Join(names, " ") + "]"
}
