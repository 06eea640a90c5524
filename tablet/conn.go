package tablet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/packet"

	"github.com/shardgate/shardgate/wire"
)

// ConnConfig says how to reach and log into one instance.
type ConnConfig struct {
	// Addr is "host:port", or the path of a unix socket (any Addr that
	// contains a '/').
	Addr     string
	User     string
	Password string
	// DB is the default database; empty for none.
	DB string
	// Charset is the connection character set; empty means utf8mb4.
	// utf8mb4 is negotiated in the handshake (collation
	// utf8mb4_general_ci, known to MySQL and MariaDB alike); any other is
	// set with SET NAMES, which picks the server's default collation.
	Charset string
	// Logger receives what a statement's caller can't be told (a failed
	// KILL QUERY after a cancel). Nil discards.
	Logger *slog.Logger
	// PreparedStatements bounds the server-side prepared statements the
	// connection keeps (StreamPrepared); 0 is DefaultPreparedStatements.
	PreparedStatements int
}

// killTimeout bounds the KILL QUERY sent for a cancelled statement.
const killTimeout = 2 * time.Second

// aLongTimeAgo is a deadline in the past: setting it unblocks any read or
// write in progress on a net.Conn.
var aLongTimeAgo = time.Unix(1, 0)

// Conn is one backend connection. It wraps a go-mysql client.Conn for the
// handshake and then reads and writes the command phase's packets itself
// through the embedded packet.Conn.
//
// A Conn is used by one goroutine at a time.
type Conn struct {
	cfg   ConnConfig
	log   *slog.Logger
	cc    *client.Conn
	pc    *packet.Conn
	nc    net.Conn
	raw   syscall.RawConn // for the liveness check; nil where unavailable
	probe probe
	id    uint32
	addr  string

	// deprecateEOF is true when CLIENT_DEPRECATE_EOF was negotiated: no
	// EOF packet after the column definitions, and an OK packet with the
	// 0xfe header ends the rows.
	deprecateEOF bool
	// status holds the SERVER_STATUS_* flags of the last OK or EOF packet.
	status uint16
	// broken is set once the connection is unusable; the socket is closed
	// then too.
	broken bool
	// inFlight is set while a statement's result has not been read to its
	// end.
	inFlight bool
	// localInfile, set during LoadLocal, sends the file a LOAD DATA
	// LOCAL INFILE asks for.
	localInfile func(name string, send func([]byte) error) error
	// onResultEnd, set during StreamResults, takes each result's end and
	// lets the statement answer with several.
	onResultEnd func(*Result) error
	// rawRow, set during StreamRaw, takes each row's packet payload.
	rawRow func(payload []byte) error
	// abandoned is set when a callback of Stream returned an error: the
	// rest of the result was not read.
	abandoned bool

	// watch makes the end of a statement's context interrupt the
	// connection (watch.go).
	watch ctxWatch
	// lastFields are the column definitions of the last result set read
	// (readFields), shared with the results that returned them.
	lastFields []*mysql.Field
	streamRes  Result // what Stream returns
	rbuf       packetBuffer
	wbuf       []byte
	row        [][]byte // Stream's row, reused for every row
	binRows    wire.BinaryRowDecoder
	// stmts are the statements prepared on the server (prepared.go);
	// prepArgs are the arguments of the StreamPrepared call in progress.
	stmts    stmtCache
	prepArgs []any
	// ahead are statements to send with the next command, abuf the
	// memory they are written in; aheadErr is the first error they
	// answered, until that command returns it; aheadFailed stays set
	// until the next SendAhead (ahead.go).
	ahead       []string
	abuf        []byte
	aheadErr    error
	aheadFailed bool

	// unchecked: the pool handed the connection out without its
	// liveness check; its next statement reports a failure before any
	// answer as ErrStaleConn (failedStale). answered: a packet of the
	// current statement's answer was read.
	unchecked, failedStale, answered bool

	// Owned by the Pool the connection belongs to.
	idleSince time.Time
	idle      bool
}

