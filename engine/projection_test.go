package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

func TestProjectionComputesInTheProbedType(t *testing.T) {
	num := field("age", mysql.MYSQL_TYPE_LONG, binaryCharset)
	dec := field("amount", mysql.MYSQL_TYPE_NEWDECIMAL, binaryCharset)
	dec.Decimal = 2
	text := field("name", mysql.MYSQL_TYPE_VAR_STRING, utf8mb4GeneralCI)
	in := &Result{Fields: []*mysql.Field{num, dec, text}, Rows: rows(
		[]string{"30", "1.25", "ann"}, []string{"NULL", "2.00", "bob"})}
	sumField := field("u.age + o.amount", mysql.MYSQL_TYPE_NEWDECIMAL, binaryCharset)
	sumField.Decimal = 2
	catField := field("concat(u.name, o.amount)", mysql.MYSQL_TYPE_VAR_STRING, utf8mb4GeneralCI)
	vc := newFakeVCursor()
	vc.results = func(_, _, q string) (*Result, error) {
		if strings.HasPrefix(q, "probe") {
			return &Result{Fields: []*mysql.Field{sumField, catField}}, nil
		}
		return in, nil
	}
	p := &Projection{
		Input: outerRoute(),
		Cols: []ProjectedColumn{
			{Col: 2},
			{Expr: BinaryExpr(OpPlus, ColumnExpr(0), ColumnExpr(1)), Text: "u.age + o.amount"},
			{Expr: ConcatExpr([]Expr{ColumnExpr(2), ColumnExpr(1)}), Text: "concat(u.name, o.amount)"},
		},
		TypeProbe: &TypeProbe{Route: &Route{Routing: Routing{Opcode: Unsharded, Keyspace: "global"}, Query: TextTemplate("probe")}, Cols: []int{1, 2}},
	}
	got, err := p.Execute(context.Background(), vc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s, want := show(got.Rows), "(ann,31.25,ann1.25) (bob,NULL,bob2.00)"; s != want {
		t.Fatalf("got %s, want %s", s, want)
	}
	if got.Fields[1] != sumField || got.Fields[0] != text {
		t.Fatalf("fields %v, want the input's and the probe's", got.Fields)
	}
	var streamed [][][]byte
	err = p.Stream(context.Background(), vc, nil, func(r *Result) error {
		streamed = append(streamed, r.Rows...)
		return nil
	})
	if err != nil || show(streamed) != show(got.Rows) {
		t.Fatalf("stream: got %s, %v; want %s", show(streamed), err, show(got.Rows))
	}
}
