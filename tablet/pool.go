package tablet

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// DefaultPoolSize is the Size of a Pool whose config leaves it zero.
const DefaultPoolSize = 16

// rollbackTimeout bounds the ROLLBACK that Put sends for a connection
// returned with an open transaction.
const rollbackTimeout = 5 * time.Second

// PoolConfig configures a Pool.
type PoolConfig struct {
	// Conn is how each connection is dialled.
	Conn ConnConfig
	// Size is the most connections open at once (handed out, being
	// dialled, or idle); 0 means DefaultPoolSize.
	Size int
	// IdleTimeout closes connections idle for longer; 0 keeps them.
	IdleTimeout time.Duration
	// WaitTimeout bounds how long Get waits for a connection while Size
	// are out (ErrPoolWaitTimeout past it); 0 waits until Get's ctx ends.
	// Without it, clients holding every connection in idle transactions
	// made every other statement for the instance hang (issue 15,
	// finding 7).
	WaitTimeout time.Duration
	// TrustReturnedFor: Get hands out a connection given back less than
	// this long ago without the liveness check (a read syscall on every
	// Get: a point select's connection comes back and goes out again
	// within a millisecond). 0 always checks. A connection the server
	// closed in that time (KILL, a restart) fails its next statement
	// with ErrStaleConn instead of being replaced by Get; after that the
	// pool checks every connection given back before the failure. Only a
	// caller that retries a statement failing with ErrStaleConn where a
	// second run is harmless (the gateway's reads) should set it.
	TrustReturnedFor time.Duration
	// Logger receives the pool's warnings; nil discards. Connections log
	// here too unless Conn.Logger is set.
	Logger *slog.Logger
}

// PoolStats is a snapshot of a Pool.
type PoolStats struct {
	Open      int   // connections open: in use plus idle (and being dialled)
	InUse     int   // connections handed out by Get and not yet Put back
	Waiting   int   // Get calls waiting now for a connection
	WaitCount int64 // Get calls that had to wait, since the pool was made
	// LastDialFailed: the latest attempt to open a connection failed (not
	// for its caller's context ending); the gateway reports such a tablet
	// unhealthy until a dial succeeds again.
	LastDialFailed bool
	// WaitTimeouts counts the Get calls that gave up after WaitTimeout,
	// since the pool was made.
	WaitTimeouts int64
}

// Pool bounds and reuses the connections to one instance. It dials
// lazily, hands out the most recently used idle connection first, and
// makes a Get wait (until its ctx ends) while Size connections are out.
//
// The pool owns no goroutine: idle connections past IdleTimeout are
// closed by a timer that Close stops, and by Get.
type Pool struct {
	cfg    PoolConfig
	log    *slog.Logger
	slots  chan struct{} // a token per connection handed out (or being dialled)
	closed chan struct{} // closed by Close, to wake waiting Gets
	// life ends with Close (kill), cancelling dials in progress: a dial
	// to a frozen server would otherwise hang until its caller's ctx ends.
	life context.Context
	kill context.CancelFunc

	mu         sync.Mutex
	idle       []*Conn            // oldest first; Get takes the newest
	out        map[*Conn]struct{} // handed out by Get, not yet Put back (for Sever)
	open       int
	inUse      int
	waiting    int
	waitCount  int64
	dialFailed bool
	timeouts   int64
	isClosed   bool
	severed    bool
	// recheckBefore: connections given back before it get the liveness
	// check even within TrustReturnedFor (one of them failed stale).
	recheckBefore time.Time
	reaper        *time.Timer // armed while there are idle connections and an IdleTimeout
}

