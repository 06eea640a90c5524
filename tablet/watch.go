package tablet

import (
	"context"
	"fmt"
	"sync"
)

// ctxWatch makes the end of a statement's context interrupt the
// connection's command in progress, registering with each context once
// rather than once per command: the gateway runs a session's statements
// under one context until it is cancelled, and a fresh
// context.AfterFunc per shard query cost two allocations.
//
// The registration outlives the command: when the context ends later
// (between commands, or while the connection runs another context's
// command) the callback finds the connection not armed for it and does
// nothing. One registration at a time: arming with another context
// drops the previous one, and so does closing the connection.
type ctxWatch struct {
	conn   *Conn
	onDone func()      // w.done, bound once
	disarm func() bool // w.stopCommand, bound once

	mu    sync.Mutex
	ctx   context.Context // the context registered with
	stop  func() bool     // its registration
	armed bool            // a command of ctx is running
	fired bool            // ctx ended while armed: the command was interrupted
}

func (w *ctxWatch) bind(c *Conn) {
	w.conn, w.onDone, w.disarm = c, w.done, w.stopCommand
}

// arm checks that the connection can take a command and makes the end of
// ctx interrupt it; stop, nil when ctx cannot end, disarms that and
// reports false if it already fired.
func (c *Conn) arm(ctx context.Context) (stop func() bool, err error) {
	if c.broken {
		return nil, fmt.Errorf("%w: %s", ErrConnBroken, c.addr)
	}
	// Whatever command comes first after Get is the one that finds out.
	c.unchecked = false
	if ctx.Done() == nil {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	w := &c.watch
	w.mu.Lock()
	if w.ctx != ctx {
		if w.stop != nil {
			w.stop()
		}
		w.ctx = ctx
		// If ctx ends right now, done waits for mu and finds the
		// command armed.
		w.stop = context.AfterFunc(ctx, w.onDone)
	}
	w.armed, w.fired = true, false
	w.mu.Unlock()
	return w.disarm, nil
}

// stopCommand disarms the command; false means ctx ended while it ran
// (the connection was interrupted).
func (w *ctxWatch) stopCommand() bool {
	w.mu.Lock()
	fired := w.fired
	w.armed, w.fired = false, false
	w.mu.Unlock()
	return !fired
}

// done runs when a registered context ends. A registration being dropped
// may still run (its context ended as another was armed): the command is
// only interrupted if the context it runs under has ended.
func (w *ctxWatch) done() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.armed && !w.fired && w.ctx.Err() != nil {
		w.fired = true
		w.conn.interrupt()
	}
}

// release drops the registration (the connection is closed).
func (w *ctxWatch) release() {
	w.mu.Lock()
	if w.stop != nil {
		w.stop()
	}
	w.ctx, w.stop = nil, nil
	w.mu.Unlock()
}
