// Package planner turns SQL statements, parsed by the TiDB parser into an
// AST, into plans: trees of engine primitives (engine.Route, MergeSort,
// Limit, Aggregate, Insert, DDL, ...) that the gateway executes through the
// engine.VCursor it implements. Everything the gateway answers is planned
// here: SELECT/DML/DDL, SHOW, SET, LAST_INSERT_ID()/CONNECTION_ID() (Build);
// the Vitess statements the TiDB parser does not parse, SHOW VITESS_*,
// SELECT NEXT n VALUES and VEXPLAIN, recognised from their text
// (BuildVitess, tried before parsing); and where a prepared SELECT's
// columns are asked for (PrepareFields, CountParams).
//
// The planner owns parsing (parser.go and its literal driver, driver.go),
// normalisation for the plan cache (normalize.go), and plan building
// (builder.go, build_*.go, where.go, tables.go); VEXPLAIN KEYS and the
// offline VCursor of `shardctl explain` read the AST, so they live here
// too. Everything that runs at execution time lives in engine: plans are
// built once per statement text and cached by the gateway, and every query
// a plan sends to a shard is rendered at build time into an
// engine.Template, so executing a cached plan only substitutes arguments
// into text.
//
// The planner must NOT execute plans itself (beyond tests and the offline
// explain cursor), open connections, or import network code or the
// gateway, tablet and topo store: it sees the topology only through the
// vschema types. It is tested with a logging fake cursor and golden files
// in testdata/ (regenerated only by `go test ./planner -update`), each
// plan with a result set run through both Execute and Stream.
package planner
