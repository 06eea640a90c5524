package planner

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/shardgate/shardgate/engine"
)

// referenceWrite plans a write to a reference table.
func (b *builder) referenceWrite(op string, stmt ast.StmtNode, src *source) (engine.Primitive, error) {
	t := src.ref.table
	if hasSubquery(stmt) {
		return nil, unsupportedf("subqueries in writes to reference table %s", t.Name)
	}
	rw := &engine.ReferenceWrite{Op: op, Keyspace: src.ref.ks.Name, Table: t.Name}
	if raw := src.ref.ks.Raw; raw != nil && raw.Tables[t.Name] != nil && raw.Tables[t.Name].Source != "" {
		ks, table, _ := strings.Cut(raw.Tables[t.Name].Source, ".")
		if table != t.Name {
			return nil, unsupportedf("writes to reference table %s whose source table %s has another name", t.Name, raw.Tables[t.Name].Source)
		}
		rw.SourceKeyspace = ks
	}
	var err error
	if rw.Query, err = render(stmt); err != nil {
		return nil, err
	}
	return rw, nil
}