// packetBuffer is the io.Writer packet.Conn.ReadPacketTo fills; it keeps
// its memory from one packet to the next.
type packetBuffer struct{ b []byte }

func (p *packetBuffer) Write(d []byte) (int, error) {
	p.b = append(p.b, d...)
	return len(d), nil
}

// maxKeptBuffer is the largest read or write buffer a Conn keeps after a
// statement; a larger one (a huge row or query) is dropped.
const maxKeptBuffer = 1 << 20

// Dial opens a connection. ctx bounds the TCP connect and the handshake.
func Dial(ctx context.Context, cfg ConnConfig) (*Conn, error) {
	return dial(ctx, cfg, dialOptions{})
}

// dialOptions change the capabilities Dial asks for; tests use them to
// cover both ways of ending a result set, and multiple results.
type dialOptions struct {
	noDeprecateEOF  bool // refuse CLIENT_DEPRECATE_EOF
	multiStatements bool // ask for CLIENT_MULTI_STATEMENTS
}

// dial is Dial with options.
func dial(ctx context.Context, cfg ConnConfig, o dialOptions) (*Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	charset := cfg.Charset
	if charset == "" {
		charset = mysql.DEFAULT_CHARSET
	}
	if !isIdentifier(charset) {
		return nil, fmt.Errorf("tablet: charset %q is not a character set name", charset)
	}
	network := "tcp"
	if strings.Contains(cfg.Addr, "/") {
		network = "unix"
	}

	var (
		nc   net.Conn
		stop func() bool
	)
	dialer := func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		conn, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		nc = conn
		if ctx.Done() != nil {
			// The handshake itself does not watch ctx: poison the
			// deadline so its reads and writes fail when ctx ends.
			stop = context.AfterFunc(ctx, func() { _ = conn.SetDeadline(aLongTimeAgo) })
		}
		return conn, nil
	}
	option := func(cc *client.Conn) error {
		// Query attributes (MySQL 8) would change COM_QUERY's layout.
		cc.UnsetCapability(mysql.CLIENT_QUERY_ATTRIBUTES)
		if o.noDeprecateEOF {
			cc.UnsetCapability(mysql.CLIENT_DEPRECATE_EOF)
		}
		// A CALL of a procedure that selects answers with several
		// results; without these MariaDB refuses it (1312).
		if err := cc.SetCapability(mysql.CLIENT_MULTI_RESULTS); err != nil {
			return err
		}
		if err := cc.SetCapability(mysql.CLIENT_PS_MULTI_RESULTS); err != nil {
			return err
		}
		// LOAD DATA LOCAL INFILE (LoadLocal); the file the server asks
		// for is sent only there, and an empty one otherwise.
		if err := cc.SetCapability(mysql.CLIENT_LOCAL_FILES); err != nil {
			return err
		}
		if o.multiStatements {
			if err := cc.SetCapability(mysql.CLIENT_MULTI_STATEMENTS); err != nil {
				return err
			}
		}
		// go-mysql's default collation (utf8mb4_0900_ai_ci, id 255) is
		// unknown to MariaDB.
		return cc.SetCollation("utf8mb4_general_ci")
	}
	cc, err := client.ConnectWithDialer(ctx, network, cfg.Addr, cfg.User, cfg.Password, cfg.DB, dialer, option)
	fired := stop != nil && !stop()
	if err != nil {
		if fired {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("tablet: connect to %s as %q: %w", cfg.Addr, cfg.User, err)
	}
	if fired {
		_ = cc.Close()
		return nil, ctx.Err()
	}
	if err := nc.SetDeadline(time.Time{}); err != nil {
		_ = cc.Close()
		return nil, fmt.Errorf("tablet: connect to %s: %w", cfg.Addr, err)
	}

	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Conn{
		cfg:          cfg,
		log:          log,
		cc:           cc,
		pc:           cc.Conn,
		nc:           nc,
		id:           cc.GetConnectionID(),
		addr:         cfg.Addr,
		deprecateEOF: strings.Contains(cc.CapabilityString(), "CLIENT_DEPRECATE_EOF"),
		status:       mysql.SERVER_STATUS_AUTOCOMMIT,
	}
	c.watch.bind(c)
	if sc, ok := nc.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			c.raw = raw
		}
	}
	if charset != mysql.DEFAULT_CHARSET {
		if _, err := c.Execute(ctx, "SET NAMES "+charset); err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("tablet: connect to %s: %w", cfg.Addr, err)
		}
	}
	return c, nil
}

