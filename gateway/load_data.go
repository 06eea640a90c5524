package gateway

import (
	"context"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/planner"
	"github.com/shardgate/shardgate/sqlerror"
	"github.com/shardgate/shardgate/wire"
)

// execLoadLocal runs LOAD DATA LOCAL INFILE. Into a table of an unsharded
// keyspace (or on a targeted shard) the statement goes to the shard, and
// when the shard asks for the file the gateway asks the client for it and
// passes its packets on as they come, so the file is never held whole;
// into a sharded table the gateway routes the rows (loadSharded).
func (s *session) execLoadLocal(ctx context.Context, stmt *ast.LoadDataStmt, sql string, more bool) error {
	if s.conn == nil || !s.conn.HasCapability(mysql.CLIENT_LOCAL_FILES) {
		// MariaDB's answer to a client that did not enable local files.
		return sqlerror.New(sqlerror.User, mysql.ER_NOT_ALLOWED_COMMAND, "The used command is not allowed with this MariaDB version")
	}
	// The write grant first, before the client's file is asked for.
	if err := s.authorize(&planner.Plan{Access: planner.Accesses(stmt, s.routing().vschema(), s.target())}); err != nil {
		return err
	}
	if s.shard == "" {
		ks := stmt.Table.Schema.O
		if ks == "" {
			ks = s.keyspace
		}
		if snap := s.routing().snap; snap != nil {
			if k := snap.VSchema.Keyspaces[ks]; k != nil && k.Sharded {
				return s.loadSharded(ctx, stmt, ks, more)
			}
		}
	}
	one, err := s.planOneShard(ctx, stmt, sql, nil, "LOAD DATA LOCAL INFILE into this table")
	if err != nil {
		return err
	}
	defer one.done()
	res, err := one.sc.conn.LoadLocal(ctx, one.query, s.relayClientFile)
	if err != nil {
		err = s.abortIfPrimaryChanged(ctx, err)
		s.abortOnError(ctx, err)
		return err
	}
	s.stmt.rows += res.RowsAffected
	if res.Warnings > 0 {
		one.vc.collectWarnings(ctx, one.sc.conn)
		one.vc.flushWarnings()
	}
	return s.writeOK(res.RowsAffected, 0, more)
}

// relayClientFile asks the client for the file name and hands each packet
// of it to send, up to the client's empty packet (the end of the file;
// also what a client that can't or won't read the file sends at once).
func (s *session) relayClientFile(name string, send func([]byte) error) error {
	req := append(s.w.Start(), wire.HeaderLocalInfile)
	if err := s.w.Write(append(req, name...)); err != nil {
		return err
	}
	if err := s.flush(); err != nil {
		return err
	}
	for {
		pkt, err := s.conn.ReadPacket()
		if err != nil {
			s.closeAfterReply = true
			return err
		}
		if len(pkt) == 0 {
			return nil
		}
		if sendErr := send(pkt); sendErr != nil {
			// The shard went away: read the rest of the file, so the
			// client is in step for the error that follows.
			for len(pkt) > 0 && err == nil {
				pkt, err = s.conn.ReadPacket()
			}
			if err != nil {
				s.closeAfterReply = true
			}
			return sendErr
		}
	}
}
