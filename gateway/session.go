package gateway

import (
	"context"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/server"
	"github.com/go-mysql-org/go-mysql/stmt"

	"github.com/shardgate/shardgate/acl"
	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/planner"
	"github.com/shardgate/shardgate/sqlerror"
	"github.com/shardgate/shardgate/topo"
	"github.com/shardgate/shardgate/wire"
)

// session is one client connection's state. go-mysql calls its Handler
// methods from the connection's goroutine only, so it needs no locks except
// where the executor fans out to several shards (see vcursor.go).
type session struct {
	// host is the client's address, set before the session is registered
	// (SHOW PROCESSLIST reads it from other sessions).
	host   string
	srv    *Server
	conn   *server.Conn
	w      wire.Writer
	parser *planner.Parser

	// target is what USE selected: a keyspace, optionally one shard of it
	// (`ks:-80`) and the tablet type to read from (`ks@replica`).
	keyspace   string
	shard      string
	tabletType topo.TabletType

	// readDraw picks the side of a resharding's read switch this session
	// reads from, fixed at connect (read_switch.go).
	readDraw int

	autocommit bool
	tx         *transaction // nil outside a transaction
	txMode     txMode       // SET transaction_mode
	// replicaReads is SET replica_reads (replica_select.go).
	replicaReads replicaReads
	settings     settings
	// nextTxIsolation is SET TRANSACTION ISOLATION LEVEL's level for the
	// next transaction only ("READ COMMITTED"), or "".
	nextTxIsolation string
	// nextTxReadOnly is SET TRANSACTION READ ONLY: the next transaction
	// only.
	nextTxReadOnly bool
	// noBackslashEscapes: the session's sql_mode has NO_BACKSLASH_ESCAPES
	// (nobackslash.go).
	noBackslashEscapes bool

	// warnings are the running statement's, prevWarnings the previous
	// statement's (what SHOW WARNINGS shows); statement.go rotates them.
	warnings, prevWarnings []warning
	lastInsertID           uint64

	// ctx is the session's context: it ends when the client goes or is
	// killed (KILL CONNECTION), and with the server. Statements run in
	// children of it (stmt).
	ctx           context.Context
	cancelSession context.CancelCauseFunc
	stmt          statement
	// id is the connection id of the handshake (what KILL and
	// CONNECTION_ID() name); user the authenticated user.
	id   uint32
	user string
	// The login (privileges.go): account is who the client logged in as
	// (grants are read from the users in force at each statement, this
	// one when the user is gone); loginHost is the client's IP, as
	// errors name it; pre is the connection under go-mysql; authed is
	// set once the password checked out, and pendingDB is the handshake's
	// database until then (it is looked at only after the login).
	account   *acl.Account
	loginHost string
	pre       *preAuthConn
	authed    bool
	pendingDB *string
	tls       bool
	// clientAlive tells whether the client's socket is still open (nil
	// where that can't be checked); closeClient closes it (KILL CONNECTION).
	clientAlive func() bool
	closeClient func()
	// maxStatementTime is the session's max_statement_time /
	// max_execution_time, 0 for none.
	maxStatementTime time.Duration

	// flush sends what the connection has buffered (a command that reads
	// from the client mid-command, like COM_CHANGE_USER, needs it);
	// closeAfterReply ends the connection after the current response.
	flush           func() error
	closeAfterReply bool

	// keyBuf and argBuf are reused by every statement for its plan cache
	// key and the literals the normaliser extracts.
	keyBuf []byte
	argBuf []any

	// fence is the connection's state for go-mysql's workarounds
	// (wire/gomysql_fence.go): prepared statements' parameter types, long
	// data, statement ids, sequence numbers.
	fence wire.ServerFence
	// stmts are the connection's prepared statements by id, and execArgs
	// the arguments of the execute being served (prepare_execute.go).
	stmts    map[uint32]*stmtHandle
	execArgs []any
	// floats holds the prepared statements whose result has a FLOAT
	// column (exact_float.go).
	floats floatStmts
	// exactFloats is set while a COM_STMT_EXECUTE runs whose result, as
	// announced at prepare time, has a FLOAT column: its shard SELECTs
	// then use the binary protocol (exact_float.go).
	exactFloats bool

	// stream is streamPlan's reusable state (query.go).
	stream rowStream
	// forward is the pass-through's state (forward.go).
	forward rowForward
	// vc is the cursor execPlan's statements run with, reused from one
	// statement to the next (vcursor.go, cursor).
	vc        vcursor
	oneStream oneShardStream

	// fakeCursor, when set (benchmarks only), replaces the shards.
	fakeCursor func(*routing) execCursor
}

type warning struct {
	level   string
	code    uint16
	message string
}

func newSession(srv *Server) *session {
	ctx, cancel := context.WithCancelCause(srv.ctx)
	return &session{
		srv:           srv,
		ctx:           ctx,
		cancelSession: cancel,
		parser:        planner.NewParser(),
		tabletType:    topo.TabletPrimary,
		readDraw:      newReadDraw(),
		autocommit:    true,
		txMode:        srv.txMode,
	}
}

