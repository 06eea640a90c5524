package twopc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
)

// erXAERNotA is XAER_NOTA (1397): unknown xid — or, in MariaDB, a branch
// whose preparing connection is still open.
const erXAERNotA = 1397

func isNotA(err error) bool {
	var me *mysql.MyError
	return errors.As(err, &me) && me.Code == erXAERNotA
}

// Primary is a shard's primary instance, where its branches live.
type Primary struct {
	Keyspace, Shard, Addr string
}

// Primaries lists the primaries the topology names, in key order.
func Primaries(ctx context.Context, store *topo.Store) ([]Primary, error) {
	snap, err := store.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	var out []Primary
	for _, t := range snap.Tablets {
		if t.Type == topo.TabletPrimary {
			out = append(out, Primary{Keyspace: t.Keyspace, Shard: t.Shard, Addr: t.Addr()})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Keyspace != out[j].Keyspace {
			return out[i].Keyspace < out[j].Keyspace
		}
		return out[i].Shard < out[j].Shard
	})
	return out, nil
}

// ResolveConfig says where to look for unresolved transactions.
type ResolveConfig struct {
	Client *clientv3.Client
	Root   string
	// Primaries lists the instances to scan with XA RECOVER.
	Primaries func(ctx context.Context) ([]Primary, error)
	// Conn is how to log in to them (Addr is filled per primary).
	Conn   tablet.ConnConfig
	Logger *slog.Logger
}

// Tx is an unresolved distributed transaction: its decision record (nil
// if none) and the prepared branches found.
type Tx struct {
	DTID     string
	Record   *Record
	Branches []FoundBranch
	// CoordinatorAlive: the coordinator's lease still exists.
	CoordinatorAlive bool
}

// FoundBranch is a prepared branch and the primary it is on.
type FoundBranch struct {
	Branch
	Primary Primary
}

// scanTimeout bounds the scan of one primary (log in, XA RECOVER): a
// primary that is dead or frozen (a failover under way) must not hold up
// the resolution of every other shard.
const scanTimeout = 5 * time.Second

// Inspect lists unresolved transactions: decision records, then prepared
// branches on every primary (in that order, so a record deleted after
// its branches were seen can't be missed — see resolve). A primary that
// can't be scanned is an error.
func Inspect(ctx context.Context, cfg ResolveConfig) ([]*Tx, error) {
	txs, _, unscanned, err := inspect(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if len(unscanned) > 0 {
		return nil, errors.Join(unscanned...)
	}
	return txs, nil
}

// inspect is Inspect that goes on past primaries it can't scan (dead, or
// frozen: a failover is replacing them), returning their errors apart.
// Their branches are missing from the list.
func inspect(ctx context.Context, cfg ResolveConfig) (txs []*Tx, scanned map[Participant]bool, unscanned []error, err error) {
	recs := records{cli: cfg.Client, root: cfg.Root}
	list, err := recs.list(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	byID := map[string]*Tx{}
	for _, rec := range list {
		byID[rec.DTID] = &Tx{DTID: rec.DTID, Record: rec}
	}
	prims, err := cfg.Primaries(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	scanned = map[Participant]bool{}
	// Each branch once, should two entries share an instance.
	seen := map[[2]string]bool{}
	for _, p := range prims {
		branches, err := recoverOn(ctx, cfg.Conn, p)
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil, nil, err
			}
			unscanned = append(unscanned, err)
			if part := (Participant{Keyspace: p.Keyspace, Shard: p.Shard}); !scanned[part] {
				scanned[part] = false
			}
			continue
		}
		scanned[Participant{Keyspace: p.Keyspace, Shard: p.Shard}] = true
		for _, b := range branches {
			if b.Foreign || seen[[2]string{p.Addr, b.Xid.String()}] {
				continue
			}
			seen[[2]string{p.Addr, b.Xid.String()}] = true
			tx := byID[b.DTID]
			if tx == nil {
				tx = &Tx{DTID: b.DTID}
				byID[b.DTID] = tx
			}
			tx.Branches = append(tx.Branches, FoundBranch{Branch: b, Primary: p})
		}
	}
	out := make([]*Tx, 0, len(byID))
	for _, tx := range byID {
		tx.CoordinatorAlive = leaseAlive(ctx, cfg.Client, leaseOf(tx.DTID))
		out = append(out, tx)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].DTID < out[j].DTID })
	return out, scanned, unscanned, nil
}

func recoverOn(ctx context.Context, cc tablet.ConnConfig, p Primary) ([]Branch, error) {
	ctx, cancel := context.WithTimeout(ctx, scanTimeout)
	defer cancel()
	cc.Addr = p.Addr
	conn, err := tablet.Dial(ctx, cc)
	if err != nil {
		return nil, fmt.Errorf("twopc: %s/%s: %w", p.Keyspace, p.Shard, err)
	}
	defer conn.Close()
	return Recover(ctx, conn)
}

func leaseAlive(ctx context.Context, cli *clientv3.Client, id int64) bool {
	if id == 0 {
		return false
	}
	resp, err := cli.TimeToLive(ctx, clientv3.LeaseID(id))
	if err != nil {
		return true // can't tell: don't touch it
	}
	return resp.TTL > 0
}

// Outcome is what resolving one transaction did.
type Outcome struct {
	DTID     string
	State    State // the decision applied; "" if skipped
	Finished int   // branches committed or rolled back
	Pending  int   // branches still prepared (owner connected, or an error)
	Skipped  string
}

