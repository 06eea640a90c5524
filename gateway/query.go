package gateway

import (
	"context"
	"errors"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/planner"
	"github.com/shardgate/shardgate/sqlerror"
	"github.com/shardgate/shardgate/topo"
)

// errReported means the error was already sent to the client (it happened
// after a result set had begun), so the caller only stops.
var errReported = errors.New("gateway: error already sent to the client")

// runQuery runs the statements of one COM_QUERY in order, stopping at the
// first error, and writes every response. Each statement has its own life
// (statement.go).
func (s *session) runQuery(sql string) {
	ctx := s.beginStatement(sql)
	handled, err := s.runCached(ctx, sql) // plan cache (plancache.go)
	if !handled {
		handled, err = s.runTxControl(ctx, sql) // txcontrol_text.go
	}
	if !handled {
		handled, err = s.execSpecial(ctx, sql)
	}
	if handled {
		s.finishStatement(err)
		return
	}
	stmts, err := s.parser.Parse(sql)
	if err == nil && len(stmts) == 0 {
		err = sqlerror.New(sqlerror.User, mysql.ER_EMPTY_QUERY, "Query was empty")
	}
	if err != nil && sqlerror.ToMyError(err).Code == mysql.ER_EMPTY_QUERY && strings.Trim(sql, " \t\r\n;") != "" {
		// Only comments: MariaDB answers OK (go-sql-driver's
		// TestEmptyQuery); only blanks and semicolons are an empty query.
		s.finishStatement(s.writeOK(0, 0, false))
		return
	}
	if err != nil && sqlerror.ToMyError(err).Code == mysql.ER_PARSE_ERROR && s.runWithRoutine(ctx, sql) {
		return
	}
	if err != nil {
		s.finishStatement(err)
		return
	}
	for i, stmt := range stmts {
		text := stmt.Text()
		if len(stmts) == 1 || text == "" {
			text = sql
		}
		if i > 0 {
			ctx = s.beginStatement(text)
		}
		err := s.execStmt(ctx, stmt, text, nil, false, i < len(stmts)-1)
		if s.finishStatement(err) != nil {
			return
		}
	}
}

// finishStatement ends the running statement and writes its error, unless
// it was written already; it returns the error.
func (s *session) finishStatement(err error) error {
	err = s.endStatement(err)
	if err != nil && !errors.Is(err, errReported) {
		s.writeErr(err)
	}
	return err
}

// runOne runs a prepared statement's text with its arguments (h: its
// handle, when the session decoded the execute itself).
func (s *session) runOne(ctx context.Context, h *stmtHandle, sql string, args []any, binary bool) error {
	if handled, err := s.runPreparedCached(ctx, h, sql, args, binary); handled { // plan cache (plancache.go)
		return err
	}
	if len(args) == 0 {
		// A prepared BEGIN, COMMIT or ROLLBACK (sysbench prepares them)
		// skips the parser as the text ones do.
		if handled, err := s.runTxControl(ctx, sql); handled { // txcontrol_text.go
			return err
		}
	}
	stmts, err := s.parser.Parse(sql)
	if err != nil {
		return err
	}
	if len(stmts) != 1 {
		return sqlerror.New(sqlerror.Unsupported, mysql.ER_UNSUPPORTED_PS, "This command is not supported in the prepared statement protocol yet")
	}
	return s.execStmt(ctx, stmts[0], sql, args, binary, false)
}

