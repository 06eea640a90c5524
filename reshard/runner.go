package reshard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
)

// Config configures a Runner.
type Config struct {
	Store *topo.Store
	// Conn is how to log in to the primaries; Addr and DB are filled in
	// per instance.
	Conn tablet.ConnConfig
	// ID names this process in the election (e.g. its address).
	ID string
	// Interval is how often the leader looks for work; default 2s.
	Interval time.Duration
	// LeaseTTL is how many seconds a dead leader keeps its leadership;
	// default 10.
	LeaseTTL int
	// ChunkRows is how many rows a copy reads and writes at a time;
	// default 5000.
	ChunkRows int
	Logger    *slog.Logger
	// AfterChunk, if set, is called after a copy's progress is saved
	// (after each chunk, and at a shard's start and end) on the copying
	// goroutine. Tests use it to stop a runner mid-copy.
	AfterChunk func(keyspace, workflow, shard string, p topo.CopyProgress)
	// AroundCopySnapshot, if set, is called just before a copy takes its
	// snapshot of a source shard (taken false) and just after (true).
	// Tests use it to run an XA transaction across the snapshot.
	AroundCopySnapshot func(shard string, taken bool)
}

// Runner carries workflows through their phases while it is the elected
// leader among the runners of one topology: the copy phase of workflows
// in state copying, the binlog catch-up of those in running or
// reads-switched, the write switches recorded by shardctl, and reverse
// replication of those in writes-switched.
type Runner struct {
	cfg Config
}

// NewRunner makes a runner with cfg's defaults filled in.
func NewRunner(cfg Config) *Runner {
	if cfg.Interval <= 0 {
		cfg.Interval = 2 * time.Second
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 10
	}
	if cfg.ChunkRows <= 0 {
		cfg.ChunkRows = 5000
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Runner{cfg: cfg}
}

// Run campaigns, then works every Interval until ctx ends (it then
// resigns) or the leadership lease is lost (it campaigns again). It runs
// on the caller's goroutine, and every goroutine it starts has ended when
// it returns.
func (r *Runner) Run(ctx context.Context) {
	for ctx.Err() == nil {
		if err := r.lead(ctx); err != nil && ctx.Err() == nil {
			r.cfg.Logger.Warn("reshard: runner", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(r.cfg.Interval):
			}
		}
	}
}

func (r *Runner) lead(ctx context.Context) error {
	sess, err := concurrency.NewSession(r.cfg.Store.Client(), concurrency.WithTTL(r.cfg.LeaseTTL), concurrency.WithContext(ctx))
	if err != nil {
		return err
	}
	defer sess.Close()
	el := concurrency.NewElection(sess, r.cfg.Store.ReshardElectionPrefix())
	if err := el.Campaign(ctx, r.cfg.ID); err != nil {
		return err
	}
	r.cfg.Logger.Info("reshard: runner elected", "id", r.cfg.ID)
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = el.Resign(rctx)
	}()
	// Work stops as soon as the lease is lost; the guard keeps a runner
	// that hasn't noticed yet from writing progress.
	lctx, cancel := context.WithCancel(ctx)
	running := &catchups{byKey: map[string]bool{}}
	defer func() {
		cancel()
		running.wg.Wait()
	}()
	go func() {
		select {
		case <-sess.Done():
			cancel()
		case <-lctx.Done():
		}
	}()
	guard := clientv3.Compare(clientv3.CreateRevision(el.Key()), "=", el.Rev())

	t := time.NewTicker(r.cfg.Interval)
	defer t.Stop()
	for {
		r.pass(lctx, guard, running)
		select {
		case <-ctx.Done():
			return nil
		case <-sess.Done():
			return errors.New("reshard: runner lost its election lease")
		case <-t.C:
		}
	}
}

// catchups are the goroutines a leading runner started — catch-ups,
// reverse streams and write switches, at most one of each per workflow
// (by key); lead waits for them after cancelling their context.
type catchups struct {
	mu    sync.Mutex
	byKey map[string]bool
	wg    sync.WaitGroup
}

// startCatchup starts w's catch-up unless it runs: it runs until ctx
// ends, w leaves the catch-up states, or an error (recorded in w; the
// next pass starts it again unless the error is permanent).
func (r *Runner) startCatchup(ctx context.Context, w *topo.Workflow, guard clientv3.Cmp, running *catchups) {
	running.start(w.Keyspace+"/"+w.Name, func() {
		err := r.catchUpWorkflow(ctx, w, guard)
		switch {
		case err == nil, ctx.Err() != nil, errors.Is(err, errNotCatchingUp), errors.Is(err, ErrNotLeader):
		default:
			r.recordError(ctx, w, err, guard, catchesUp)
		}
	})
}

