package tablet

import (
	"context"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// StreamResults runs a statement that may answer with several results —
// a CALL of a procedure that selects answers with one result set per
// SELECT, then the procedure's own OK — and streams each: onFields and
// onRow as in Stream (onFields once per result set), then onEnd with the
// result's final packet (Fields set for a result set; Status has
// SERVER_MORE_RESULTS_EXISTS while more follow). A server error after
// some results ends the statement and is returned; the connection stays
// in step. A callback error stops the statement as in Stream.
func (c *Conn) StreamResults(ctx context.Context, query string, onFields func([]*mysql.Field) error, onRow func(row [][]byte) error, onEnd func(*Result) error) error {
	c.onResultEnd = onEnd
	defer func() { c.onResultEnd = nil }()
	return c.exec(ctx, query, new(Result), modeStream, false, onFields, onRow)
}

// readMoreResults hands the result just read (err is its error) to
// onResultEnd and reads the ones that follow, each into a fresh r, up to
// the last. It returns the error that ended them.
func (c *Conn) readMoreResults(err error, r *Result, mode resultMode, binary bool, onFields func([]*mysql.Field) error, onRow func([][]byte) error) error {
	for err == nil {
		more := r.Status&mysql.SERVER_MORE_RESULTS_EXISTS != 0
		if more {
			// Until the next result's last packet is read.
			c.inFlight = true
		}
		if err = c.onResultEnd(r); err != nil {
			c.abandoned = more
			return err
		}
		if !more {
			return nil
		}
		*r = Result{}
		err = c.readResult(r, mode, binary, onFields, onRow)
	}
	return err
}
