package engine

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
)

func TestSetAppliesOpsInOrder(t *testing.T) {
	vc := sessionCursor()
	vc.results = func(_, _, _ string) (*Result, error) {
		return &Result{Fields: TextFields("v"), Rows: rows([]string{"utf8'mb3"})}, nil
	}
	set := &Set{Ops: []SetOp{
		&SetAutocommit{On: false},
		&SetTransactionMode{Value: "'twopc'"},
		&SetStatementLimit{Limit: 2 * time.Second},
		&SetShardSetting{Key: "max_statement_time", Assign: "@@SESSION.`max_statement_time`=2", Reset: "@@SESSION.`max_statement_time`=DEFAULT"},
		&SetShardSetting{Key: "a", Assign: "@`a`=@@`character_set_client`", Reset: "@`a`=NULL",
			Eval: &Send{Keyspace: "global", Query: "SELECT @@`character_set_client`"}},
		&UnsetShardSetting{Key: "names"},
		&SetNextTxIsolation{Level: "READ COMMITTED"},
	}}
	res, err := set.Execute(context.Background(), vc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Fields) != 0 {
		t.Errorf("SET answered columns %v", res.Fields)
	}
	want := []string{
		"autocommit false",
		"transaction_mode 'twopc'",
		"limit 2s",
		"setting max_statement_time: @@SESSION.`max_statement_time`=2 / @@SESSION.`max_statement_time`=DEFAULT",
		`setting a: @` + "`a`" + `='utf8\'mb3' / @` + "`a`" + `=NULL`,
		"unset names",
		"isolation READ COMMITTED",
	}
	if got := strings.Join(vc.session.log, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("session calls:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	if got, want := strings.Join(vc.log, "\n"), "ExecuteMulti global.-: SELECT @@`character_set_client`"; got != want {
		t.Errorf("shard calls %q, want %q", got, want)
	}
}

func TestSetStopsAtTheFirstError(t *testing.T) {
	vc := sessionCursor()
	set := &Set{Ops: []SetOp{&SetTransactionMode{Value: "'bogus'"}, &SetAutocommit{On: true}}}
	if _, err := set.Execute(context.Background(), vc, nil); err == nil {
		t.Fatal("no error")
	}
	if len(vc.session.log) != 0 {
		t.Errorf("applied %v after the error", vc.session.log)
	}
}

func TestSQLValue(t *testing.T) {
	for _, c := range []struct {
		f    *mysql.Field
		v    []byte
		want string
	}{
		{UintField("n"), []byte("12"), "12"},
		{TextFields("s")[0], []byte(`it's \ here`), `'it\'s \\ here'`},
		{&mysql.Field{Type: mysql.MYSQL_TYPE_VAR_STRING, Charset: binaryCollation}, []byte{0, 1}, "X'0001'"},
		{TextFields("s")[0], nil, "NULL"},
	} {
		if got := SQLValue(c.f, c.v); got != c.want {
			t.Errorf("SQLValue(%q) = %s, want %s", c.v, got, c.want)
		}
	}
}
