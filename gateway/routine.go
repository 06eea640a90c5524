package gateway

import (
	"context"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/planner"
	"github.com/shardgate/shardgate/sqlerror"
	"github.com/shardgate/shardgate/topo"
)

// runWithRoutine runs a query the parser refused because it defines a
// stored routine whose body only MariaDB parses in full (compound
// statements, SIGNAL, handlers): the statements before the definition as
// usual, then the definition's text as it is, on the one shard the
// session's target names (execRoutineText). It reports whether the query
// was such a one.
func (s *session) runWithRoutine(ctx context.Context, sql string) bool {
	head, routine, ok := planner.SplitRoutineDefinition(sql, s.noBackslashEscapes)
	if !ok {
		return false
	}
	if strings.TrimSpace(head) != "" {
		stmts, err := s.parser.Parse(head)
		if err != nil {
			s.finishStatement(err)
			return true
		}
		for i, stmt := range stmts {
			if i > 0 {
				ctx = s.beginStatement(stmt.Text())
			}
			if s.finishStatement(s.execStmt(ctx, stmt, stmt.Text(), nil, false, true)) != nil {
				return true
			}
		}
		ctx = s.beginStatement(routine)
	}
	s.finishStatement(s.execRoutineText(ctx, routine))
	return true
}

// execRoutineText sends a routine definition, unparsed, to the shard of
// the session's unsharded keyspace or its targeted shard, committing an
// open transaction first (as the DDL it is does in MySQL). A sharded
// keyspace would get the routine on one shard only: refused.
func (s *session) execRoutineText(ctx context.Context, text string) error {
	if err := s.checkRestrictedRoutine(text); err != nil { // restricted.go
		return err
	}
	r := s.routing()
	if r.snap == nil {
		return errNoTopology()
	}
	if s.keyspace == "" {
		return sqlerror.New(sqlerror.User, mysql.ER_NO_DB_ERROR, "No database selected")
	}
	if err := s.mayDefineRoutine(s.keyspace); err != nil {
		return err
	}
	if s.tabletType != topo.TabletPrimary {
		return sqlerror.New(sqlerror.User, mysql.ER_OPTION_PREVENTS_STATEMENT, "The target %s@%s is read-only; writes go to the primary (USE %s)", s.keyspace, s.tabletType, s.keyspace)
	}
	vc := s.newVCursor(r)
	shard := s.shard
	if shard == "" {
		ks := r.snap.VSchema.Keyspaces[s.keyspace]
		if ks == nil {
			return sqlerror.New(sqlerror.User, mysql.ER_BAD_DB_ERROR, "Unknown database '%s'", s.keyspace)
		}
		if ks.Sharded {
			return sqlerror.NotSupported("stored routine definitions in a sharded keyspace (define them in an unsharded keyspace, or on each shard with USE `ks:shard`)")
		}
		ss, err := vc.Shards(ctx, s.keyspace)
		if err != nil {
			return err
		}
		if len(ss) != 1 {
			return sqlerror.New(sqlerror.Unavailable, mysql.ER_UNKNOWN_ERROR, "unsharded keyspace '%s' has %d serving shards, want 1", s.keyspace, len(ss))
		}
		shard = ss[0].Name
	}
	if s.tx != nil {
		if err := s.commit(ctx); err != nil {
			return err
		}
	}
	start := time.Now()
	sc, tc, pooled, err := vc.conn(ctx, s.keyspace, shard, nil)
	if err != nil {
		return err
	}
	defer releasePooled(sc, pooled)
	defer tc.countSince(start)
	res, err := sc.conn.Execute(ctx, text)
	if err != nil {
		return err
	}
	return s.writeOK(res.RowsAffected, 0, false)
}
