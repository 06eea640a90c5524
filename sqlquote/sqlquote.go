// Package sqlquote writes values into SQL text as MySQL string literals.
// It is a leaf: it imports nothing of ours and does no I/O. Every place
// that renders a string into a statement (the engine's shard queries, the
// resharding copy) uses it, so they all escape alike.
package sqlquote

// Append appends s quoted as a MySQL string literal, with the backslash
// escapes mysql_real_escape_string uses (NUL, newline, carriage return,
// backslash, both quotes, Ctrl-Z). Statements that use it must not run
// under sql_mode NO_BACKSLASH_ESCAPES.
func Append[T ~string | ~[]byte](b []byte, s T) []byte {
	b = append(b, '\'')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case 0:
			b = append(b, '\\', '0')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\\':
			b = append(b, '\\', '\\')
		case '\'':
			b = append(b, '\\', '\'')
		case '"':
			b = append(b, '\\', '"')
		case 0x1a:
			b = append(b, '\\', 'Z')
		default:
			b = append(b, c)
		}
	}
	return append(b, '\'')
}
