// Package planner turns SQL statements, parsed by the TiDB parser into an
// AST, into plans: trees of primitives (Route, MergeSort, Limit, Aggregate,
// Insert, DDL, ...) that a gateway executes through the small VCursor
// interface it implements.
//
// Plans are built once per statement text and cached by the gateway; every
// query a plan sends to a shard is rendered at build time into a template,
// so executing a cached plan only substitutes arguments into text.
//
// The package never opens a connection: it sees the topology only through
// the vschema types and VCursor, and is tested with a logging fake cursor
// and golden files in testdata/ (regenerated only by `go test ./planner
// -update`).
package planner
