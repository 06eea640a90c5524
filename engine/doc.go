// Package engine runs plans: the primitives a plan tree is made of (Route,
// MergeSort, Join, Aggregate, GroupAggregate, Limit, Insert, DML, DDL,
// MoveRows, OwnedDML, ReferenceWrite, Concatenate, UncorrelatedSubquery,
// ...), the primitives for what the gateway answers itself (Send to one or
// any shard of a keyspace, Show, SessionFunc, NextValues, VExplain, Set),
// the VCursor interface through which they reach shards, their
// Result, and PlanJSON, the one serialiser of plan trees that VEXPLAIN,
// `shardctl explain` and the planner's golden files share. It is modelled
// on Vitess's go/vt/vtgate/engine: one file per primitive with its test
// beside it, and a sealed Primitive interface (only this package
// implements it).
//
// A primitive holds no execution state: one plan is shared by every
// session that runs its statement. Everything a primitive needs at run time
// is decided when the plan is built and held in small engine-side forms:
// shard queries as templates with holes (Template), literals and arguments
// as Value, HAVING as an Expr over column offsets.
//
// Send is the one place that picks "a shard of keyspace X" at run time
// (from VCursor.Shards). The primitives that answer from the gateway's
// state reach it through VCursor.Session (SessionActions: topology,
// warnings, ids) and, for SET, SettingActions; a cursor without a session
// (offline explain) makes them refuse.
//
// engine must NOT import the SQL parser (github.com/pingcap/tidb/pkg/parser
// and its subpackages) nor any package that builds plans (planner) or
// serves them (gateway, tablet, topo): the planner converts the AST into
// engine values at build time, and the gateway implements VCursor. It
// never opens a connection: shards are reached only through VCursor, so
// every primitive is tested with a logging fake (TestImportsNoParserNorNetwork
// checks the imports).
package engine
