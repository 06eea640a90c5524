package tablet_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/tablet/tablettest"
)

func newPool(t *testing.T, cfg tablet.PoolConfig) *tablet.Pool {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = tablettest.Logger(t)
	}
	p := tablet.NewPool(cfg)
	t.Cleanup(p.Close)
	return p
}

func mustGet(t *testing.T, p *tablet.Pool) *tablet.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := p.Get(ctx)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return c
}

func checkStats(t *testing.T, p *tablet.Pool, want tablet.PoolStats) {
	t.Helper()
	if got := p.Stats(); got != want {
		t.Errorf("Stats() = %+v, want %+v", got, want)
	}
}

func TestPool(t *testing.T) {
	m := tablettest.StartMysqld(t)
	cfg := m.ConnConfig()
	query(t, cfg, "CREATE DATABASE app")
	query(t, cfg, "CREATE TABLE app.t (id INT PRIMARY KEY, v INT)")

	t.Run("Lazy", func(t *testing.T) {
		p := newPool(t, tablet.PoolConfig{Conn: cfg, Size: 2})
		checkStats(t, p, tablet.PoolStats{})
		r, err := p.Execute(context.Background(), "SELECT 1")
		if err != nil || string(r.Rows[0][0]) != "1" {
			t.Fatalf("Execute: %v, %v", r, err)
		}
		checkStats(t, p, tablet.PoolStats{Open: 1})
	})

	t.Run("ReusesConnections", func(t *testing.T) {
		p := newPool(t, tablet.PoolConfig{Conn: cfg, Size: 2})
		c := mustGet(t, p)
		id := c.ID()
		p.Put(c)
		c = mustGet(t, p)
		if c.ID() != id {
			t.Errorf("second Get: connection %d, want the idle %d", c.ID(), id)
		}
		p.Put(c)
	})

	t.Run("BoundAndWaiting", func(t *testing.T) {
		p := newPool(t, tablet.PoolConfig{Conn: cfg, Size: 2})
		a, b := mustGet(t, p), mustGet(t, p)
		checkStats(t, p, tablet.PoolStats{Open: 2, InUse: 2})

		// A third Get waits until its ctx ends...
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if _, err := p.Get(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Get on a full pool: got %v, want context.DeadlineExceeded", err)
		}
		checkStats(t, p, tablet.PoolStats{Open: 2, InUse: 2, WaitCount: 1})

		// ... or until a connection comes back, which it gets.
		got := make(chan *tablet.Conn)
		go func() {
			c, err := p.Get(context.Background())
			if err != nil {
				t.Errorf("waiting Get: %v", err)
			}
			got <- c
		}()
		waitFor(t, func() bool { return p.Stats().Waiting == 1 })
		checkStats(t, p, tablet.PoolStats{Open: 2, InUse: 2, Waiting: 1, WaitCount: 2})
		p.Put(a)
		c := <-got
		if c.ID() != a.ID() {
			t.Errorf("waiter got connection %d, want %d that was Put", c.ID(), a.ID())
		}
		checkStats(t, p, tablet.PoolStats{Open: 2, InUse: 2, WaitCount: 2})
		p.Put(b)
		p.Put(c)
		checkStats(t, p, tablet.PoolStats{Open: 2, WaitCount: 2})
	})

	// Issue 15, finding 7: with every connection out (clients idle in
	// transactions), Get used to wait as long as its caller's ctx, which
	// for a client statement without a query timeout was forever.
	t.Run("WaitTimeout", func(t *testing.T) {
		p := newPool(t, tablet.PoolConfig{Conn: cfg, Size: 1, WaitTimeout: 200 * time.Millisecond})
		held := mustGet(t, p)
		start := time.Now()
		c, err := p.Get(context.Background())
		if !errors.Is(err, tablet.ErrPoolWaitTimeout) {
			t.Fatalf("Get with the only connection out: got %v, %v, want ErrPoolWaitTimeout", c, err)
		}
		if waited := time.Since(start); waited < 200*time.Millisecond || waited > 5*time.Second {
			t.Errorf("Get gave up after %s, want 200ms", waited)
		}
		checkStats(t, p, tablet.PoolStats{Open: 1, InUse: 1, WaitCount: 1, WaitTimeouts: 1})
		p.Put(held)
		p.Put(mustGet(t, p))
	})

	t.Run("ConcurrentUse", func(t *testing.T) {
		p := newPool(t, tablet.PoolConfig{Conn: cfg, Size: 3})
		var wg sync.WaitGroup
		var mu sync.Mutex
		maxInUse := 0
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 20 {
					c, err := p.Get(context.Background())
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					maxInUse = max(maxInUse, p.Stats().InUse)
					mu.Unlock()
					r, err := c.Execute(context.Background(), fmt.Sprintf("SELECT %d", g*100+i))
					if err != nil || string(r.Rows[0][0]) != fmt.Sprint(g*100+i) {
						t.Errorf("Execute: %v %v", r, err)
					}
					p.Put(c)
				}
			}()
		}
		wg.Wait()
		st := p.Stats()
		if st.Open > 3 || st.InUse != 0 || maxInUse > 3 {
			t.Errorf("after concurrent use: %+v, most in use %d; want at most 3 open", st, maxInUse)
		}
	})

	t.Run("BrokenConnectionReplaced", func(t *testing.T) {
		p := newPool(t, tablet.PoolConfig{Conn: cfg, Size: 1})
		c := mustGet(t, p)
		id := c.ID()
		// A cancelled statement breaks its connection; Put frees the slot.
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if _, err := c.Execute(ctx, "SELECT SLEEP(5)"); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, want context.DeadlineExceeded", err)
		}
		p.Put(c)
		checkStats(t, p, tablet.PoolStats{})
		c = mustGet(t, p)
		if c.ID() == id || c.IsBroken() {
			t.Errorf("after a broken connection: got connection %d (broken %v), want a new one", c.ID(), c.IsBroken())
		}
		id = c.ID()
		p.Put(c)

		// An idle connection the server closed is noticed by Get and
		// replaced before anyone uses it.
		query(t, cfg, fmt.Sprintf("KILL %d", id))
		time.Sleep(50 * time.Millisecond)
		r, err := p.Execute(context.Background(), "SELECT CONNECTION_ID()")
		if err != nil {
			t.Fatalf("Execute after the idle connection was killed: %v", err)
		}
		if string(r.Rows[0][0]) == fmt.Sprint(id) {
			t.Errorf("got the killed connection %d back", id)
		}
		checkStats(t, p, tablet.PoolStats{Open: 1})
	})

	t.Run("PutRollsBackOpenTransaction", func(t *testing.T) {
		p := newPool(t, tablet.PoolConfig{Conn: cfg, Size: 1})
		c := mustGet(t, p)
		id := c.ID()
		mustExec(t, c, "BEGIN")
		mustExec(t, c, "INSERT INTO app.t VALUES (1, 1)")
		p.Put(c)
		// The row lock is released before Put returns: another
		// connection can write the row at once.
		other := mustDial(t, tablet.Dial, cfg)
		mustExec(t, other, "SET SESSION innodb_lock_wait_timeout = 1")
		mustExec(t, other, "INSERT INTO app.t VALUES (1, 2)")
		c = mustGet(t, p)
		if c.ID() != id || c.InTransaction() {
			t.Errorf("after Put inside a transaction: connection %d (in transaction %v), want %d rolled back", c.ID(), c.InTransaction(), id)
		}
		if got := rowStrings(mustExec(t, c, "SELECT v FROM app.t WHERE id = 1").Rows); fmt.Sprint(got) != "[[2]]" {
			t.Errorf("row 1: got %v, want [[2]] (the pooled transaction's insert rolled back)", got)
		}
		p.Put(c)
		mustExec(t, other, "DELETE FROM app.t")
	})

	t.Run("PutClosesPreparedXA", func(t *testing.T) {
		p := newPool(t, tablet.PoolConfig{Conn: cfg, Size: 1})
		c := mustGet(t, p)
		mustExec(t, c, "XA START 'pool-test'")
		mustExec(t, c, "INSERT INTO app.t VALUES (7, 7)")
		mustExec(t, c, "XA END 'pool-test'")
		mustExec(t, c, "XA PREPARE 'pool-test'")
		inTx := c.InTransaction()
		p.Put(c)
		if inTx {
			if !c.IsBroken() {
				t.Error("a connection holding a prepared XA branch went back to the pool")
			}
			checkStats(t, p, tablet.PoolStats{})
		}
		// The branch survives for its coordinator, who commits it.
		other := mustDial(t, tablet.Dial, cfg)
		waitFor(t, func() bool {
			_, err := other.Execute(context.Background(), "XA COMMIT 'pool-test'")
			return err == nil
		})
		if got := rowStrings(mustExec(t, other, "SELECT v FROM app.t WHERE id = 7").Rows); fmt.Sprint(got) != "[[7]]" {
			t.Errorf("after XA COMMIT: got %v, want [[7]]", got)
		}
		mustExec(t, other, "DELETE FROM app.t")
	})

	t.Run("IdleTimeout", func(t *testing.T) {
		p := newPool(t, tablet.PoolConfig{Conn: cfg, Size: 3, IdleTimeout: 100 * time.Millisecond})
		a, b := mustGet(t, p), mustGet(t, p)
		ids := fmt.Sprintf("%d, %d", a.ID(), b.ID())
		p.Put(a)
		p.Put(b)
		checkStats(t, p, tablet.PoolStats{Open: 2})
		waitFor(t, func() bool { return p.Stats().Open == 0 })
		// The server sees them go (COM_QUIT).
		waitFor(t, func() bool {
			return len(query(t, cfg, "SELECT ID FROM information_schema.PROCESSLIST WHERE ID IN ("+ids+")")) == 0
		})
		r, err := p.Execute(context.Background(), "SELECT 1")
		if err != nil || string(r.Rows[0][0]) != "1" {
			t.Fatalf("Execute after idle connections were closed: %v, %v", r, err)
		}
	})

	t.Run("Close", func(t *testing.T) {
		p := newPool(t, tablet.PoolConfig{Conn: cfg, Size: 1})
		c := mustGet(t, p)
		waiter := make(chan error)
		go func() {
			_, err := p.Get(context.Background())
			waiter <- err
		}()
		waitFor(t, func() bool { return p.Stats().Waiting == 1 })
		p.Close()
		if err := <-waiter; !errors.Is(err, tablet.ErrPoolClosed) {
			t.Errorf("Get waiting when the pool closed: got %v, want ErrPoolClosed", err)
		}
		if _, err := p.Get(context.Background()); !errors.Is(err, tablet.ErrPoolClosed) {
			t.Errorf("Get after Close: got %v, want ErrPoolClosed", err)
		}
		p.Put(c)
		if !c.IsBroken() {
			t.Error("a connection Put after Close stayed open")
		}
		checkStats(t, p, tablet.PoolStats{WaitCount: 1})
	})

	t.Run("DialError", func(t *testing.T) {
		bad := cfg
		bad.Password = "wrong"
		p := newPool(t, tablet.PoolConfig{Conn: bad, Size: 1})
		if _, err := p.Get(context.Background()); err == nil {
			t.Fatal("Get with bad credentials: got nil error")
		}
		checkStats(t, p, tablet.PoolStats{LastDialFailed: true})
	})
}

