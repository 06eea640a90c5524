package engine

import (
	"context"

	"github.com/shardgate/shardgate/vindex"
)

// MoveRows is an UPDATE that sets a sharded table's primary vindex column:
// a row whose new value belongs to another shard moves there. It runs
// the UPDATE as written on the shards its WHERE picks (so every SET
// expression keeps MySQL's semantics), then, on each of those shards
// that is not the new value's owner, reads the updated rows, inserts them
// into the owner and deletes them where they were. The gateway runs the
// whole plan in one transaction (NeedsTransaction), atomic in twopc mode.
//
// The new value must be a literal or a ? (one owner shard for every row).
type MoveRows struct {
	Update   *DML
	Table    string
	Column   string
	Vindex   vindex.Functional
	NewValue Value
}

var _ Primitive = (*MoveRows)(nil)

// NeedsTransaction reports whether a plan makes several dependent shard
// calls that must commit together: the gateway then runs it in a
// transaction of the session's transaction_mode when none is open.
func NeedsTransaction(p Primitive) bool {
	switch x := p.(type) {
	case *MoveRows, *OwnedDML:
		return true
	case *InsertSelect:
		// INSERT ... SELECT: its rows go to several shards as one statement,
		// all or none, as MySQL inserts them. Into an unsharded keyspace
		// they are one statement on one shard, atomic by itself.
		return x.Insert.Vindex != nil
	case *Insert:
		return len(x.Lookups) > 0
	}
	for _, in := range p.Inputs() {
		if NeedsTransaction(in) {
			return true
		}
	}
	return false
}

// Execute implements Primitive.
func (m *MoveRows) Execute(ctx context.Context, vc VCursor, args []any) (*Result, error) {
	ks := m.Update.Keyspace
	ss, err := vc.Shards(ctx, ks)
	if err != nil {
		return nil, err
	}
	if len(ss) == 0 {
		return nil, errNoShards(ks)
	}
	r := Routing{Keyspace: ks, Vindex: m.Vindex}
	id, ok, err := r.mapValue(m.NewValue, args)
	if err != nil {
		return nil, err
	}
	if !ok {
		val, _, _ := m.NewValue.resolve(args)
		return nil, errInternal("UPDATE of '%s': cannot compute the shard of new vindex value %s", m.Table, describeValue(val, m.NewValue))
	}
	owner, err := shardFor(ss, id, ks)
	if err != nil {
		return nil, err
	}
	d, err := m.Update.resolve(ctx, vc, args)
	if err != nil {
		return nil, err
	}
	return m.executeAt(ctx, vc, args, ss, owner, d)
}

// executeAt runs the move on destinations d, resolved by the caller
// (OwnedDML resolves them before it changes the lookup rows a lookup
// routing would read again); ss[owner] owns the new value.
func (m *MoveRows) executeAt(ctx context.Context, vc VCursor, args []any, ss []ShardRange, owner int, d destinations) (*Result, error) {
	ks := m.Update.Keyspace
	qs, err := m.Update.queries(d, args)
	if err != nil {
		return nil, err
	}
	rs, err := vc.ExecuteMulti(ctx, ks, d.shards, qs)
	if err != nil {
		return nil, err
	}
	out := concatResults(rs)

	var from []string
	for _, sh := range d.shards {
		if sh != ss[owner].Name {
			from = append(from, sh)
		}
	}
	if len(from) == 0 {
		return out, nil
	}
	lit, err := m.NewValue.appendSQL(nil, args)
	if err != nil {
		return nil, err
	}
	where := " where " + QuoteIdent(m.Column) + " = " + string(lit)
	sel := make([]string, len(from))
	for i := range from {
		sel[i] = "select * from " + QuoteIdent(m.Table) + where + " for update"
	}
	found, err := vc.ExecuteMulti(ctx, ks, from, sel)
	if err != nil {
		return nil, err
	}
	var moved []string
	ins := []byte(nil)
	for i, res := range found {
		if len(res.Rows) == 0 {
			continue
		}
		moved = append(moved, from[i])
		for _, row := range res.Rows {
			if ins == nil {
				ins = append(ins, "insert into "+QuoteIdent(m.Table)+" ("...)
				for j, f := range res.Fields {
					if j > 0 {
						ins = append(ins, ", "...)
					}
					ins = append(ins, QuoteIdent(string(f.Name))...)
				}
				ins = append(ins, ") values "...)
			} else {
				ins = append(ins, ", "...)
			}
			ins = append(ins, '(')
			for j, v := range row {
				if j > 0 {
					ins = append(ins, ", "...)
				}
				ins = appendColumnLiteral(ins, res.Fields[j], v)
			}
			ins = append(ins, ')')
		}
	}
	if len(moved) == 0 {
		return out, nil
	}
	if _, err := vc.ExecuteMulti(ctx, ks, []string{ss[owner].Name}, []string{string(ins)}); err != nil {
		return nil, err
	}
	del := make([]string, len(moved))
	for i := range moved {
		del[i] = "delete from " + QuoteIdent(m.Table) + where
	}
	if _, err := vc.ExecuteMulti(ctx, ks, moved, del); err != nil {
		return nil, err
	}
	return out, nil
}

func QuoteIdent(name string) string {
	b := []byte{'`'}
	for i := 0; i < len(name); i++ {
		if name[i] == '`' {
			b = append(b, '`')
		}
		b = append(b, name[i])
	}
	return string(append(b, '`'))
}

// Stream implements Primitive.
func (m *MoveRows) Stream(ctx context.Context, vc VCursor, args []any, fn func(*Result) error) error {
	r, err := m.Execute(ctx, vc, args)
	if err != nil {
		return err
	}
	return fn(r)
}

// Inputs implements Primitive.
func (m *MoveRows) Inputs() []Primitive { return nil }

func (m *MoveRows) description() Description {
	desc := m.Update.description()
	desc.OperatorType = "MoveRows"
	desc.Other["Table"] = m.Table
	desc.Other["ChangedVindexColumn"] = m.Column
	desc.Other["NewVindexValue"] = m.NewValue.String()
	return desc
}
