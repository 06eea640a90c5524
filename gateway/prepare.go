package gateway

import (
	"context"

	"github.com/go-mysql-org/go-mysql/stmt"
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/planner"
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

// prepareColumns returns the result columns a shard announces for a
// SELECT; the planner says which shard to ask (planner.PrepareFields).
// Anything that goes wrong returns nil: the statement is then announced
// with no columns, and its execution reports the real error.
func (s *session) prepareColumns(ctx context.Context, node ast.StmtNode, query string) [][]byte {
	r := s.routing()
	if s.authorize(&planner.Plan{Access: planner.Accesses(node, r.vschema(), s.target())}) != nil {
		return nil // no columns of tables the user may not read; execution answers 1142
	}
	send := planner.PrepareFields(node, query, r.vschema(), s.target())
	if send == nil {
		return nil
	}
	vc := s.newVCursor(r)
	shard, err := send.ResolveShard(ctx, vc)
	if err != nil {
		return nil
	}
	key := prepareKey{keyspace: send.Keyspace, shard: shard, settings: s.settings.applySQL(), query: send.Query}
	if cols, ok := s.srv.prepared.get(r, key); ok {
		return cols
	}
	columns, err := vc.PrepareFields(ctx, send.Keyspace, shard, send.Query)
	if err != nil {
		s.srv.logger.Debug("prepare on shard failed; announcing no columns", "keyspace", send.Keyspace, "shard", shard, "err", err)
		return nil
	}
	s.srv.prepared.put(r, key, columns)
	return columns
}

// PrepareFields prepares query on the shard (COM_STMT_PREPARE) and returns
// the column definitions it announces, as the shard sent them. It uses a
// pooled connection even inside a transaction: preparing must not make
// this shard a participant of it.
func (vc *vcursor) PrepareFields(ctx context.Context, keyspace, shard, query string) ([][]byte, error) {
	s := vc.s
	pool, err := s.tabletPool(vc.r, keyspace, shard)
	if err != nil {
		return nil, err
	}
	sc, err := acquire(ctx, pool, &s.settings)
	if err != nil {
		return nil, err
	}
	defer sc.release(context.Background())
	_, columns, err := sc.conn.PrepareFields(ctx, query)
	return columns, err
}