// execStmt runs one statement and writes its response. A returned error
// has not been written yet (except errReported).
func (s *session) execStmt(ctx context.Context, stmt ast.StmtNode, sql string, args []any, binary, more bool) error {
	switch st := stmt.(type) {
	case *ast.UseStmt:
		if err := s.UseDB(st.DBName); err != nil {
			return err
		}
		return s.writeOK(0, 0, more)
	case *ast.BeginStmt:
		if err := s.begin(ctx, st.ReadOnly); err != nil {
			return err
		}
		return s.writeOK(0, 0, more)
	case *ast.CommitStmt:
		if err := s.commit(ctx); err != nil {
			return err
		}
		return s.writeOK(0, 0, more)
	case *ast.RollbackStmt:
		if st.SavepointName != "" {
			if err := s.execSavepoint(ctx, "ROLLBACK TO", st.SavepointName); err != nil {
				return err
			}
			return s.writeOK(0, 0, more)
		}
		s.rollback(ctx)
		return s.writeOK(0, 0, more)
	case *ast.SavepointStmt:
		if err := s.execSavepoint(ctx, "SAVEPOINT", st.Name); err != nil {
			return err
		}
		return s.writeOK(0, 0, more)
	case *ast.ReleaseSavepointStmt:
		if err := s.execSavepoint(ctx, "RELEASE", st.Name); err != nil {
			return err
		}
		return s.writeOK(0, 0, more)
	case *ast.KillStmt:
		if err := s.execKill(st); err != nil {
			return err
		}
		return s.writeOK(0, 0, more)
	case *ast.LoadDataStmt:
		if st.FileLocRef == ast.FileLocClient {
			return s.execLoadLocal(ctx, st, sql, more)
		}
	case *ast.CallStmt:
		return s.execCall(ctx, st, sql, args, binary, more)
	case *ast.UnlockTablesStmt:
		// The gateway never holds table locks (LOCK TABLES is refused), so
		// there is nothing to release; mariadb-dump --single-transaction
		// sends it.
		return s.writeOK(0, 0, more)
	}

	plan, r, err := s.buildPlan(stmt, sql)
	if err != nil {
		return err
	}
	if answered(plan) {
		return s.runAnswer(ctx, plan, r, binary, more)
	}
	return s.execPlan(ctx, plan, r, args, binary, more)
}

// buildPlan plans a statement against the current routing snapshot, which
// it returns for the execution. Before the gateway has read the topology
// only what it answers itself (SHOW WARNINGS, LAST_INSERT_ID(), ...) is
// planned.
func (s *session) buildPlan(stmt ast.StmtNode, sql string) (*planner.Plan, *routing, error) {
	if err := s.checkRestricted(stmt, sql); err != nil { // restricted.go
		return nil, nil, err
	}
	r := s.routing()
	plan, err := planner.Build(stmt, sql, r.vschema(), s.target())
	if r.snap == nil && (err != nil || !answered(plan)) {
		return nil, nil, errNoTopology()
	}
	return plan, r, err
}

// execSpecial answers the Vitess statements TiDB's parser does not know
// (SHOW VITESS_*, SELECT NEXT n VALUES FROM seq, VEXPLAIN), which the
// planner recognises from their text. It reports whether sql was one of
// them.
func (s *session) execSpecial(ctx context.Context, sql string) (bool, error) {
	r := s.routing()
	plan, ok, err := planner.BuildVitess(s.parser, sql, r.vschema(), s.target())
	if !ok {
		return false, nil
	}
	if err := s.checkRestrictedVExplain(sql); err != nil { // restricted.go
		return true, err
	}
	if r.snap == nil && (err != nil || plan.Type != planner.StmtShow) {
		return true, errNoTopology()
	}
	if err != nil {
		return true, err
	}
	return true, s.runAnswer(ctx, plan, r, false, false)
}

// answered says whether the gateway runs a plan as an answer (runAnswer)
// rather than as a read or a write (execPlan).
func answered(plan *planner.Plan) bool {
	switch plan.Type {
	case planner.StmtShow, planner.StmtLocal, planner.StmtVExplain, planner.StmtSet, planner.StmtAccepted:
		return true
	}
	return false
}

