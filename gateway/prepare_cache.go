package gateway

import "sync"

// prepareCacheSize bounds the prepare cache; when full it starts over.
const prepareCacheSize = 1024

// prepareCache remembers the result columns a shard announced for a
// prepared SELECT, so clients that prepare every statement (go-sql-driver
// without interpolateParams prepares, executes and closes each query) do
// not pay a shard round trip per prepare. Entries belong to one routing
// snapshot (a vschema or topology change starts over) and are dropped by
// any DDL through this gateway. DDL run on the shards directly can leave
// an entry stale until then; prepare-time columns are advisory (the
// execution sends its own).
type prepareCache struct {
	mu      sync.Mutex
	routing *routing
	entries map[prepareKey][][]byte
}

// prepareKey: the column definitions depend on where the statement runs,
// the session settings (SET NAMES changes column character sets) and the
// text.
type prepareKey struct {
	keyspace, shard, settings, query string
}

func (c *prepareCache) get(r *routing, k prepareKey) ([][]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.routing != r {
		return nil, false
	}
	cols, ok := c.entries[k]
	return cols, ok
}

func (c *prepareCache) put(r *routing, k prepareKey, cols [][]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.routing != r || len(c.entries) >= prepareCacheSize {
		c.routing, c.entries = r, map[prepareKey][][]byte{}
	}
	c.entries[k] = cols
}

// clear drops every entry (after DDL).
func (c *prepareCache) clear() {
	c.mu.Lock()
	c.entries = nil
	c.routing = nil
	c.mu.Unlock()
}
