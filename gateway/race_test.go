//go:build race

package gateway_test

// raceEnabled: the race detector makes sync.Pool drop a quarter of what is
// put back, so go-mysql's pooled packet buffers allocate again.
const raceEnabled = true
