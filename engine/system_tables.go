package engine

import (
	"bytes"
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// information_schema answers that no one shard has. A keyspace is a
// database of the same name on each of its shards (the planner sends most
// system-schema queries to one of them), but two answers differ from one
// database's: the size columns of TABLES are per shard, and the list of
// databases of one instance is not the list of keyspaces.

// TableSizes runs an information_schema.TABLES query on every shard of a
// sharded keyspace and merges the rows of the same table (the same
// TABLE_SCHEMA and TABLE_NAME) from each shard into one: the size columns
// (TABLE_ROWS, DATA_LENGTH, INDEX_LENGTH, DATA_FREE) added up,
// AUTO_INCREMENT and UPDATE_TIME the largest, CREATE_TIME the earliest,
// AVG_ROW_LENGTH recomputed from the sums as InnoDB computes it
// (DATA_LENGTH / TABLE_ROWS) when the row has both, the other columns as
// the first shard has them. Rows keep the first shard's order (every
// shard orders the same tables the same way; the planner only uses this
// when nothing but the select list names a column that differs per shard).
type TableSizes struct {
	Input *Route
}

var _ Primitive = (*TableSizes)(nil)

// sizeColumns names the TABLES columns added up over the shards.
const sizeColumns = "TABLE_ROWS, DATA_LENGTH, INDEX_LENGTH, DATA_FREE"

// IsTableSizeColumn tells whether a TABLES column differs from shard to
// shard (the planner keeps WHERE and ORDER BY off them).
func IsTableSizeColumn(name string) bool {
	switch strings.ToUpper(name) {
	case "TABLE_ROWS", "DATA_LENGTH", "INDEX_LENGTH", "DATA_FREE", "AVG_ROW_LENGTH", "AUTO_INCREMENT",
		"CREATE_TIME", "UPDATE_TIME", "CHECK_TIME", "MAX_DATA_LENGTH", "CHECKSUM":
		return true
	}
	return false
}

// columnNamed finds a result column by the column it reads (OrgName, so
// an alias does not hide it), else by its name; -1 if none.
func columnNamed(fields []*mysql.Field, name string) int {
	for i, f := range fields {
		if len(f.OrgName) > 0 {
			if strings.EqualFold(string(f.OrgName), name) {
				return i
			}
		} else if strings.EqualFold(string(f.Name), name) {
			return i
		}
	}
	return -1
}

// tableMerge is how TableSizes merges one column.
type tableMerge uint8

const (
	keepFirst tableMerge = iota
	addUp
	largestNumber
	latestTime
	earliestTime
)

// Execute implements Primitive.
func (ts *TableSizes) Execute(ctx context.Context, vc VCursor, args []any) (*Result, error) {
	in, err := ts.Input.Execute(ctx, vc, args)
	if err != nil {
		return nil, err
	}
	merge := make([]tableMerge, len(in.Fields))
	for _, name := range []string{"TABLE_ROWS", "DATA_LENGTH", "INDEX_LENGTH", "DATA_FREE"} {
		if i := columnNamed(in.Fields, name); i >= 0 {
			merge[i] = addUp
		}
	}
	if i := columnNamed(in.Fields, "AUTO_INCREMENT"); i >= 0 {
		merge[i] = largestNumber
	}
	if i := columnNamed(in.Fields, "UPDATE_TIME"); i >= 0 {
		merge[i] = latestTime
	}
	if i := columnNamed(in.Fields, "CREATE_TIME"); i >= 0 {
		merge[i] = earliestTime
	}
	keyCols := []int{columnNamed(in.Fields, "TABLE_SCHEMA"), columnNamed(in.Fields, "TABLE_NAME")}
	if keyCols[1] < 0 {
		return nil, errInternal("information_schema.TABLES: the result has no TABLE_NAME column")
	}
	out := &Result{Fields: in.Fields, Warnings: in.Warnings}
	byTable := map[string]int{} // row of out by TABLE_SCHEMA and TABLE_NAME
	var key []byte
	for _, row := range in.Rows {
		key = key[:0]
		for _, c := range keyCols {
			if c >= 0 {
				key = strconv.AppendInt(key, int64(len(row[c])), 10)
				key = append(key, ':')
				key = append(key, row[c]...)
			}
		}
		at, seen := byTable[string(key)]
		if !seen {
			byTable[string(key)] = len(out.Rows)
			out.Rows = append(out.Rows, slices.Clone(row))
			continue
		}
		merged := out.Rows[at]
		for i, v := range row {
			if err := mergeTableColumn(merge[i], &merged[i], v); err != nil {
				return nil, errInternal("information_schema.TABLES: column %s: %v", in.Fields[i].Name, err)
			}
		}
	}
	rowsAt, dataAt, avgAt := columnNamed(in.Fields, "TABLE_ROWS"), columnNamed(in.Fields, "DATA_LENGTH"), columnNamed(in.Fields, "AVG_ROW_LENGTH")
	if avgAt >= 0 && rowsAt >= 0 && dataAt >= 0 {
		for _, row := range out.Rows {
			if row[avgAt] == nil || row[rowsAt] == nil || row[dataAt] == nil {
				continue
			}
			rows, err1 := strconv.ParseUint(string(row[rowsAt]), 10, 64)
			data, err2 := strconv.ParseUint(string(row[dataAt]), 10, 64)
			if err1 != nil || err2 != nil {
				continue
			}
			avg := uint64(0)
			if rows > 0 {
				avg = data / rows
			}
			row[avgAt] = strconv.AppendUint(nil, avg, 10)
		}
	}
	return out, nil
}

// mergeTableColumn merges another shard's value v into *into. NULL
// merges as nothing: a column NULL on every shard stays NULL.
func mergeTableColumn(how tableMerge, into *[]byte, v []byte) error {
	if how == keepFirst || v == nil {
		return nil
	}
	if *into == nil {
		*into = v
		return nil
	}
	switch how {
	case addUp, largestNumber:
		a, err := strconv.ParseUint(string(*into), 10, 64)
		if err != nil {
			return err
		}
		b, err := strconv.ParseUint(string(v), 10, 64)
		if err != nil {
			return err
		}
		if how == addUp {
			*into = strconv.AppendUint(nil, a+b, 10)
		} else if b > a {
			*into = v
		}
	case latestTime: // 'YYYY-MM-DD HH:MM:SS' orders as text
		if bytes.Compare(v, *into) > 0 {
			*into = v
		}
	case earliestTime:
		if bytes.Compare(v, *into) < 0 {
			*into = v
		}
	}
	return nil
}

// Stream implements Primitive.
func (ts *TableSizes) Stream(ctx context.Context, vc VCursor, args []any, fn func(*Result) error) error {
	r, err := ts.Execute(ctx, vc, args)
	if err != nil {
		return err
	}
	return fn(r)
}

// Inputs implements Primitive.
func (ts *TableSizes) Inputs() []Primitive { return []Primitive{ts.Input} }

func (ts *TableSizes) description() Description {
	return Description{OperatorType: "TableSizes", Other: map[string]any{"Summed": sizeColumns}}
}

// KeyspaceSchemata answers an information_schema.SCHEMATA query that
// names no one keyspace: the query runs on a shard of every keyspace
// (Routes[i] on keyspace Names[i]) and each keeps only the row of its
// keyspace's own database, so the answer lists the keyspaces the user
// may use, as SHOW DATABASES does, not one instance's databases. Rows are ordered by
// SCHEMA_NAME (Desc: descending), as the planner allows only that ORDER BY.
type KeyspaceSchemata struct {
	Names  []string
	Routes []*Route
	// Column is the position of SCHEMA_NAME in the result.
	Column int
	Desc   bool
}

var _ Primitive = (*KeyspaceSchemata)(nil)

// Execute implements Primitive.
func (ks *KeyspaceSchemata) Execute(ctx context.Context, vc VCursor, args []any) (*Result, error) {
	out := &Result{}
	var sees map[string]bool // nil: every keyspace (offline)
	if sess := vc.Session(); sess != nil {
		// Only the keyspaces the user may use, as SHOW DATABASES lists.
		sees = map[string]bool{}
		for _, k := range sess.Keyspaces() {
			sees[k.Name] = true
		}
	}
	for i, in := range ks.Routes {
		if sees != nil && !sees[ks.Names[i]] {
			continue
		}
		r, err := in.Execute(ctx, vc, args)
		if err != nil {
			return nil, err
		}
		if out.Fields == nil {
			out.Fields = r.Fields
		}
		out.Warnings = addWarnings(out.Warnings, r.Warnings)
		for _, row := range r.Rows {
			if ks.Column >= len(row) {
				return nil, errInternal("information_schema.SCHEMATA: the result has no column %d for SCHEMA_NAME", ks.Column+1)
			}
			if string(row[ks.Column]) == ks.Names[i] {
				out.Rows = append(out.Rows, row)
			}
		}
	}
	at := ks.Column
	slices.SortStableFunc(out.Rows, func(a, b [][]byte) int {
		if ks.Desc {
			return bytes.Compare(b[at], a[at])
		}
		return bytes.Compare(a[at], b[at])
	})
	return out, nil
}

// Stream implements Primitive.
func (ks *KeyspaceSchemata) Stream(ctx context.Context, vc VCursor, args []any, fn func(*Result) error) error {
	r, err := ks.Execute(ctx, vc, args)
	if err != nil {
		return err
	}
	return fn(r)
}

// Inputs implements Primitive.
func (ks *KeyspaceSchemata) Inputs() []Primitive {
	in := make([]Primitive, len(ks.Routes))
	for i, r := range ks.Routes {
		in[i] = r
	}
	return in
}

func (ks *KeyspaceSchemata) description() Description {
	other := map[string]any{"Keyspaces": ks.Names, "SchemaNameColumn": ks.Column}
	if ks.Desc {
		other["Order"] = "SCHEMA_NAME DESC"
	}
	return Description{OperatorType: "KeyspaceSchemata", Other: other}
}
