package gateway

import (
	"context"
	"hash/maphash"
	"sync"
	"sync/atomic"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/planner"
	"github.com/shardgate/shardgate/querystats"
	"github.com/shardgate/shardgate/topo/vschema"
)

// planCache keeps built plans by normalised statement text and target, for
// every session of a gateway. Plans hold no execution state, so sessions
// share them. An entry remembers the compiled vschema it was planned
// against: a topology change installs a new *vschema.VSchema, and a lookup
// with another one misses and replaces the entry (no stale plan is ever
// used). Bounded by entry count and estimated bytes.
//
// A hit is the hot path of every cached statement, so it takes no lock
// that all sessions share: the entries are spread over planCacheShards
// maps by a hash of the key, each behind its own RWMutex taken for
// reading, and recency is a stamp stored in the entry (no list to
// reorder). Eviction is approximate LRU: on a put over the bounds, a
// sample of entries from every shard is compared and the least recently
// used of them goes (as Redis and Ristretto do). Misses plan the statement
// (tens of microseconds), so their lock and the sampling cost nothing
// that matters.
type planCache struct {
	maxEntries int
	maxBytes   int64
	seed       maphash.Seed

	shards [planCacheShards]planShard
	// clock advances on every put; an entry hit since the last put
	// carries its value. Hits only read it, so its cache line stays
	// shared among cores.
	clock atomic.Uint64

	evictMu        sync.Mutex // one eviction at a time; never held on a hit
	entries, bytes atomic.Int64
	evictions      atomic.Uint64
	evictFrom      int // next shard an eviction sample starts at; under evictMu
	misses         atomic.Uint64
}

// planCacheShards spreads entries over this many maps: with 16 sessions
// hitting at once, two rarely meet on the same reader count.
const planCacheShards = 32

// evictSamplePerShard is how many entries of each shard an eviction
// compares (32 shards x 4: 128 candidates).
const evictSamplePerShard = 4

type planShard struct {
	mu      sync.RWMutex
	entries map[string]*planEntry
	// hits is counted per shard so that hits don't all write one
	// counter (a cache line every core would fight over).
	hits atomic.Uint64
	_    [64]byte // keep neighbouring shards' hot words apart
}

type planEntry struct {
	key string
	vs  *vschema.VSchema
	// plan is nil when the statement's normalised form could not be
	// planned: such statements take the uncached path, without the cost
	// of trying to normalise-and-plan them again.
	plan *planner.Plan
	size int64
	// used is the cache's clock when the entry was last put or hit.
	used atomic.Uint64
	// shard is the map the entry was stored in (its hits are counted
	// there).
	shard *planShard

	// stats and digest are the plan's metrics and query digest, resolved
	// on its first run (observe.go), so later runs record without looking
	// anything up.
	stats  atomic.Pointer[planStats]
	digest atomic.Pointer[querystats.Digest]
}

// Plan cache bounds when the config names none.
const (
	defaultPlanCacheEntries = 5000
	defaultPlanCacheBytes   = 32 << 20
	// planOverhead estimates a plan's memory beyond its texts (primitives,
	// templates, vindex values); measured plans of point selects and
	// IN-list routes are 1–2 KiB.
	planOverhead = 2048
)

// newPlanCache returns nil (no caching) when maxEntries is negative.
func newPlanCache(maxEntries int, maxBytes int64) *planCache {
	if maxEntries < 0 {
		return nil
	}
	if maxEntries == 0 {
		maxEntries = defaultPlanCacheEntries
	}
	if maxBytes <= 0 {
		maxBytes = defaultPlanCacheBytes
	}
	c := &planCache{maxEntries: maxEntries, maxBytes: maxBytes, seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].entries = map[string]*planEntry{}
	}
	return c
}

func (c *planCache) shard(key []byte) *planShard {
	return &c.shards[maphash.Bytes(c.seed, key)%planCacheShards]
}

// get returns the entry for key planned against vs. key is a byte slice
// so a hit converts it without allocating.
func (c *planCache) get(key []byte, vs *vschema.VSchema) (*planEntry, bool) {
	sh := c.shard(key)
	sh.mu.RLock()
	e, ok := sh.entries[string(key)]
	sh.mu.RUnlock()
	if !ok || e.vs != vs {
		c.misses.Add(1)
		return nil, false
	}
	c.hit(e)
	return e, true
}