// isIdentifier accepts what can follow SET NAMES unquoted: letters,
// digits and '_'.
func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// ID returns the server's id for this connection (what KILL takes).
func (c *Conn) ID() uint32 { return c.id }

// IsBroken tells whether the connection failed or was closed; a broken
// connection must not be used again.
func (c *Conn) IsBroken() bool { return c.broken }

// Status returns the SERVER_STATUS_* flags of the last OK or EOF packet.
func (c *Conn) Status() uint16 { return c.status }

// InTransaction tells whether the server said, in its last OK or EOF
// packet, that a transaction is open (SERVER_STATUS_IN_TRANS).
func (c *Conn) InTransaction() bool { return c.status&mysql.SERVER_STATUS_IN_TRANS != 0 }

// Close says COM_QUIT and closes the connection. Closing a broken or closed
// connection does nothing.
func (c *Conn) Close() error {
	if c.broken {
		return nil
	}
	c.broken = true
	c.watch.release()
	_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	c.pc.ResetSequence()
	_ = c.pc.WritePacket(wire.AppendCommand(nil, mysql.COM_QUIT, nil))
	return c.nc.Close()
}

// Execute runs one statement with the text protocol (COM_QUERY) and
// returns its whole result. The rows' memory belongs to the Result.
//
// A server error is returned as *mysql.MyError and leaves the connection
// usable. If ctx ends first, the connection is closed, the statement is
// killed on the server (best effort) and ctx.Err() is returned.
func (c *Conn) Execute(ctx context.Context, query string) (*Result, error) {
	r := new(Result)
	if err := c.exec(ctx, query, r, modeBuffer, false, nil, nil); err != nil {
		return nil, err
	}
	return r, nil
}

// Stream runs one statement and hands its result over without buffering
// it: onFields once with the column definitions (which the callee may
// keep), then onRow for each row. The row slice and its values alias the
// connection's read buffer: they are valid only until onRow returns, so
// copy what must outlive the call. Either callback may be nil.
//
// The returned Result carries the final OK/EOF packet's warnings and
// status (and the fields); its Rows are nil. It is the connection's own,
// valid until its next call (a point select allocates no Result). A
// callback error stops the stream: the connection is closed, the statement killed on the server,
// and the callback's error returned. Errors and ctx otherwise behave as in
// Execute.
func (c *Conn) Stream(ctx context.Context, query string, onFields func([]*mysql.Field) error, onRow func(row [][]byte) error) (*Result, error) {
	r := &c.streamRes
	*r = Result{}
	if err := c.exec(ctx, query, r, modeStream, false, onFields, onRow); err != nil {
		return nil, err
	}
	return r, nil
}

// resultMode says what readResult does with rows.
type resultMode uint8

const (
	modeBuffer  resultMode = iota // copy them into the Result
	modeStream                    // hand them to a callback
	modeDiscard                   // skip them
	modeForward                   // hand their packets to c.rawRow (StreamRaw)
)

// trimBuffers drops read and write buffers a large statement grew, so an
// idle pooled connection does not keep them.
func (c *Conn) trimBuffers() {
	if cap(c.rbuf.b) > maxKeptBuffer {
		c.rbuf.b = nil
	}
	if cap(c.wbuf) > maxKeptBuffer {
		c.wbuf = nil
	}
}

