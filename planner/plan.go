package planner

import (
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/topo/vschema"
)

// StmtType classifies a planned statement for the gateway (transactions,
// metrics, read-only checks).
type StmtType int

// Statement types.
const (
	StmtUnknown StmtType = iota
	StmtSelect
	StmtInsert
	StmtReplace
	StmtUpdate
	StmtDelete
	StmtDDL
	StmtOther
	// StmtShow is a SHOW: answered from the topology, the session or any
	// one shard (engine.Show, engine.Send).
	StmtShow
	// StmtLocal is a SELECT the gateway answers itself: LAST_INSERT_ID(),
	// CONNECTION_ID(), NEXT n VALUES FROM seq.
	StmtLocal
	// StmtVExplain is a VEXPLAIN (engine.VExplain).
	StmtVExplain
	// StmtSet is a SET (engine.Set).
	StmtSet
	// StmtAccepted is a statement the gateway answers OK without a shard
	// (engine.Noop): CREATE DATABASE IF NOT EXISTS of a keyspace, LOCK
	// TABLES.
	StmtAccepted
)

var stmtTypeNames = [...]string{"UNKNOWN", "SELECT", "INSERT", "REPLACE", "UPDATE", "DELETE", "DDL", "OTHER", "SHOW", "LOCAL", "VEXPLAIN", "SET", "ACCEPTED"}

func (t StmtType) String() string {
	if t >= 0 && int(t) < len(stmtTypeNames) {
		return stmtTypeNames[t]
	}
	return "UNKNOWN"
}

// Target is where a session sends unqualified statements: the keyspace
// from USE `ks` (may be ""), and, after USE `ks:-80`, one shard of it.
type Target struct {
	Keyspace string
	Shard    string
	// NoBackslashEscapes: the session's sql_mode has NO_BACKSLASH_ESCAPES
	// (its text was parsed so), while shards never do: a statement whose
	// text has a backslash is rendered for them instead of sent as
	// written.
	NoBackslashEscapes bool
	// ReadShares says the session may read from the read shares of
	// routing rules (vschema.RoutingRule): it is outside a transaction.
	// ReadDraw is then its draw, in [0, 10000). The plan cache keys plans
	// by vschema.VSchema.ReadSide(ReadDraw).
	ReadShares bool
	ReadDraw   int
}

// Plan is a built statement, ready to execute any number of times (and
// safe to share between sessions: primitives hold no execution state).
type Plan struct {
	Type       StmtType
	Root       engine.Primitive
	Original   string
	ParamCount int // number of ? markers
	// LockingRead is set for a SELECT that takes row locks (FOR UPDATE,
	// LOCK IN SHARE MODE, FOR SHARE): the gateway sends it to the shards
	// that take writes, never to a resharding's read switch.
	LockingRead bool
	// NoCache says the plan depends on the value of a ? (or of a literal
	// the plan cache's normaliser would replace by one): a query of
	// information_schema routed by the keyspace its TABLE_SCHEMA names.
	// The gateway plans such a statement from its own text every time.
	NoCache bool
	// Access lists the tables the statement reads, writes or redefines,
	// for the gateway's grant check (access.go).
	Access []TableAccess
	// ListsTables is the keyspace whose table list a SHOW TABLES or SHOW
	// TABLE STATUS returns: the gateway keeps the rows the user may read.
	ListsTables string
	// TakesSelectLimit: a SELECT (or UNION) without a LIMIT of its own,
	// whose rows the session's sql_select_limit cuts (the gateway applies
	// it; the shards never see it).
	TakesSelectLimit bool
	// Admin: the statement needs an admin grant (SHOW VITESS_SHARDS,
	// SHOW VITESS_TABLETS, VEXPLAIN).
	Admin bool
}

// Build plans one statement. sql is its text (what the gateway received);
// statements sent unchanged to a shard are sent as this text. Build may
// rewrite stmt in place: parse again to plan it again.
func Build(stmt ast.StmtNode, sql string, vs *vschema.VSchema, target Target) (*Plan, error) {
	if stmt == nil {
		return nil, errInternal("no statement to plan")
	}
	if vs == nil {
		vs = &vschema.VSchema{}
	}
	b := &builder{vs: vs, target: target, sql: sql, top: stmt}
	switch stmt.(type) {
	case *ast.SelectStmt, *ast.SetOprStmt:
		b.plainRead = !lockingRead(stmt)
	}
	b.numberParams(stmt)
	locking := lockingRead(stmt) // before build may rewrite stmt
	takesLimit := takesSelectLimit(stmt)
	access, lists := b.accesses(stmt), b.listsTables(stmt)
	root, typ, err := b.build(stmt)
	if err != nil {
		return nil, err
	}
	return &Plan{Type: typ, Root: root, Original: sql, ParamCount: b.nparams, LockingRead: locking, NoCache: b.noCache,
		Access: access, ListsTables: lists, TakesSelectLimit: takesLimit && typ == StmtSelect}, nil
}

// takesSelectLimit says whether sql_select_limit applies to stmt: a
// SELECT or UNION without a LIMIT of its own (MySQL's rule), not SELECT
// ... INTO.
func takesSelectLimit(stmt ast.StmtNode) bool {
	switch s := stmt.(type) {
	case *ast.SelectStmt:
		return s.Limit == nil && s.SelectIntoOpt == nil
	case *ast.SetOprStmt:
		return s.Limit == nil
	}
	return false
}

// lockingRead says whether a SELECT, or a part of a UNION, takes row locks.
func lockingRead(n ast.Node) bool {
	switch s := n.(type) {
	case *ast.SelectStmt:
		return s.LockInfo != nil && s.LockInfo.LockType != ast.SelectLockNone
	case *ast.SetOprStmt:
		return s.SelectList != nil && lockingRead(s.SelectList)
	case *ast.SetOprSelectList:
		for _, sel := range s.Selects {
			if lockingRead(sel) {
				return true
			}
		}
	}
	return false
}
