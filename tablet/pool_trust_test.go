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

// TestPoolTrustsRecentlyReturned: with TrustReturnedFor, Get hands out a
// connection given back moments ago without checking it, so one the
// server closed meanwhile fails its statement with ErrStaleConn (and
// ErrConnBroken) before anything ran; the connections given back before
// that failure are checked again, so the pool recovers with the next Get.
// Without TrustReturnedFor (TestPool/ReusesConnections) the same closed
// connection is replaced by Get.
func TestPoolTrustsRecentlyReturned(t *testing.T) {
	m := tablettest.StartMysqld(t)
	cfg := m.ConnConfig()
	p := newPool(t, tablet.PoolConfig{Conn: cfg, Size: 2, TrustReturnedFor: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	older, newer := mustGet(t, p), mustGet(t, p)
	olderID, newerID := older.ID(), newer.ID()
	p.Put(older)
	p.Put(newer)

	// A server restart would close both; KILL does it to these two only.
	query(t, cfg, fmt.Sprintf("KILL %d", olderID))
	query(t, cfg, fmt.Sprintf("KILL %d", newerID))
	time.Sleep(50 * time.Millisecond)

	c := mustGet(t, p)
	if c.ID() != newerID {
		t.Fatalf("Get within TrustReturnedFor: got connection %d, want the newest idle one %d handed out unchecked", c.ID(), newerID)
	}
	_, err := c.Execute(ctx, "SELECT 1")
	if !errors.Is(err, tablet.ErrStaleConn) || !errors.Is(err, tablet.ErrConnBroken) {
		t.Fatalf("statement on a killed connection handed out unchecked: got %v, want ErrStaleConn and ErrConnBroken", err)
	}
	p.Put(c)

	// The older connection was given back before the failure: checked,
	// found closed, and replaced by a new one that works.
	r, err := p.Execute(ctx, "SELECT CONNECTION_ID()")
	if err != nil {
		t.Fatalf("Execute after a stale connection failed: %v", err)
	}
	if id := string(r.Rows[0][0]); id == fmt.Sprint(olderID) || id == fmt.Sprint(newerID) {
		t.Errorf("Execute after a stale connection failed: ran on killed connection %s", id)
	}
	checkStats(t, p, tablet.PoolStats{Open: 1})

	// A connection that answered is trusted again: a statement that
	// fails on a live one is not stale.
	c = mustGet(t, p)
	if _, err := c.Execute(ctx, "SELECT * FROM no_such_db.t"); err == nil || errors.Is(err, tablet.ErrStaleConn) || c.IsBroken() {
		t.Errorf("server error on a connection handed out unchecked: got %v (broken %v), want the server's error, not stale", err, c.IsBroken())
	}
	p.Put(c)
}

// TestPoolChecksAfterTrustExpires: past TrustReturnedFor, Get checks the
// connection and replaces one the server closed, as without it.
func TestPoolChecksAfterTrustExpires(t *testing.T) {
	m := tablettest.StartMysqld(t)
	cfg := m.ConnConfig()
	p := newPool(t, tablet.PoolConfig{Conn: cfg, Size: 1, TrustReturnedFor: 20 * time.Millisecond})
	c := mustGet(t, p)
	id := c.ID()
	p.Put(c)
	query(t, cfg, fmt.Sprintf("KILL %d", id))
	time.Sleep(100 * time.Millisecond)
	r, err := p.Execute(context.Background(), "SELECT CONNECTION_ID()")
	if err != nil {
		t.Fatalf("Execute on a connection killed after TrustReturnedFor: %v", err)
	}
	if string(r.Rows[0][0]) == fmt.Sprint(id) {
		t.Errorf("got the killed connection %d back", id)
	}
}
