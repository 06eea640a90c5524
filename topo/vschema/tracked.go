package vschema

// ApplyTrackedColumns gives the tables of one keyspace the columns the
// schema tracker read from its shards (table name → columns in table
// order). A table whose vschema declares its columns authoritative keeps
// them (as in Vitess, the vschema wins); tables the vschema does not name
// are ignored (in a sharded keyspace they are unknown anyway).
//
// It changes v: call it only on a VSchema nobody else holds yet (right
// after Build, before it is published in a snapshot).
func (v *VSchema) ApplyTrackedColumns(keyspace string, tables map[string][]Column) {
	ks := v.Keyspaces[keyspace]
	if ks == nil {
		return
	}
	for name, cols := range tables {
		t := ks.Tables[name]
		if t == nil || (t.ColumnsKnown && t.ColumnsSource == "vschema") || len(cols) == 0 {
			continue
		}
		t.Columns, t.ColumnsKnown, t.ColumnsSource = cols, true, "tracker"
	}
}
