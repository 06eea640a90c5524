package engine

import (
	"context"
	"slices"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// A computed division and GROUP_CONCAT's cut follow the session's
// div_precision_increment and group_concat_max_len, not MySQL's defaults.
func TestEvaluationReadsSessionSettings(t *testing.T) {
	fields := []*mysql.Field{
		field("sum(a) / count(*)", mysql.MYSQL_TYPE_NEWDECIMAL, binaryCharset),
		field("group_concat(n)", mysql.MYSQL_TYPE_VAR_STRING, utf8mb4GeneralCI),
		field("sum(a)", mysql.MYSQL_TYPE_NEWDECIMAL, binaryCharset),
		field("count(*)", mysql.MYSQL_TYPE_LONGLONG, binaryCharset),
		field("n", mysql.MYSQL_TYPE_VAR_STRING, utf8mb4GeneralCI),
		field("count(1)", mysql.MYSQL_TYPE_LONGLONG, binaryCharset),
	}
	fields[0].Decimal = 12 // what a shard with div_precision_increment 12 says
	g := &GroupAggregate{
		Input:  scatterRoute("q"),
		Scalar: true,
		Aggregates: []GroupAggregateColumn{
			{Op: AggrGroupConcat, Col: 1, Weight: NoWeight, Concat: &GroupConcat{Elem: 4, Times: 5, Separator: ","}},
			{Op: AggrSum, Col: 2, Weight: NoWeight},
			{Op: AggrCount, Col: 3, Weight: NoWeight},
		},
		Computed: []ComputedColumn{{Col: 0, Expr: BinaryExpr(OpDiv, ColumnExpr(2), ColumnExpr(3)), Text: "sum(a) / count(*)"}},
		Visible:  2,
	}
	for _, c := range []struct {
		env        *EvalEnv
		quot, conc string
		cut        bool
	}{
		// 1/3 with 4 digits added is 0.333333333 (one word), printed to 12.
		{nil, "0.333333333000", "abc,abc,abc", false},
		// Cut at the second element: MySQL names it, row 2.
		{&EvalEnv{DivPrecisionIncrement: 12, GroupConcatMaxLen: 5}, "0.333333333333", "abc,a", true},
	} {
		vc := shardResults(fields, rows([]string{"", "", "1", "3", "abc", "3"}))
		vc.session = &fakeSession{env: c.env}
		r, err := g.Execute(context.Background(), vc, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := [2]string{string(r.Rows[0][0]), string(r.Rows[0][1])}; got != [2]string{c.quot, c.conc} {
			t.Errorf("env %+v: got %q, want %q, %q", c.env, got, c.quot, c.conc)
		}
		if cut := slices.Contains(vc.log, "AddWarning 1260: Row 2 was cut by GROUP_CONCAT()"); cut != c.cut {
			t.Errorf("env %+v: warning 1260 given %v, want %v (calls %v)", c.env, cut, c.cut, vc.log)
		}
	}
}
