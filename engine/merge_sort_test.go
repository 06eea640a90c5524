package engine

import (
	"context"
	"errors"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

func TestMergeSortNumericAndNulls(t *testing.T) {
	fields := []*mysql.Field{field("id", mysql.MYSQL_TYPE_LONGLONG, binaryCharset)}
	vc := shardResults(fields,
		rows([]string{"NULL"}, []string{"9"}, []string{"10"}),
		rows([]string{"-3"}, []string{"100"}),
		nil,
		rows([]string{"2"}, []string{"9"}),
	)
	ms := &MergeSort{Input: scatterRoute("q"), Keys: []OrderKey{{Col: 0, Weight: NoWeight}}}
	r, err := ms.Execute(context.Background(), vc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := show(r.Rows), "(NULL) (-3) (2) (9) (9) (10) (100)"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	// Descending: NULLs last.
	vc = shardResults(fields,
		rows([]string{"10"}, []string{"9"}, []string{"NULL"}),
		rows([]string{"100"}, []string{"-3"}),
	)
	ms.Keys[0].Desc = true
	r, err = ms.Execute(context.Background(), vc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := show(r.Rows), "(100) (10) (9) (-3) (NULL)"; got != want {
		t.Errorf("desc: got %s, want %s", got, want)
	}
}

func TestMergeSortStringsByWeightTrimsHidden(t *testing.T) {
	fields := []*mysql.Field{
		field("id", mysql.MYSQL_TYPE_LONGLONG, binaryCharset),
		field("name", mysql.MYSQL_TYPE_VAR_STRING, utf8mb4GeneralCI),
		field("weight_string(name)", mysql.MYSQL_TYPE_VAR_STRING, binaryCharset),
	}
	// Case-insensitive collation: weights are upper case.
	vc := shardResults(fields,
		rows([]string{"1", "apple", "APPLE"}, []string{"2", "Cherry", "CHERRY"}),
		rows([]string{"3", "Banana", "BANANA"}, []string{"4", "date", "DATE"}),
	)
	ms := &MergeSort{Input: scatterRoute("q"), Keys: []OrderKey{{Col: 1, Weight: 2}}, Trim: 1}
	r, err := ms.Execute(context.Background(), vc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := show(r.Rows), "(1,apple) (3,Banana) (2,Cherry) (4,date)"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if len(r.Fields) != 2 {
		t.Errorf("got %d fields, want 2 (hidden weight column trimmed)", len(r.Fields))
	}
}

func TestMergeSortFromEndIndices(t *testing.T) {
	// select *, name, weight_string(name): the key columns count from the end.
	fields := []*mysql.Field{
		field("a", mysql.MYSQL_TYPE_LONGLONG, binaryCharset),
		field("b", mysql.MYSQL_TYPE_LONGLONG, binaryCharset),
		field("k", mysql.MYSQL_TYPE_DOUBLE, binaryCharset),
		field("ws", mysql.MYSQL_TYPE_VAR_STRING, binaryCharset),
	}
	vc := shardResults(fields,
		rows([]string{"1", "1", "1.5", "x"}, []string{"2", "2", "1e3", "x"}),
		rows([]string{"3", "3", "-2", "x"}, []string{"4", "4", "20", "x"}),
	)
	ms := &MergeSort{Input: scatterRoute("q"), Keys: []OrderKey{{Col: -2, Weight: -1}}, Trim: 2}
	r, err := ms.Execute(context.Background(), vc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := show(r.Rows), "(3,3) (1,1) (4,4) (2,2)"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestMergeSortRefusesEnum(t *testing.T) {
	f := field("e", mysql.MYSQL_TYPE_STRING, utf8mb4GeneralCI)
	f.Flag = mysql.ENUM_FLAG
	vc := shardResults([]*mysql.Field{f, field("w", mysql.MYSQL_TYPE_VAR_STRING, binaryCharset)}, rows([]string{"a", "A"}))
	ms := &MergeSort{Input: scatterRoute("q"), Keys: []OrderKey{{Col: 0, Weight: 1}}, Trim: 1}
	_, err := ms.Execute(context.Background(), vc, nil)
	var me *mysql.MyError
	if !errors.As(err, &me) || me.Code != mysql.ER_NOT_SUPPORTED_YET {
		t.Fatalf("got %v, want error 1235", err)
	}
}
