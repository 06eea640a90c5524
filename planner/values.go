package planner

// evalValue is a value known at plan time (a literal) or at execution time
// (argument number param). Routing maps it through a vindex; rendering
// writes it into a shard query.
type evalValue struct {
	param    int    // >= 0: the argument with this index; -1: a literal
	val      any    // literal: the Go value handed to a vindex
	mappable bool   // literal: whether a vindex may see val (not for DECIMAL, hex, bit)
	sql      string // literal: its SQL text
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// resolve returns the value to map through a vindex, and whether a vindex
// may see it at all.
func (v evalValue) resolve(args []any) (any, bool, error) {
	if v.param < 0 {
		return v.val, v.mappable, nil
	}
	if v.param >= len(args) {
		return nil, false, errWrongArgs(v.param+1, len(args))
	}
	switch a := args[v.param].(type) {
	case nil, int64, uint64, float64, string, []byte:
		return a, true, nil
	case int:
		return int64(a), true, nil
	case int32:
		return int64(a), true, nil
	case uint32:
		return uint64(a), true, nil
	case bool:
		return boolInt(a), true, nil
	}
	return nil, false, nil
}

func (v evalValue) appendSQL(b []byte, args []any) ([]byte, error) {
	if v.param < 0 {
		return append(b, v.sql...), nil
	}
	if v.param >= len(args) {
		return nil, errWrongArgs(v.param+1, len(args))
	}
	return appendLiteral(b, args[v.param])
}

// String is the value as plan descriptions show it.
func (v evalValue) String() string {
	if v.param >= 0 {
		return "?"
	}
	return v.sql
}

// same reports whether two values are the same literal or the same argument.
func (v evalValue) same(w evalValue) bool {
	if v.param >= 0 || w.param >= 0 {
		return v.param == w.param
	}
	return v.sql == w.sql
}
