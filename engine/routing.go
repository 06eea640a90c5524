package engine

import (
	"bytes"
	"context"
	"errors"

	"github.com/shardgate/shardgate/vindex"
)

// Opcode says how a routed query picks its shards.
type Opcode int

// Routing opcodes (Vitess's names).
const (
	// Unsharded: the single shard of an unsharded keyspace.
	Unsharded Opcode = iota
	// ByDestination: the shard the session targeted with USE `ks:shard`.
	ByDestination
	// EqualUnique: the shard owning one value of a unique vindex.
	EqualUnique
	// IN: the shards owning a list of values, each getting its own values.
	IN
	// Scatter: every shard of the keyspace.
	Scatter
	// Reference: any one shard (no table, or only reference tables).
	Reference
	// DBA: any one shard, for information_schema and the other system schemas.
	DBA
	// None: the WHERE clause can never be true; the query runs on one shard
	// only to produce the right (empty or zero) result with its fields.
	None
	// Range: the shards covering a range of an order-preserving vindex.
	Range
	// Equal: the shards a non-unique lookup vindex names for one value.
	Equal
)

var opcodeNames = [...]string{"Unsharded", "ByDestination", "EqualUnique", "IN", "Scatter", "Reference", "DBA", "None", "Range", "Equal"}

func (o Opcode) String() string {
	if o >= 0 && int(o) < len(opcodeNames) {
		return opcodeNames[o]
	}
	return "Unknown"
}

// Routing is the shard-choosing part shared by Route, Update and Delete.
type Routing struct {
	Opcode   Opcode
	Keyspace string
	Sharded  bool
	Shard    string            // ByDestination
	Table    string            // for descriptions
	Vindex   vindex.Functional // EqualUnique, IN
	// Lookup, instead of Vindex, finds the shards through a lookup
	// vindex's table (EqualUnique, Equal, IN; IN lists are not cut).
	Lookup *LookupVindex
	Values []Value // EqualUnique, Equal: one; IN: the list
	Lo, Hi *Value  // Range: inclusive bounds, nil if open
	// SubValues, when > 0, says IN's values are argument SubValues-1: the
	// values of an IN subquery, known only at execution (see subquery.go).
	SubValues int
}

// destinations are the shards one execution goes to. vals[i], when vals is
// non-nil, is the IN-list for shards[i]; nil means every shard gets the full
// list (the query has no list hole, or the list could not be split).
type destinations struct {
	shards []string
	vals   [][]Value
}

func (r *Routing) resolve(ctx context.Context, vc VCursor, args []any) (destinations, error) {
	switch r.Opcode {
	case ByDestination:
		return destinations{shards: []string{r.Shard}}, nil
	case Unsharded:
		ss, err := vc.Shards(ctx, r.Keyspace)
		if err != nil {
			return destinations{}, err
		}
		if len(ss) != 1 {
			return destinations{}, errInternal("unsharded keyspace '%s' has %d serving shards, want 1", r.Keyspace, len(ss))
		}
		return destinations{shards: []string{ss[0].Name}}, nil
	case Reference, DBA, None:
		ss, err := vc.Shards(ctx, r.Keyspace)
		if err != nil {
			return destinations{}, err
		}
		if len(ss) == 0 {
			return destinations{}, errNoShards(r.Keyspace)
		}
		return destinations{shards: []string{ss[0].Name}}, nil
	}
	ss, err := vc.Shards(ctx, r.Keyspace)
	if err != nil {
		return destinations{}, err
	}
	if len(ss) == 0 {
		return destinations{}, errNoShards(r.Keyspace)
	}
	if r.Lookup != nil {
		return r.resolveLookup(ctx, vc, args, ss)
	}
	switch r.Opcode {
	case EqualUnique:
		i, ok, err := r.equalUniqueShard(ss, args)
		if err != nil {
			return destinations{}, err
		}
		if !ok {
			return scatter(ss), nil
		}
		return destinations{shards: []string{ss[i].Name}}, nil
	case IN:
		values := r.Values
		if r.SubValues > 0 {
			if r.SubValues > len(args) {
				return destinations{}, errWrongArgs(r.SubValues, len(args))
			}
			values, _ = args[r.SubValues-1].(subValues)
			if len(values) == 0 {
				// The subquery found nothing: one shard answers `IN (NULL)`.
				return destinations{shards: []string{ss[0].Name}, vals: [][]Value{{{Param: -1, SQL: "null"}}}}, nil
			}
		}
		perShard := make([][]Value, len(ss))
		for _, v := range values {
			id, ok, err := r.mapValue(v, args)
			if err != nil {
				return destinations{}, err
			}
			if !ok {
				// One value we cannot place: every shard gets every value.
				d := scatter(ss)
				if r.SubValues > 0 {
					for range d.shards {
						d.vals = append(d.vals, values)
					}
				}
				return d, nil
			}
			i, err := shardFor(ss, id, r.Keyspace)
			if err != nil {
				return destinations{}, err
			}
			perShard[i] = append(perShard[i], v)
		}
		var d destinations
		for i, vals := range perShard {
			if len(vals) > 0 {
				d.shards = append(d.shards, ss[i].Name)
				d.vals = append(d.vals, vals)
			}
		}
		return d, nil
	case Scatter:
		return scatter(ss), nil
	case Range:
		return r.resolveRange(ss, args)
	}
	return destinations{}, errInternal("unknown routing opcode %d", r.Opcode)
}

