package vschema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// Keyspace is one keyspace's vschema, as Vitess writes it:
//
//	{"sharded": true,
//	 "vindexes": {"hash": {"type": "hash"}},
//	 "tables": {"user": {"column_vindexes": [{"column": "id", "name": "hash"}],
//	                     "auto_increment": {"column": "id", "sequence": "user_seq"}}}}
type Keyspace struct {
	Sharded  bool                  `json:"sharded,omitempty"`
	Vindexes map[string]*VindexDef `json:"vindexes,omitempty"`
	Tables   map[string]*Table     `json:"tables,omitempty"`
}

// VindexDef declares a vindex: its type (see vindex.Types), the type's
// params, and for lookup vindexes the table that owns its rows.
type VindexDef struct {
	Type   string            `json:"type"`
	Params map[string]string `json:"params,omitempty"`
	Owner  string            `json:"owner,omitempty"`
}

// The table types. The empty type is an ordinary table: sharded by its
// primary vindex in a sharded keyspace, whole in an unsharded one.
const (
	TypeSequence  = "sequence"  // a sequence table handing out auto-increment ids
	TypeReference = "reference" // a small table copied to every shard
)

// Table declares how one table is sharded.
type Table struct {
	// Type is "", TypeSequence or TypeReference.
	Type string `json:"type,omitempty"`
	// ColumnVindexes map columns to vindexes; the first is the primary
	// vindex, which decides the shard a row lives on.
	ColumnVindexes []*ColumnVindex `json:"column_vindexes,omitempty"`
	// AutoIncrement fills a column from a sequence table on insert.
	AutoIncrement *AutoIncrement `json:"auto_increment,omitempty"`
	// Columns, when given, lists the table's columns; column vindexes and
	// auto_increment may then name only these.
	Columns []*Column `json:"columns,omitempty"`
	// ColumnListAuthoritative says Columns is the table's whole column
	// list, in table order (Vitess's column_list_authoritative): the
	// planner may then expand column-less INSERTs and * from it without
	// the schema tracker (e.g. `shardctl explain` offline). Without it,
	// the tracked schema (topo.TrackedSchema) gives the columns.
	ColumnListAuthoritative bool `json:"column_list_authoritative,omitempty"`
	// Source is the "keyspace.table" a reference table is copied from.
	Source string `json:"source,omitempty"`
}

// ColumnVindex applies a vindex to a column (Column) or, for multi-column
// vindexes, to columns (Columns); exactly one of the two is set.
type ColumnVindex struct {
	Column  string   `json:"column,omitempty"`
	Columns []string `json:"columns,omitempty"`
	Name    string   `json:"name"`
}

// columns returns the columns the vindex applies to.
func (cv *ColumnVindex) columns() []string {
	if cv.Column != "" {
		return []string{cv.Column}
	}
	return cv.Columns
}

// AutoIncrement says which column a sequence fills. Sequence names a
// sequence table as "table" or "keyspace.table".
type AutoIncrement struct {
	Column   string `json:"column"`
	Sequence string `json:"sequence"`
}

// Column is a declared column of a table.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type,omitempty"`
}

// Parse reads one keyspace's vschema. It is strict: unknown fields and
// trailing data are errors, and the result must Validate.
func Parse(data []byte) (*Keyspace, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var k Keyspace
	if err := dec.Decode(&k); err != nil {
		return nil, fmt.Errorf("vschema: parse: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("vschema: parse: data after the vschema object at offset %d", dec.InputOffset())
	}
	if err := k.Validate(); err != nil {
		return nil, err
	}
	return &k, nil
}