// waitFor polls cond for up to 5 seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestPoolSever: severing a pool fails a statement running on a handed-out
// connection at once, and every later statement on a connection handed
// out before (an open transaction's), and Get.
func TestPoolSever(t *testing.T) {
	m := tablettest.StartMysqld(t)
	p := newPool(t, tablet.PoolConfig{Conn: m.ConnConfig(), Size: 3})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	running, inTx := mustGet(t, p), mustGet(t, p)
	if _, err := inTx.Execute(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := running.Execute(ctx, "SELECT SLEEP(30)")
		done <- err
	}()
	time.Sleep(200 * time.Millisecond)
	p.Sever()
	if err := <-done; !errors.Is(err, tablet.ErrConnBroken) {
		t.Errorf("statement running when the pool was severed: got %v, want ErrConnBroken", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("statement running when the pool was severed returned after %s, want at once", d)
	}
	if _, err := inTx.Execute(ctx, "COMMIT"); !errors.Is(err, tablet.ErrConnBroken) {
		t.Errorf("COMMIT of a transaction open when the pool was severed: got %v, want ErrConnBroken", err)
	}
	p.Put(running)
	p.Put(inTx)
	if _, err := p.Get(ctx); !errors.Is(err, tablet.ErrPoolClosed) {
		t.Errorf("Get after Sever: got %v, want ErrPoolClosed", err)
	}
	checkStats(t, p, tablet.PoolStats{})
}
