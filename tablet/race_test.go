//go:build race

package tablet_test

// raceEnabled: the race detector makes sync.Pool drop a quarter of what is
// put back, so go-mysql's pooled packet buffers allocate again.
const raceEnabled = true
