package failover

import (
	"context"
	"fmt"
	"time"

	"github.com/shardgate/shardgate/sqlquote"
	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
)

// orphanCatchUp bounds the wait for a fenced former primary to apply what
// its primary had, before its own prepared XA branches are judged.
const orphanCatchUp = 10 * time.Second

// rollBackOrphanedXA rolls back, on a former primary that now replicates
// from primary, the prepared XA branches the primary does not hold.
//
// A primary killed between preparing a branch in InnoDB and writing the
// XA PREPARE to its binlog comes back with the branch prepared (InnoDB
// keeps a user XA across a crash) but replicated nowhere: its gateway saw
// the prepare fail, so the transaction was rolled back everywhere else,
// and the 2PC resolver, which scans primaries only, never sees it. Left
// there it holds its row locks on a replica, so replicating a later
// change to those rows stalls. Only once the replica has applied what the
// primary had can a branch prepared on it but not on the primary be told
// from one whose commit or rollback is still on its way; a branch that
// comes and goes on the primary meanwhile is read twice to be safe. The
// rollback is not binlogged: the branch never was.
func (c *Controller) rollBackOrphanedXA(ctx context.Context, conn *tablet.Conn, alias topo.TabletAlias, primary *topo.Tablet) error {
	mine, err := preparedXA(ctx, conn)
	if err != nil || len(mine) == 0 {
		return err
	}
	pconn, err := c.dial(ctx, primary)
	if err != nil {
		return err
	}
	defer pconn.Close()
	theirs, err := preparedXA(ctx, pconn)
	if err != nil {
		return err
	}
	pos, err := c.primaryPosition(ctx, primary)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, orphanCatchUp)
	err = tablet.WaitForGTID(wctx, conn, pos)
	cancel()
	if err != nil {
		return fmt.Errorf("prepared XA branches to judge, but it did not apply its primary's %s: %w", pos, err)
	}
	if mine, err = preparedXA(ctx, conn); err != nil || len(mine) == 0 {
		return err
	}
	again, err := preparedXA(ctx, pconn)
	if err != nil {
		return err
	}
	for xid := range mine {
		if theirs[xid] || again[xid] {
			continue
		}
		if _, err := conn.Execute(ctx, "SET SESSION sql_log_bin = 0"); err != nil {
			return err
		}
		if _, err := conn.Execute(ctx, "XA ROLLBACK "+xid); err != nil {
			return fmt.Errorf("roll back orphaned XA branch %s: %w", xid, err)
		}
		c.log.Warn("failover: rolled back an XA branch prepared on a former primary alone (never replicated, so never acknowledged)",
			"tablet", alias, "xid", xid, "primary", primary.Alias)
	}
	return nil
}

// preparedXA lists the instance's prepared XA branches, each as the xid
// in SQL form (XA RECOVER FORMAT='SQL', MariaDB 10.3+).
func preparedXA(ctx context.Context, conn *tablet.Conn) (map[string]bool, error) {
	res, err := conn.Execute(ctx, "XA RECOVER FORMAT="+string(sqlquote.Append(nil, "SQL")))
	if err != nil {
		return nil, fmt.Errorf("XA RECOVER: %w", err)
	}
	out := map[string]bool{}
	for _, row := range res.Rows {
		if len(row) < 4 {
			return nil, fmt.Errorf("XA RECOVER: got %d columns, want 4", len(row))
		}
		out[string(row[3])] = true
	}
	return out, nil
}