// hit records a use of e: a lookup's, or a prepared statement's that
// kept its entry (prepare_execute.go).
func (c *planCache) hit(e *planEntry) {
	if now := c.clock.Load(); e.used.Load() != now {
		e.used.Store(now) // written once per entry between two puts
	}
	e.shard.hits.Add(1)
}

// put stores a plan (nil: "do not normalise this one") for key and vs,
// replacing an entry planned against another vschema.
func (c *planCache) put(key string, vs *vschema.VSchema, plan *planner.Plan) *planEntry {
	e := &planEntry{key: key, vs: vs, plan: plan, size: int64(2*len(key)) + planOverhead}
	c.store(e)
	return e
}

func (c *planCache) store(e *planEntry) {
	e.used.Store(c.clock.Add(1))
	sh := &c.shards[maphash.String(c.seed, e.key)%planCacheShards]
	e.shard = sh
	sh.mu.Lock()
	old, replaced := sh.entries[e.key]
	sh.entries[e.key] = e
	sh.mu.Unlock()
	if replaced {
		c.entries.Add(-1)
		c.bytes.Add(-old.size)
	}
	c.entries.Add(1)
	c.bytes.Add(e.size)
	if c.overBounds() {
		c.evict(e)
	}
}

func (c *planCache) overBounds() bool {
	n := c.entries.Load()
	return n > int64(c.maxEntries) || (c.bytes.Load() > c.maxBytes && n > 1)
}

// evict removes sampled least recently used entries until the cache is
// within its bounds again; keep (the entry just stored) is never chosen.
func (c *planCache) evict(keep *planEntry) {
	c.evictMu.Lock()
	defer c.evictMu.Unlock()
	for c.overBounds() {
		victim, vsh := c.sampleOldest(keep)
		if victim == nil {
			return
		}
		vsh.mu.Lock()
		if vsh.entries[victim.key] == victim {
			delete(vsh.entries, victim.key)
			c.entries.Add(-1)
			c.bytes.Add(-victim.size)
			c.evictions.Add(1)
		}
		vsh.mu.Unlock()
	}
}

// sampleOldest looks at up to evictSamplePerShard entries of every shard
// (Go's map iteration starts at a random place) and returns the least
// recently used of them other than keep.
func (c *planCache) sampleOldest(keep *planEntry) (*planEntry, *planShard) {
	var (
		oldest *planEntry
		in     *planShard
		used   uint64
	)
	for i := range planCacheShards {
		sh := &c.shards[(c.evictFrom+i)%planCacheShards]
		sh.mu.RLock()
		n := 0
		for _, e := range sh.entries {
			if e == keep {
				continue
			}
			if u := e.used.Load(); oldest == nil || u < used {
				oldest, in, used = e, sh, u
			}
			if n++; n == evictSamplePerShard {
				break
			}
		}
		sh.mu.RUnlock()
	}
	c.evictFrom = (c.evictFrom + 1) % planCacheShards
	return oldest, in
}

// planCacheStats is what the status page exports.
type planCacheStats struct {
	Hits, Misses, Evictions uint64
	Entries                 int
	Bytes                   int64
}

func (c *planCache) stats() planCacheStats {
	if c == nil {
		return planCacheStats{}
	}
	var hits uint64
	for i := range c.shards {
		hits += c.shards[i].hits.Load()
	}
	return planCacheStats{Hits: hits, Misses: c.misses.Load(), Evictions: c.evictions.Load(),
		Entries: int(c.entries.Load()), Bytes: c.bytes.Load()}
}

// appendPlanKey appends the cache key's prefix: the target the statement
// is planned for. The normalised text follows it.
func appendPlanKey(dst []byte, t planner.Target, kind byte) []byte {
	dst = append(dst, kind)
	dst = append(dst, t.Keyspace...)
	dst = append(dst, 0)
	dst = append(dst, t.Shard...)
	return append(dst, 0)
}

// appendReadSide appends which side of the routing rules' read shares
// the session is on (movetables' canary reads): sessions on different
// sides plan a moved table's reads in different keyspaces. Nothing is
// appended while no rule has a share.
func appendReadSide(dst []byte, vs *vschema.VSchema, t planner.Target) []byte {
	if vs == nil || vs.RoutingRules == nil {
		return dst
	}
	side := 0
	if t.ReadShares {
		side = 1 + vs.ReadSide(t.ReadDraw)
	}
	return append(dst, byte(side), 0)
}

// Key kinds: COM_QUERY text normalised by the lexer, and prepared
// statement text (its ? markers are the client's arguments).
const (
	planKeyQuery    byte = 'q'
	planKeyPrepared byte = 'p'
)

