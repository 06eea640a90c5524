package tablet_test

import (
	"context"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/tablet/tablettest"
)

// TestRepeatedStatementSharesFields: a statement run again on a
// connection gets the column definitions of its previous run without
// parsing them again, and a statement whose columns differ in any byte
// (name, type, the second column only) gets its own.
func TestRepeatedStatementSharesFields(t *testing.T) {
	m := tablettest.StartMysqld(t)
	c := mustDial(t, tablet.Dial, m.ConnConfig())
	fieldsOf := func(q string) []*mysql.Field {
		t.Helper()
		var got []*mysql.Field
		if _, err := c.Stream(context.Background(), q, func(f []*mysql.Field) error { got = f; return nil }, nil); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return got
	}
	names := func(fs []*mysql.Field) (out []string) {
		for _, f := range fs {
			out = append(out, string(f.Name))
		}
		return out
	}
	first := fieldsOf("SELECT 1 AS a, 'x' AS b")
	again := fieldsOf("SELECT 2 AS a, 'y' AS b")
	if &first[0] != &again[0] {
		t.Error("the same columns were parsed again (want the previous result's fields)")
	}
	other := fieldsOf("SELECT 2 AS a, 'y' AS c")
	if got := names(other); len(got) != 2 || got[0] != "a" || got[1] != "c" {
		t.Errorf("columns after a change in the second one = %v, want [a c]", got)
	}
	if string(first[1].Name) != "b" {
		t.Errorf("an earlier result's fields changed: second column %q, want b", first[1].Name)
	}
	typed := fieldsOf("SELECT 2.5 AS a, 'y' AS c")
	if typed[0].Type == other[0].Type {
		t.Errorf("a DECIMAL column kept the previous INT column's type %d", typed[0].Type)
	}
	if got := names(fieldsOf("SELECT 1 AS a")); len(got) != 1 || got[0] != "a" {
		t.Errorf("fewer columns = %v, want [a]", got)
	}

	// The repeated statement's stream allocates nothing for its columns.
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := c.Stream(context.Background(), "SELECT 1 AS a", nil, func([][]byte) error { return nil }); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("allocations per repeated point stream: %.1f", allocs)
	if allocs > 2 && !raceEnabled {
		t.Errorf("a repeated statement's Stream allocates %.1f times, want at most 2 (none for columns or the result)", allocs)
	}
}
