package tablet_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/tablet/tablettest"
)

// TestReplicationAndHealth runs a primary and a GTID replica of it.
func TestReplicationAndHealth(t *testing.T) {
	primary := tablettest.StartMysqld(t)
	replica := tablettest.StartMysqld(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	primaryPool := newPool(t, tablet.PoolConfig{Conn: primary.ConnConfig(), Size: 2})
	replicaPool := newPool(t, tablet.PoolConfig{Conn: replica.ConnConfig(), Size: 2})
	h := tablet.CheckHealth(ctx, primaryPool)
	if !h.Reachable || h.ReadOnly || h.ReplicationLagSeconds != nil || h.Err != nil {
		t.Errorf("primary health: got %+v, want reachable, writable, no lag, no error", h)
	}

	// Written before replication starts: the replica copies it from the
	// primary's first binlog.
	query(t, primary.ConnConfig(), "CREATE DATABASE app")
	query(t, primary.ConnConfig(), "CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(10))")
	if err := replica.StartReplication(ctx, primary.Addr()); err != nil {
		t.Fatal(err)
	}
	query(t, primary.ConnConfig(), "INSERT INTO app.t VALUES (1, 'one')")
	pos, err := primary.Position(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if pos == "" {
		t.Fatal("primary has an empty GTID position after writes")
	}
	if err := replica.WaitForPosition(ctx, pos); err != nil {
		t.Fatal(err)
	}
	if got := query(t, replica.ConnConfig(), "SELECT v FROM app.t WHERE id = 1"); fmt.Sprint(got) != "[[one]]" {
		t.Errorf("replica after WaitForPosition(%s): got %v, want [[one]]", pos, got)
	}

	waitFor(t, func() bool {
		h = tablet.CheckHealth(ctx, replicaPool)
		return h.Err == nil
	})
	if !h.Reachable || !h.ReadOnly || h.ReplicationLagSeconds == nil || *h.ReplicationLagSeconds != 0 {
		t.Errorf("replica health: got %+v (lag %v), want reachable, read-only, lag 0", h, lagString(h))
	}

	// Replication is semi-synchronous (AFTER_SYNC, tablet/mycnf.go): with
	// its replica connected the primary waits for acknowledgements, and a
	// write is acknowledged by the replica.
	var semi [][]string
	waitFor(t, func() bool {
		semi = query(t, primary.ConnConfig(), "SHOW STATUS LIKE 'Rpl_semi_sync_master_status'")
		return fmt.Sprint(semi) == "[[Rpl_semi_sync_master_status ON]]"
	})
	if got := query(t, primary.ConnConfig(), "SELECT @@global.rpl_semi_sync_master_wait_point"); fmt.Sprint(got) != "[[AFTER_SYNC]]" {
		t.Errorf("primary's semi-sync wait point: got %v, want AFTER_SYNC", got)
	}
	if got := query(t, replica.ConnConfig(), "SHOW STATUS LIKE 'Rpl_semi_sync_slave_status'"); fmt.Sprint(got) != "[[Rpl_semi_sync_slave_status ON]]" {
		t.Errorf("replica's semi-sync status: got %v, want ON", got)
	}
	query(t, primary.ConnConfig(), "INSERT INTO app.t VALUES (3, 'three')")
	if got := query(t, primary.ConnConfig(), "SHOW STATUS LIKE 'Rpl_semi_sync_master_yes_tx'"); len(got) != 1 || got[0][1] == "0" {
		t.Errorf("primary's semi-sync acknowledged transactions after a write: got %v, want more than 0", got)
	}
	query(t, primary.ConnConfig(), "DELETE FROM app.t WHERE id = 3")

	// The position's domain and server come from the primary.
	if want := fmt.Sprintf("0-%d-", primary.Port()); len(pos) < len(want) || pos[:len(want)] != want {
		t.Errorf("primary position %q: want domain 0, server_id %d (its port)", pos, primary.Port())
	}

	// A position the primary has not reached: the wait times out.
	short, cancelShort := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancelShort()
	far := fmt.Sprintf("0-%d-1000000", primary.Port())
	if err := replica.WaitForPosition(short, far); !errors.Is(err, tablet.ErrReplicationTimeout) && !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitForPosition(%s): got %v, want ErrReplicationTimeout", far, err)
	}

	// Stopped replication shows in the health check.
	query(t, replica.ConnConfig(), "STOP SLAVE SQL_THREAD")
	h = tablet.CheckHealth(ctx, replicaPool)
	if !h.Reachable || !errors.Is(h.Err, tablet.ErrReplicationNotRunning) || h.ReplicationLagSeconds != nil {
		t.Errorf("replica with a stopped SQL thread: got %+v, want ErrReplicationNotRunning", h)
	}
	query(t, replica.ConnConfig(), "START SLAVE SQL_THREAD")

	// StartReplication again (a repoint) is harmless and catches up.
	if err := replica.StartReplication(ctx, primary.Addr()); err != nil {
		t.Fatal(err)
	}
	query(t, primary.ConnConfig(), "INSERT INTO app.t VALUES (2, 'two')")
	pos, err = primary.Position(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := replica.WaitForPosition(ctx, pos); err != nil {
		t.Fatal(err)
	}
	if got := query(t, replica.ConnConfig(), "SELECT COUNT(*) FROM app.t"); fmt.Sprint(got) != "[[2]]" {
		t.Errorf("replica after the second write: got %v rows, want 2", got)
	}

	// An instance that is down is unreachable.
	if err := replica.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	h = tablet.CheckHealth(ctx, replicaPool)
	if h.Reachable || h.Err == nil {
		t.Errorf("stopped instance: got %+v, want unreachable with an error", h)
	}
}

func lagString(h tablet.Health) string {
	if h.ReplicationLagSeconds == nil {
		return "nil"
	}
	return fmt.Sprint(*h.ReplicationLagSeconds)
}
