package gateway

import (
	"context"

	"github.com/go-mysql-org/go-mysql/stmt"
	"github.com/pingcap/tidb/pkg/parser/ast"
)

// preparedStmt is the context of a prepared statement that go-mysql keeps:
// its counts, and the column definitions to announce at prepare time (go-mysql
// writes RawColumnFields when the context is a *stmt.PreparedStmt).
func (s *session) preparedStmt(ctx context.Context, node ast.StmtNode, query string, params int) *stmt.PreparedStmt {
	ps := &stmt.PreparedStmt{Params: params}
	if columns := s.prepareColumns(ctx, node, query); columns != nil {
		ps.Columns, ps.RawColumnFields = len(columns), columns
	}
	return ps
}

// prepareColumns asks a shard of the statement's keyspace to prepare a
// SELECT and returns the result columns it announces, as MySQL does at
// prepare time (Connector/J sizes its result metadata from them). The
// statement runs on the shards as the user wrote it minus routing, and
// every shard has the same schema, so one shard's answer is the answer.
// Anything that goes wrong returns nil: the statement is then announced
// with no columns, and its execution reports the real error.
func (s *session) prepareColumns(ctx context.Context, node ast.StmtNode, query string) [][]byte {
	switch node.(type) {
	case *ast.SelectStmt, *ast.SetOprStmt:
	default:
		return nil
	}
	r := s.routing()
	if r.snap == nil {
		return nil
	}
	ks := statementKeyspace(node)
	if ks == "" || r.snap.Keyspaces[ks] == nil {
		ks = s.keyspace
	}
	if ks == "" {
		ks = anyKeyspace(r)
	}
	shard := s.shard
	if shard == "" || ks != s.keyspace {
		ranges, err := r.shardRanges(ks, s.tabletType)
		if err != nil || len(ranges) == 0 {
			return nil
		}
		shard = ranges[0].Name
	}
	key := prepareKey{keyspace: ks, shard: shard, settings: s.settings.applySQL(), query: query}
	if cols, ok := s.srv.prepared.get(r, key); ok {
		return cols
	}
	// A pooled connection even inside a transaction: preparing must not
	// make this shard a participant of it.
	pool, err := r.pool(ks, shard, s.tabletType, s.nextPick())
	if err != nil {
		return nil
	}
	sc, err := acquire(ctx, pool, &s.settings)
	if err != nil {
		return nil
	}
	defer sc.release(context.Background())
	_, columns, err := sc.conn.PrepareFields(ctx, query)
	if err != nil {
		s.srv.logger.Debug("prepare on shard failed; announcing no columns", "keyspace", ks, "shard", shard, "err", err)
		return nil
	}
	s.srv.prepared.put(r, key, columns)
	return columns
}

// statementKeyspace is the first schema a table of the statement is
// qualified with, or "".
func statementKeyspace(node ast.StmtNode) string {
	var f schemaFinder
	node.Accept(&f)
	return f.schema
}

type schemaFinder struct{ schema string }

func (f *schemaFinder) Enter(n ast.Node) (ast.Node, bool) {
	if t, ok := n.(*ast.TableName); ok && f.schema == "" && t.Schema.L != "" {
		switch t.Schema.L {
		case "information_schema", "mysql", "performance_schema", "sys":
		default:
			f.schema = t.Schema.O
		}
	}
	return n, f.schema != ""
}

func (f *schemaFinder) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// anyKeyspace picks a keyspace for statements about the server rather than
// a table: an unsharded one if there is one, so it is stable.
func anyKeyspace(r *routing) string {
	for _, ks := range (&vcursor{r: r}).Keyspaces() {
		if !ks.Sharded {
			return ks.Name
		}
	}
	if ks := (&vcursor{r: r}).Keyspaces(); len(ks) > 0 {
		return ks[0].Name
	}
	return ""
}