// exec runs one statement under ctx, with the text protocol or (binary)
// the prepared-statement protocol.
func (c *Conn) exec(ctx context.Context, query string, r *Result, mode resultMode, binary bool, onFields func([]*mysql.Field) error, onRow func([][]byte) error) error {
	unchecked := c.unchecked
	stop, err := c.arm(ctx)
	if err != nil {
		return err
	}
	c.answered = false
	switch {
	case mode == modeForward && binary:
		err = c.roundTripPrepared(query, r, onFields) // prepared.go
	case binary:
		err = c.roundTripBinary(query, r, mode, onFields, onRow)
	default:
		err = c.roundTrip(query, r, mode, onFields, onRow)
	}
	err = c.takeAhead(err) // ahead.go
	fired := stop != nil && !stop()
	if fired || c.inFlight {
		// Either the deadline was poisoned (perhaps just after the result
		// was complete) or the result was left half read: the connection
		// can't be trusted with another statement.
		c.fail(nil)
	}
	if c.inFlight && (fired || c.abandoned) {
		// The statement may still run on the server.
		c.killQuery(ctx)
	}
	c.inFlight, c.abandoned = false, false
	c.trimBuffers()
	if fired && err != nil && !isServerError(err) {
		return ctx.Err()
	}
	return c.staleError(unchecked, err)
}

// staleError is err, or, when the command was the first on a connection
// handed out unchecked and failed before any answer, err as ErrStaleConn.
func (c *Conn) staleError(unchecked bool, err error) error {
	if unchecked && !c.answered && errors.Is(err, ErrConnBroken) {
		c.failedStale = true
		return fmt.Errorf("%w: %w", ErrStaleConn, err)
	}
	return err
}

// isServerError tells whether err is what the server answered (the
// connection is still in step), as opposed to a failure of the connection.
func isServerError(err error) bool {
	var me *mysql.MyError
	return errors.As(err, &me)
}

// closesConnection tells whether the server closes the connection after
// sending err: SQLSTATE class 08, "connection exception" (e.g. 1153, a
// packet over max_allowed_packet). The connection must not be reused.
func closesConnection(err error) bool {
	var me *mysql.MyError
	return errors.As(err, &me) && strings.HasPrefix(me.State, "08")
}

// interrupt unblocks whatever read or write is in progress; it runs on
// the goroutine of context.AfterFunc.
func (c *Conn) interrupt() { _ = c.nc.SetDeadline(aLongTimeAgo) }

// roundTrip sends the statement and reads its result. c.inFlight stays set
// if it returns before the result's last packet.
func (c *Conn) roundTrip(query string, r *Result, mode resultMode, onFields func([]*mysql.Field) error, onRow func([][]byte) error) error {
	if err := c.writeQuery(query); err != nil {
		return c.fail(err)
	}
	c.inFlight = true
	return c.readResults(r, mode, false, onFields, onRow)
}

// readResults reads a statement's result and, if the server says more
// follow, drains them and refuses the statement.
func (c *Conn) readResults(r *Result, mode resultMode, binary bool, onFields func([]*mysql.Field) error, onRow func([][]byte) error) error {
	if c.aheadErr != nil {
		return c.discardResults(r) // ahead.go
	}
	err := c.readResult(r, mode, binary, onFields, onRow)
	more := r.Status&mysql.SERVER_MORE_RESULTS_EXISTS != 0
	if c.onResultEnd != nil {
		err, more = c.readMoreResults(err, r, mode, binary, onFields, onRow), false
	}
	for err == nil && more {
		// Several results (a multi-statement or a procedure's result
		// sets): drain them to keep the connection in step, then refuse.
		var extra Result
		err = c.readResult(&extra, modeDiscard, binary, nil, nil)
		more = extra.Status&mysql.SERVER_MORE_RESULTS_EXISTS != 0
		if err == nil && !more {
			err = ErrMultipleResults
		}
	}
	if err == nil || !c.broken && !c.abandoned {
		// The last packet was read: an OK, EOF or ERR.
		c.inFlight = false
	}
	return err
}

// writeQuery sends COM_QUERY, in the connection's write buffer.
func (c *Conn) writeQuery(query string) error {
	return c.send(wire.AppendQuery(c.writeBuffer(len(query)), query))
}

