package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"slices"
)

// Primitive is a node of a plan tree. The interface is sealed: only this
// package implements it.
type Primitive interface {
	// Execute runs the node and returns its whole result.
	Execute(ctx context.Context, vc VCursor, args []any) (*Result, error)
	// Stream runs the node, calling fn first with a Result carrying only
	// Fields, then with batches of Rows. Merging nodes buffer as little as
	// their semantics allow.
	Stream(ctx context.Context, vc VCursor, args []any, fn func(*Result) error) error
	// Inputs are the node's children.
	Inputs() []Primitive

	description() Description
}

// Description is a primitive as VEXPLAIN and the golden tests show it.
type Description struct {
	OperatorType string
	Variant      string
	Keyspace     string
	// Sharded says whether Keyspace is sharded (shown inside "Keyspace").
	Sharded bool
	// Other holds the node's own fields ("Query", "Table", "Vindex", ...).
	Other  map[string]any
	Inputs []Description
}

// Describe returns the description of a plan tree.
func Describe(p Primitive) Description {
	d := p.description()
	for _, in := range p.Inputs() {
		d.Inputs = append(d.Inputs, Describe(in))
	}
	return d
}

// PlanJSON renders a plan tree as indented JSON in Vitess's shape:
//
//	{"OperatorType": "Route", "Variant": "EqualUnique",
//	 "Keyspace": {"Name": "service", "Sharded": true},
//	 "Query": "select ...", "Table": "t", ..., "Inputs": [...]}
//
// The one serialiser of plans: golden tests and VEXPLAIN use it.
func PlanJSON(p Primitive) ([]byte, error) {
	var buf bytes.Buffer
	if err := writeDescription(&buf, Describe(p)); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, buf.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func writeDescription(buf *bytes.Buffer, d Description) error {
	buf.WriteByte('{')
	first := true
	field := func(key string, v any) error {
		if !first {
			buf.WriteByte(',')
		}
		first = false
		k, _ := json.Marshal(key)
		buf.Write(k)
		buf.WriteByte(':')
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		buf.Write(b)
		return nil
	}
	if err := field("OperatorType", d.OperatorType); err != nil {
		return err
	}
	if d.Variant != "" {
		if err := field("Variant", d.Variant); err != nil {
			return err
		}
	}
	if d.Keyspace != "" {
		ks := struct {
			Name    string
			Sharded bool
		}{d.Keyspace, d.Sharded}
		if err := field("Keyspace", ks); err != nil {
			return err
		}
	}
	for _, k := range slices.Sorted(maps.Keys(d.Other)) {
		if err := field(k, d.Other[k]); err != nil {
			return err
		}
	}
	if len(d.Inputs) > 0 {
		buf.WriteString(`,"Inputs":[`)
		for i, in := range d.Inputs {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeDescription(buf, in); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	}
	buf.WriteByte('}')
	return nil
}

// streamExecuted streams a primitive that computes its whole result first.
func streamExecuted(ctx context.Context, p Primitive, vc VCursor, args []any, fn func(*Result) error) error {
	r, err := p.Execute(ctx, vc, args)
	if err != nil {
		return err
	}
	if err := fn(&Result{Fields: r.Fields}); err != nil {
		return err
	}
	if len(r.Rows) == 0 {
		return nil
	}
	return fn(&Result{Rows: r.Rows, Warnings: r.Warnings})
}
