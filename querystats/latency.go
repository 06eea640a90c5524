package querystats

import (
	"math"
	"sync/atomic"
	"time"
)

// latency is a fixed-bucket latency sketch: bucket i counts durations up
// to 1µs·2^(i/4), so a percentile read from it is within about 19% of the
// truth, from 1µs to beyond an hour, in a fixed 1 KiB and with one atomic
// add per observation (no lock on the statement path).
type latency struct {
	buckets [latencyBuckets]atomic.Uint64
}

const (
	latencyBuckets = 128
	bucketsPerOct  = 4
)

// bucketOf is the bucket of a duration: the smallest i with
// d <= 1µs·2^(i/4).
func bucketOf(d time.Duration) int {
	us := float64(d) / float64(time.Microsecond)
	if us <= 1 {
		return 0
	}
	i := int(math.Ceil(math.Log2(us) * bucketsPerOct))
	return min(i, latencyBuckets-1)
}

// bucketBound is the upper bound of bucket i.
func bucketBound(i int) time.Duration {
	return time.Duration(math.Exp2(float64(i)/bucketsPerOct) * float64(time.Microsecond))
}

func (l *latency) observe(d time.Duration) { l.buckets[bucketOf(d)].Add(1) }

// quantiles returns the upper bounds of the buckets holding each of qs
// (ascending fractions in (0, 1]); zero when nothing was observed.
func (l *latency) quantiles(qs ...float64) []time.Duration {
	var counts [latencyBuckets]uint64
	var total uint64
	for i := range counts {
		counts[i] = l.buckets[i].Load()
		total += counts[i]
	}
	out := make([]time.Duration, len(qs))
	if total == 0 {
		return out
	}
	var seen uint64
	q := 0
	for i := range counts {
		seen += counts[i]
		for q < len(qs) && float64(seen) >= qs[q]*float64(total) {
			out[q] = bucketBound(i)
			q++
		}
	}
	for ; q < len(qs); q++ {
		out[q] = bucketBound(latencyBuckets - 1)
	}
	return out
}
