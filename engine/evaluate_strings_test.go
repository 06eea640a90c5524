package engine

import (
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// Strings compare by the weights the shards computed: case-insensitive
// weights make 'Bob' = 'BOB', PAD SPACE drops trailing spaces, a number
// compared with a string reads the string as a DOUBLE; a string without
// weights (computed at the gateway) or a date compared with a string is
// refused, never compared byte by byte.
func TestStringComparisons(t *testing.T) {
	fields := []*mysql.Field{
		field("name", mysql.MYSQL_TYPE_VAR_STRING, utf8mb4GeneralCI),
		field("weight_string(name)", mysql.MYSQL_TYPE_VAR_STRING, binaryCharset),
		field("weight_string(if(false, name, lit))", mysql.MYSQL_TYPE_VAR_STRING, binaryCharset),
		field("count(*)", mysql.MYSQL_TYPE_LONGLONG, binaryCharset),
		field("d", mysql.MYSQL_TYPE_DATE, binaryCharset),
	}
	// utf8mb4_general_ci weights: two bytes a character, upper case.
	ci := func(s string) []byte {
		var w []byte
		for _, r := range strings.ToUpper(s) {
			w = append(w, byte(r>>8), byte(r))
		}
		return w
	}
	env := newEvalCtx(fields, DefaultEvalEnv())
	for _, c := range []struct {
		name, lit string
		op        BinaryOp
		want      bool
	}{
		{"Bob", "BOB", OpEQ, true},
		{"carol ", "carol", OpEQ, true},
		{"carol", "carol  ", OpEQ, true},
		{"carol", "carolx", OpLT, true},
		{"alice", "Bob", OpLT, true},
		{"Zoe", "alice", OpGT, true},
		{"eve", "EVE", OpNE, false},
	} {
		row := [][]byte{[]byte(c.name), ci(c.name), ci(c.lit), []byte("3"), []byte("2020-01-02")}
		e := BinaryExpr(c.op, ColumnWeightExpr(0, 1), StringWeightExpr(c.lit, 2))
		v, err := e(row, env, nil)
		if err != nil {
			t.Fatalf("%q op %d %q: %v", c.name, c.op, c.lit, err)
		}
		if got, _ := v.truth(); got != c.want {
			t.Errorf("%q op %d %q: got %v, want %v", c.name, c.op, c.lit, got, c.want)
		}
	}
	row := [][]byte{[]byte("bob"), ci("bob"), ci("3.0x"), []byte("3"), []byte("2020-01-02")}
	v, err := BinaryExpr(OpEQ, ColumnWeightExpr(3, NoWeight), StringWeightExpr("3.0x", 2))(row, env, nil)
	if got, _ := v.truth(); err != nil || !got {
		t.Errorf("count(*) = '3.0x': got %v %v, want true (as DOUBLEs)", got, err)
	}
	v, err = BinaryExpr(OpEQ, ColumnWeightExpr(0, 1), ArgWeightExpr(0, 2))(row, env, []any{"3.0x"})
	if got, _ := v.truth(); err != nil || got {
		t.Errorf("name = ? ('3.0x'): got %v %v, want false (as strings)", got, err)
	}
	for _, e := range []Expr{
		BinaryExpr(OpEQ, ConcatExpr([]Expr{ColumnExpr(0)}), StringWeightExpr("bob", 2)),
		BinaryExpr(OpEQ, ColumnWeightExpr(4, NoWeight), StringWeightExpr("2020-01-02", 2)),
	} {
		if _, err := e(row, env, nil); err == nil || !strings.Contains(err.Error(), "in HAVING across shards") {
			t.Errorf("got %v, want a 1235 refusal", err)
		}
	}
}

// SELECT DISTINCT with GROUP BY: merged groups equal in the visible
// columns (a count, a string by its weight) are one row; a string the
// gateway computed has no weight to compare and is refused.
func TestDistinctGroups(t *testing.T) {
	fields := []*mysql.Field{
		field("count(*)", mysql.MYSQL_TYPE_LONGLONG, binaryCharset),
		field("city", mysql.MYSQL_TYPE_VAR_STRING, utf8mb4GeneralCI),
		field("name", mysql.MYSQL_TYPE_VAR_STRING, utf8mb4GeneralCI),
		field("weight_string(name)", mysql.MYSQL_TYPE_VAR_STRING, binaryCharset),
		field("weight_string(city)", mysql.MYSQL_TYPE_VAR_STRING, binaryCharset),
	}
	g := &GroupAggregate{
		Input:      scatterRoute("q"),
		Keys:       []GroupKey{{Col: 2, Weight: 3}},
		Aggregates: []GroupAggregateColumn{{Op: AggrCount, Col: 0, Weight: NoWeight}},
		Distinct:   []GroupKey{{Col: 0, Weight: NoWeight}, {Col: 1, Weight: 4}},
		Order:      []OrderKey{{Col: 0, Weight: NoWeight}},
		Visible:    2,
	}
	vc := shardResults(fields,
		rows([]string{"2", "Seoul", "ann", "ANN", "SEOUL"}, []string{"1", "oslo", "bob", "BOB", "OSLO"}),
		rows([]string{"1", "SEOUL", "carol", "CAROL", "SEOUL"}, []string{"1", "seoul", "ann", "ANN", "SEOUL"}, []string{"3", "Oslo", "dave", "DAVE", "OSLO"}, []string{"1", "OSLO ", "eve", "EVE", "OSLO "}))
	r, err := g.Execute(t.Context(), vc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := show(r.Rows), "(1,oslo) (1,SEOUL) (3,Seoul) (3,Oslo)"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	g.Distinct[1].Weight = NoWeight
	if _, err := g.Execute(t.Context(), shardResults(fields, rows([]string{"1", "a", "a", "A", "A"})), nil); err == nil || !strings.Contains(err.Error(), "DISTINCT over a string computed") {
		t.Errorf("got %v, want the refusal of a string without weights", err)
	}
}
