package gateway

import "github.com/go-mysql-org/go-mysql/mysql"

// utf8mb4GeneralCI is the collation id the gateway uses for the text
// columns of results it makes itself (SHOW VITESS_SHARDS, SHOW WARNINGS, ...).
const utf8mb4GeneralCI = 45

func textFields(names ...string) []*mysql.Field {
	fields := make([]*mysql.Field, len(names))
	for i, n := range names {
		fields[i] = &mysql.Field{
			Name:         []byte(n),
			OrgName:      []byte(n),
			Charset:      utf8mb4GeneralCI,
			ColumnLength: 1024,
			Type:         mysql.MYSQL_TYPE_VAR_STRING,
		}
	}
	return fields
}

func uintField(name string) *mysql.Field {
	return &mysql.Field{
		Name:         []byte(name),
		OrgName:      []byte(name),
		Charset:      63, // binary
		ColumnLength: 20,
		Type:         mysql.MYSQL_TYPE_LONGLONG,
		Flag:         mysql.UNSIGNED_FLAG | mysql.NOT_NULL_FLAG,
	}
}