// runCached runs one COM_QUERY statement through the plan cache: the text
// is normalised by the lexer (no parse on a hit) and the cached plan runs
// with the extracted literals as arguments. It returns false, having
// written nothing, when the statement is not one the cache serves; the
// caller then parses and plans it as usual.
func (s *session) runCached(ctx context.Context, sql string) (handled bool, err error) {
	r := s.routing()
	if r.snap == nil || s.srv.plans == nil || s.readsBackslashesAsText(sql) {
		return false, nil
	}
	comments, core, ok := splitMarginComments(sql)
	if !ok {
		return false, nil
	}
	vs, target := r.snap.VSchema, s.target()
	key := appendPlanKey(s.keyBuf[:0], target, planKeyQuery)
	key = appendReadSide(key, vs, target)
	prefix := len(key)
	key, args, ok := planner.AppendNormalized(key, core, s.argBuf[:0])
	s.keyBuf = key[:0]
	defer func() {
		clear(args) // drop references to this statement's values
		s.argBuf = args[:0]
	}()
	if !ok {
		return false, nil
	}
	e, hit := s.srv.plans.get(key, vs)
	if !hit {
		plan := s.buildCacheable(string(key[prefix:]), vs, target, len(args))
		e = s.srv.plans.put(string(key), vs, plan)
	}
	if e.plan == nil {
		return false, nil
	}
	s.stmt.cached, s.stmt.keyPrefix, s.stmt.comments = e, prefix, comments
	return true, s.execPlan(ctx, e.plan, r, args, false, false)
}

// runPreparedCached runs a prepared statement's plan from the cache,
// keyed by its text. handled is false when the statement is not one the
// cache serves (SET, SHOW, transactions, DDL, ...). A statement the
// session executes itself (h, prepare_execute.go) keeps the entry it
// last ran: while the vschema and the session's target are the same it
// runs that plan again without hashing its text or looking it up.
func (s *session) runPreparedCached(ctx context.Context, h *stmtHandle, sql string, args []any, binary bool) (handled bool, err error) {
	r := s.routing()
	if r.snap == nil || s.srv.plans == nil || s.readsBackslashesAsText(sql) {
		return false, nil
	}
	vs, target := r.snap.VSchema, s.target()
	key := appendPlanKey(s.keyBuf[:0], target, planKeyPrepared)
	key = appendReadSide(key, vs, target)
	prefix := len(key)
	e := h.keptPlan(vs, key)
	if e != nil {
		s.srv.plans.hit(e)
	} else {
		key = append(key, sql...)
		var hit bool
		if e, hit = s.srv.plans.get(key, vs); !hit {
			plan := s.buildCacheable(sql, vs, target, len(args))
			e = s.srv.plans.put(string(key), vs, plan)
		}
		h.keepPlan(e, key[:prefix])
	}
	s.keyBuf = key[:0]
	if e.plan == nil {
		return false, nil
	}
	s.stmt.cached, s.stmt.keyPrefix = e, prefix
	return true, s.execPlan(ctx, e.plan, r, args, binary, false)
}

// buildCacheable plans text for the cache, or returns nil when its plan
// must not be cached: it does not parse as one statement, the planner
// refuses it (the uncached path then reports the error against the
// client's own text), its markers are not the nargs arguments, or it is
// not a query or a row change (LAST_INSERT_ID() and CONNECTION_ID() are
// planned as StmtLocal, which the session answers: not cached).
func (s *session) buildCacheable(text string, vs *vschema.VSchema, target planner.Target, nargs int) *planner.Plan {
	stmts, err := s.parser.Parse(text)
	if err != nil || len(stmts) != 1 {
		return nil
	}
	switch stmts[0].(type) {
	case *ast.SelectStmt, *ast.SetOprStmt, *ast.InsertStmt, *ast.UpdateStmt, *ast.DeleteStmt:
	default:
		return nil
	}
	if planner.CheckRestricted(stmts[0], text, "") != nil {
		// Run by an admin, it must not become a cache hit for others
		// (restricted.go): it takes the uncached path, which checks.
		return nil
	}
	plan, err := planner.Build(stmts[0], text, vs, target)
	if err != nil || plan.ParamCount != nargs || plan.NoCache {
		return nil
	}
	switch plan.Type {
	case planner.StmtSelect, planner.StmtInsert, planner.StmtReplace, planner.StmtUpdate, planner.StmtDelete:
		return plan
	}
	return nil
}
