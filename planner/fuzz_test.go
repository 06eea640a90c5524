package planner

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/shardgate/shardgate/engine"
)

// FuzzParseBuild checks that no input makes Parse, Build, PlanJSON or
// executing the plan against the fake panic.
func FuzzParseBuild(f *testing.F) {
	files, _ := filepath.Glob("testdata/*_cases.json")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		var cases []goldenCase
		if err := json.Unmarshal(data, &cases); err != nil {
			f.Fatal(err)
		}
		for _, c := range cases {
			f.Add(c.Query)
		}
	}
	vs := loadVSchema(f)
	targets := []Target{{}, {Keyspace: "service"}, {Keyspace: "global"}, {Keyspace: "service", Shard: "-40"}}
	f.Fuzz(func(t *testing.T, sql string) {
		for _, target := range targets {
			stmts, err := NewParser().Parse(sql)
			if err != nil {
				return
			}
			for _, stmt := range stmts {
				plan, err := Build(stmt, sql, vs, target)
				if err != nil {
					continue
				}
				if _, err := engine.PlanJSON(plan.Root); err != nil {
					t.Fatalf("PlanJSON(%q): %v", sql, err)
				}
				args := make([]any, plan.ParamCount)
				for i := range args {
					args[i] = int64(i)
				}
				_, _ = plan.Root.Execute(context.Background(), newFakeVCursor(), args)
			}
		}
	})
}