// Resolve finishes unresolved transactions: every one (dtid "") or one.
// A branch with a decision record gets that decision; one without is
// rolled back (after recording the rollback) once its coordinator's lease
// is gone — or at once with force, which an operator uses for a
// coordinator known to be stuck. Records whose branches are all finished
// are deleted.
//
// A primary that can't be scanned (dead, or frozen, while a failover
// replaces it) does not stop the others from being resolved; the error
// then names it. A record is deleted only once the primary of every one of
// its participants was scanned in the pass: a shard whose primary is
// down, or that names none for a moment (a failover renaming it), may
// still hold a branch, and a branch whose commit record was deleted would
// be rolled back later (presumed abort). A branch prepared on a primary
// that died replicated with its XA PREPARE, and is finished on the
// replica promoted in its place as soon as the topology names it.
func Resolve(ctx context.Context, cfg ResolveConfig, dtid string, force bool) ([]Outcome, error) {
	txs, scanned, unscanned, err := inspect(ctx, cfg)
	if err != nil {
		return nil, err
	}
	recs := records{cli: cfg.Client, root: cfg.Root}
	var out []Outcome
	for _, tx := range txs {
		if dtid != "" && tx.DTID != dtid {
			continue
		}
		o := Outcome{DTID: tx.DTID}
		rec := tx.Record
		if rec == nil {
			if tx.CoordinatorAlive && !force {
				o.Skipped = "coordinator alive, no decision yet"
				o.Pending = len(tx.Branches)
				out = append(out, o)
				continue
			}
			rb := &Record{DTID: tx.DTID, State: StateRollback, Decided: time.Now().UTC(), By: "resolver"}
			for _, b := range tx.Branches {
				rb.Participants = appendParticipant(rb.Participants, Participant{Keyspace: b.Keyspace, Shard: b.Shard})
			}
			// A shard not scanned in this pass may hold a branch too: the
			// record must wait for it (see decide).
			for p, ok := range scanned {
				if !ok {
					rb.Participants = appendParticipant(rb.Participants, p)
				}
			}
			if rec, err = recs.decide(ctx, rb); err != nil {
				return out, err
			}
		}
		o.State = rec.State
		for _, b := range tx.Branches {
			stmt := b.Rollback()
			if rec.State == StateCommit {
				stmt = b.Commit()
			}
			if err := execOn(ctx, cfg.Conn, b.Primary, stmt); err != nil {
				o.Pending++
				if cfg.Logger != nil {
					cfg.Logger.Info("twopc: branch not finished yet", "xid", b.Xid.String(), "err", err)
				}
				continue
			}
			o.Finished++
		}
		if o.Pending == 0 && allScanned(rec.Participants, scanned) {
			if err := recs.remove(ctx, tx.DTID); err != nil {
				return out, err
			}
		}
		out = append(out, o)
	}
	if len(unscanned) > 0 {
		return out, fmt.Errorf("twopc: primaries not scanned (their branches wait for the next pass): %w", errors.Join(unscanned...))
	}
	if dtid != "" && len(out) == 0 {
		return nil, fmt.Errorf("twopc: %s: no decision record and no prepared branch", dtid)
	}
	return out, nil
}

func appendParticipant(ps []Participant, p Participant) []Participant {
	if slices.Contains(ps, p) {
		return ps
	}
	return append(ps, p)
}

// allScanned tells whether the primary of every participant was scanned.
func allScanned(ps []Participant, scanned map[Participant]bool) bool {
	for _, p := range ps {
		if !scanned[p] {
			return false
		}
	}
	return true
}

func execOn(ctx context.Context, cc tablet.ConnConfig, p Primary, stmt string) error {
	ctx, cancel := context.WithTimeout(ctx, scanTimeout)
	defer cancel()
	cc.Addr = p.Addr
	conn, err := tablet.Dial(ctx, cc)
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = conn.Execute(ctx, stmt)
	return err
}

// Resolver runs Resolve every Interval while it is the elected leader
// among the processes campaigning under the same root.
type Resolver struct {
	cfg      ResolveConfig
	interval time.Duration
	id       string
}

// NewResolver makes a resolver; id names the campaigning process in the
// election (e.g. the gateway's address); interval 0 means 2 s.
func NewResolver(cfg ResolveConfig, id string, interval time.Duration) *Resolver {
	if interval <= 0 {
		interval = 2 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Resolver{cfg: cfg, interval: interval, id: id}
}

// Run campaigns, then resolves every interval until ctx ends (it then
// resigns) or the leadership lease is lost (it campaigns again). It runs
// on the caller's goroutine.
func (r *Resolver) Run(ctx context.Context, leaseTTL int) {
	for ctx.Err() == nil {
		if err := r.lead(ctx, leaseTTL); err != nil && ctx.Err() == nil {
			r.cfg.Logger.Warn("twopc: resolver", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(r.interval):
			}
		}
	}
}

func (r *Resolver) lead(ctx context.Context, leaseTTL int) error {
	sess, err := concurrency.NewSession(r.cfg.Client, concurrency.WithTTL(max(leaseTTL, 1)), concurrency.WithContext(ctx))
	if err != nil {
		return err
	}
	defer sess.Close()
	el := concurrency.NewElection(sess, records{root: r.cfg.Root}.leaderPrefix())
	if err := el.Campaign(ctx, r.id); err != nil {
		return err
	}
	r.cfg.Logger.Info("twopc: resolver elected", "id", r.id)
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = el.Resign(rctx)
	}()
	t := time.NewTicker(r.interval)
	defer t.Stop()
	for {
		outs, err := Resolve(ctx, r.cfg, "", false)
		if err != nil && ctx.Err() == nil {
			r.cfg.Logger.Warn("twopc: resolve pass", "err", err)
		}
		for _, o := range outs {
			if o.Finished > 0 {
				r.cfg.Logger.Info("twopc: resolved", "dtid", o.DTID, "state", o.State, "branches", o.Finished, "pending", o.Pending)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-sess.Done():
			return errors.New("twopc: resolver lost its election lease")
		case <-t.C:
		}
	}
}