func (s *session) attach(c *server.Conn) {
	s.conn = c
	s.w.Conn = c
	s.id = c.ConnectionID()
	s.user = c.GetUser()
	s.host = c.RemoteAddr().String()
	s.stmt.mu.Lock()
	s.stmt.user, s.stmt.db = s.user, s.keyspace
	s.stmt.mu.Unlock()
	s.applyClientCharset(c.Charset())
}

// close releases everything the session holds when its client goes away:
// its contexts, and an open transaction, rolled back on every shard.
func (s *session) close() {
	s.cancelSession(errClientGone)
	s.stmt.mu.Lock()
	if s.stmt.check != nil {
		s.stmt.check.Stop()
	}
	s.stmt.release()
	s.stmt.mu.Unlock()
	s.rollbackOpen()
}

// rollbackOpen rolls back the open transaction, if any.
func (s *session) rollbackOpen() {
	if s.tx != nil {
		s.tx.rollback(context.Background())
		s.tx = nil
	}
}

// status is the server status word for the next OK/EOF packet.
func (s *session) status(more bool) uint16 {
	var st uint16
	if s.autocommit {
		st |= mysql.SERVER_STATUS_AUTOCOMMIT
	}
	if s.tx != nil {
		st |= mysql.SERVER_STATUS_IN_TRANS
	}
	if more {
		st |= mysql.SERVER_MORE_RESULTS_EXISTS
	}
	if s.noBackslashEscapes {
		// Drivers that quote values themselves read the mode from here.
		st |= mysql.SERVER_STATUS_NO_BACKSLASH_ESCAPED
	}
	return st
}

// target is what the planner routes unqualified tables with.
func (s *session) target() planner.Target {
	return planner.Target{Keyspace: s.keyspace, Shard: s.shard, NoBackslashEscapes: s.noBackslashEscapes,
		ReadShares: s.tx == nil && s.autocommit, ReadDraw: s.readDraw}
}

// UseDB handles COM_INIT_DB and `USE`: `ks`, `ks:shard`, `ks@replica`.
func (s *session) UseDB(db string) error {
	if !s.authed {
		// The handshake's database: answered after the login (finding 6).
		s.pendingDB = &db
		return nil
	}
	ks, shard, typ, err := parseTarget(db)
	if err != nil {
		return handlerError(err)
	}
	if err := s.mayUse(db, ks, shard); err != nil {
		return handlerError(err)
	}
	r := s.routing()
	if ks != "" && (r.snap == nil || r.snap.Keyspaces[ks] == nil) {
		return handlerError(sqlerror.New(sqlerror.User, mysql.ER_BAD_DB_ERROR, "Unknown database '%s'", db))
	}
	if shard != "" && !hasShard(r.snap, ks, shard) {
		return handlerError(sqlerror.New(sqlerror.User, mysql.ER_BAD_DB_ERROR, "Unknown database '%s' (no shard %s in keyspace %s)", db, shard, ks))
	}
	s.keyspace, s.shard, s.tabletType = ks, shard, typ
	return nil
}

func hasShard(snap *topo.Snapshot, ks, shard string) bool {
	for _, sh := range snap.Shards[ks] {
		if sh.Name == shard {
			return true
		}
	}
	return false
}

// parseTarget splits Vitess's target syntax: keyspace[:shard][@type].
func parseTarget(db string) (ks, shard string, typ topo.TabletType, err error) {
	typ = topo.TabletPrimary
	if at := strings.LastIndexByte(db, '@'); at >= 0 {
		switch strings.ToLower(db[at+1:]) {
		case "primary", "master":
		case "replica", "rdonly":
			typ = topo.TabletReplica
		default:
			return "", "", "", sqlerror.New(sqlerror.User, mysql.ER_BAD_DB_ERROR, "Unknown database '%s' (unknown tablet type %q)", db, db[at+1:])
		}
		db = db[:at]
	}
	if colon := strings.IndexByte(db, ':'); colon >= 0 {
		db, shard = db[:colon], db[colon+1:]
	}
	return db, shard, typ, nil
}

// HandleQuery runs COM_QUERY text: one statement or several (multi
// statements run in order and stop at the first error, as in MySQL).
func (s *session) HandleQuery(query string) (*mysql.Result, error) {
	if err := s.tooLarge(len(query)); err != nil {
		s.beginStatement("")
		s.finishStatement(err)
		return s.srv.done, nil
	}
	s.runQuery(query)
	return s.srv.done, nil
}

// HandleFieldList answers COM_FIELD_LIST with the table's columns as a
// shard reports them.
func (s *session) HandleFieldList(table string, wildcard string) ([]*mysql.Field, error) {
	q := "select * from " + quoteIdent(table) + " limit 0"
	ctx := s.beginStatement(q)
	s.stmt.protocolOnly = true
	stmts, err := s.parser.Parse(q)
	var res *engine.Result
	if err == nil {
		res, err = s.executePlanned(ctx, stmts[0], q, nil)
	}
	if err = s.endStatement(err); err != nil {
		return nil, sqlerror.ToMyError(err)
	}
	return res.Fields, nil
}

