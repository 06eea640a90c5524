package engine

import (
	"context"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// outerRoute is a Route the joinCursor answers with its outer result.
func outerRoute() *Route {
	return &Route{Routing: Routing{Opcode: Unsharded, Keyspace: "global"}, Query: TextTemplate("outer")}
}

func TestFilterKeepsOnlyTrueRowsAndDropsItsOperands(t *testing.T) {
	num := field("n", mysql.MYSQL_TYPE_LONG, binaryCharset)
	in := &Result{Fields: []*mysql.Field{num, num}, Rows: rows(
		[]string{"1", "NULL"}, []string{"2", "5"}, []string{"3", "NULL"})}
	// WHERE o.id IS NULL, o.id being the hidden last column.
	f := &Filter{Input: outerRoute(), Predicate: IsNullExpr(ColumnExpr(1), false), Text: "o.id is null", Trim: 1}
	for _, stream := range []bool{false, true} {
		var got *Result
		vc := joinCursor(in, nil)
		if stream {
			got = &Result{}
			err := f.Stream(context.Background(), vc, nil, func(r *Result) error {
				if r.Fields != nil {
					got.Fields = r.Fields
				}
				got.Rows = append(got.Rows, r.Rows...)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		} else {
			var err error
			if got, err = f.Execute(context.Background(), vc, nil); err != nil {
				t.Fatal(err)
			}
		}
		if s, want := show(got.Rows), "(1) (3)"; s != want || len(got.Fields) != 1 {
			t.Fatalf("stream %v: got %s with %d fields, want %s with 1", stream, s, len(got.Fields), want)
		}
	}
	// NULL is not true: `n > NULL` keeps nothing.
	f = &Filter{Input: outerRoute(), Predicate: BinaryExpr(OpGT, ColumnExpr(0), ColumnExpr(1))}
	got, err := f.Execute(context.Background(), joinCursor(in, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Rows) != 0 {
		t.Fatalf("got %s, want no rows (2 > 5 is false, the others NULL)", show(got.Rows))
	}
}
