package engine

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

func TestGroupConcatMerge(t *testing.T) {
	// k, group_concat(name order by id desc), name, count(*), id, ws(id), ws(k)
	fields := []*mysql.Field{
		field("k", mysql.MYSQL_TYPE_LONG, binaryCharset),
		field("gc", mysql.MYSQL_TYPE_VAR_STRING, utf8mb4GeneralCI),
		field("name", mysql.MYSQL_TYPE_VAR_STRING, utf8mb4GeneralCI),
		field("count(1)", mysql.MYSQL_TYPE_LONGLONG, binaryCharset),
		field("id", mysql.MYSQL_TYPE_LONG, binaryCharset),
		field("ws(id)", mysql.MYSQL_TYPE_VAR_STRING, binaryCharset),
		field("ws(k)", mysql.MYSQL_TYPE_VAR_STRING, binaryCharset),
	}
	g := &GroupAggregate{
		Input: scatterRoute("q"),
		Keys:  []GroupKey{{Col: 0, Weight: 6}},
		Aggregates: []GroupAggregateColumn{{Op: AggrGroupConcat, Col: 1, Weight: NoWeight, Concat: &GroupConcat{
			Elem: 2, Times: 3, Order: []OrderKey{{Col: 4, Weight: 5, Desc: true}}, Separator: "; ",
		}}},
		Order:   []OrderKey{{Col: 0, Weight: NoWeight}},
		Visible: 2,
	}
	// Group 1 has 'Bob' twice (id 3) on one shard and 'bob' (id 7) and 'al'
	// (id 1) on another; group 2 only a NULL element.
	vc := shardResults(fields,
		rows([]string{"1", "x", "Bob", "2", "3", "", ""}, []string{"2", "x", "NULL", "1", "9", "", ""}),
		rows([]string{"1", "x", "bob", "1", "7", "", ""}, []string{"1", "x", "al", "1", "1", "", ""}),
	)
	r, err := g.Execute(context.Background(), vc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := show(r.Rows), "(1,bob; Bob; Bob; al) (2,NULL)"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

// A result longer than group_concat_max_len (1M) is cut to it, between
// characters, with warning 1260 as MySQL gives.
func TestGroupConcatCut(t *testing.T) {
	fields := []*mysql.Field{
		field("gc", mysql.MYSQL_TYPE_BLOB, utf8mb4GeneralCI),
		field("elem", mysql.MYSQL_TYPE_VAR_STRING, utf8mb4GeneralCI),
		field("count(1)", mysql.MYSQL_TYPE_LONGLONG, binaryCharset),
	}
	g := &GroupAggregate{
		Input:  scatterRoute("q"),
		Scalar: true,
		Aggregates: []GroupAggregateColumn{{Op: AggrGroupConcat, Col: 0, Weight: NoWeight, Concat: &GroupConcat{
			Elem: 1, Times: 2, Separator: ",",
		}}},
		Visible: 1,
	}
	elem := strings.Repeat("é", 1000) // 2000 bytes
	vc := shardResults(fields, rows([]string{"", elem, "600"}))
	r, err := g.Execute(context.Background(), vc, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := r.Rows[0][0]
	if limit := int(DefaultEvalEnv().GroupConcatMaxLen); len(got) > limit || len(got) < limit-3 {
		t.Fatalf("got %d bytes, want at most %d and a character less at most", len(got), limit)
	}
	if !strings.HasPrefix(elem+","+elem, string(got[:4001])) || !utf8Valid(got) {
		t.Fatalf("the cut result is not the start of the elements or splits a character")
	}
	if !slices.Contains(vc.log, "AddWarning 1260: Row 525 was cut by GROUP_CONCAT()") { // the 525th element of 2001 bytes passed 1M
		t.Fatalf("got calls %v, want the warning 1260", vc.log)
	}
}

func utf8Valid(b []byte) bool { return strings.ToValidUTF8(string(b), "?") == string(b) }
