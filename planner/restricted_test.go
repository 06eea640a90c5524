package planner

import (
	"testing"

	"github.com/shardgate/shardgate/sqlerror"
)

// TestCheckRestricted pins what a user without the admin grant may not
// send toward a shard, and the MySQL error of each; and that ordinary
// statements, including ones that merely mention the words, pass.
func TestCheckRestricted(t *testing.T) {
	const who = "'app'@'10.0.0.1'"
	for _, tc := range []struct {
		sql  string
		code uint16 // 0: allowed
		msg  string // the error's message, when given
	}{
		// Finding 5 of issue 15, as the attacker sent it.
		{sql: "SHUTDOWN", code: 1227, msg: "Access denied; you need (at least one of) the SHUTDOWN privilege(s) for this operation"},
		{sql: "CREATE USER 'evil'@'%' IDENTIFIED BY 'x'", code: 1227, msg: "Access denied; you need (at least one of) the CREATE USER privilege(s) for this operation"},
		{sql: "GRANT ALL ON *.* TO 'evil'@'%'", code: 1227},
		{sql: "SELECT 1 INTO OUTFILE '/tmp/x'", code: 1227, msg: "Access denied; you need (at least one of) the FILE privilege(s) for this operation"},
		{sql: "SELECT LOAD_FILE('/etc/hostname')", code: 1227},
		{sql: "SELECT * FROM mysql.user", code: 1142, msg: "SELECT command denied to user 'app'@'10.0.0.1' for table `mysql`.`user`"},
		// The rest of the list (docs/SECURITY.md).
		{sql: "RESTART", code: 1227},
		{sql: "DROP USER x", code: 1227},
		{sql: "ALTER USER x IDENTIFIED BY 'q'", code: 1227},
		{sql: "RENAME USER a TO b", code: 1227},
		{sql: "CREATE ROLE r", code: 1227},
		{sql: "SET DEFAULT ROLE r TO x", code: 1227},
		{sql: "REVOKE ALL ON *.* FROM x", code: 1227},
		{sql: "SET PASSWORD FOR x = PASSWORD('y')", code: 1044, msg: "Access denied for user 'app'@'10.0.0.1' to database 'mysql'"},
		{sql: "SET PASSWORD = 'y'", code: 1044},
		{sql: "SET GLOBAL read_only = 1", code: 1227},
		{sql: "SET @@global.max_connections = 1", code: 1227},
		{sql: "SET autocommit = 1, @@GLOBAL.read_only = 1", code: 1227},
		{sql: "SET GLOBAL TRANSACTION ISOLATION LEVEL READ COMMITTED", code: 1227},
		{sql: "SET sql_log_bin = 0", code: 1227},
		{sql: "SET @@session.gtid_seq_no = 5", code: 1227},
		{sql: "FLUSH TABLES", code: 1227, msg: "Access denied; you need (at least one of) the RELOAD privilege(s) for this operation"},
		{sql: "FLUSH PRIVILEGES", code: 1227},
		{sql: "BINLOG 'AAAA'", code: 1227},
		{sql: "LOAD DATA INFILE '/etc/passwd' INTO TABLE t", code: 1227},
		{sql: "SELECT 1 UNION SELECT 2 INTO OUTFILE '/tmp/y'", code: 1227},
		{sql: "SELECT a FROM t INTO OUTFILE '/tmp/a' FIELDS TERMINATED BY ','", code: 1227},
		{sql: "SELECT * FROM t WHERE a IN (SELECT load_file('/x'))", code: 1227},
		{sql: "SELECT 1 FROM dual WHERE 1 = (SELECT LOAD_FILE('x'))", code: 1227},
		{sql: "WITH c AS (SELECT load_file('x') AS f) SELECT * FROM c", code: 1227},
		{sql: "UPDATE t SET a = LOAD_FILE('/x') WHERE id = 1", code: 1227},
		{sql: "INSERT INTO t (a) VALUES (LOAD_FILE('/x'))", code: 1227},
		{sql: "DO LOAD_FILE('/x')", code: 1227},
		{sql: "SET @a = LOAD_FILE('/x')", code: 1227},
		{sql: "SELECT CONCAT('a', UPPER(LOAD_FILE('/x')))", code: 1227},
		{sql: "/*!50000 SELECT LOAD_FILE('/etc/hostname') */", code: 1227},
		{sql: "SELECT 1 /*!99999 , LOAD_FILE('/x') */", code: 1227},
		{sql: "SELECT 1 /*! , LOAD_FILE('/x') */", code: 1227},
		{sql: "SELECT 1 /*M! , LOAD_FILE('/x') */", code: 1235},
		{sql: "SELECT 1 /*M!100000 , LOAD_FILE('/x') */", code: 1235},
		{sql: "SELECT /*! 1 /*M! , LOAD_FILE('/x') */", code: 1235},
		{sql: "SELECT 1 /*M!199999 , LOAD_FILE('/x') */", code: 1235},
		{sql: "INSERT INTO t SELECT * FROM mysql.user", code: 1142},
		{sql: "DELETE FROM mysql.user", code: 1142, msg: "DELETE command denied to user 'app'@'10.0.0.1' for table `mysql`.`user`"},
		{sql: "UPDATE mysql.user SET host = '%'", code: 1142},
		{sql: "SELECT * FROM t JOIN MySQL.db ON 1", code: 1142},
		{sql: "TABLE mysql.user", code: 1142},
		{sql: "CREATE VIEW v AS SELECT * FROM mysql.user", code: 1142},
		{sql: "SELECT * FROM _shardgate.reshard_position", code: 1142},
		{sql: "SELECT * FROM sys.processlist", code: 1142},
		{sql: "INSERT INTO performance_schema.setup_instruments VALUES (1)", code: 1142},
		{sql: "SELECT * FROM information_schema.processlist", code: 1227},
		{sql: "SELECT mysql.f()", code: 1370},
		{sql: "CALL mysql.p()", code: 1370},
		{sql: "SHOW GRANTS FOR 'root'@'localhost'", code: 1044},
		{sql: "SHOW TABLES FROM mysql", code: 1044},
		{sql: "SHOW COLUMNS FROM mysql.user", code: 1142},
		{sql: "SHOW CREATE TABLE mysql.user", code: 1142},
		{sql: "SHOW MASTER STATUS", code: 1227},
		{sql: "SHOW SLAVE STATUS", code: 1227},
		{sql: "SHOW REPLICA STATUS", code: 1227},
		{sql: "CREATE DATABASE x", code: 1044},
		{sql: "DROP DATABASE service", code: 1044, msg: "Access denied for user 'app'@'10.0.0.1' to database 'service'"},
		{sql: "ALTER DATABASE x CHARACTER SET utf8mb4", code: 1044},
		{sql: "CREATE TABLE t (a INT PRIMARY KEY) DATA DIRECTORY = '/tmp'", code: 1227},
		{sql: "CREATE TABLE t (a INT PRIMARY KEY) INDEX DIRECTORY = '/tmp'", code: 1227},
		{sql: "ALTER TABLE t DATA DIRECTORY = '/tmp'", code: 1227},
		{sql: "CREATE TABLE t (a INT PRIMARY KEY) PARTITION BY HASH(a) (PARTITION p0 DATA DIRECTORY = '/tmp')", code: 1227},

		{sql: "CREATE PROCEDURE p() SELECT LOAD_FILE('/x')", code: 1227},
		{sql: "CREATE PROCEDURE p() SET GLOBAL read_only = 1", code: 1227},
		{sql: "CREATE PROCEDURE p() BEGIN SELECT * FROM mysql.user; END", code: 1235},
		{sql: "CREATE PROCEDURE test_mrss() BEGIN SELECT 1 AS col1, 2 AS col2 UNION SELECT 3, 4; SELECT 0 UNION SELECT 1; END"},

		// Allowed.
		{sql: "CREATE PROCEDURE p(IN x INT) SELECT x + 1"},
		{sql: "SELECT 'LOAD_FILE(/etc/hostname)', 'mysql.user', \"/*M! x */\", `SHUTDOWN`"},
		{sql: "SELECT * FROM t WHERE name = 'SELECT * FROM mysql.user'"},
		{sql: "SELECT 1 /* /*M! , LOAD_FILE('/x') */"},
		{sql: "SELECT 1 -- /*M! , LOAD_FILE('/x') */"},
		// mariadb-dump's first line reaches the gateway with the next
		// statement; no MariaDB runs version 99.99.99's comments.
		{sql: "/*M!999999\\- enable the sandbox mode */ \n/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */"},
		{sql: "SELECT a, COUNT(*) FROM t WHERE b IN (SELECT b FROM u) GROUP BY a"},
		{sql: "INSERT INTO t (a) VALUES (1) ON DUPLICATE KEY UPDATE a = 2"},
		{sql: "UPDATE t SET a = a + 1 WHERE id = 1"},
		{sql: "DELETE FROM t WHERE id = 1"},
		{sql: "CREATE TABLE t (a INT PRIMARY KEY, b VARCHAR(10)) ENGINE = InnoDB"},
		{sql: "ALTER TABLE t ADD COLUMN c INT"},
		{sql: "DROP TABLE t"},
		{sql: "LOAD DATA LOCAL INFILE '/tmp/rows.csv' INTO TABLE t"},
		{sql: "SET autocommit = 0, @@session.sql_mode = 'ANSI', @x = 1"},
		{sql: "SET NAMES utf8mb4"},
		{sql: "SET TRANSACTION ISOLATION LEVEL READ COMMITTED"},
		{sql: "SHOW GRANTS"},
		{sql: "SHOW GRANTS FOR CURRENT_USER()"},
		{sql: "SHOW TABLES"},
		{sql: "SHOW VARIABLES LIKE 'gtid%'"},
		{sql: "SHOW PROCESSLIST"},
		{sql: "SELECT * FROM information_schema.columns WHERE table_schema = 'service'"},
		{sql: "SELECT * FROM performance_schema.threads"},
		{sql: "SELECT user, host FROM accounts"},
		{sql: "/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */"},
	} {
		p := NewParser()
		stmts, err := p.Parse(tc.sql)
		if err != nil {
			t.Errorf("%s: parse: %v", tc.sql, err)
			continue
		}
		err = CheckRestricted(stmts[0], tc.sql, who)
		if tc.code == 0 {
			if err != nil {
				t.Errorf("%s: got %v, want it allowed", tc.sql, err)
			}
			continue
		}
		me := sqlerror.ToMyError(err)
		if err == nil || me.Code != tc.code || tc.msg != "" && me.Message != tc.msg {
			t.Errorf("%s: got %v, want error %d %s", tc.sql, err, tc.code, tc.msg)
		}
		if err != nil && tc.code != 1235 && sqlerror.ClassOf(err) != sqlerror.User {
			t.Errorf("%s: class %s, want user", tc.sql, sqlerror.ClassOf(err))
		}
	}
}

