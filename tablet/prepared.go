package tablet

import (
	"context"
	"errors"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/wire"
)

// Server-side prepared statements kept per connection. A gateway client's
// COM_STMT_EXECUTE runs on the shard as the shard's own prepared
// statement: prepared the first time this connection sees its text, then
// only executed, so the shard skips parsing as it does for a direct
// client, and its binary rows can go to the client as they are. The
// statements live as long as the connection (a reconnect starts with none
// and prepares again) and are bounded per connection: the least recently
// used one is closed (COM_STMT_CLOSE) to make room.

// DefaultPreparedStatements bounds the statements a connection keeps when
// ConnConfig.PreparedStatements is 0. MariaDB's max_prepared_stmt_count
// (16382 by default) is per server: 64 statements on each of a pool's
// connections keeps well under it at the pool sizes the gateway uses.
const DefaultPreparedStatements = 64

// ErrNotPreparable: the server cannot run this statement as a prepared
// statement (ER_UNSUPPORTED_PS), its markers are not the arguments given,
// or an argument has no binary encoding. Nothing was executed and the
// connection stays usable: run the statement as text instead.
var ErrNotPreparable = errors.New("tablet: statement cannot run as a server-side prepared statement")

// shardStmt is one statement prepared on the server.
type shardStmt struct {
	query      string
	id         uint32
	params     int
	unprepared bool // the server refused to prepare it (ErrNotPreparable)
	// prev and next link the connection's statements from most to least
	// recently used.
	prev, next *shardStmt
}

// stmtCache is a connection's prepared statements by query text, with
// their use order for eviction.
type stmtCache struct {
	byQuery    map[string]*shardStmt
	head, tail *shardStmt // most and least recently used
}

// StreamPrepared runs query — its parameter markers '?' standing for args
// in order — as a prepared statement of this connection: prepared on
// first use (COM_STMT_PREPARE, kept for the next call), then executed
// with args (COM_STMT_EXECUTE). onFields gets the execution's column
// definitions; onRow gets each binary row's payload as the server sent
// it, aliasing the read buffer (valid until onRow returns): the rows are
// read as StreamRaw reads text rows (readForwardedRows).
//
// A statement the server no longer knows (1243, after something closed
// it) or asks to prepare again (1615, after a schema change) is prepared
// again and executed once more, transparently: those errors come before
// any column definition. ErrNotPreparable means nothing ran. Otherwise
// errors, callbacks and ctx behave as in Stream.
func (c *Conn) StreamPrepared(ctx context.Context, query string, args []any, onFields func([]*mysql.Field) error, onRow func(payload []byte) error) (*Result, error) {
	r := &c.streamRes
	*r = Result{}
	c.prepArgs, c.rawRow = args, onRow
	err := c.exec(ctx, query, r, modeForward, true, onFields, nil)
	c.prepArgs, c.rawRow = nil, nil
	if err != nil {
		return nil, err
	}
	return r, nil
}

// PreparedCount is the number of statements the connection keeps prepared
// on the server.
func (c *Conn) PreparedCount() int { return len(c.stmts.byQuery) }

// roundTripPrepared executes query's prepared statement (preparing it
// first if need be) and reads its result as roundTrip does.
func (c *Conn) roundTripPrepared(query string, r *Result, onFields func([]*mysql.Field) error) error {
	for attempt := 0; ; attempt++ {
		st, err := c.statement(query)
		if err != nil {
			return err
		}
		if st.unprepared || st.params != len(c.prepArgs) {
			return ErrNotPreparable
		}
		pkt, err := wire.AppendStmtExecuteArgs(c.writeBuffer(16*len(c.prepArgs)), st.id, c.prepArgs)
		if err != nil {
			return ErrNotPreparable
		}
		if err := c.send(pkt); err != nil {
			return c.fail(err)
		}
		c.inFlight = true
		err = c.readResults(r, modeForward, true, onFields, nil)
		if attempt == 0 && needsReprepare(err) && !c.inFlight {
			// Forget it (closing it too: 1615 leaves it on the server)
			// and prepare it afresh.
			if cerr := c.evict(st); cerr != nil {
				return cerr
			}
			continue
		}
		return err
	}
}

// needsReprepare tells whether the server's answer to an execution says
// the statement must be prepared again: ER_UNKNOWN_STMT_HANDLER (the
// server does not know its id) or ER_NEED_REPREPARE (a table it reads
// changed).
func needsReprepare(err error) bool {
	if err == nil {
		return false // most calls: no error to inspect (errors.As would allocate)
	}
	var me *mysql.MyError
	return errors.As(err, &me) && (me.Code == mysql.ER_UNKNOWN_STMT_HANDLER || me.Code == mysql.ER_NEED_REPREPARE)
}

// statement returns query's prepared statement, preparing it if the
// connection has none, and marks it most recently used. A server that
// refuses to prepare it (ER_UNSUPPORTED_PS) is remembered, so the refusal
// costs one round trip per connection, not one per call.
func (c *Conn) statement(query string) (*shardStmt, error) {
	if st := c.stmts.byQuery[query]; st != nil {
		c.stmts.touch(st)
		return st, nil
	}
	if c.stmts.byQuery == nil {
		c.stmts.byQuery = make(map[string]*shardStmt)
	}
	limit := c.cfg.PreparedStatements
	if limit <= 0 {
		limit = DefaultPreparedStatements
	}
	for len(c.stmts.byQuery) >= limit {
		if err := c.evict(c.stmts.tail); err != nil {
			return nil, err
		}
	}
	if err := c.writePrepare(query); err != nil {
		return nil, c.fail(err)
	}
	c.inFlight = true
	id, nColumns, nParams, err := c.readPrepareOK()
	var me *mysql.MyError
	if errors.As(err, &me) && me.Code == mysql.ER_UNSUPPORTED_PS {
		c.inFlight = false
		st := &shardStmt{query: query, unprepared: true}
		c.stmts.add(st)
		return st, nil
	}
	if err != nil {
		if !c.broken {
			c.inFlight = false
		}
		return nil, err
	}
	// The definitions announced here are sent again with every execution.
	if _, err := c.definitions(nParams, false); err != nil {
		return nil, err
	}
	if _, err := c.definitions(nColumns, false); err != nil {
		return nil, err
	}
	c.inFlight = false
	st := &shardStmt{query: query, id: id, params: nParams}
	c.stmts.add(st)
	return st, nil
}

// evict forgets st and closes it on the server (COM_STMT_CLOSE has no
// answer). A close that cannot be sent breaks the connection.
func (c *Conn) evict(st *shardStmt) error {
	c.stmts.remove(st)
	if st.unprepared {
		return nil
	}
	if err := c.closeStatement(st.id); err != nil {
		return c.fail(err)
	}
	return nil
}

// add puts st first in use order.
func (s *stmtCache) add(st *shardStmt) {
	s.byQuery[st.query] = st
	st.prev, st.next = nil, s.head
	if s.head != nil {
		s.head.prev = st
	}
	s.head = st
	if s.tail == nil {
		s.tail = st
	}
}

// remove unlinks st.
func (s *stmtCache) remove(st *shardStmt) {
	delete(s.byQuery, st.query)
	if st.prev != nil {
		st.prev.next = st.next
	} else {
		s.head = st.next
	}
	if st.next != nil {
		st.next.prev = st.prev
	} else {
		s.tail = st.prev
	}
	st.prev, st.next = nil, nil
}

// touch makes st the most recently used.
func (s *stmtCache) touch(st *shardStmt) {
	if s.head == st {
		return
	}
	s.remove(st)
	s.add(st)
}