// writeBuffer returns the connection's write buffer, emptied, with room
// for a command packet of payload bytes after the command byte.
func (c *Conn) writeBuffer(payload int) []byte {
	n := wire.HeaderSize + 1 + payload
	if cap(c.wbuf) < n {
		c.wbuf = make([]byte, 0, max(n, 256))
	}
	return c.wbuf[:0]
}

// readPacket reads one packet (reassembling a payload of 16 MiB or more)
// into the connection's read buffer. It is valid until the next read.
func (c *Conn) readPacket() ([]byte, error) {
	c.rbuf.b = c.rbuf.b[:0]
	if err := c.pc.ReadPacketTo(&c.rbuf); err != nil {
		return nil, err
	}
	c.answered = true
	return c.rbuf.b, nil
}

// fail marks the connection broken, closes it, and wraps err (nil stays
// nil).
func (c *Conn) fail(err error) error {
	if !c.broken {
		c.broken = true
		c.watch.release()
		_ = c.nc.Close()
	}
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrConnBroken) {
		return err // failed and wrapped already (a read behind sendWithAhead)
	}
	return fmt.Errorf("%w: %s: %w", ErrConnBroken, c.addr, err)
}

// readResult reads one COM_QUERY (or COM_STMT_EXECUTE: binary rows)
// response: an OK, an ERR, a LOCAL INFILE request, or a result set (column
// count, column definitions, [EOF], rows, EOF/OK).
func (c *Conn) readResult(r *Result, mode resultMode, binary bool, onFields func([]*mysql.Field) error, onRow func([][]byte) error) error {
	pkt, err := c.readPacket()
	if err != nil {
		return c.fail(err)
	}
	if len(pkt) == 0 {
		return c.fail(wire.ErrMalformed)
	}
	switch pkt[0] {
	case wire.HeaderOK:
		ok, err := wire.ParseOK(pkt)
		if err != nil {
			return c.fail(err)
		}
		r.setOK(ok)
		c.status = r.Status
		return nil
	case wire.HeaderERR:
		if err := wire.ParseERR(pkt); err != wire.ErrMalformed {
			if closesConnection(err) {
				c.fail(nil)
			}
			return err
		}
		return c.fail(wire.ErrMalformed)
	case wire.HeaderLocalInfile:
		if c.localInfile != nil {
			return c.sendLocalInfile(r, string(pkt[1:]))
		}
		return c.refuseLocalInfile(r)
	}
	n, ok := wire.ParseColumnCount(pkt)
	if !ok {
		return c.fail(wire.ErrMalformed)
	}
	return c.readResultSet(n, r, mode, binary, onFields, onRow)
}

// refuseLocalInfile answers a LOAD DATA LOCAL INFILE request with an empty
// file (one empty packet: a header only) and reads the server's answer.
func (c *Conn) refuseLocalInfile(r *Result) error {
	if err := c.pc.WritePacket(make([]byte, wire.HeaderSize)); err != nil {
		return c.fail(err)
	}
	pkt, err := c.readPacket()
	if err != nil {
		return c.fail(err)
	}
	switch {
	case len(pkt) > 0 && pkt[0] == wire.HeaderOK:
		ok, err := wire.ParseOK(pkt)
		if err != nil {
			return c.fail(err)
		}
		r.setOK(ok)
		c.status = r.Status
		r.Status &^= mysql.SERVER_MORE_RESULTS_EXISTS
		return ErrLocalInfile
	case len(pkt) > 0 && pkt[0] == wire.HeaderERR:
		if err := wire.ParseERR(pkt); err != wire.ErrMalformed {
			return fmt.Errorf("%w: %w", ErrLocalInfile, err)
		}
	}
	return c.fail(wire.ErrMalformed)
}

