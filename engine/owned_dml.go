package engine

import (
	"context"

	"github.com/shardgate/shardgate/vindex"
)

// OwnedDML is an UPDATE or DELETE of a table that owns lookup vindexes.
// It locks and reads the rows it will change (Select, routed like the
// statement), removes their lookup rows, writes the new ones for the
// values an UPDATE sets, then runs the statement: all in one transaction
// (NeedsTransaction), so owner and lookup rows never disagree after a
// commit (in twopc mode, not after a crash either).
type OwnedDML struct {
	DML *DML
	// Move, when set, runs instead of DML: the UPDATE sets the primary
	// vindex column, so every lookup row of a row gets its new keyspace
	// id (and Lookups are all the owned ones).
	Move   *MoveRows
	Select *Route
	// Vindex is the primary vindex: it gives each row's keyspace id.
	Vindex  vindex.Functional
	Lookups []*OwnedLookup
}

var _ Primitive = (*OwnedDML)(nil)

// Execute implements Primitive.
func (o *OwnedDML) Execute(ctx context.Context, vc VCursor, args []any) (*Result, error) {
	d, err := o.DML.resolve(ctx, vc, args)
	if err != nil {
		return nil, err
	}
	qs, err := o.Select.queries(d, args)
	if err != nil {
		return nil, err
	}
	rs, err := vc.ExecuteMulti(ctx, o.DML.Keyspace, d.shards, qs)
	if err != nil {
		return nil, err
	}
	r := Routing{Keyspace: o.DML.Keyspace, Vindex: o.Vindex}
	var newID vindex.KeyspaceID
	if o.Move != nil {
		id, ok, err := r.mapValue(o.Move.NewValue, args)
		if err != nil {
			return nil, err
		}
		if !ok {
			val, _, _ := o.Move.NewValue.resolve(args)
			return nil, errInternal("UPDATE of '%s': cannot compute the keyspace id of new vindex value %s", o.DML.Table, describeValue(val, o.Move.NewValue))
		}
		newID = id
	}
	dels := make([][]lookupRow, len(o.Lookups))
	adds := make([][]lookupRow, len(o.Lookups))
	for _, res := range rs {
		for _, row := range res.Rows {
			if len(row) != 1+len(o.Lookups) {
				return nil, errInternal("%s of '%s': the row read for its lookup vindexes has %d columns, want %d", o.DML.Op, o.DML.Table, len(row), 1+len(o.Lookups))
			}
			id, ok, err := r.mapValue(Value{Param: -1, Val: row[0], Mappable: row[0] != nil}, nil)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, errInternal("%s of '%s': cannot compute the keyspace id of primary vindex value %q", o.DML.Op, o.DML.Table, row[0])
			}
			to := id
			if newID != nil {
				to = newID
			}
			for j, l := range o.Lookups {
				old, hadOld := columnLookupValue(res.Fields[1+j], row[1+j])
				if hadOld {
					dels[j] = append(dels[j], lookupRow{lookupValue: old, ksid: id})
				}
				if l.NewValue == nil {
					if hadOld && newID != nil {
						adds[j] = append(adds[j], lookupRow{lookupValue: old, ksid: to})
					}
					continue
				}
				nv, ok, err := lookupValueOf(*l.NewValue, args)
				if err != nil {
					return nil, err
				}
				if ok {
					adds[j] = append(adds[j], lookupRow{lookupValue: nv, ksid: to})
				}
			}
		}
	}
	// Old rows go first: an UPDATE may give a row the value another
	// row gives up.
	for j, l := range o.Lookups {
		if err := l.Vindex.delete(ctx, vc, dels[j]); err != nil {
			return nil, err
		}
	}
	for j, l := range o.Lookups {
		if err := l.Vindex.insert(ctx, vc, adds[j]); err != nil {
			return nil, err
		}
	}
	if o.Move != nil {
		ss, err := vc.Shards(ctx, o.DML.Keyspace)
		if err != nil {
			return nil, err
		}
		owner, err := shardFor(ss, newID, o.DML.Keyspace)
		if err != nil {
			return nil, err
		}
		return o.Move.executeAt(ctx, vc, args, ss, owner, d)
	}
	dq, err := o.DML.queries(d, args)
	if err != nil {
		return nil, err
	}
	res, err := vc.ExecuteMulti(ctx, o.DML.Keyspace, d.shards, dq)
	if err != nil {
		return nil, err
	}
	return concatResults(res), nil
}

// Stream implements Primitive.
func (o *OwnedDML) Stream(ctx context.Context, vc VCursor, args []any, fn func(*Result) error) error {
	r, err := o.Execute(ctx, vc, args)
	if err != nil {
		return err
	}
	return fn(r)
}

// Inputs implements Primitive.
func (o *OwnedDML) Inputs() []Primitive { return nil }

func (o *OwnedDML) description() Description {
	desc := o.DML.description()
	if o.Move != nil {
		desc = o.Move.description()
	}
	desc.Other["OwnedLookups"] = describeOwned(o.Lookups)
	desc.Other["LookupSelect"] = o.Select.Query.String()
	for _, l := range o.Lookups {
		if l.NewValue != nil {
			desc.Other["NewLookupValues"] = append(asStrings(desc.Other["NewLookupValues"]), l.Column+" = "+l.NewValue.String())
		}
	}
	return desc
}

func asStrings(v any) []string {
	s, _ := v.([]string)
	return s
}

// OwnedLookup is a lookup vindex an INSERT, UPDATE or DELETE keeps in
// step with the owner table's rows.
type OwnedLookup struct {
	Vindex *LookupVindex
	Column string
	// Values (INSERT) are each row's value of Column.
	Values []Value
	// NewValue (UPDATE) is the value Column is set to; nil when the
	// UPDATE leaves Column alone.
	NewValue *Value
}

func (o *OwnedLookup) describe() string {
	return o.Vindex.Vindex.Name() + " (" + o.Vindex.Vindex.Type() + ") on " + o.Column + " in " + o.Vindex.Keyspace + "." + o.Vindex.Table
}

func describeOwned(ls []*OwnedLookup) []string {
	out := make([]string, len(ls))
	for i, o := range ls {
		out[i] = o.describe()
	}
	return out
}
