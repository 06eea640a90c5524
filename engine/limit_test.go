package engine

import (
	"context"
	"fmt"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

func TestLimitOffsetOverMergeSort(t *testing.T) {
	fields := []*mysql.Field{field("id", mysql.MYSQL_TYPE_LONG, binaryCharset)}
	per := [][][][]byte{
		rows([]string{"1"}, []string{"4"}, []string{"7"}),
		rows([]string{"2"}, []string{"5"}, []string{"8"}),
		rows([]string{"3"}, []string{"6"}, []string{"9"}),
	}
	for _, tc := range []struct {
		offset, count int64
		want          string
	}{
		{0, 2, "(1) (2)"},
		{2, 3, "(3) (4) (5)"},
		{8, 5, "(9)"},
		{20, 5, ""},
		{0, 0, ""},
	} {
		off := Value{Param: -1, Val: tc.offset, Mappable: true, SQL: fmt.Sprint(tc.offset)}
		lim := &Limit{
			Input: &MergeSort{Input: scatterRoute("q"), Keys: []OrderKey{{Col: 0, Weight: NoWeight}}},
			Spec:  LimitSpec{Count: Value{Param: 0}, Offset: &off},
		}
		r, err := lim.Execute(context.Background(), shardResults(fields, per...), []any{tc.count})
		if err != nil {
			t.Fatal(err)
		}
		if got := show(r.Rows); got != tc.want {
			t.Errorf("limit %d, %d: got %q, want %q", tc.offset, tc.count, got, tc.want)
		}
		// Streaming gives the same rows, fields first.
		var streamed [][][]byte
		calls := 0
		err = lim.Stream(context.Background(), shardResults(fields, per...), []any{tc.count}, func(r *Result) error {
			if calls == 0 && r.Fields == nil {
				t.Errorf("first callback without fields")
			}
			calls++
			streamed = append(streamed, r.Rows...)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := show(streamed); got != tc.want {
			t.Errorf("stream limit %d, %d: got %q, want %q", tc.offset, tc.count, got, tc.want)
		}
	}
}