// startReverse starts w's reverse replication (reverse.go) unless it
// runs, as startCatchup does the forward one.
func (r *Runner) startReverse(ctx context.Context, w *topo.Workflow, guard clientv3.Cmp, running *catchups) {
	running.start("reverse:"+w.Keyspace+"/"+w.Name, func() {
		err := r.streamWorkflow(ctx, w, guard, true)
		switch {
		case err == nil, ctx.Err() != nil, errors.Is(err, errNotCatchingUp), errors.Is(err, ErrNotLeader):
		default:
			r.recordError(ctx, w, fmt.Errorf("reverse replication: %w", err), guard, func(s topo.WorkflowState) bool { return s == topo.WorkflowWritesSwitched })
		}
	})
}

// startSwitch carries out w's write switch (switch_writes.go) unless a
// goroutine already does.
func (r *Runner) startSwitch(ctx context.Context, w *topo.Workflow, guard clientv3.Cmp, running *catchups) {
	running.start("switch:"+w.Keyspace+"/"+w.Name, func() {
		if err := r.writeSwitch(ctx, w, guard, running); err != nil && ctx.Err() == nil {
			r.cfg.Logger.Warn("reshard: write switch", "workflow", w.Keyspace+"/"+w.Name, "err", err)
		}
	})
}

// start runs fn on a goroutine of the set under key, unless one runs.
func (c *catchups) start(key string, fn func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byKey[key] {
		return
	}
	c.byKey[key] = true
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		fn()
		c.mu.Lock()
		delete(c.byKey, key)
		c.mu.Unlock()
	}()
}

// pass works once on every workflow that needs the runner.
func (r *Runner) pass(ctx context.Context, guard clientv3.Cmp, running *catchups) {
	wfs, err := r.cfg.Store.ListWorkflows(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.cfg.Logger.Warn("reshard: list workflows", "err", err)
		}
		return
	}
	for _, w := range wfs {
		if ctx.Err() != nil {
			return
		}
		if !w.WriteSwitch.Over() {
			r.startSwitch(ctx, w, guard, running)
		}
		if w.State == topo.WorkflowWritesSwitched {
			if w.MoveTables == nil { // a movetables' reverse is a workflow of its own
				r.startReverse(ctx, w, guard, running)
			}
			continue
		}
		if catchesUp(w.State) {
			r.startCatchup(ctx, w, guard, running)
			continue
		}
		if w.State != topo.WorkflowCopying || w.ProvisionTargets {
			continue // ProvisionTargets: the targets are being started (PrepareTargets)
		}
		err := r.copyWorkflow(ctx, w, guard)
		if err == nil {
			r.cfg.Logger.Info("reshard: copied", "workflow", w.Keyspace+"/"+w.Name)
			continue
		}
		if ctx.Err() != nil || errors.Is(err, errStopped) || errors.Is(err, ErrNotLeader) {
			return
		}
		r.recordError(ctx, w, err, guard, func(s topo.WorkflowState) bool { return s == topo.WorkflowCopying })
	}
}

// recordError writes a failed pass's error into the workflow: an error
// retrying can't fix puts it in state error; any other stays in Error
// while the next pass retries.
// inState says which states the error applies to (the phase that
// failed); a workflow that has left them is left alone.
func (r *Runner) recordError(ctx context.Context, w *topo.Workflow, cause error, guard clientv3.Cmp, inState func(topo.WorkflowState) bool) {
	var perm permanentError
	isPermanent := errors.As(cause, &perm)
	r.cfg.Logger.Warn("reshard: workflow failed", "workflow", w.Keyspace+"/"+w.Name, "permanent", isPermanent, "err", cause)
	err := r.cfg.Store.UpdateWorkflow(ctx, w.Keyspace, w.Name, func(w *topo.Workflow) error {
		if !inState(w.State) {
			return topo.ErrNoUpdateNeeded
		}
		w.Error = cause.Error()
		if isPermanent {
			w.State = topo.WorkflowError
		}
		return nil
	}, guard)
	if err != nil && ctx.Err() == nil {
		r.cfg.Logger.Warn("reshard: record error", "workflow", w.Keyspace+"/"+w.Name, "err", err)
	}
}
