package engine

// Value is a value known at plan time (a literal) or at execution time
// (argument number Param). Routing maps it through a vindex; rendering
// writes it into a shard query.
type Value struct {
	Param    int    // >= 0: the argument with this index; -1: a literal
	Val      any    // literal: the Go value handed to a vindex
	Mappable bool   // literal: whether a vindex may see val (not for DECIMAL, hex, bit)
	SQL      string // literal: its SQL text
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// resolve returns the value to map through a vindex, and whether a vindex
// may see it at all.
func (v Value) resolve(args []any) (any, bool, error) {
	if v.Param < 0 {
		return v.Val, v.Mappable, nil
	}
	if v.Param >= len(args) {
		return nil, false, errWrongArgs(v.Param+1, len(args))
	}
	switch a := args[v.Param].(type) {
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

func (v Value) appendSQL(b []byte, args []any) ([]byte, error) {
	if v.Param < 0 {
		return append(b, v.SQL...), nil
	}
	if v.Param >= len(args) {
		return nil, errWrongArgs(v.Param+1, len(args))
	}
	return AppendLiteral(b, args[v.Param])
}

// String is the value as plan descriptions show it.
func (v Value) String() string {
	if v.Param >= 0 {
		return "?"
	}
	return v.SQL
}

// Same reports whether two values are the same literal or the same argument.
func (v Value) Same(w Value) bool {
	if v.Param >= 0 || w.Param >= 0 {
		return v.Param == w.Param
	}
	return v.SQL == w.SQL
}