// NewPool returns a pool that dials on demand.
func NewPool(cfg PoolConfig) *Pool {
	if cfg.Size <= 0 {
		cfg.Size = DefaultPoolSize
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Conn.Logger == nil {
		cfg.Conn.Logger = cfg.Logger
	}
	life, kill := context.WithCancel(context.Background())
	return &Pool{
		life:   life,
		kill:   kill,
		cfg:    cfg,
		log:    cfg.Logger,
		slots:  make(chan struct{}, cfg.Size),
		closed: make(chan struct{}),
		out:    map[*Conn]struct{}{},
	}
}

// Addr is the address of the pool's instance.
func (p *Pool) Addr() string { return p.cfg.Conn.Addr }

// Get hands out a connection: an idle one that still looks open, or a new
// one. It waits while Size connections are out, until ctx ends. Give the
// connection back with Put.
func (p *Pool) Get(ctx context.Context) (*Conn, error) {
	if err := p.acquire(ctx); err != nil {
		return nil, err
	}
	for {
		p.mu.Lock()
		if p.isClosed {
			p.mu.Unlock()
			<-p.slots
			return nil, ErrPoolClosed
		}
		var (
			c       *Conn
			trusted bool
		)
		if n := len(p.idle); n > 0 {
			c = p.idle[n-1]
			p.idle[n-1] = nil
			p.idle = p.idle[:n-1]
			c.idle = false
			trusted = p.cfg.TrustReturnedFor > 0 && c.idleSince.After(p.recheckBefore) &&
				time.Since(c.idleSince) < p.cfg.TrustReturnedFor
		} else {
			p.open++
		}
		p.inUse++
		p.mu.Unlock()

		if c == nil {
			c, err := p.dial(ctx)
			if err != nil {
				p.forget()
				<-p.slots
				return nil, err
			}
			return p.handOut(c), nil
		}
		// Keeping the slot, replace an idle connection that expired or
		// that the server closed.
		if p.cfg.IdleTimeout > 0 && time.Since(c.idleSince) > p.cfg.IdleTimeout {
			_ = c.Close()
			p.forget()
			continue
		}
		if trusted && !c.broken {
			c.unchecked = true
			return p.handOut(c), nil
		}
		if !c.alive() {
			c.fail(nil)
			p.forget()
			continue
		}
		return p.handOut(c), nil
	}
}

// dial dials a new connection; Close cancels it.
func (p *Pool) dial(ctx context.Context) (*Conn, error) {
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(p.life, cancel)
	defer stop()
	c, err := Dial(dctx, p.cfg.Conn)
	if ctx.Err() == nil && p.life.Err() == nil {
		p.mu.Lock()
		p.dialFailed = err != nil
		p.mu.Unlock()
	}
	if err != nil && p.life.Err() != nil && ctx.Err() == nil {
		return nil, ErrPoolClosed
	}
	return c, err
}

// handOut records c as handed out, so that Sever can reach it; a pool
// severed meanwhile interrupts it at once.
func (p *Pool) handOut(c *Conn) *Conn {
	p.mu.Lock()
	p.out[c] = struct{}{}
	severed := p.severed
	p.mu.Unlock()
	if severed {
		c.interrupt()
	}
	return c
}

// acquire takes a slot, waiting if all are out.
func (p *Pool) acquire(ctx context.Context) error {
	select {
	case <-p.closed:
		return ErrPoolClosed
	default:
	}
	select {
	case p.slots <- struct{}{}:
		return nil
	default:
	}
	p.mu.Lock()
	p.waiting++
	p.waitCount++
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.waiting--
		p.mu.Unlock()
	}()
	var timeout <-chan time.Time
	if p.cfg.WaitTimeout > 0 {
		t := time.NewTimer(p.cfg.WaitTimeout)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case p.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-p.closed:
		return ErrPoolClosed
	case <-timeout:
		p.mu.Lock()
		p.timeouts++
		p.mu.Unlock()
		return fmt.Errorf("tablet: all %d connections to %s stayed in use for %s: %w", p.cfg.Size, p.cfg.Conn.Addr, p.cfg.WaitTimeout, ErrPoolWaitTimeout)
	}
}

// forget uncounts a connection Get counted as in use but will not hand
// out.
func (p *Pool) forget() {
	p.mu.Lock()
	p.open--
	p.inUse--
	p.mu.Unlock()
}

