package twopc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/tablet/tablettest"
	"github.com/shardgate/shardgate/topo"
)

// env is one mariadbd (standing in for every shard: branches carry their
// shard in the xid) and an embedded etcd.
type env struct {
	conn tablet.ConnConfig
	cli  *clientv3.Client
	root string
}

// resolveConfig names the one mariadbd the primary of every shard the
// tests' branches use (begin's s0, s1, the reader r), as a cluster's
// topology would name one primary per shard: a record is deleted only
// once the primaries of all its participants were scanned.
func (e *env) resolveConfig() ResolveConfig {
	return ResolveConfig{Client: e.cli, Root: e.root, Conn: e.conn,
		Primaries: func(context.Context) ([]Primary, error) {
			var out []Primary
			for _, shard := range []string{"s0", "s1", "s2", "r"} {
				out = append(out, Primary{Keyspace: "ks", Shard: shard, Addr: e.conn.Addr})
			}
			return out, nil
		}}
}

func (e *env) dial(t *testing.T) *tablet.Conn {
	t.Helper()
	c, err := tablet.Dial(context.Background(), e.conn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func (e *env) exec(t *testing.T, c *tablet.Conn, stmts ...string) {
	t.Helper()
	for _, q := range stmts {
		if _, err := c.Execute(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// rows returns the table's ids, in order, as one string.
func (e *env) rows(t *testing.T, table string) string {
	t.Helper()
	c := e.dial(t)
	res, err := c.Execute(context.Background(), "select id from "+table+" order by id")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range res.Rows {
		ids = append(ids, string(r[0]))
	}
	return strings.Join(ids, ",")
}

func (e *env) recovered(t *testing.T) int {
	t.Helper()
	bs, err := Recover(context.Background(), e.dial(t))
	if err != nil {
		t.Fatal(err)
	}
	return len(bs)
}

// begin starts one branch per shard on its own connection, each inserting
// its id into table.
func (e *env) begin(t *testing.T, dtid, table string, ids ...int) []Member {
	t.Helper()
	var ms []Member
	for i, id := range ids {
		m := Member{Xid: Xid{DTID: dtid, Keyspace: "ks", Shard: fmt.Sprintf("s%d", i)}, Conn: e.dial(t)}
		e.exec(t, m.Conn, m.Start(), fmt.Sprintf("insert into %s values (%d)", table, id))
		ms = append(ms, m)
	}
	return ms
}

// prepareAndDrop prepares every branch and closes its connection, as a
// coordinator that dies after the prepares leaves them.
func (e *env) prepareAndDrop(t *testing.T, ms []Member) {
	t.Helper()
	for _, m := range ms {
		e.exec(t, m.Conn, m.End(), m.Prepare())
		m.Conn.Close()
	}
}

func TestTwoPC(t *testing.T) {
	m := tablettest.StartMysqld(t)
	ctx := context.Background()
	etcd, err := topo.StartEmbedded(ctx, topo.EmbeddedConfig{Dir: t.TempDir(), ClientAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { etcd.Close() })
	cli, err := clientv3.New(clientv3.Config{Endpoints: etcd.Endpoints(), DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	e := &env{conn: tablet.ConnConfig{Addr: m.SocketPath(), User: "root"}, cli: cli, root: "/t"}
	setup := e.dial(t)
	e.exec(t, setup, "create database if not exists test")
	e.conn.DB = "test"
	newCoord := func(t *testing.T) *Coordinator {
		c, err := NewCoordinator(ctx, Config{Client: cli, Root: e.root, LeaseTTL: 2})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	table := func(t *testing.T, name string) {
		e.exec(t, e.dial(t), "drop table if exists "+name, "create table "+name+" (id int primary key)")
	}

	t.Run("commit with two participants", func(t *testing.T) {
		table(t, "t_commit")
		c := newCoord(t)
		dtid := c.NewDTID()
		if err := c.Commit(ctx, dtid, e.begin(t, dtid, "t_commit", 1, 2)); err != nil {
			t.Fatal(err)
		}
		c.Close() // waits for the record's deletion
		if got := e.rows(t, "t_commit"); got != "1,2" {
			t.Errorf("rows: got %q, want 1,2", got)
		}
		if n := e.recovered(t); n != 0 {
			t.Errorf("XA RECOVER: got %d branches, want 0", n)
		}
		if _, err := (records{cli: cli, root: e.root}).get(ctx, dtid); !errors.Is(err, ErrNoRecord) {
			t.Errorf("record after commit: got %v, want ErrNoRecord", err)
		}
	})

	t.Run("concurrent commits leave no records", func(t *testing.T) {
		// Records finished while a deletion is in flight are deleted
		// together (removeLater): none may be left behind.
		table(t, "t_concurrent")
		c := newCoord(t)
		const n = 8
		dtids := make([]string, n)
		members := make([][]Member, n)
		for i := range n {
			dtids[i] = c.NewDTID()
			members[i] = e.begin(t, dtids[i], "t_concurrent", 2*i+1, 2*i+2)
		}
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = c.Commit(ctx, dtids[i], members[i])
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("commit %d: %v", i, err)
			}
		}
		c.Close() // waits for the records' deletion
		if got := e.rows(t, "t_concurrent"); got != "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16" {
			t.Errorf("rows: got %q, want 1 to 16", got)
		}
		if got, err := (records{cli: cli, root: e.root}).list(ctx); err != nil || len(got) != 0 {
			t.Errorf("records after %d commits: got %d (%v), want none", n, len(got), err)
		}
	})

	t.Run("one participant commits in one phase", func(t *testing.T) {
		table(t, "t_one")
		c := newCoord(t)
		defer c.Close()
		dtid := c.NewDTID()
		if err := c.Commit(ctx, dtid, e.begin(t, dtid, "t_one", 7)); err != nil {
			t.Fatal(err)
		}
		if got := e.rows(t, "t_one"); got != "7" {
			t.Errorf("rows: got %q, want 7", got)
		}
	})

	t.Run("read-only members don't make it two-phase", func(t *testing.T) {
		table(t, "t_ro")
		var points []string
		c, err := NewCoordinator(ctx, Config{Client: cli, Root: e.root, LeaseTTL: 2, Failpoint: func(p string) { points = append(points, p) }})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		dtid := c.NewDTID()
		ms := e.begin(t, dtid, "t_ro", 5)
		reader := Member{Xid: Xid{DTID: dtid, Keyspace: "ks", Shard: "r"}, Conn: e.dial(t), ReadOnly: true}
		e.exec(t, reader.Conn, reader.Start(), "select * from t_ro")
		if err := c.Commit(ctx, dtid, append(ms, reader)); err != nil {
			t.Fatal(err)
		}
		if len(points) != 0 {
			t.Errorf("failpoints hit: %v, want none (one writer commits in one phase)", points)
		}
		if got := e.rows(t, "t_ro"); got != "5" {
			t.Errorf("rows: got %q, want 5", got)
		}
		if reader.Conn.InTransaction() {
			t.Error("the reader's branch is still open")
		}
	})

	t.Run("a failed prepare rolls back everywhere", func(t *testing.T) {
		table(t, "t_fail")
		c := newCoord(t)
		defer c.Close()
		dtid := c.NewDTID()
		ms := e.begin(t, dtid, "t_fail", 1, 2)
		ms[1].Conn.Close() // the second shard is gone before the commit
		err := c.Commit(ctx, dtid, ms)
		if !errors.Is(err, ErrRolledBack) {
			t.Fatalf("got %v, want ErrRolledBack", err)
		}
		if got := e.rows(t, "t_fail"); got != "" {
			t.Errorf("rows: got %q, want none", got)
		}
		if n := e.recovered(t); n != 0 {
			t.Errorf("XA RECOVER: got %d branches, want 0", n)
		}
		// The lost shard's branch might have been prepared there (and
		// replicated): a rollback decision is left for the resolver,
		// which finds nothing to roll back and deletes it.
		outs, err := Resolve(ctx, e.resolveConfig(), "", false)
		if err != nil || len(outs) != 1 || outs[0].State != StateRollback {
			t.Fatalf("resolve after a lost participant: got %+v, %v, want the rollback decision settled", outs, err)
		}
		if got, err := (records{cli: cli, root: e.root}).list(ctx); err != nil || len(got) != 0 {
			t.Errorf("records after the resolver's pass: got %d (%v), want none", len(got), err)
		}
	})

	t.Run("resolver commits per the decision", func(t *testing.T) {
		table(t, "t_decided")
		c := newCoord(t)
		defer c.Close()
		dtid := c.NewDTID()
		ms := e.begin(t, dtid, "t_decided", 1, 2)
		e.prepareAndDrop(t, ms)
		if _, err := (records{cli: cli, root: e.root}).decide(ctx, &Record{DTID: dtid, State: StateCommit}); err != nil {
			t.Fatal(err)
		}
		// The decision stands even though the coordinator is alive.
		outs, err := Resolve(ctx, e.resolveConfig(), "", false)
		if err != nil {
			t.Fatal(err)
		}
		if len(outs) != 1 || outs[0].State != StateCommit || outs[0].Finished != 2 {
			t.Fatalf("outcomes: got %+v, want one commit of 2 branches", outs)
		}
		if got := e.rows(t, "t_decided"); got != "1,2" {
			t.Errorf("rows: got %q, want 1,2", got)
		}
		if txs, _ := Inspect(ctx, e.resolveConfig()); len(txs) != 0 {
			t.Errorf("unresolved after resolve: %+v", txs)
		}
	})

	t.Run("a commit record outlives its branches while a participant's primary is unscanned", func(t *testing.T) {
		// During a failover a shard's primary is dead (or the topology
		// names none for a moment) while its replica holds a branch
		// prepared there: deleting the commit record once the other
		// branches are committed would get that branch rolled back later
		// (presumed abort).
		table(t, "t_unscanned")
		c := newCoord(t)
		defer c.Close()
		dtid := c.NewDTID()
		e.prepareAndDrop(t, e.begin(t, dtid, "t_unscanned", 1, 2))
		rec := &Record{DTID: dtid, State: StateCommit, Participants: []Participant{{Keyspace: "ks", Shard: "s0"}, {Keyspace: "ks", Shard: "s1"}}}
		if _, err := (records{cli: cli, root: e.root}).decide(ctx, rec); err != nil {
			t.Fatal(err)
		}
		dead := e.resolveConfig()
		dead.Primaries = func(context.Context) ([]Primary, error) {
			return []Primary{{Keyspace: "ks", Shard: "s0", Addr: e.conn.Addr}, {Keyspace: "ks", Shard: "s1", Addr: "127.0.0.1:1"}}, nil
		}
		outs, err := Resolve(ctx, dead, "", false)
		if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
			t.Errorf("resolve with s1's primary unreachable: got error %v, want one naming 127.0.0.1:1", err)
		}
		if len(outs) != 1 || outs[0].State != StateCommit || outs[0].Finished != 2 {
			t.Fatalf("outcomes: got %+v, want the reachable branches committed", outs)
		}
		if got, err := (records{cli: cli, root: e.root}).list(ctx); err != nil || len(got) != 1 {
			t.Fatalf("records after a pass that could not scan s1: got %d (%v), want the commit record kept", len(got), err)
		}
		if outs, err := Resolve(ctx, e.resolveConfig(), "", false); err != nil || len(outs) != 1 {
			t.Fatalf("resolve with every primary reachable: got %+v, %v", outs, err)
		}
		if got, err := (records{cli: cli, root: e.root}).list(ctx); err != nil || len(got) != 0 {
			t.Errorf("records once every participant's primary was scanned: got %d (%v), want none", len(got), err)
		}
		if got := e.rows(t, "t_unscanned"); got != "1,2" {
			t.Errorf("rows: got %q, want 1,2", got)
		}
	})

	t.Run("a coordinator whose lease was lost names new transactions after a live one", func(t *testing.T) {
		// Keep-alives late past the TTL (a loaded machine) lose the
		// lease while the gateway lives; without renewal every later
		// transaction would carry a dead lease, and resolvers would roll
		// them back under their coordinator.
		c := newCoord(t)
		defer c.Close()
		lost := leaseOf(c.NewDTID())
		if _, err := cli.Revoke(ctx, clientv3.LeaseID(lost)); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(15 * time.Second)
		for {
			id := leaseOf(c.NewDTID())
			if id != lost {
				if !leaseAlive(ctx, cli, id) {
					t.Fatalf("new lease %x is not alive", id)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("still naming transactions after lost lease %x", lost)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})

	t.Run("a forced rollback made while a shard is down waits for that shard", func(t *testing.T) {
		// An operator forces a rollback while s1's primary is down: its
		// branch (replicated there before the crash) comes back on the
		// promoted replica later. The record must outlive that, or the
		// branch would return with no record and a live coordinator, and
		// no resolver would ever touch it.
		table(t, "t_forced_down")
		c := newCoord(t)
		defer c.Close()
		dtid := c.NewDTID()
		e.prepareAndDrop(t, e.begin(t, dtid, "t_forced_down", 1))
		dead := e.resolveConfig()
		dead.Primaries = func(context.Context) ([]Primary, error) {
			return []Primary{{Keyspace: "ks", Shard: "s0", Addr: e.conn.Addr}, {Keyspace: "ks", Shard: "s1", Addr: "127.0.0.1:1"}}, nil
		}
		outs, _ := Resolve(ctx, dead, dtid, true)
		if len(outs) != 1 || outs[0].State != StateRollback || outs[0].Finished != 1 {
			t.Fatalf("forced resolve with s1 down: got %+v, want s0's branch rolled back", outs)
		}
		recs := records{cli: cli, root: e.root}
		got, err := recs.get(ctx, dtid)
		if err != nil {
			t.Fatalf("the rollback record after a pass that could not scan s1: %v, want it kept", err)
		}
		if !slices.Contains(got.Participants, Participant{Keyspace: "ks", Shard: "s1"}) {
			t.Errorf("participants of the forced rollback: %v, want s1 (not scanned) among them", got.Participants)
		}
		if _, err := Resolve(ctx, e.resolveConfig(), "", false); err != nil {
			t.Fatal(err)
		}
		if _, err := recs.get(ctx, dtid); !errors.Is(err, ErrNoRecord) {
			t.Errorf("the record once s1 was scanned: got %v, want it deleted", err)
		}
	})

	t.Run("a coordinator's participants join a resolver's record", func(t *testing.T) {
		// The resolver decided first, naming only the shard it saw; the
		// coordinator's own decision (it knows every participant) adds
		// the others, so the record waits for all of them.
		recs := records{cli: cli, root: e.root}
		dtid := "merge-participants"
		s0, s1 := Participant{Keyspace: "ks", Shard: "s0"}, Participant{Keyspace: "ks", Shard: "s1"}
		if _, err := recs.decide(ctx, &Record{DTID: dtid, State: StateRollback, Participants: []Participant{s0}, By: "resolver"}); err != nil {
			t.Fatal(err)
		}
		stands, err := recs.decide(ctx, &Record{DTID: dtid, State: StateCommit, Participants: []Participant{s0, s1}, By: "coordinator"})
		if err != nil {
			t.Fatal(err)
		}
		if stands.State != StateRollback || stands.By != "resolver" {
			t.Errorf("standing decision: %s by %s, want the resolver's rollback", stands.State, stands.By)
		}
		got, err := recs.get(ctx, dtid)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Participants, []Participant{s0, s1}) {
			t.Errorf("participants: %v, want [s0 s1]", got.Participants)
		}
		recs.remove(ctx, dtid)
	})

	t.Run("no decision: skipped while the coordinator lives, rolled back after", func(t *testing.T) {
		table(t, "t_orphan")
		c := newCoord(t)
		dtid := c.NewDTID()
		e.prepareAndDrop(t, e.begin(t, dtid, "t_orphan", 1, 2))
		outs, err := Resolve(ctx, e.resolveConfig(), "", false)
		if err != nil {
			t.Fatal(err)
		}
		if len(outs) != 1 || outs[0].Skipped == "" {
			t.Fatalf("outcomes with a live coordinator: got %+v, want skipped", outs)
		}
		c.Close() // revokes the lease: the coordinator is gone
		outs, err = Resolve(ctx, e.resolveConfig(), "", false)
		if err != nil {
			t.Fatal(err)
		}
		if len(outs) != 1 || outs[0].State != StateRollback || outs[0].Finished != 2 {
			t.Fatalf("outcomes: got %+v, want a rollback of 2 branches", outs)
		}
		if got := e.rows(t, "t_orphan"); got != "" {
			t.Errorf("rows: got %q, want none", got)
		}
	})

	t.Run("operator force resolves a live coordinator's branch", func(t *testing.T) {
		table(t, "t_force")
		c := newCoord(t)
		defer c.Close()
		dtid := c.NewDTID()
		e.prepareAndDrop(t, e.begin(t, dtid, "t_force", 1))
		outs, err := Resolve(ctx, e.resolveConfig(), dtid, true)
		if err != nil || len(outs) != 1 || outs[0].State != StateRollback {
			t.Fatalf("got %+v, %v; want a rollback", outs, err)
		}
		if n := e.recovered(t); n != 0 {
			t.Errorf("XA RECOVER: got %d, want 0", n)
		}
	})

	t.Run("a resolver's rollback decided first wins over the coordinator", func(t *testing.T) {
		table(t, "t_race")
		c := newCoord(t)
		defer c.Close()
		dtid := c.NewDTID()
		ms := e.begin(t, dtid, "t_race", 1, 2)
		if _, err := (records{cli: cli, root: e.root}).decide(ctx, &Record{DTID: dtid, State: StateRollback, By: "resolver"}); err != nil {
			t.Fatal(err)
		}
		if err := c.Commit(ctx, dtid, ms); !errors.Is(err, ErrRolledBack) {
			t.Fatalf("got %v, want ErrRolledBack", err)
		}
		if got := e.rows(t, "t_race"); got != "" {
			t.Errorf("rows: got %q, want none", got)
		}
		if n := e.recovered(t); n != 0 {
			t.Errorf("XA RECOVER: got %d, want 0", n)
		}
		(records{cli: cli, root: e.root}).remove(ctx, dtid)
	})

	t.Run("one resolver leads; another takes over when it stops", func(t *testing.T) {
		leader := func() string {
			sess, err := concurrency.NewSession(cli, concurrency.WithTTL(2))
			if err != nil {
				t.Fatal(err)
			}
			defer sess.Close()
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
				resp, err := concurrency.NewElection(sess, records{root: e.root}.leaderPrefix()).Leader(ctx)
				if err == nil {
					return string(resp.Kvs[0].Value)
				}
			}
			t.Fatal("no leader within 10s")
			return ""
		}
		run := func(id string) (stop func()) {
			rctx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() {
				defer close(done)
				NewResolver(e.resolveConfig(), id, 100*time.Millisecond).Run(rctx, 2)
			}()
			return func() { cancel(); <-done }
		}
		stopA := run("a")
		time.Sleep(300 * time.Millisecond)
		stopB := run("b")
		defer stopB()
		if got := leader(); got != "a" {
			t.Fatalf("leader: got %q, want a (first to campaign)", got)
		}
		stopA() // resigns
		for deadline := time.Now().Add(10 * time.Second); leader() != "b"; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("b did not take over within 10s")
			}
		}
	})
}
