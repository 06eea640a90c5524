package engine

import (
	"context"
	"slices"
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/sqlerror"
)

// InsertSelect is INSERT ... SELECT whose rows come from anywhere (other
// shards, other keyspaces): the SELECT runs through the gateway first,
// whole, then its rows are inserted as an INSERT with those rows as
// values would be. Into a sharded table they are split by the shard of
// each row's primary vindex value, in the session's transaction (or, in
// autocommit, as the one multi-shard write an INSERT of those rows is);
// into an unsharded keyspace's table (Insert.Vindex nil) they go to its
// one shard as one INSERT, atomic there as any statement.
type InsertSelect struct {
	Input Primitive
	// Insert has the table, vindex and the statement with the rows' hole;
	// its Rows and Values are made for each execution.
	Insert *Insert
	// Columns is the number of columns inserted, 0 when the statement
	// names none (unsharded only: the shard checks the count); VindexCol
	// the position of the primary vindex column among them.
	Columns, VindexCol int
}

var _ Primitive = (*InsertSelect)(nil)

// Execute implements Primitive.
func (is *InsertSelect) Execute(ctx context.Context, vc VCursor, args []any) (*Result, error) {
	in, err := is.Input.Execute(ctx, vc, args)
	if err != nil {
		return nil, err
	}
	columns := is.Columns
	if columns == 0 {
		columns = len(in.Fields)
	} else if len(in.Fields) != columns {
		return nil, sqlerror.New(sqlerror.User, mysql.ER_WRONG_VALUE_COUNT_ON_ROW, "Column count doesn't match value count at row 1")
	}
	if len(in.Rows) == 0 {
		return &Result{}, nil
	}
	ins := *is.Insert
	ins.Rows, ins.Values = make([]*Template, 0, len(in.Rows)), make([]Value, 0, len(in.Rows))
	all := slices.Grow(slices.Clone(args), len(in.Rows)*columns)
	chunks := make([]string, columns+1)
	for j := 1; j < columns; j++ {
		chunks[j] = ","
	}
	for _, row := range in.Rows {
		base := len(all)
		params := make([]int, columns)
		for j, v := range row {
			params[j] = base + j
			all = append(all, valueOfColumn(v, in.Fields[j]))
		}
		ins.Rows = append(ins.Rows, ArgTemplate(chunks, params))
		ins.Values = append(ins.Values, Value{Param: base + is.VindexCol})
	}
	if ins.Vindex == nil {
		return ins.executeUnsharded(ctx, vc, all)
	}
	return ins.Execute(ctx, vc, all)
}

// executeUnsharded sends every row to the one shard of an unsharded
// keyspace, as one statement.
func (ins *Insert) executeUnsharded(ctx context.Context, vc VCursor, args []any) (*Result, error) {
	ss, err := vc.Shards(ctx, ins.Keyspace)
	if err != nil {
		return nil, err
	}
	if len(ss) == 0 {
		return nil, errNoShards(ins.Keyspace)
	}
	rows := make([]int, len(ins.Rows))
	for i := range rows {
		rows[i] = i
	}
	q, err := ins.render(rows, args)
	if err != nil {
		return nil, err
	}
	rs, err := vc.ExecuteMulti(ctx, ins.Keyspace, []string{ss[0].Name}, []string{q})
	if err != nil {
		return nil, err
	}
	return rs[0], nil
}

// valueOfColumn is a result value as an argument: integers as numbers (a
// vindex maps them as numbers), anything else as the text MySQL sent,
// which the shard converts back to the column's type exactly.
func valueOfColumn(v []byte, f *mysql.Field) any {
	if v == nil {
		return nil
	}
	switch f.Type {
	case mysql.MYSQL_TYPE_TINY, mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_LONG, mysql.MYSQL_TYPE_LONGLONG, mysql.MYSQL_TYPE_INT24:
		if f.Flag&mysql.UNSIGNED_FLAG != 0 {
			if n, err := strconv.ParseUint(string(v), 10, 64); err == nil {
				return n
			}
		} else if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return n
		}
	}
	return slices.Clone(v)
}

// Stream implements Primitive.
func (is *InsertSelect) Stream(ctx context.Context, vc VCursor, args []any, fn func(*Result) error) error {
	r, err := is.Execute(ctx, vc, args)
	if err != nil {
		return err
	}
	return fn(r)
}

// Inputs implements Primitive.
func (is *InsertSelect) Inputs() []Primitive { return []Primitive{is.Input} }

func (is *InsertSelect) description() Description {
	other := map[string]any{
		"Table": is.Insert.Table,
		"Query": is.Insert.Query.String(),
	}
	if is.Insert.Vindex == nil {
		return Description{OperatorType: "Insert", Variant: "SelectUnsharded", Keyspace: is.Insert.Keyspace, Other: other}
	}
	other["Vindex"] = is.Insert.Vindex.Name()
	other["VindexColumn"] = is.VindexCol
	return Description{OperatorType: "Insert", Variant: "Select", Keyspace: is.Insert.Keyspace, Sharded: true, Other: other}
}
