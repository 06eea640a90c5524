package engine

// RowBudget is what a VCursor implements when it bounds the rows one
// statement holds in the gateway's memory (--max-buffered-rows): shard
// results read whole are counted where they are read, and a primitive
// that makes rows of its own (a Join's pairs) counts them here, so a
// join that multiplies rows fails with the budget's clear error (1041)
// instead of exhausting memory. A VCursor without it (offline explain,
// the planner's tests) has no bound.
type RowBudget interface {
	TakeRows(n int) error
}

// takeRows counts n more rows held at the gateway against vc's budget.
func takeRows(vc VCursor, n int) error {
	if b, ok := vc.(RowBudget); ok && n > 0 {
		return b.TakeRows(n)
	}
	return nil
}

// rowCounter counts rows as a primitive makes them and takes them from
// the budget in batches (one atomic add per batch, not per row).
type rowCounter struct {
	vc      VCursor
	pending int
}

// rowCounterBatch is how many rows a rowCounter takes at once.
const rowCounterBatch = 1024

// add counts one row.
func (c *rowCounter) add() error {
	c.pending++
	if c.pending < rowCounterBatch {
		return nil
	}
	return c.flush()
}

// flush takes the rows counted since the last flush.
func (c *rowCounter) flush() error {
	n := c.pending
	c.pending = 0
	return takeRows(c.vc, n)
}
