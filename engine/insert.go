package engine

import (
	"context"

	"github.com/shardgate/shardgate/vindex"
)

// Insert splits the rows of an INSERT (or REPLACE) into a sharded table by
// the shard owning each row's primary vindex value, and sends one
// statement per shard with that shard's rows.
type Insert struct {
	Keyspace string
	Table    string
	Vindex   vindex.Functional
	// Query is the statement with a hole where the rows go.
	Query *Template
	// Rows are each row's values, rendered: "1,'a',now()".
	Rows []*Template
	// Values are each row's primary vindex value.
	Values []Value
	// AutoInc fills the auto-increment column from its sequence; nil when
	// the table has none.
	AutoInc *AutoIncrement
	// Lookups are the lookup vindexes the table owns: each row's lookup
	// rows are written first (so a duplicate fails before the owner row
	// is), in the same transaction (NeedsTransaction).
	Lookups []*OwnedLookup
}

var _ Primitive = (*Insert)(nil)

// Execute implements Primitive.
func (ins *Insert) Execute(ctx context.Context, vc VCursor, args []any) (*Result, error) {
	var firstID uint64
	if ins.AutoInc != nil {
		var err error
		if args, firstID, err = ins.AutoInc.fill(ctx, vc, args); err != nil {
			return nil, err
		}
	}
	ss, err := vc.Shards(ctx, ins.Keyspace)
	if err != nil {
		return nil, err
	}
	if len(ss) == 0 {
		return nil, errNoShards(ins.Keyspace)
	}
	r := Routing{Keyspace: ins.Keyspace, Vindex: ins.Vindex}
	perShard := make([][]int, len(ss))
	firstShard := -1
	lookupRows := make([][]lookupRow, len(ins.Lookups))
	for i, v := range ins.Values {
		id, ok, err := r.mapValue(v, args)
		if err != nil {
			return nil, err
		}
		if !ok {
			val, _, _ := v.resolve(args)
			return nil, errInternal("INSERT into '%s': row %d: cannot compute the shard of vindex value %s", ins.Table, i+1, describeValue(val, v))
		}
		s, err := shardFor(ss, id, ins.Keyspace)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			firstShard = s
		}
		perShard[s] = append(perShard[s], i)
		for j, o := range ins.Lookups {
			lv, ok, err := lookupValueOf(o.Values[i], args)
			if err != nil {
				return nil, err
			}
			if ok {
				lookupRows[j] = append(lookupRows[j], lookupRow{lookupValue: lv, ksid: id})
			}
		}
	}
	for j, o := range ins.Lookups {
		if err := o.Vindex.insert(ctx, vc, lookupRows[j]); err != nil {
			return nil, err
		}
	}
	var shards, queries []string
	rowShard := -1
	for s, rows := range perShard {
		if len(rows) == 0 {
			continue
		}
		if s == firstShard {
			rowShard = len(shards)
		}
		q, err := ins.render(rows, args)
		if err != nil {
			return nil, err
		}
		shards = append(shards, ss[s].Name)
		queries = append(queries, q)
	}
	rs, err := vc.ExecuteMulti(ctx, ins.Keyspace, shards, queries)
	if err != nil {
		return nil, err
	}
	out := concatResults(rs)
	if rowShard >= 0 && rowShard < len(rs) && rs[rowShard] != nil && rs[rowShard].InsertID != 0 {
		out.InsertID = rs[rowShard].InsertID // the id MySQL reports: the first row's
	}
	if firstID != 0 {
		out.InsertID = firstID
	}
	return out, nil
}

func describeValue(val any, v Value) string {
	if v.Param < 0 {
		return v.SQL
	}
	s, err := SQLLiteral(val)
	if err != nil {
		return "?"
	}
	return s
}

// render builds one shard's statement from its rows.
func (ins *Insert) render(rows []int, args []any) (string, error) {
	env := renderEnv{args: args}
	var b []byte
	for i, r := range rows {
		if i > 0 {
			b = append(b, "),("...)
		}
		s, err := ins.Rows[r].render(&env)
		if err != nil {
			return "", err
		}
		b = append(b, s...)
	}
	env.vals = []Value{{Param: -1, SQL: string(b)}}
	return ins.Query.render(&env)
}

// Stream implements Primitive.
func (ins *Insert) Stream(ctx context.Context, vc VCursor, args []any, fn func(*Result) error) error {
	r, err := ins.Execute(ctx, vc, args)
	if err != nil {
		return err
	}
	return fn(r)
}

// Inputs implements Primitive.
func (ins *Insert) Inputs() []Primitive { return nil }

func (ins *Insert) description() Description {
	vals := make([]string, len(ins.Values))
	for i, v := range ins.Values {
		vals[i] = v.String()
	}
	rows := make([]string, len(ins.Rows))
	for i, r := range ins.Rows {
		rows[i] = "(" + r.String() + ")"
	}
	other := map[string]any{
		"Table":  ins.Table,
		"Vindex": ins.Vindex.Name(),
		"Values": vals,
		"Query":  ins.Query.String(),
		"Rows":   rows,
	}
	if a := ins.AutoInc; a != nil {
		other["AutoIncrement"] = a.Column + " from " + a.SeqKeyspace + "." + a.SeqTable
	}
	if len(ins.Lookups) > 0 {
		other["OwnedLookups"] = describeOwned(ins.Lookups)
	}
	return Description{OperatorType: "Insert", Variant: "Sharded", Keyspace: ins.Keyspace, Sharded: true, Other: other}
}
