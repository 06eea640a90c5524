package reshard

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/shardgate/shardgate/vindex"
)

// parseRanges parses shard names and returns their key ranges sorted by
// start; they must not overlap and must leave no gap between the first
// and the last.
func parseRanges(what string, names []string) ([]vindex.KeyRange, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("%s: no shards: %w", what, ErrInvalid)
	}
	krs := make([]vindex.KeyRange, 0, len(names))
	for _, n := range names {
		kr, err := vindex.ParseKeyRange(n)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		krs = append(krs, kr)
	}
	slices.SortFunc(krs, func(a, b vindex.KeyRange) int { return bytes.Compare(a.Start, b.Start) })
	for i := 1; i < len(krs); i++ {
		prev, cur := krs[i-1], krs[i]
		if len(prev.End) == 0 || !bytes.Equal(prev.End, cur.Start) {
			if len(prev.End) == 0 || bytes.Compare(prev.End, cur.Start) > 0 {
				return nil, fmt.Errorf("%s: %s and %s overlap: %w", what, prev, cur, ErrInvalid)
			}
			return nil, fmt.Errorf("%s: gap between %s and %s: %w", what, prev, cur, ErrInvalid)
		}
	}
	return krs, nil
}

// checkCover checks that the target shards cover exactly the key ranges
// of the source shards: both contiguous, same first start and last end,
// and no shard in both lists.
func checkCover(sources, targets []string) error {
	src, err := parseRanges("source shards", sources)
	if err != nil {
		return err
	}
	dst, err := parseRanges("target shards", targets)
	if err != nil {
		return err
	}
	for _, s := range sources {
		if slices.Contains(targets, s) {
			return fmt.Errorf("shard %s is both a source and a target: %w", s, ErrInvalid)
		}
	}
	if !bytes.Equal(src[0].Start, dst[0].Start) || !bytes.Equal(src[len(src)-1].End, dst[len(dst)-1].End) {
		whole := func(krs []vindex.KeyRange) vindex.KeyRange {
			return vindex.KeyRange{Start: krs[0].Start, End: krs[len(krs)-1].End}
		}
		return fmt.Errorf("target shards cover %s, source shards %s: they must cover the same key range: %w",
			whole(dst), whole(src), ErrInvalid)
	}
	return nil
}
