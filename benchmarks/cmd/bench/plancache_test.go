package main

import "testing"

// TestPlanCacheDelay reads the plan cache's contention out of `go tool
// pprof -top -cum -unit ms -sample_index delay`: a lock in the hit path
// shows as a frame of planCache; the runtime's own frames don't count.
func TestPlanCacheDelay(t *testing.T) {
	clean := []byte(`Showing nodes accounting for 115.82ms, 100% of 115.82ms total
      flat  flat%   sum%        cum   cum%
         0     0%     0%   115.82ms   100%  runtime.goschedImpl
  115.82ms   100%   100%   115.82ms   100%  runtime.unlock (inline)
`)
	if got := planCacheDelay(clean); got != 0 {
		t.Errorf("planCacheDelay(runtime frames only) = %v, want 0", got)
	}
	contended := []byte(`      flat  flat%   sum%        cum   cum%
   40.50ms 40.50% 40.50%   90.25ms 90.25%  sync.(*RWMutex).RUnlock
         0     0% 40.50%   88.10ms 88.10%  github.com/shardgate/shardgate/gateway.(*planCache).get
         0     0% 40.50%   12.00ms 12.00%  github.com/shardgate/shardgate/gateway.(*planCache).put
`)
	if got := planCacheDelay(contended); got != 88.10 {
		t.Errorf("planCacheDelay(planCache.get at 88.10ms cum) = %v, want 88.1", got)
	}
}
