//go:build !race

package tablet_test

const raceEnabled = false
