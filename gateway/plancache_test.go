package gateway

import (
	"fmt"
	"testing"

	"github.com/shardgate/shardgate/planner"
	"github.com/shardgate/shardgate/topo/vschema"
)

func normKey(t *testing.T, target planner.Target, sql string) []byte {
	t.Helper()
	key := appendPlanKey(nil, target, planKeyQuery)
	key, _, ok := planner.AppendNormalized(key, sql, nil)
	if !ok {
		t.Fatalf("%q not normalised", sql)
	}
	return key
}

func TestPlanCacheHitAfterSameShape(t *testing.T) {
	c := newPlanCache(10, 0)
	vs := &vschema.VSchema{}
	target := planner.Target{Keyspace: "service"}
	plan := &planner.Plan{}
	k1 := normKey(t, target, "select c from t where id = 1")
	if _, hit := c.get(k1, vs); hit {
		t.Fatal("hit in an empty cache")
	}
	c.put(string(k1), vs, plan)
	k2 := normKey(t, target, "select c from t where id = 987")
	e, hit := c.get(k2, vs)
	if !hit || e.plan != plan {
		t.Fatalf("second query of the same shape: hit=%v, want the first one's plan", hit)
	}
	if _, hit := c.get(normKey(t, planner.Target{Keyspace: "global"}, "select c from t where id = 1"), vs); hit {
		t.Error("hit for another target keyspace")
	}
	if st := c.stats(); st.Hits != 1 || st.Misses != 2 || st.Entries != 1 {
		t.Errorf("stats = %+v, want 1 hit, 2 misses, 1 entry", st)
	}
}

func TestPlanCacheMissAfterVSchemaChange(t *testing.T) {
	c := newPlanCache(10, 0)
	old, cur := &vschema.VSchema{}, &vschema.VSchema{}
	key := normKey(t, planner.Target{}, "select c from t where id = 1")
	c.put(string(key), old, &planner.Plan{})
	if _, hit := c.get(key, cur); hit {
		t.Fatal("hit with a plan built against the previous vschema")
	}
	plan := &planner.Plan{}
	c.put(string(key), cur, plan)
	if e, hit := c.get(key, cur); !hit || e.plan != plan {
		t.Fatal("no hit after re-planning against the new vschema")
	}
	if n := c.stats().Entries; n != 1 {
		t.Errorf("entries = %d, want 1 (the stale plan replaced)", n)
	}
}

func TestPlanCacheBounded(t *testing.T) {
	vs := &vschema.VSchema{}
	c := newPlanCache(100, 0)
	for i := range 1000 {
		c.put(fmt.Sprintf("q%d", i), vs, &planner.Plan{})
	}
	st := c.stats()
	if st.Entries != 100 || st.Evictions != 900 {
		t.Errorf("after 1000 plans in a 100-entry cache: %+v, want 100 entries, 900 evictions", st)
	}
	// The most recently used survive.
	c.get([]byte("q10"), vs) // evicted long ago: a miss
	if _, hit := c.get([]byte("q999"), vs); !hit {
		t.Error("the newest plan was evicted")
	}

	byBytes := newPlanCache(1000, 10*planOverhead)
	for i := range 50 {
		byBytes.put(fmt.Sprintf("q%d", i), vs, &planner.Plan{})
	}
	if st := byBytes.stats(); st.Bytes > 10*planOverhead || st.Entries >= 10 {
		t.Errorf("byte-bounded cache holds %d bytes in %d entries, limit %d bytes", st.Bytes, st.Entries, 10*planOverhead)
	}
}

func TestPlanCacheOff(t *testing.T) {
	if c := newPlanCache(-1, 0); c != nil {
		t.Fatal("a negative size must turn the cache off")
	}
	var c *planCache
	if st := c.stats(); st != (planCacheStats{}) {
		t.Errorf("stats of no cache = %+v", st)
	}
}

// TestPlanCacheKeepsHotEntries: eviction is approximate LRU, so an entry
// hit between puts outlives a stream of entries used once, even though it
// was stored first.
func TestPlanCacheKeepsHotEntries(t *testing.T) {
	vs := &vschema.VSchema{}
	c := newPlanCache(200, 0)
	c.put("hot", vs, &planner.Plan{})
	for i := range 5000 {
		c.put(fmt.Sprintf("cold%d", i), vs, &planner.Plan{})
		if _, hit := c.get([]byte("hot"), vs); !hit {
			t.Fatalf("the entry hit after every put was evicted after %d puts into a 200-entry cache", i+1)
		}
	}
	if st := c.stats(); st.Entries != 200 || st.Evictions != 4801 {
		t.Errorf("after 5001 plans in a 200-entry cache: %+v, want 200 entries, 4801 evictions", st)
	}
}

// BenchmarkPlanCacheHitParallel: 16 sessions hitting the same few plans
// at once. The hit path takes no lock all sessions share (run with
// -mutexprofile to check: nothing of planCache.get should appear).
func BenchmarkPlanCacheHitParallel(b *testing.B) {
	vs := &vschema.VSchema{}
	c := newPlanCache(0, 0)
	target := planner.Target{Keyspace: "service"}
	var keys [][]byte
	for i := range 8 {
		k := appendPlanKey(nil, target, planKeyQuery)
		k = fmt.Appendf(k, "select c from sbtest%d where id = ?", i)
		c.put(string(k), vs, &planner.Plan{})
		keys = append(keys, k)
	}
	b.SetParallelism(8) // 16 goroutines on 2 cores
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, hit := c.get(keys[i%len(keys)], vs); !hit {
				b.Error("miss")
				return
			}
			i++
		}
	})
}
