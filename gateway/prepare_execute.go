package gateway

import (
	"bytes"

	"github.com/go-mysql-org/go-mysql/server"
	"github.com/go-mysql-org/go-mysql/stmt"

	"github.com/shardgate/shardgate/topo/vschema"
	"github.com/shardgate/shardgate/wire"
)

// A client's COM_STMT_EXECUTE served without go-mysql. go-mysql reads
// every command into a fresh buffer, decodes an execute's arguments into
// a fresh slice boxing each value, and NormalizeArgs copies and boxes
// them again: four of a prepared point select's allocations. The
// session reads the next command through the fence first
// (wire.ServerFence.NextCommand) and serves an execute of a statement it
// knows, with arguments it can decode, itself: the arguments are decoded
// into a slice the session reuses, straight into the planner's types.
// Everything else (other commands, cursors, statements never bound,
// malformed packets) goes to go-mysql as before, which answers as it
// always did.

// stmtHandle is what the session keeps of a prepared statement, from its
// COM_STMT_PREPARE to its COM_STMT_CLOSE, mirroring go-mysql's own
// statement table.
type stmtHandle struct {
	ps     *stmt.PreparedStmt
	query  string
	params int
	// plan is the plan cache entry the statement last ran and prefix the
	// key prefix (target, read side) it was looked up with: the next
	// execution with the same vschema and prefix runs it without a
	// lookup (plancache.go, runPreparedCached).
	plan   *planEntry
	prefix []byte
}

// keptPlan returns the entry the statement last ran if it still holds
// for vs and the key prefix; nil otherwise (h may be nil: a statement
// go-mysql decoded).
func (h *stmtHandle) keptPlan(vs *vschema.VSchema, prefix []byte) *planEntry {
	if h == nil || h.plan == nil || h.plan.vs != vs || !bytes.Equal(h.prefix, prefix) {
		return nil
	}
	return h.plan
}

// keepPlan remembers the entry the statement runs.
func (h *stmtHandle) keepPlan(e *planEntry, prefix []byte) {
	if h != nil {
		h.plan, h.prefix = e, append(h.prefix[:0], prefix...)
	}
}

// serveCommand serves the client's next command, an execute the session
// decodes itself or anything else through go-mysql.
func (s *session) serveCommand(c *server.Conn) error {
	payload, seq, err := s.fence.NextCommand()
	if err != nil {
		c.Close() // as go-mysql does when a read fails
		return err
	}
	h, args, ok := s.decodeExecute(payload)
	if !ok {
		return c.HandleCommand()
	}
	s.fence.TakeCommand()
	// The response continues the client's sequence, as go-mysql's would
	// after reading the packet, and the next command starts at 0.
	c.Sequence = seq + 1
	s.runDecoded(h, args)
	c.ResetSequence()
	return nil
}

// decodeExecute decodes payload if it is a COM_STMT_EXECUTE of a
// statement the session knows, with arguments it can decode, into
// s.execArgs.
func (s *session) decodeExecute(payload []byte) (*stmtHandle, []any, bool) {
	id, ok := wire.StmtExecuteID(payload)
	if !ok {
		return nil, nil, false
	}
	h := s.stmts[id]
	if h == nil {
		return nil, nil, false // go-mysql answers 1243
	}
	args, ok := wire.DecodeStmtExecuteArgs(payload, h.params, s.execArgs[:0])
	if !ok {
		return nil, nil, false
	}
	return h, args, true
}

// runDecoded runs a decoded execute and lets go of its arguments, which
// alias the fence's read buffer.
func (s *session) runDecoded(h *stmtHandle, args []any) {
	s.runExecute(h, h.ps, h.query, args, nil, wire.ArgsSize(args))
	clear(args)
	s.execArgs = args[:0]
}
