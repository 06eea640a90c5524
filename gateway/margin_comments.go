package gateway

import "strings"

// Margin comments and the plan cache. Tracing libraries (sqlcommenter,
// OpenTelemetry's SQL instrumentation, Rails' marginalia) put a comment
// with a per-request id before or after every statement:
//
//	SELECT c FROM t WHERE id = 7 /*traceparent='00-4bf9...-01'*/
//
// The normaliser refuses text with comments (a hint or an executable
// comment changes what runs), so each such statement was parsed and
// planned anew. As Vitess does (sqlparser.SplitMarginComments), plain
// comments at the start and the end are set aside: the statement between
// them is normalised and cached, and the comments are put back around
// every shard query the statement sends, so the shards' logs and
// processlists still show them. Query digests group by the statement
// without them. Comments inside the statement, and any that starts with
// /*! /*M! or /*+ anywhere, leave the statement to the parser.

// marginComments are the comments set aside from a statement's margins.
type marginComments struct {
	leading, trailing string
}

// splitMarginComments returns the plain /* */ comments at the start and
// the end of sql (with the blanks between them) and the statement in
// between, without the semicolons that may end it. ok is false when a margin comment is executable or a hint
// (the statement must not be cached without it).
func splitMarginComments(sql string) (c marginComments, core string, ok bool) {
	core = sql
	for {
		trimmed := strings.TrimLeft(core, " \t\r\n")
		if !strings.HasPrefix(trimmed, "/*") {
			break
		}
		end := strings.Index(trimmed[2:], "*/")
		if end < 0 || special(trimmed[2:]) {
			return marginComments{}, sql, false
		}
		core = trimmed[2+end+2:]
	}
	core = strings.TrimLeft(core, " \t\r\n")
	c.leading = sql[:len(sql)-len(core)]
	core = strings.TrimRight(core, " \t\r\n;") // a statement's own end
	end := len(c.leading) + len(core)
	for {
		trimmed := strings.TrimRight(core, " \t\r\n")
		if !strings.HasSuffix(trimmed, "*/") {
			break
		}
		start := strings.LastIndex(trimmed[:len(trimmed)-2], "/*")
		if start < 0 || special(trimmed[start+2:]) || strings.Contains(trimmed[start+2:len(trimmed)-2], "*/") {
			return marginComments{}, sql, false
		}
		core = trimmed[:start]
	}
	c.trailing = sql[len(c.leading)+len(core) : end]
	return c, core, true
}

// special tells whether a comment's body (after "/*") makes it an
// executable comment or an optimizer hint.
func special(body string) bool {
	return strings.HasPrefix(body, "!") || strings.HasPrefix(body, "M!") || strings.HasPrefix(body, "+")
}

// around puts the comments back around a shard query.
func (c marginComments) around(query string) string {
	if c.leading == "" && c.trailing == "" {
		return query
	}
	return c.leading + query + c.trailing
}
