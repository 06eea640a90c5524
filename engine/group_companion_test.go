package engine

import (
	"context"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/sqlerror"
)

// A function of a MAX is taken from the row whose MAX wins: the shard
// computed LOWER(MAX(name)) in the column's collation, beside the MAX.
func TestGroupAggregateCompanions(t *testing.T) {
	// city, lower(max(name)), max(name), weight_string(max(name)), weight_string(city)
	fields := []*mysql.Field{
		field("city", mysql.MYSQL_TYPE_VAR_STRING, utf8mb4GeneralCI),
		field("lower(max(name))", mysql.MYSQL_TYPE_VAR_STRING, utf8mb4GeneralCI),
		field("max(name)", mysql.MYSQL_TYPE_VAR_STRING, utf8mb4GeneralCI),
		field("ws", mysql.MYSQL_TYPE_VAR_STRING, binaryCharset),
		field("ws_city", mysql.MYSQL_TYPE_VAR_STRING, binaryCharset),
	}
	g := &GroupAggregate{
		Input:      scatterRoute("q"),
		Keys:       []GroupKey{{Col: 0, Weight: 4}},
		Aggregates: []GroupAggregateColumn{{Op: AggrMax, Col: 2, Weight: 3, Companions: []int{1}}},
		Order:      []OrderKey{{Col: 0, Weight: 4}},
		Visible:    2,
	}
	vc := shardResults(fields,
		rows([]string{"oslo", "ann", "Ann", "\x00A\x00N\x00N", "\x00O"}, []string{"rome", "NULL", "NULL", "NULL", "\x00R"}),
		rows([]string{"oslo", "ızmır", "IZMIR", "\x01\x30", "\x00O"}, []string{"rome", "NULL", "NULL", "NULL", "\x00R"}),
	)
	r, err := g.Execute(context.Background(), vc, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The second shard's MAX wins in oslo; its LOWER (a Turkish collation's
	// dotless ı, which the gateway could not compute) comes with it. rome
	// has no name.
	if got, want := show(r.Rows), "(oslo,ızmır) (rome,NULL)"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

// LOWER and UPPER of numbers map ASCII; of a binary string, nothing; of
// another string computed at the gateway, they are refused.
func TestCaseMapExpr(t *testing.T) {
	fields := []*mysql.Field{
		{Name: []byte("d"), Type: mysql.MYSQL_TYPE_DOUBLE, Charset: binaryCharset, Decimal: notFixedDec},
		field("b", mysql.MYSQL_TYPE_VAR_STRING, binaryCharset),
		field("s", mysql.MYSQL_TYPE_VAR_STRING, utf8mb4GeneralCI),
	}
	row := [][]byte{[]byte("2.0000000000000005e29"), []byte("AbC"), []byte("AbC")}
	ec := newEvalCtx(fields, DefaultEvalEnv())
	for _, c := range []struct {
		e    Expr
		want string
	}{
		{CaseMapExpr(ColumnExpr(0), true), "2.0000000000000005E29"},
		{CaseMapExpr(ColumnExpr(1), false), "AbC"},
	} {
		v, err := c.e(row, ec, nil)
		if err != nil {
			t.Fatal(err)
		}
		if string(v.str) != c.want {
			t.Errorf("got %q, want %q", v.str, c.want)
		}
	}
	_, err := CaseMapExpr(ColumnExpr(2), false)(row, ec, nil)
	if sqlerror.ClassOf(err) != sqlerror.Unsupported {
		t.Fatalf("LOWER of a string: got %v, want a 1235 refusal", err)
	}
}