// resolveLookup asks the lookup table which keyspace ids hold the values
// and picks their shards. When it knows none, no row matches: one shard
// still answers, with the fields (the WHERE clause finds nothing there).
func (r *Routing) resolveLookup(ctx context.Context, vc VCursor, args []any, ss []ShardRange) (destinations, error) {
	vals := make([]lookupValue, 0, len(r.Values))
	for _, v := range r.Values {
		lv, ok, err := lookupValueOf(v, args)
		if err != nil {
			return destinations{}, err
		}
		if ok {
			vals = append(vals, lv)
		}
	}
	ids, err := r.Lookup.keyspaceIDs(ctx, vc, vals)
	if err != nil {
		return destinations{}, err
	}
	hit := make([]bool, len(ss))
	for _, id := range ids {
		i, err := shardFor(ss, id, r.Keyspace)
		if err != nil {
			return destinations{}, err
		}
		hit[i] = true
	}
	var d destinations
	for i, h := range hit {
		if h {
			d.shards = append(d.shards, ss[i].Name)
		}
	}
	switch {
	case len(d.shards) == 0:
		d.shards = []string{ss[0].Name}
	case len(d.shards) > 1 && r.Opcode == EqualUnique:
		// The plan runs whole on one shard; a unique lookup naming two
		// must be refused, not answered from both.
		return destinations{}, errInternal("unique lookup vindex %s: the lookup table %s.%s names %d shards for one value", r.Lookup.Vindex.Name(), r.Lookup.Keyspace, r.Lookup.Table, len(d.shards))
	}
	return d, nil
}

// resolveRange picks the shards whose key ranges meet [Lo, Hi]; a bound
// that is not a non-negative integer (where the order of keyspace ids and
// values part) scatters.
func (r *Routing) resolveRange(ss []ShardRange, args []any) (destinations, error) {
	bound := func(v *Value) ([]byte, bool, error) {
		if v == nil {
			return nil, true, nil
		}
		val, ok, err := v.resolve(args)
		if err != nil || !ok {
			return nil, false, err
		}
		switch x := val.(type) {
		case int64:
			if x < 0 {
				return nil, false, nil
			}
		case uint64:
		default:
			return nil, false, nil
		}
		id, err := r.Vindex.Map(val)
		if err != nil {
			return nil, false, nil
		}
		return id, true, nil
	}
	lo, ok1, err := bound(r.Lo)
	if err != nil {
		return destinations{}, err
	}
	hi, ok2, err := bound(r.Hi)
	if err != nil {
		return destinations{}, err
	}
	if !ok1 || !ok2 {
		return scatter(ss), nil
	}
	var d destinations
	for _, s := range ss {
		if hi != nil && bytes.Compare(s.KeyRange.Start, hi) > 0 {
			continue
		}
		if lo != nil && len(s.KeyRange.End) > 0 && bytes.Compare(lo, s.KeyRange.End) >= 0 {
			continue
		}
		d.shards = append(d.shards, s.Name)
	}
	if len(d.shards) == 0 {
		// lo > hi: no row; one shard still answers with the fields.
		d.shards = []string{ss[0].Name}
	}
	return d, nil
}

