package engine

import (
	"context"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// The rows of MariaDB's own answers (checked on 10.11): a = (1,'a'),
// (1,'a'), (2,'B'), NULL, NULL, (3,'c'); b = (1,'A'), (2,'b'), NULL, (4,'d').
func TestConcatenateSetOperators(t *testing.T) {
	fields := []*mysql.Field{
		field("x", mysql.MYSQL_TYPE_LONG, binaryCharset),
		field("s", mysql.MYSQL_TYPE_VAR_STRING, utf8mb4GeneralCI),
		field("ws", mysql.MYSQL_TYPE_VAR_STRING, binaryCharset),
	}
	a := rows([]string{"1", "a", "A"}, []string{"1", "a", "A"}, []string{"2", "B", "B"},
		[]string{"NULL", "NULL", "NULL"}, []string{"NULL", "NULL", "NULL"}, []string{"3", "c", "C"})
	b := rows([]string{"1", "A", "A"}, []string{"2", "b", "B"}, []string{"NULL", "NULL", "NULL"}, []string{"4", "d", "D"})
	for _, tc := range []struct {
		op   SetOperator
		want string
	}{
		{SetIntersect, "(1,a) (2,B) (NULL,NULL)"},
		{SetIntersectAll, "(1,a) (2,B) (NULL,NULL)"},
		{SetExcept, "(3,c)"},
		{SetExceptAll, "(1,a) (NULL,NULL) (3,c)"},
		{SetUnion, "(1,a) (2,B) (NULL,NULL) (3,c) (4,d)"},
		{SetUnionAll, "(1,a) (1,a) (2,B) (NULL,NULL) (NULL,NULL) (3,c) (1,A) (2,b) (NULL,NULL) (4,d)"},
	} {
		vc := shardResults(fields, a, b)
		c := &Concatenate{
			Sources: []Primitive{singleShardRoute("q", "-40"), singleShardRoute("q", "40-80")},
			Visible: 2, Hidden: 1, Weights: []int{NoWeight, 2},
			Ops: []SetOperator{tc.op},
		}
		r, err := c.Execute(context.Background(), vc, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := show(r.Rows); got != tc.want {
			t.Errorf("a %s b: got %s, want %s", tc.op, got, tc.want)
		}
		if len(r.Fields) != 2 {
			t.Errorf("a %s b: got %d fields, want the hidden weight dropped", tc.op, len(r.Fields))
		}
	}
}

func TestConcatenateKeepHiddenForTheLevelAbove(t *testing.T) {
	fields := []*mysql.Field{
		field("s", mysql.MYSQL_TYPE_VAR_STRING, utf8mb4GeneralCI),
		field("ws", mysql.MYSQL_TYPE_VAR_STRING, binaryCharset),
	}
	vc := shardResults(fields, rows([]string{"bob", "BOB"}), rows([]string{"Bob", "BOB"}), rows([]string{"al", "AL"}))
	inner := &Concatenate{
		Sources: []Primitive{singleShardRoute("q", "-40"), singleShardRoute("q", "40-80")},
		Visible: 1, Hidden: 1, Weights: []int{1}, Ops: []SetOperator{SetIntersect}, KeepHidden: true,
	}
	outer := &Concatenate{
		Sources: []Primitive{singleShardRoute("q", "80-c0"), inner},
		Visible: 1, Hidden: 1, Weights: []int{1}, Ops: []SetOperator{SetExcept},
		Order: []OrderKey{{Col: 0, Weight: 1}},
	}
	r, err := outer.Execute(context.Background(), vc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := show(r.Rows), "(al)"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestConcatenateWidensIntegerColumns(t *testing.T) {
	vc := newFakeVCursor()
	vc.results = func(_, shard, _ string) (*Result, error) {
		typ := byte(mysql.MYSQL_TYPE_TINY)
		if shard == "40-80" {
			typ = mysql.MYSQL_TYPE_LONG
		}
		f := field("a", typ, binaryCharset)
		f.Data = f.Dump() // as a backend's packet
		return &Result{Fields: []*mysql.Field{f}, Rows: rows([]string{"1"})}, nil
	}
	c := &Concatenate{Sources: []Primitive{singleShardRoute("q", "-40"), singleShardRoute("q", "40-80")}, Visible: 1,
		Ops: []SetOperator{SetIntersect}}
	r, err := c.Execute(context.Background(), vc, nil)
	if err != nil {
		t.Fatal(err)
	}
	var sent mysql.Field
	if err := sent.Parse(r.Fields[0].Dump()); err != nil {
		t.Fatal(err)
	}
	if got := sent.Type; got != mysql.MYSQL_TYPE_LONG {
		t.Errorf("TINYINT INTERSECT INT: the client is sent type %d, want INT (%d)", got, mysql.MYSQL_TYPE_LONG)
	}
	if show(r.Rows) != "(1)" {
		t.Errorf("got %s, want (1)", show(r.Rows))
	}
}
