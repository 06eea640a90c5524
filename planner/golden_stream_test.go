package planner

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
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
// Stream ask for the same queries through ExecuteMulti and StreamMulti.
func shardCalls(log []string) []string {
	out := make([]string, len(log))
	for i, l := range log {
		out[i] = strings.TrimPrefix(strings.TrimPrefix(l, "ExecuteMulti "), "StreamMulti ")
	}
	return out
}

func checkStreamAgrees(t *testing.T, c goldenCase, plan *Plan, args []any, rowsPerShard int) {
	t.Helper()
	evc := newFakeVCursor()
	evc.rowsPerShard = rowsPerShard
	exec, execErr := plan.Root.Execute(context.Background(), evc, slices.Clone(args))
	vc := newFakeVCursor()
	vc.rowsPerShard = rowsPerShard
	got, err := streamPlan(plan.Root, vc, slices.Clone(args))
	if !sameError(err, execErr) {
		t.Errorf("%q (%d rows a shard): Stream error %v, Execute error %v", c.Query, rowsPerShard, err, execErr)
	}
	if g, w := shardCalls(vc.log), shardCalls(evc.log); !slices.Equal(g, w) {
		t.Errorf("%q (%d rows a shard): shard calls differ\nStream:  %q\nExecute: %q", c.Query, rowsPerShard, g, w)
	}
	if err != nil || execErr != nil {
		return
	}
	if !sameFields(got.res.Fields, exec.Fields) {
		t.Errorf("%q (%d rows a shard): Stream fields %s, Execute fields %s", c.Query, rowsPerShard, fieldNames(got.res.Fields), fieldNames(exec.Fields))
	}
	if !sameRows(got.res.Rows, exec.Rows) {
		t.Errorf("%q (%d rows a shard): Stream rows %q, Execute rows %q", c.Query, rowsPerShard, got.res.Rows, exec.Rows)
	}
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