// Put gives a connection back. A broken one is closed and its slot freed.
//
// A connection must not go back to other users inside a transaction: if
// the server's last word on it was SERVER_STATUS_IN_TRANS, Put sends
// ROLLBACK (bounded by 5 s, so Put may block that long on a hung server)
// and closes the connection if that fails or the transaction is still
// open. Rolling back rather than discarding keeps the connection, and
// releases the transaction's locks before Put returns. A prepared XA
// branch refuses ROLLBACK, so such a connection is closed, which leaves the
// branch prepared for its coordinator. Other session state (variables set,
// temporary tables, USE) is not reset. Putting a connection back twice
// panics.
func (p *Pool) Put(c *Conn) {
	if c == nil {
		return
	}
	if c.idle {
		panic("tablet: Put of a connection that is already back in its pool")
	}
	// Statements queued to go with a command that never came (ahead.go)
	// are the caller's, not the next user's.
	c.dropAhead()
	if !c.broken && c.InTransaction() {
		p.rollback(c)
	}
	p.mu.Lock()
	p.inUse--
	delete(p.out, c)
	if c.failedStale {
		// The server closed connections behind the pool's back: those
		// given back before this one may be closed too.
		p.recheckBefore = time.Now()
	}
	if c.broken || p.isClosed {
		p.open--
		p.mu.Unlock()
		_ = c.Close()
		<-p.slots
		return
	}
	c.idle = true
	c.idleSince = time.Now()
	p.idle = append(p.idle, c)
	if p.cfg.IdleTimeout > 0 && p.reaper == nil {
		p.reaper = time.AfterFunc(p.cfg.IdleTimeout, p.reap)
	}
	p.mu.Unlock()
	<-p.slots
}

// rollback ends the transaction a connection was returned with, or closes
// the connection.
func (p *Pool) rollback(c *Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), rollbackTimeout)
	defer cancel()
	_, err := c.Execute(ctx, "ROLLBACK")
	if err == nil && !c.InTransaction() {
		return
	}
	p.log.Warn("tablet: closing a connection returned inside a transaction that did not roll back",
		"addr", c.addr, "connection_id", c.id, "err", err)
	_ = c.Close()
}

// reap closes the connections idle for longer than IdleTimeout; it runs
// on the reaper timer's goroutine and re-arms the timer for the next one.
func (p *Pool) reap() {
	p.mu.Lock()
	now := time.Now()
	n := 0
	for n < len(p.idle) && now.Sub(p.idle[n].idleSince) >= p.cfg.IdleTimeout {
		n++
	}
	expired := make([]*Conn, n)
	copy(expired, p.idle[:n])
	rest := copy(p.idle, p.idle[n:])
	clear(p.idle[rest:])
	p.idle = p.idle[:rest]
	p.open -= n
	for _, c := range expired {
		c.idle = false
	}
	if len(p.idle) > 0 && !p.isClosed {
		p.reaper.Reset(p.idle[0].idleSince.Add(p.cfg.IdleTimeout).Sub(now))
	} else {
		p.reaper = nil
	}
	p.mu.Unlock()
	for _, c := range expired {
		_ = c.Close()
	}
}

// Execute runs one autocommit statement on a pooled connection: Get,
// Execute, Put. (A transaction needs one connection throughout: use Get
// and Put.)
func (p *Pool) Execute(ctx context.Context, query string) (*Result, error) {
	c, err := p.Get(ctx)
	if err != nil {
		return nil, err
	}
	r, err := c.Execute(ctx, query)
	p.Put(c)
	return r, err
}

// Stats returns a snapshot of the pool's counters.
func (p *Pool) Stats() PoolStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return PoolStats{Open: p.open, InUse: p.inUse, Waiting: p.waiting, WaitCount: p.waitCount, LastDialFailed: p.dialFailed, WaitTimeouts: p.timeouts}
}

// Close closes the idle connections and makes Get fail with
// ErrPoolClosed, waking those waiting and cancelling dials in progress. Connections handed out are closed
// when they are Put back.
func (p *Pool) Close() {
	p.mu.Lock()
	if p.isClosed {
		p.mu.Unlock()
		return
	}
	p.isClosed = true
	close(p.closed)
	p.kill()
	idle := p.idle
	p.idle = nil
	p.open -= len(idle)
	if p.reaper != nil {
		p.reaper.Stop()
		p.reaper = nil
	}
	p.mu.Unlock()
	for _, c := range idle {
		c.idle = false
		_ = c.Close()
	}
}

// Sever closes the pool as Close does and also cuts the connections
// handed out: whatever they are reading or writing fails at once, and so
// does every later statement on them (a transaction's too), so a session
// learns that its statement failed instead of hearing later of a commit.
// The gateway severs the pool of a primary the topology no longer names:
// a commit still waiting there (for a replica's acknowledgement, or a
// frozen server) must not be answered OK once a replica has been promoted
// without it. The connections go when they are Put back.
func (p *Pool) Sever() {
	p.mu.Lock()
	p.severed = true
	out := make([]*Conn, 0, len(p.out))
	for c := range p.out {
		out = append(out, c)
	}
	p.mu.Unlock()
	for _, c := range out {
		c.interrupt()
	}
	p.Close()
}
