package gateway

import (
	"container/list"
	"context"
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
// used). Bounded by entry count and estimated bytes, least recently used
// out first.
type planCache struct {
	maxEntries int
	maxBytes   int64

	mu      sync.Mutex
	entries map[string]*list.Element // of *planEntry
	lru     list.List                // front: most recently used
	bytes   int64

	hits, misses, evictions atomic.Uint64
}

type planEntry struct {
	key string
	vs  *vschema.VSchema
	// plan is nil when the statement's normalised form could not be
	// planned: such statements take the uncached path, without the cost
	// of trying to normalise-and-plan them again.
	plan *planner.Plan
	size int64

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
	return &planCache{maxEntries: maxEntries, maxBytes: maxBytes, entries: map[string]*list.Element{}}
}

// get returns the entry for key planned against vs. key is a byte slice
// so a hit converts it without allocating.
func (c *planCache) get(key []byte, vs *vschema.VSchema) (*planEntry, bool) {
	c.mu.Lock()
	el, ok := c.entries[string(key)]
	if !ok || el.Value.(*planEntry).vs != vs {
		c.mu.Unlock()
		c.misses.Add(1)
		return nil, false
	}
	c.lru.MoveToFront(el)
	c.mu.Unlock()
	c.hits.Add(1)
	return el.Value.(*planEntry), true
}

// put stores a plan (nil: "do not normalise this one") for key and vs,
// replacing an entry planned against another vschema.
func (c *planCache) put(key string, vs *vschema.VSchema, plan *planner.Plan) *planEntry {
	e := &planEntry{key: key, vs: vs, plan: plan, size: int64(2*len(key)) + planOverhead}
	c.store(e)
	return e
}

func (c *planCache) store(e *planEntry) {
	key := e.key
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		c.remove(el)
	}
	c.entries[key] = c.lru.PushFront(e)
	c.bytes += e.size
	for c.lru.Len() > c.maxEntries || (c.bytes > c.maxBytes && c.lru.Len() > 1) {
		c.remove(c.lru.Back())
		c.evictions.Add(1)
	}
}

func (c *planCache) remove(el *list.Element) {
	e := c.lru.Remove(el).(*planEntry)
	delete(c.entries, e.key)
	c.bytes -= e.size
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
	c.mu.Lock()
	n, b := c.lru.Len(), c.bytes
	c.mu.Unlock()
	return planCacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Evictions: c.evictions.Load(), Entries: n, Bytes: b}
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
	vs, target := r.snap.VSchema, s.target()
	key := appendPlanKey(s.keyBuf[:0], target, planKeyQuery)
	prefix := len(key)
	key, args, ok := planner.AppendNormalized(key, sql, s.argBuf[:0])
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
	s.stmt.cached, s.stmt.keyPrefix = e, prefix
	return true, s.execPlan(ctx, e.plan, r, args, false, false)
}

// runPreparedCached runs a prepared statement's plan from the cache,
// keyed by its text. handled is false when the statement is not one the
// cache serves (SET, SHOW, transactions, DDL, ...).
func (s *session) runPreparedCached(ctx context.Context, sql string, args []any, binary bool) (handled bool, err error) {
	r := s.routing()
	if r.snap == nil || s.srv.plans == nil || s.readsBackslashesAsText(sql) {
		return false, nil
	}
	vs, target := r.snap.VSchema, s.target()
	key := appendPlanKey(s.keyBuf[:0], target, planKeyPrepared)
	key = append(key, sql...)
	s.keyBuf = key[:0]
	prefix := len(key) - len(sql)
	e, hit := s.srv.plans.get(key, vs)
	if !hit {
		plan := s.buildCacheable(sql, vs, target, len(args))
		e = s.srv.plans.put(string(key), vs, plan)
	}
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
	if err != nil || plan.ParamCount != nargs {
		return nil
	}
	switch plan.Type {
	case planner.StmtSelect, planner.StmtInsert, planner.StmtReplace, planner.StmtUpdate, planner.StmtDelete:
		return plan
	}
	return nil
}
