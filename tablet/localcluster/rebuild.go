package localcluster

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
)

// The replication SQL-thread errors that mean a drained former primary's
// history differs from its new primary's, so it can never follow it:
const (
	// erGTIDStrictOutOfOrder is ER_GTID_STRICT_OUT_OF_ORDER: the replica
	// met a GTID whose sequence number it already used for a transaction
	// of its own: it holds a transaction the primary lacks.
	erGTIDStrictOutOfOrder = 1950
	// erXAERNotA is ER_XAER_NOTA: an XA COMMIT or ROLLBACK of a
	// transaction whose XA PREPARE the replica's binlog has (so it is not
	// fetched again) but its engine lost in crash recovery: killed between
	// writing the XA PREPARE to the binlog and preparing it in InnoDB.
	erXAERNotA = 1397
)

// rebuildCheckEvery is how often a drained instance is looked at.
const rebuildCheckEvery = 2 * time.Second

// errantReplica tells whether a drained instance's replication stopped
// because its history differs from its primary's: a former primary that
// wrote to its binlog what no replica received before it died, and that
// crash recovery kept (an XA PREPARE is kept even with init_rpl_role=SLAVE:
// it is prepared by design), or whose binlog has an XA PREPARE its engine
// lost. It can then never follow its shard's primary. What it alone had
// was never acknowledged (semi-sync: an acknowledged write is on a
// replica), so rebuilding it from the primary loses nothing.
func errantReplica(ctx context.Context, in *Instance) (bool, string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var errno int
	var msg string
	err := onInstance(ctx, in, func(conn *tablet.Conn) error {
		r, err := conn.Execute(ctx, "SHOW SLAVE STATUS")
		if err != nil || len(r.Rows) == 0 {
			return err
		}
		for i, f := range r.Fields {
			switch string(f.Name) {
			case "Last_SQL_Errno":
				errno, _ = strconv.Atoi(string(r.Rows[0][i]))
			case "Last_SQL_Error":
				msg = string(r.Rows[0][i])
			}
		}
		return nil
	})
	return errno == erGTIDStrictOutOfOrder || errno == erXAERNotA, msg, err
}

// rebuild replaces a drained instance's data with its shard primary's:
// it stops the instance, wipes its data directory, initialises it again
// and has it replicate from the primary from the start of the primary's
// binlog (every instance of a local cluster keeps its binlogs from the
// cluster's first day, and logs what it applies). Its transactions that
// the primary lacked are gone with the old data; it comes back drained
// and read-only, for the failover controller to fence into a replica.
// (A primary whose binlogs were purged can't serve that replay: the
// replica's IO thread then fails, and the instance stays drained.)
func (c *Cluster) rebuild(ctx context.Context, in *Instance, primary *topo.Tablet) error {
	ctx, cancel := context.WithTimeout(ctx, restartTimeout)
	defer cancel()
	if err := in.Mysqld.Stop(ctx); err != nil {
		return err
	}
	if err := in.Mysqld.Wipe(); err != nil {
		return err
	}
	if err := in.Mysqld.Init(ctx); err != nil {
		return err
	}
	if err := in.Mysqld.StartDemoted(ctx); err != nil {
		return err
	}
	if err := in.Mysqld.StartReplication(ctx, primary.Addr()); err != nil {
		return fmt.Errorf("localcluster: rebuilt %s: %w", in.Alias, err)
	}
	return nil
}

// rebuildErrant rebuilds the drained instances of the snapshot that can't
// follow their shard's primary (errantReplica), each looked at no more
// often than rebuildCheckEvery (checked records when).
func (c *Cluster) rebuildErrant(ctx context.Context, snap *topo.Snapshot, checked map[*Instance]time.Time, log func(msg string, args ...any)) {
	for _, in := range c.instances() {
		if !in.Mysqld.Running() || time.Since(checked[in]) < rebuildCheckEvery {
			continue
		}
		var self, primary *topo.Tablet
		for _, t := range snap.Tablets {
			switch {
			case t.Alias == in.Alias:
				self = t
			case t.Keyspace == in.Keyspace && t.Shard == in.Shard && t.Type == topo.TabletPrimary:
				primary = t
			}
		}
		if self == nil || self.Type != topo.TabletDrained || primary == nil {
			delete(checked, in)
			continue
		}
		checked[in] = time.Now()
		errant, why, err := errantReplica(ctx, in)
		if err != nil || !errant {
			continue
		}
		log("localcluster: drained instance holds transactions its primary lacks; rebuilding it from the primary",
			"tablet", in.Alias, "primary", primary.Alias, "replication_error", why)
		start := time.Now()
		if err := c.rebuild(ctx, in, primary); err != nil {
			if ctx.Err() == nil {
				log("localcluster: rebuild failed", "tablet", in.Alias, "err", err)
			}
			continue
		}
		log("localcluster: rebuilt; replicating from the primary", "tablet", in.Alias, "primary", primary.Alias, "took", time.Since(start).Round(time.Millisecond))
	}
}