// runAnswer runs a plan the gateway answers from its own state or from
// any one shard (SHOW, SET, LAST_INSERT_ID(), NEXT VALUES, VEXPLAIN): it opens
// no transaction of its own, replicas answer it, and its result is
// buffered (it is small). A VEXPLAIN that runs a write opens the
// transaction autocommit off would open for the write itself.
func (s *session) runAnswer(ctx context.Context, plan *planner.Plan, r *routing, binary, more bool) error {
	s.stmt.plan = plan
	if err := s.authorize(plan); err != nil {
		return err
	}
	if vx, ok := plan.Root.(*engine.VExplain); ok && vx.Writes &&
		s.tx == nil && !s.autocommit && s.tabletType == topo.TabletPrimary {
		s.tx = s.newTransaction()
	}
	vc := s.newVCursor(r)
	res, err := plan.Root.Execute(ctx, vc, nil)
	vc.flushWarnings()
	if err != nil {
		return err
	}
	if plan.ListsTables != "" {
		s.filterTables(res, plan.ListsTables)
	}
	return s.writeResult(res, binary, more)
}

// errNoTopology answers statements that arrive before the gateway has read
// the topology from etcd.
func errNoTopology() error {
	return sqlerror.New(sqlerror.Unavailable, mysql.ER_UNKNOWN_ERROR, "gateway has no topology yet")
}

// execPlan runs a built plan (fresh or from the plan cache) and writes its
// response; errors are as execStmt's.
func (s *session) execPlan(ctx context.Context, plan *planner.Plan, r *routing, args []any, binary, more bool) error {
	if err := s.enterPlan(ctx, plan); err != nil {
		return err
	}
	if plan.Type == planner.StmtDDL {
		// Prepared statements' announced columns may change.
		defer s.srv.prepared.clear()
	}
	vc := s.cursor(r, plan)
	if plan.Type == planner.StmtSelect {
		plan = s.withSelectLimit(plan) // eval_env.go
		err := s.streamPlan(ctx, plan, vc, args, binary, more)
		if s.rerouteAgain(err, plan) { // a write switch moved its shard (buffer_reroute.go)
			err = s.streamPlan(ctx, plan, s.cursor(s.routing(), plan), args, binary, more)
		}
		return err
	}
	res, err := s.execute(ctx, plan, vc, args)
	if s.rerouteAgain(err, plan) {
		vc = s.cursor(s.routing(), plan)
		res, err = s.execute(ctx, plan, vc, args)
	}
	if again, r, ok := s.replanAfterRules(err, plan); ok { // routing_rules.go
		vc = s.cursor(r, again)
		res, err = s.execute(ctx, again, vc, args)
	}
	vc.flushWarnings()
	if err != nil {
		err = s.abortIfPrimaryChanged(ctx, err)
		s.abortOnError(ctx, err)
		return err
	}
	if plan.Type == planner.StmtDDL {
		s.refreshSchemaAfterDDL(ctx, plan)
	}
	return s.writeResult(res, binary, more)
}

// enterPlan applies the session's rules before a plan runs: an aborted
// transaction, replicas read-only, DDL's implicit commit, autocommit off.
func (s *session) enterPlan(ctx context.Context, plan *planner.Plan) error {
	s.stmt.plan = plan
	if err := s.authorize(plan); err != nil {
		return err
	}
	if s.tx != nil && s.tx.aborted != nil {
		return s.tx.aborted
	}
	if plan.Type != planner.StmtSelect && s.tabletType != topo.TabletPrimary {
		// Replicas are read-only to clients (the gateway's own user could
		// write there, which would make them diverge).
		return sqlerror.New(sqlerror.User, mysql.ER_OPTION_PREVENTS_STATEMENT, "The target %s@%s is read-only; writes go to the primary (USE %s)", s.keyspace, s.tabletType, s.keyspace)
	}
	if plan.Type == planner.StmtDDL && s.tx != nil {
		// DDL commits the open transaction first, as in MySQL.
		if err := s.commit(ctx); err != nil {
			return err
		}
	}
	if s.tx == nil && !s.autocommit && s.tabletType == topo.TabletPrimary {
		// With autocommit off every statement runs in a transaction; it
		// is opened here, before the plan may fan out to several shards.
		s.tx = s.newTransaction()
	}
	return nil
}

