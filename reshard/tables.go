package reshard

import (
	"context"
	"fmt"
	"slices"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo/vschema"
	"github.com/shardgate/shardgate/vindex"
)

// baseTables lists the base tables (no views) of the connection's
// database, sorted.
func baseTables(ctx context.Context, conn *tablet.Conn) ([]string, error) {
	res, err := conn.Execute(ctx, "SHOW FULL TABLES WHERE Table_type = 'BASE TABLE'")
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	var out []string
	for _, row := range res.Rows {
		out = append(out, string(row[0]))
	}
	slices.Sort(out)
	return out, nil
}

// isReference reports whether the vschema copies a table whole to every
// shard rather than splitting it.
func isReference(ks *vschema.KeyspaceSchema, table string) bool {
	t := ks.Tables[table]
	return t != nil && t.Type == vschema.TypeReference
}

// splitTables returns the tables whose rows are split between the
// targets (in name order) and the reference tables; ErrInvalid for a
// table the vschema can't place (not in it, a sequence, or without a
// single-column functional primary vindex).
func splitTables(ks *vschema.KeyspaceSchema, tables []string) (split, reference []string, err error) {
	for _, name := range tables {
		if isReference(ks, name) {
			reference = append(reference, name)
			continue
		}
		if _, err := primaryVindex(ks, name); err != nil {
			return nil, nil, err
		}
		split = append(split, name)
	}
	return split, reference, nil
}

// primaryVindex returns the table's primary vindex and its column.
func primaryVindex(ks *vschema.KeyspaceSchema, table string) (*vschemaColumn, error) {
	t := ks.Tables[table]
	switch {
	case t == nil:
		return nil, fmt.Errorf("table %q is not in the vschema of keyspace %q, so its rows have no shard: %w", table, ks.Name, ErrInvalid)
	case t.Type == vschema.TypeSequence:
		return nil, fmt.Errorf("table %q is a sequence table; a sharded keyspace can't hold one: %w", table, ErrInvalid)
	case len(t.ColumnVindexes) == 0:
		return nil, fmt.Errorf("table %q has no primary vindex in the vschema of keyspace %q: %w", table, ks.Name, ErrInvalid)
	}
	cv := t.ColumnVindexes[0]
	fn, ok := cv.Vindex.(vindex.Functional)
	if !ok || len(cv.Columns) != 1 {
		return nil, fmt.Errorf("table %q: primary vindex %q must be functional on one column to reshard: %w", table, cv.Name, ErrInvalid)
	}
	return &vschemaColumn{column: cv.Columns[0], vindex: fn}, nil
}

// vschemaColumn is a table's primary vindex column.
type vschemaColumn struct {
	column string
	vindex vindex.Functional
}

// tableInfo is what copying a table needs to know of it.
type tableInfo struct {
	name   string
	fields []*mysql.Field
	// pk are the offsets in fields of the primary key's columns, in key
	// order; vcol is the offset of the primary vindex's column.
	pk   []int
	vcol int
	vx   vindex.Functional
}

// describeTable reads a table's columns and primary key.
//
// In an unsharded keyspace (a movetables target) the table has no primary
// vindex: vcol is -1 and vx nil, and its rows all go to the one shard.
func describeTable(ctx context.Context, conn *tablet.Conn, ks *vschema.KeyspaceSchema, table string) (*tableInfo, error) {
	if !ks.Sharded {
		return describeColumns(ctx, conn, table)
	}
	pv, err := primaryVindex(ks, table)
	if err != nil {
		return nil, err
	}
	ti, err := describeColumns(ctx, conn, table)
	if err != nil {
		return nil, err
	}
	ti.vx = pv.vindex
	if ti.vcol = ti.offset(pv.column); ti.vcol < 0 {
		return nil, fmt.Errorf("table %q has no column %q, its primary vindex column: %w", table, pv.column, ErrInvalid)
	}
	return ti, nil
}

// offset is the index in fields of column col, -1 if none.
func (ti *tableInfo) offset(col string) int {
	for i, f := range ti.fields {
		if string(f.Name) == col {
			return i
		}
	}
	return -1
}

// describeColumns reads a table's columns and primary key; vcol is -1
// (a reference table has no primary vindex).
func describeColumns(ctx context.Context, conn *tablet.Conn, table string) (*tableInfo, error) {
	res, err := conn.Execute(ctx, "SELECT * FROM "+quoteIdent(table)+" LIMIT 0")
	if err != nil {
		return nil, fmt.Errorf("table %q: columns: %w", table, err)
	}
	ti := &tableInfo{name: table, fields: res.Fields, vcol: -1}
	offset := ti.offset
	keys, err := conn.Execute(ctx, "SHOW KEYS FROM "+quoteIdent(table)+" WHERE Key_name = 'PRIMARY'")
	if err != nil {
		return nil, fmt.Errorf("table %q: primary key: %w", table, err)
	}
	// SHOW KEYS lists an index's columns in Seq_in_index order; the
	// column name is its fifth column.
	for _, row := range keys.Rows {
		i := offset(string(row[4]))
		if i < 0 {
			return nil, fmt.Errorf("table %q: primary key column %q not found", table, row[4])
		}
		ti.pk = append(ti.pk, i)
	}
	if len(ti.pk) == 0 {
		return nil, fmt.Errorf("table %q has no primary key; resharding copies rows in primary-key order: %w", table, ErrInvalid)
	}
	return ti, nil
}

// afterKey appends a WHERE condition true for rows whose primary key
// sorts after last: (a > x) OR (a = x AND b > y) ..., spelled out rather
// than as a row comparison so that every server uses the key's range.
func (ti *tableInfo) afterKey(b []byte, last []string) []byte {
	for i := range ti.pk {
		if i > 0 {
			b = append(b, " OR "...)
		}
		b = append(b, '(')
		for j := 0; j <= i; j++ {
			f := ti.fields[ti.pk[j]]
			if j > 0 {
				b = append(b, " AND "...)
			}
			b = append(b, quoteIdent(string(f.Name))...)
			if j < i {
				b = append(b, " = "...)
			} else {
				b = append(b, " > "...)
			}
			b = appendLiteral(b, f, []byte(last[j]))
		}
		b = append(b, ')')
	}
	return b
}

// orderBy is the primary key's ORDER BY list.
func (ti *tableInfo) orderBy() string {
	var b []byte
	for i, c := range ti.pk {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, quoteIdent(string(ti.fields[c].Name))...)
	}
	return string(b)
}

// chunkQuery selects the next n rows after last (nil: from the start).
func (ti *tableInfo) chunkQuery(last []string, n int) string {
	b := []byte("SELECT * FROM " + quoteIdent(ti.name))
	if last != nil {
		b = ti.afterKey(append(b, " WHERE "...), last)
	}
	b = append(b, " ORDER BY "+ti.orderBy()+fmt.Sprintf(" LIMIT %d", n)...)
	return string(b)
}

// countQuery counts the rows after last (nil: all).
func (ti *tableInfo) countQuery(last []string) string {
	b := []byte("SELECT COUNT(*) FROM " + quoteIdent(ti.name))
	if last != nil {
		b = ti.afterKey(append(b, " WHERE "...), last)
	}
	return string(b)
}

// keyOf returns a row's primary key as text values.
func (ti *tableInfo) keyOf(row [][]byte) []string {
	out := make([]string, len(ti.pk))
	for i, c := range ti.pk {
		out[i] = string(row[c])
	}
	return out
}
