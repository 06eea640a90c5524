package planner

import (
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/sqlerror"
)

// CheckRestrictedRoutine is CheckRestricted for a routine definition the
// parser cannot read (SplitRoutineDefinition), which goes to a shard as
// written and runs later with the shard account's rights, on CALL, as a
// trigger or on a schedule. Without an AST it checks words: a body that
// names anything CheckRestricted refuses — or runs text it builds
// (PREPARE, EXECUTE IMMEDIATE), which nobody could check — is refused
// (1235) to users without the admin grant. It refuses more than the AST
// check would (a string or a column that happens to hold such a word),
// never less: strings and quoted names are read as words too, since an
// ANSI_QUOTES session makes "mysql"."user" a table.
func CheckRestrictedRoutine(text string) error {
	if hasMariaDBExecutableComment(text) {
		return routineRefused("/*M! */")
	}
	prev := ""
	for _, w := range routineWords(text) {
		lw := strings.ToLower(w)
		if restrictedRoutineWord(lw) || (lw == "user" || lw == "role") && isUserVerb(prev) ||
			strings.HasPrefix(lw, "gtid_") || strings.HasPrefix(lw, "binlog_") {
			return routineRefused(w)
		}
		prev = lw
	}
	return nil
}

func restrictedRoutineWord(w string) bool {
	switch w {
	case "mysql", "sys", "_shardgate", "performance_schema", "processlist",
		"load_file", "outfile", "dumpfile", "infile", "directory",
		"shutdown", "restart", "kill", "grant", "revoke", "password", "global", "flush", "binlog",
		"sql_log_bin", "skip_replication", "server_id", "pseudo_thread_id", "pseudo_slave_mode",
		"master", "slave", "replica", "purge", "reset", "install", "uninstall", "soname",
		"prepare", "execute", "xa":
		return true
	}
	return false
}

func isUserVerb(w string) bool {
	return w == "create" || w == "drop" || w == "alter" || w == "rename" || w == "set"
}

func routineRefused(word string) error {
	return sqlerror.New(sqlerror.Unsupported, mysql.ER_NOT_SUPPORTED_YET,
		"This version of shardgate doesn't yet support 'a stored routine definition that mentions %s, without the admin grant: the gateway cannot parse its body to check it'", word)
}

// routineWords splits text into words (letters, digits, _ and $), the
// contents of strings and quoted names included, comments left out
// (executable /*! */ ones are read as text).
func routineWords(text string) []string {
	var out []string
	word := func(s string) {
		out = append(out, strings.FieldsFunc(s, func(r rune) bool {
			return !(r == '_' || r == '$' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= 0x80)
		})...)
	}
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			j := skipQuoted(text, i, false)
			word(text[i+1 : max(i+1, j-1)])
			i = j
		case c == '#' || c == '-' && i+2 < len(text) && text[i+1] == '-' && (text[i+2] == ' ' || text[i+2] == '\t' || text[i+2] == '\n'):
			j := strings.IndexByte(text[i:], '\n')
			if j < 0 {
				return out
			}
			i += j + 1
		case c == '/' && strings.HasPrefix(text[i:], "/*") && !strings.HasPrefix(text[i:], "/*!") && !strings.HasPrefix(text[i:], "/*M!"):
			j := strings.Index(text[i+2:], "*/")
			if j < 0 {
				return out
			}
			i += j + 4
		default:
			j := i
			for j < len(text) && text[j] != '\'' && text[j] != '"' && text[j] != '`' && text[j] != '#' && text[j] != '-' && text[j] != '/' {
				j++
			}
			if j == i {
				j = i + 1
			}
			word(text[i:j])
			i = j
		}
	}
	return out
}