// executePlanned plans and runs a statement, returning its result instead
// of writing it (COM_FIELD_LIST, SHOW passthrough).
func (s *session) executePlanned(ctx context.Context, stmt ast.StmtNode, sql string, args []any) (*engine.Result, error) {
	plan, r, err := s.buildPlan(stmt, sql)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(plan); err != nil {
		return nil, err
	}
	vc := s.newVCursor(r)
	vc.buffering = true
	return plan.Root.Execute(ctx, vc, args)
}

// streamPlan sends a SELECT's rows to the client as the shards produce them.
func (s *session) streamPlan(ctx context.Context, plan *planner.Plan, vc execCursor, args []any, binary, more bool) error {
	st := &s.stream
	if st.fn == nil {
		st.s, st.fn = s, st.write
	}
	*st = rowStream{s: s, fn: st.fn, binary: binary, more: more}
	var (
		err     error
		started bool
	)
	if route, fwd, pq := s.forwarding(plan, vc, binary); fwd != nil {
		started, err = s.forwardRoute(ctx, route, pq, fwd, vc, args, more) // forward.go
	} else {
		err = plan.Root.Stream(ctx, vc, args, st.fn)
		started = st.started
	}
	st.fields = nil
	vc.flushWarnings()
	if err != nil {
		err = s.abortIfPrimaryChanged(ctx, err)
		s.abortOnError(ctx, err)
		if !started {
			return err
		}
		s.writeErr(err)
		return errReported
	}
	if !started {
		// No shard answered with columns (nothing to read from).
		return s.writeOK(0, 0, more)
	}
	return s.w.WriteEOF(s.status(more), s.warningCount())
}

// rowStream is streamPlan's state for one statement. The session keeps one
// and the func value bound to its write, so streaming a result allocates
// neither a closure nor its variables.
type rowStream struct {
	s                     *session
	fn                    func(*engine.Result) error // st.write, bound once
	fields                []*mysql.Field
	started, binary, more bool
}

func (st *rowStream) write(r *engine.Result) error {
	s := st.s
	if !st.started && r.Fields != nil {
		st.fields = r.Fields
		st.started = true
		if err := s.w.WriteFields(st.fields, s.status(st.more)); err != nil {
			return err
		}
	}
	s.stmt.rows += uint64(len(r.Rows))
	return s.writeRows(st.fields, r.Rows, st.binary)
}

func (s *session) writeRows(fields []*mysql.Field, rows [][][]byte, binary bool) error {
	for _, row := range rows {
		var err error
		if binary {
			err = s.w.WriteBinaryRow(fields, row)
		} else {
			err = s.w.WriteTextRow(row)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// writeResult sends a buffered result: rows if it has columns, else OK.
func (s *session) writeResult(res *engine.Result, binary, more bool) error {
	if len(res.Fields) == 0 {
		s.stmt.rows += res.RowsAffected
		if res.InsertID != 0 {
			s.lastInsertID = res.InsertID
		}
		affected := res.RowsAffected
		if res.MatchedKnown && s.conn != nil && s.conn.HasCapability(mysql.CLIENT_FOUND_ROWS) {
			affected = res.RowsMatched
		}
		return s.writeOK(affected, res.InsertID, more)
	}
	if err := s.w.WriteFields(res.Fields, s.status(more)); err != nil {
		return err
	}
	s.stmt.rows += uint64(len(res.Rows))
	if err := s.writeRows(res.Fields, res.Rows, binary); err != nil {
		return err
	}
	return s.w.WriteEOF(s.status(more), s.warningCount())
}

func (s *session) writeOK(affected, insertID uint64, more bool) error {
	return s.w.WriteOK(affected, insertID, s.status(more), s.warningCount(), "")
}

func (s *session) warningCount() uint16 {
	if len(s.warnings) > 0xffff {
		return 0xffff
	}
	return uint16(len(s.warnings))
}
