package reshard

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestCopyWhileACommitWaitsForItsReplica: a transaction written to the
// source's binlog but not yet committed in its engine (here a DELETE held
// by a semi-sync wait for a replica's acknowledgement, as under load) is in
// gtid_binlog_pos but not in a snapshot taken meanwhile. Catch-up read
// from that gtid_binlog_pos, which is after the snapshot, and so never saw
// the DELETE: the copied row stayed on its target (seen in CI as "orders
// row ... is on target -40 but on no source"). Catch-up must start at or
// before the snapshot.
func TestCopyWhileACommitWaitsForItsReplica(t *testing.T) {
	e := startSplitEnv(t)
	e.create(t)
	const id = 7
	src := e.sourceOf(t, id)
	addr := e.cluster.Primary(testKeyspace, src).Mysqld.Addr()
	admin := e.dial(t, addr)
	defer admin.Close()
	before := string(e.exec(t, admin, "SELECT @@global.gtid_binlog_pos").Rows[0][0])
	// No replica will ever acknowledge: the DELETE waits after its
	// binlog write until semi-sync is switched off.
	e.exec(t, admin, "SET GLOBAL rpl_semi_sync_master_timeout = 120000")
	e.exec(t, admin, "SET GLOBAL rpl_semi_sync_master_wait_no_slave = ON")
	deleted := make(chan error, 1)
	go func() {
		c := e.dial(t, addr)
		defer c.Close()
		_, err := c.Execute(t.Context(), fmt.Sprintf("DELETE FROM orders WHERE customer_id = %d", id))
		deleted <- err
	}()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if string(e.exec(t, admin, "SELECT @@global.gtid_binlog_pos").Rows[0][0]) != before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the DELETE never reached the binlog")
		}
	}
	if n := string(e.exec(t, admin, fmt.Sprintf("SELECT COUNT(*) FROM orders WHERE customer_id = %d", id)).Rows[0][0]); n == "0" {
		t.Fatal("the DELETE is already visible: the test needs it binlogged, not committed")
	}
	var release sync.Once
	releaseDelete := func() {
		release.Do(func() {
			if _, err := admin.Execute(t.Context(), "SET GLOBAL rpl_semi_sync_master_enabled = OFF"); err != nil {
				t.Errorf("switch semi-sync off: %v", err)
			}
			if err := <-deleted; err != nil {
				t.Errorf("DELETE: %v", err)
			}
		})
	}
	defer releaseDelete()
	snapshotTaken := make(chan struct{})
	e.startRunner(t, Config{ID: "runner-1", AroundCopySnapshot: func(shard string, taken bool) {
		if shard == src && taken {
			select {
			case <-snapshotTaken:
			default:
				close(snapshotTaken)
			}
		}
	}})
	select {
	case <-snapshotTaken:
	case <-time.After(60 * time.Second):
		t.Fatal("the copy took no snapshot of the source while a commit waited")
	}
	releaseDelete()
	w := e.newWriter(t, 5)
	for range 40 {
		w.step(t) // changes on both sources, so every target stores a position
	}
	e.waitCaughtUp(t, "split")
	c := e.dial(t, e.targets[e.targetOf(t, id)].Addr())
	defer c.Close()
	if n := string(e.exec(t, c, fmt.Sprintf("SELECT COUNT(*) FROM orders WHERE customer_id = %d", id)).Rows[0][0]); n != "0" {
		t.Errorf("target %s: %s orders of customer %d, deleted on the source during the copy; want 0", e.targetOf(t, id), n, id)
	}
	e.checkTargetsMatchSources(t)
}
