package gateway

import (
	"context"
	"encoding/hex"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/sqlerror"
)

// evalSetValue turns a SET value that reads variables or calls functions
// (`SET @saved = @@character_set_client`, `SET character_set_client =
// @saved`, `SET @t = NOW()`) into the literal it has now, computed on a
// shard with the session's settings applied. MySQL evaluates a SET value
// once, when the SET runs; the gateway replays settings on every shard
// connection, where the expression would mean something else (and MariaDB
// evaluates all the values of one SET before assigning any, so a replayed
// `@a = ..., x = @a` would read the old @a). Literals and keywords are
// returned as they are (ok false).
func (s *session) evalSetValue(ctx context.Context, e ast.ExprNode) (literal string, ok bool, err error) {
	if e == nil || !readsState(e) {
		return "", false, nil
	}
	expr, err := restoreExpr(e)
	if err != nil {
		return "", false, err
	}
	r := s.routing()
	ks := s.keyspace
	if ks == "" {
		ks = anyKeyspace(r)
	}
	shard := s.shard
	if shard == "" {
		ranges, err := r.shardRanges(ks, s.tabletType)
		if err != nil {
			return "", false, err
		}
		shard = ranges[0].Name
	}
	res, err := s.newVCursor(r).executeOne(ctx, ks, shard, "SELECT "+expr)
	if err != nil {
		return "", false, err
	}
	if len(res.Rows) != 1 || len(res.Fields) != 1 {
		return "", false, sqlerror.New(sqlerror.Internal, mysql.ER_UNKNOWN_ERROR, "SET value did not evaluate to one value")
	}
	return sqlLiteral(res.Fields[0], res.Rows[0][0]), true, nil
}

// sqlLiteral writes a text-protocol value back as SQL: numbers bare,
// binary strings as X'..', other strings quoted.
func sqlLiteral(f *mysql.Field, v []byte) string {
	if v == nil {
		return "NULL"
	}
	switch f.Type {
	case mysql.MYSQL_TYPE_TINY, mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_INT24, mysql.MYSQL_TYPE_LONG,
		mysql.MYSQL_TYPE_LONGLONG, mysql.MYSQL_TYPE_DECIMAL, mysql.MYSQL_TYPE_NEWDECIMAL,
		mysql.MYSQL_TYPE_FLOAT, mysql.MYSQL_TYPE_DOUBLE:
		return string(v)
	}
	if f.Charset == 63 {
		return "X'" + hex.EncodeToString(v) + "'"
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(string(v)) + "'"
}

// readsState reports whether an expression reads a variable or calls a
// function (its value depends on when and where it is evaluated).
func readsState(e ast.ExprNode) bool {
	var v stateReader
	e.Accept(&v)
	return v.found
}

type stateReader struct{ found bool }

func (v *stateReader) Enter(n ast.Node) (ast.Node, bool) {
	switch n.(type) {
	case *ast.VariableExpr, *ast.FuncCallExpr:
		v.found = true
		return n, true
	}
	return n, false
}

func (v *stateReader) Leave(n ast.Node) (ast.Node, bool) { return n, true }
