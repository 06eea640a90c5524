package engine

import (
	"context"
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// NextValues answers Vitess's SELECT NEXT n VALUES FROM seq with the first
// of n ids reserved from the sequence, in a column named nextval.
type NextValues struct {
	Keyspace string // the sequence table's (unsharded) keyspace
	Table    string
	Count    int64
}

// Execute implements Primitive.
func (n *NextValues) Execute(ctx context.Context, vc VCursor, _ []any) (*Result, error) {
	first, err := vc.NextSequenceValues(ctx, n.Keyspace, n.Table, n.Count)
	if err != nil {
		return nil, err
	}
	f := &mysql.Field{Name: []byte("nextval"), OrgName: []byte("nextval"), Charset: binaryCollation, ColumnLength: 20, Type: mysql.MYSQL_TYPE_LONGLONG, Flag: mysql.NOT_NULL_FLAG}
	return &Result{Fields: []*mysql.Field{f}, Rows: [][][]byte{{strconv.AppendInt(nil, first, 10)}}}, nil
}

// Stream implements Primitive.
func (n *NextValues) Stream(ctx context.Context, vc VCursor, args []any, fn func(*Result) error) error {
	return streamExecuted(ctx, n, vc, args, fn)
}

// Inputs implements Primitive.
func (n *NextValues) Inputs() []Primitive { return nil }

func (n *NextValues) description() Description {
	return Description{OperatorType: "NextValues", Keyspace: n.Keyspace, Other: map[string]any{"Table": n.Table, "Count": n.Count}}
}