// readResultSet reads a result set's n column definitions and its rows:
// text rows, or binary rows (binary) turned into text values.
func (c *Conn) readResultSet(n int, r *Result, mode resultMode, binary bool, onFields func([]*mysql.Field) error, onRow func([][]byte) error) error {
	var a arena
	if mode != modeDiscard {
		fields, err := c.readFields(n)
		if err != nil {
			return err
		}
		r.Fields = fields
	} else {
		for range n {
			if _, err := c.readPacket(); err != nil {
				return c.fail(err)
			}
		}
	}
	if !c.deprecateEOF {
		pkt, err := c.readPacket()
		if err != nil {
			return c.fail(err)
		}
		if !wire.IsEOF(pkt) {
			return c.fail(wire.ErrMalformed)
		}
	}
	if onFields != nil {
		if err := onFields(r.Fields); err != nil {
			c.abandoned = true
			return err
		}
	}

	if mode == modeForward {
		return c.readForwardedRows(r)
	}
	var row [][]byte
	if mode == modeStream {
		if cap(c.row) < n {
			c.row = make([][]byte, n)
		}
		row = c.row[:n]
	}
	for {
		pkt, err := c.nextRow(r)
		if err != nil || pkt == nil {
			return err
		}
		switch mode {
		case modeBuffer:
			vals := a.values(n)
			if binary {
				err = c.binRows.Decode(pkt, r.Fields, vals)
				copyValues(&a, vals)
			} else {
				err = wire.ParseTextRow(a.copy(pkt), vals)
			}
			if err != nil {
				return c.fail(err)
			}
			r.Rows = append(r.Rows, vals)
		case modeStream:
			if binary {
				err = c.binRows.Decode(pkt, r.Fields, row)
			} else {
				err = wire.ParseTextRow(pkt, row)
			}
			if err != nil {
				return c.fail(err)
			}
			if onRow != nil {
				if err := onRow(row); err != nil {
					c.abandoned = true
					return err
				}
			}
		}
	}
}

// readFields reads a result set's n column definitions. When they are
// byte for byte those of the connection's previous result set (the same
// statement again: every point select of a workload), that result's
// Fields are returned: fields are never modified once read, so results
// share them, and a repeated statement parses and allocates nothing for
// its columns.
func (c *Conn) readFields(n int) ([]*mysql.Field, error) {
	prev := c.lastFields
	if len(prev) != n {
		prev = nil
	}
	var (
		out    []*mysql.Field // nil while every column matches prev
		fields []mysql.Field
		a      arena
	)
	for i := range n {
		pkt, err := c.readPacket()
		if err != nil {
			return nil, c.fail(err)
		}
		if out == nil && prev != nil && bytes.Equal(pkt, prev[i].Data) {
			continue
		}
		if out == nil {
			fields = make([]mysql.Field, n)
			out = make([]*mysql.Field, n)
			copy(out, prev[:i]) // the columns that matched
		}
		if err := wire.ParseColumn(&fields[i], a.copy(pkt)); err != nil {
			return nil, c.fail(err)
		}
		out[i] = &fields[i]
	}
	if out == nil {
		return prev, nil
	}
	c.lastFields = out
	return out, nil
}

// copyValues moves a decoded binary row's values, which alias the read
// buffer and the decoder's, into the arena.
func copyValues(a *arena, vals [][]byte) {
	for i, v := range vals {
		switch {
		case v == nil:
		case len(v) == 0:
			vals[i] = make([]byte, 0) // '', not NULL; allocates nothing
		default:
			vals[i] = a.copy(v)
		}
	}
}

// killQuery kills the connection's statement from a fresh connection, best
// effort: the connection itself is closed already, and a statement that
// has finished is no error.
func (c *Conn) killQuery(ctx context.Context) {
	kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), killTimeout)
	defer cancel()
	cfg := c.cfg
	cfg.DB, cfg.Charset = "", ""
	k, err := Dial(kctx, cfg)
	if err != nil {
		c.log.Warn("tablet: cannot kill a cancelled statement", "addr", c.addr, "connection_id", c.id, "err", err)
		return
	}
	defer func() { _ = k.Close() }()
	_, err = k.Execute(kctx, "KILL QUERY "+strconv.FormatUint(uint64(c.id), 10))
	var me *mysql.MyError
	if err != nil && !(errors.As(err, &me) && me.Code == mysql.ER_NO_SUCH_THREAD) {
		c.log.Warn("tablet: cannot kill a cancelled statement", "addr", c.addr, "connection_id", c.id, "err", err)
	}
}
