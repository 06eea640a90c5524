package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"
	tidbmysql "github.com/pingcap/tidb/pkg/parser/mysql"

	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/planner"
	"github.com/shardgate/shardgate/topo/vschema"
	"github.com/shardgate/shardgate/vindex"
)

// explainCommand is `shardctl explain`: the plan and the per-shard queries
// of a statement, computed with no server running. Shards answer with no
// rows, so the queries shown are those the first step of the plan sends
// (a join's inner side, for instance, sees no outer values).
func explainCommand() *command {
	var vschemaFile, schemaFile, sql, format, target string
	var shards int
	return &command{
		group: "explain", args: "--vschema FILE [--schema FILE] [--shards N] [--keyspace KS] --sql SQL [--format text|json]",
		summary: "show how the gateway would route a statement, offline (no etcd, no MariaDB)",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&vschemaFile, "vschema", "", "vschema JSON: {keyspace: vschema, ...}, or one keyspace's vschema with --keyspace (required)")
			fs.StringVar(&schemaFile, "schema", "", "SQL file of CREATE TABLE statements giving column types")
			fs.IntVar(&shards, "shards", 4, "number of equal key-range shards of each sharded keyspace")
			fs.StringVar(&target, "keyspace", "", "the session's keyspace (as after USE)")
			fs.StringVar(&sql, "sql", "", "the statement to explain (required); ? parameters are bound to 1, 2, ...")
			fs.StringVar(&format, "format", "text", "output format: text or json")
		},
		run: func(ctx context.Context, e *env, args []string) error {
			if err := wantArgs(args); err != nil {
				return err
			}
			switch {
			case vschemaFile == "":
				return usageErrorf("--vschema is required")
			case sql == "":
				return usageErrorf("--sql is required")
			case format != "text" && format != "json":
				return usageErrorf("--format must be text or json, not %q", format)
			case shards < 1 || shards > vindex.MaxSplit:
				return usageErrorf("--shards must be between 1 and %d", vindex.MaxSplit)
			}
			vs, err := loadExplainVSchema(vschemaFile, target)
			if err != nil {
				return err
			}
			oc := &planner.OfflineVCursor{ShardMap: map[string][]engine.ShardRange{}}
			for name, ks := range vs.Keyspaces {
				n := 1
				if ks.Sharded {
					n = shards
				}
				ranges, err := vindex.SplitKeyRange(n)
				if err != nil {
					return err
				}
				for _, r := range ranges {
					oc.ShardMap[name] = append(oc.ShardMap[name], engine.ShardRange{Name: r.String(), KeyRange: r})
				}
			}
			if schemaFile != "" {
				var tables map[string][]vschema.Column
				if oc.Columns, tables, err = loadSchemaColumns(schemaFile); err != nil {
					return err
				}
				// The file stands in for the schema tracker: its tables'
				// columns, in order, serve column-less INSERTs and *.
				for name := range vs.Keyspaces {
					vs.ApplyTrackedColumns(name, tables)
				}
			}
			if target == "" && len(vs.Keyspaces) == 1 {
				for name := range vs.Keyspaces {
					target = name
				}
			}
			return explainSQL(ctx, e, vs, oc, planner.Target{Keyspace: target}, sql, format)
		},
	}
}

func explainSQL(ctx context.Context, e *env, vs *vschema.VSchema, oc *planner.OfflineVCursor, target planner.Target, sql, format string) error {
	stmts, err := planner.NewParser().Parse(sql)
	if err != nil {
		return err
	}
	if len(stmts) != 1 {
		return fmt.Errorf("--sql must hold one statement, got %d", len(stmts))
	}
	plan, err := planner.Build(stmts[0], sql, vs, target)
	if err != nil {
		return err
	}
	planJSON, err := engine.PlanJSON(plan.Root)
	if err != nil {
		return err
	}
	args := make([]any, plan.ParamCount)
	for i := range args {
		args[i] = int64(i + 1)
	}
	rec := engine.NewRecorder(oc)
	_, execErr := plan.Root.Execute(ctx, rec, args)
	queries := rec.Queries()
	if format == "json" {
		out := struct {
			QueryType string              `json:"queryType"`
			Plan      json.RawMessage     `json:"plan"`
			Queries   []engine.ShardQuery `json:"queries"`
			Error     string              `json:"error,omitempty"`
		}{QueryType: plan.Type.String(), Plan: planJSON, Queries: queries}
		if out.Queries == nil {
			out.Queries = []engine.ShardQuery{}
		}
		if execErr != nil {
			out.Error = execErr.Error()
		}
		b, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(e.stdout, "%s\n", b)
		return err
	}
	fmt.Fprintf(e.stdout, "%s plan:\n%s\n\nshard queries:\n", plan.Type, planJSON)
	w := e.table("#", "KEYSPACE", "SHARD", "QUERY")
	for i, q := range queries {
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\n", i, q.Keyspace, q.Shard, q.Query)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if execErr != nil {
		fmt.Fprintf(e.stdout, "\nexecution stopped: %v\n", execErr)
	}
	return nil
}

// loadExplainVSchema reads a map of keyspace vschemas, or one keyspace's
// vschema named by --keyspace.
func loadExplainVSchema(file, keyspace string) (*vschema.VSchema, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	single := false
	for _, k := range []string{"sharded", "vindexes", "tables"} {
		if _, ok := raw[k]; ok {
			single = true
		}
	}
	kss := map[string]*vschema.Keyspace{}
	if single {
		if keyspace == "" {
			return nil, usageErrorf("%s is one keyspace's vschema: name it with --keyspace", file)
		}
		k, err := vschema.Parse(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		kss[keyspace] = k
	} else {
		for name, r := range raw {
			k, err := vschema.Parse(r)
			if err != nil {
				return nil, fmt.Errorf("%s: keyspace %s: %w", file, name, err)
			}
			kss[name] = k
		}
	}
	if len(kss) == 0 {
		return nil, errors.New(file + ": no keyspaces")
	}
	return vschema.Build(kss)
}

// loadSchemaColumns reads CREATE TABLE statements: table -> column -> the
// protocol type the offline shards report for it.
func loadSchemaColumns(file string) (map[string]map[string]byte, map[string][]vschema.Column, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, err
	}
	stmts, err := planner.NewParser().Parse(string(data))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", file, err)
	}
	out := map[string]map[string]byte{}
	ordered := map[string][]vschema.Column{}
	for _, s := range stmts {
		ct, ok := s.(*ast.CreateTableStmt)
		if !ok {
			continue
		}
		cols := map[string]byte{}
		for _, c := range ct.Cols {
			cols[strings.ToLower(c.Name.Name.O)] = protocolType(c.Tp.GetType())
			ordered[ct.Table.Name.O] = append(ordered[ct.Table.Name.O], vschema.Column{Name: c.Name.Name.O, Type: c.Tp.String()})
		}
		out[strings.ToLower(ct.Table.Name.O)] = cols
	}
	return out, ordered, nil
}

// protocolType maps a column type to what a shard sends for it; character
// types all read as VAR_STRING (ordered by weight_string).
func protocolType(t byte) byte {
	switch t {
	case tidbmysql.TypeVarchar, tidbmysql.TypeString, tidbmysql.TypeVarString,
		tidbmysql.TypeBlob, tidbmysql.TypeTinyBlob, tidbmysql.TypeMediumBlob, tidbmysql.TypeLongBlob:
		return gomysql.MYSQL_TYPE_VAR_STRING
	}
	return t
}