func scatter(ss []ShardRange) destinations {
	names := make([]string, len(ss))
	for i, s := range ss {
		names[i] = s.Name
	}
	return destinations{shards: names}
}

// mapValue maps a value through the routing vindex; ok is false when the
// vindex cannot say where rows with that value live (then the caller
// scatters: never guess).
func (r *Routing) mapValue(v Value, args []any) (vindex.KeyspaceID, bool, error) {
	val, mappable, err := v.resolve(args)
	if err != nil {
		return nil, false, err
	}
	if !mappable || val == nil {
		return nil, false, nil
	}
	id, err := r.Vindex.Map(val)
	if err != nil {
		if errors.Is(err, vindex.ErrUnmappable) || errors.Is(err, vindex.ErrUnsupportedValue) {
			return nil, false, nil
		}
		return nil, false, errInternal("vindex %s: %v", r.Vindex.Name(), err)
	}
	return id, true, nil
}

// equalUniqueShard is the index in ss of the shard an EqualUnique
// routing's value maps to; ok is false when the value cannot be mapped
// (the route then reaches every shard).
func (r *Routing) equalUniqueShard(ss []ShardRange, args []any) (i int, ok bool, err error) {
	id, ok, err := r.mapValue(r.Values[0], args)
	if err != nil || !ok {
		return 0, false, err
	}
	i, err = shardFor(ss, id, r.Keyspace)
	if err != nil {
		return 0, false, err
	}
	return i, true, nil
}

// shardFor finds the shard holding id.
func shardFor(ss []ShardRange, id vindex.KeyspaceID, keyspace string) (int, error) {
	for i, s := range ss {
		if s.KeyRange.Contains(id) {
			return i, nil
		}
	}
	return 0, errInternal("no serving shard of keyspace '%s' holds keyspace id %s", keyspace, id)
}

func errNoShards(keyspace string) error {
	return errInternal("keyspace '%s' has no serving shards", keyspace)
}

// describe fills the routing fields of a description.
func (r *Routing) describe(op string) Description {
	d := Description{OperatorType: op, Variant: r.Opcode.String(), Keyspace: r.Keyspace, Sharded: r.Sharded, Other: map[string]any{}}
	if r.Table != "" {
		d.Other["Table"] = r.Table
	}
	if r.Opcode == ByDestination {
		d.Other["TargetDestination"] = r.Shard
	}
	if r.Lookup != nil {
		d.Other["Vindex"] = r.Lookup.Vindex.Name()
		d.Other["LookupTable"] = r.Lookup.Keyspace + "." + r.Lookup.Table
		vals := make([]string, len(r.Values))
		for i, v := range r.Values {
			vals[i] = v.String()
		}
		d.Other["Values"] = vals
	}
	if r.Vindex != nil && (r.Opcode == EqualUnique || r.Opcode == IN) {
		d.Other["Vindex"] = r.Vindex.Name()
		vals := make([]string, len(r.Values))
		for i, v := range r.Values {
			vals[i] = v.String()
		}
		if r.SubValues > 0 {
			vals = []string{"::subquery"}
		}
		d.Other["Values"] = vals
	}
	if r.Opcode == Range {
		d.Other["Vindex"] = r.Vindex.Name()
		lo, hi := "-inf", "+inf"
		if r.Lo != nil {
			lo = r.Lo.String()
		}
		if r.Hi != nil {
			hi = r.Hi.String()
		}
		d.Other["Range"] = []string{lo, hi}
	}
	return d
}