// HandleStmtPrepare parses the statement once to check it and count its
// parameters, and announces a SELECT's result columns as a shard reports
// them (prepare.go); the plan is built at execution (and cached), against
// the vschema of that moment.
func (s *session) HandleStmtPrepare(query string) (int, int, any, error) {
	id := s.fence.NextStmtID() // go-mysql numbers every prepare, failed or not
	ctx := s.beginStatement(query)
	s.stmt.protocolOnly = true
	stmts, err := s.parser.Parse(query)
	if err == nil && len(stmts) != 1 {
		err = sqlerror.New(sqlerror.Unsupported, mysql.ER_UNSUPPORTED_PS, "This command is not supported in the prepared statement protocol yet")
	}
	if err == nil {
		// Refused at prepare, as MySQL checks privileges there; the shard
		// never prepares it (restricted.go).
		err = s.checkRestricted(stmts[0], query)
	}
	if err != nil {
		return 0, 0, nil, sqlerror.ToMyError(s.endStatement(err))
	}
	n := planner.CountParams(stmts[0])
	ps := s.preparedStmt(ctx, stmts[0], query, n)
	s.endStatement(nil)
	ps.ID = id
	if s.stmts == nil {
		s.stmts = map[uint32]*stmtHandle{}
	}
	s.stmts[id] = &stmtHandle{ps: ps, query: query, params: n}
	s.fence.Prepared(id, n)
	s.floats.prepared(id, hasFloatColumn(ps.RawColumnFields))
	return ps.Params, ps.Columns, ps, nil
}

// HandleStmtExecute runs a prepared statement with its arguments.
// (The session serves most executes without go-mysql: prepare_execute.go.)
func (s *session) HandleStmtExecute(prepared any, query string, args []any) (*mysql.Result, error) {
	// The response continues the sequence of the packet the client sent.
	s.fence.FixExecuteSequence(&s.conn.Sequence)
	ps, _ := prepared.(*stmt.PreparedStmt)
	vals, err := wire.NormalizeArgs(args)
	s.runExecute(nil, ps, query, vals, err, wire.ArgsSize(args))
	return s.srv.done, nil
}

// runExecute runs prepared statement ps (query; h, when the session
// decoded the execute itself) with its arguments, as decoded (argsErr:
// they could not be) from argsSize bytes of values, and writes its
// response.
func (s *session) runExecute(h *stmtHandle, ps *stmt.PreparedStmt, query string, args []any, argsErr error, argsSize int) {
	ctx := s.beginStatement(query)
	err := argsErr
	if err == nil {
		err = s.tooLarge(len(query) + argsSize)
	}
	if ps != nil && s.fence.LongDataTooLarge(ps.ID) && err == nil {
		// Its COM_STMT_SEND_LONG_DATA went over max_allowed_packet.
		err = errPacketTooLarge()
	}
	if err == nil {
		s.exactFloats = ps != nil && s.floats.has(ps)
		err = s.runOne(ctx, h, query, args, true)
		s.exactFloats = false
	}
	s.finishStatement(err)
}

// HandleStmtClose forgets the statement's parameter types; prepared
// statements hold no shard resources.
func (s *session) HandleStmtClose(context any) error {
	if ps, ok := context.(*stmt.PreparedStmt); ok {
		delete(s.stmts, ps.ID)
		s.fence.Closed(ps.ID)
		s.floats.closed(ps.ID)
	}
	return nil
}

// HandleOtherCommand answers the commands go-mysql does not dispatch itself.
func (s *session) HandleOtherCommand(cmd byte, data []byte) error {
	switch cmd {
	case mysql.COM_RESET_CONNECTION:
		s.reset()
		return nil
	case mysql.COM_CHANGE_USER:
		return handlerError(s.changeUser(data))
	case wire.ComRefusedTooLarge:
		// A command over max_allowed_packet, drained unread by the fence.
		s.conn.Sequence = s.fence.RefusedSequence()
		return handlerError(errPacketTooLarge())
	case mysql.COM_SET_OPTION:
		// MYSQL_OPTION_MULTI_STATEMENTS_ON/OFF: multi statements are always
		// accepted; go-mysql answers with EOF.
		return nil
	}
	return handlerError(sqlerror.New(sqlerror.Unsupported, mysql.ER_UNKNOWN_COM_ERROR, "Unknown command %d", cmd))
}

// reset returns the session to the state of a new connection, keeping the
// selected database (as MySQL's COM_RESET_CONNECTION does).
func (s *session) reset() {
	s.rollbackOpen()
	s.autocommit = true
	s.txMode = s.srv.txMode
	s.settings = settings{}
	s.nextTxIsolation = ""
	s.nextTxReadOnly = false
	s.setNoBackslashEscapes(false)
	s.warnings, s.prevWarnings = nil, nil
	s.lastInsertID = 0
	s.maxStatementTime = 0
}

func (s *session) writeErr(err error) {
	me := sqlerror.ToMyError(s.clientError(err))
	s.warnings = append(s.warnings[:0], warning{level: "Error", code: me.Code, message: me.Message})
	if werr := s.w.WriteErr(me); werr != nil {
		s.srv.logger.Debug("write error packet", "err", werr)
	}
}

func quoteIdent(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}
