package planner

import (
	"errors"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"
)

// TestRestoreLockInShareMode (issue 15, finding 8): TiDB renders LOCK IN
// SHARE MODE as FOR SHARE, which MariaDB 10.11 refuses; shard queries say
// LOCK IN SHARE MODE, and quoted text reading "for share" is unchanged.
func TestRestoreLockInShareMode(t *testing.T) {
	p := NewParser()
	for _, tc := range []struct{ sql, want string }{
		{"select v from t where id = 1 lock in share mode", "select `v` from `t` where `id` = 1 lock in share mode"},
		{"select 'for share', `for share` from t for share", "select 'for share',`for share` from `t` lock in share mode"},
		{"select v from t for update", "select `v` from `t` for update"},
	} {
		stmts, err := p.Parse(tc.sql)
		if err != nil {
			t.Fatal(err)
		}
		got, err := restore(stmts[0])
		if err != nil || got != tc.want {
			t.Errorf("restore(%q) = %q, %v; want %q", tc.sql, got, err, tc.want)
		}
	}
}

// TestSetUnknownSQLMode (issue 15, finding 8): an unknown mode is 1231 at
// once, as from MariaDB; known ones, numbers and expressions pass.
func TestSetUnknownSQLMode(t *testing.T) {
	p := NewParser()
	for _, tc := range []struct {
		sql string
		bad bool
	}{
		{"set sql_mode='nosuch_mode'", true},
		{"set sql_mode='ansi, traditional'", true},
		{"set session sql_mode='ANSI_QUOTES,strict_all_tables'", false},
		{"set sql_mode=''", false},
		{"set sql_mode=concat(@@sql_mode, ',ANSI_QUOTES')", false},
	} {
		stmts, err := p.Parse(tc.sql)
		if err != nil {
			t.Fatal(err)
		}
		var setErr error
		for _, v := range stmts[0].(*ast.SetStmt).Variables {
			if setErr = checkSQLMode(v.Value); setErr != nil {
				break
			}
		}
		if tc.bad != (setErr != nil) || tc.bad && errCodeOf(setErr) != 1231 {
			t.Errorf("%s: got %v, want an error 1231: %v", tc.sql, setErr, tc.bad)
		}
	}
}

func errCodeOf(err error) uint16 {
	var me *mysql.MyError
	if errors.As(err, &me) {
		return me.Code
	}
	return 0
}
