package engine

import (
	"context"
	"fmt"
)

// DDL runs a schema change on every serving shard of a sharded keyspace.
// After a CREATE TABLE of a table the vschema lacks, it asks the gateway to
// add the table (AutoAddTable) and attaches a note saying which vindex was
// chosen.
type DDL struct {
	Keyspace string
	Query    string
	// AutoAddTable/AutoAddColumn, when set, name the table to add to the
	// vschema and the column its primary vindex goes on.
	AutoAddTable, AutoAddColumn string
}

var _ Primitive = (*DDL)(nil)

// Execute implements Primitive.
func (d *DDL) Execute(ctx context.Context, vc VCursor, _ []any) (*Result, error) {
	ss, err := vc.Shards(ctx, d.Keyspace)
	if err != nil {
		return nil, err
	}
	if len(ss) == 0 {
		return nil, errNoShards(d.Keyspace)
	}
	names := make([]string, len(ss))
	qs := make([]string, len(ss))
	for i, s := range ss {
		names[i], qs[i] = s.Name, d.Query
	}
	rs, err := vc.ExecuteMulti(ctx, d.Keyspace, names, qs)
	if err != nil {
		return nil, err
	}
	out := concatResults(rs)
	if d.AutoAddTable != "" {
		vx, err := vc.AutoAddTable(ctx, d.Keyspace, d.AutoAddTable, d.AutoAddColumn)
		if err != nil {
			return nil, err
		}
		vc.AddWarning(ErrNoteAutoVindex, fmt.Sprintf("table '%s.%s' added to the vschema with primary vindex '%s' on column '%s'",
			d.Keyspace, d.AutoAddTable, vx, d.AutoAddColumn))
	}
	return out, nil
}

// Stream implements Primitive.
func (d *DDL) Stream(ctx context.Context, vc VCursor, args []any, fn func(*Result) error) error {
	r, err := d.Execute(ctx, vc, args)
	if err != nil {
		return err
	}
	return fn(r)
}

// Inputs implements Primitive.
func (d *DDL) Inputs() []Primitive { return nil }

func (d *DDL) description() Description {
	desc := Description{OperatorType: "DDL", Keyspace: d.Keyspace, Sharded: true, Other: map[string]any{"Query": d.Query}}
	if d.AutoAddTable != "" {
		desc.Other["AutoAddTable"] = d.AutoAddTable
		desc.Other["AutoAddColumn"] = d.AutoAddColumn
	}
	return desc
}
