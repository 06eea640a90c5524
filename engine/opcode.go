package engine

// RootOpcode names what a plan's root does, for metrics: a routed node's
// opcode (EqualUnique, IN, Scatter, ...), otherwise the operator
// (MergeSort, Insert, Aggregate, DDL, ...); keyspace is the root's
// keyspace, empty when it has none. Callers compute it once per cached
// plan (a description of the root allocates).
func RootOpcode(p Primitive) (opcode, keyspace string) {
	switch n := p.(type) {
	case nil:
		return "", ""
	case *Route:
		return n.Opcode.String(), n.Keyspace
	case *DML:
		return n.Opcode.String(), n.Keyspace
	}
	d := p.description()
	return d.OperatorType, d.Keyspace
}