// TestCheckRestrictedRoutine: routine definitions sent unparsed are
// refused when they name what CheckRestricted refuses, or build SQL at
// run time; go-sql-driver's own procedures pass.
func TestCheckRestrictedRoutine(t *testing.T) {
	for _, tc := range []struct {
		sql     string
		refused bool
	}{
		{"CREATE PROCEDURE p() BEGIN SELECT * FROM mysql.user; END", true},
		{"CREATE PROCEDURE p() BEGIN SELECT * FROM `mysql`.`user`; END", true},
		{"CREATE PROCEDURE p() BEGIN SELECT * FROM \"mysql\".\"user\"; END", true},
		{"CREATE PROCEDURE p() BEGIN IF 1 THEN SHUTDOWN; END IF; END", true},
		{"CREATE PROCEDURE p() BEGIN CREATE USER 'x'@'%'; END", true},
		{"CREATE PROCEDURE p() BEGIN GRANT ALL ON *.* TO 'x'@'%'; END", true},
		{"CREATE PROCEDURE p() BEGIN SELECT LOAD_FILE('/etc/hostname'); END", true},
		{"CREATE PROCEDURE p() BEGIN SELECT 1 INTO OUTFILE '/tmp/x'; END", true},
		{"CREATE PROCEDURE p() BEGIN SET @@GLOBAL.read_only = 1; END", true},
		{"CREATE PROCEDURE p() BEGIN SET sql_log_bin = 0; END", true},
		{"CREATE PROCEDURE p() BEGIN SET @s = 'SEL' 'ECT 1'; PREPARE st FROM @s; EXECUTE st; END", true},
		{"CREATE PROCEDURE p() BEGIN EXECUTE IMMEDIATE CONCAT('SHUT', 'DOWN'); END", true},
		{"CREATE PROCEDURE p() BEGIN SELECT 1 /*M! , LOAD_FILE('/x') */; END", true},
		{"CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN FLUSH TABLES; END", true},
		{"CREATE PROCEDURE p() BEGIN SELECT 1; -- mysql.user in a comment\n END", false},
		{"CREATE PROCEDURE test_signal(ret INT) BEGIN SELECT ret; SIGNAL SQLSTATE '45001' SET MESSAGE_TEXT = 'an error', MYSQL_ERRNO = 45001; END", false}, // MYSQL_ERRNO is not mysql
		{"CREATE PROCEDURE test_mrss() BEGIN SELECT 1; SELECT 2; END", false},
		{"CREATE PROCEDURE p(IN a INT) BEGIN DECLARE x INT DEFAULT 0; DECLARE CONTINUE HANDLER FOR NOT FOUND SET x = 1; WHILE x < a DO SET x = x + 1; END WHILE; SELECT x; END", false},
	} {
		err := CheckRestrictedRoutine(tc.sql)
		if tc.refused != (err != nil) {
			t.Errorf("%s: got %v, want refused %v", tc.sql, err, tc.refused)
		}
		if err != nil && sqlerror.ToMyError(err).Code != 1235 {
			t.Errorf("%s: got %v, want 1235", tc.sql, err)
		}
	}
}
