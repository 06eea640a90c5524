package planner

import "testing"

func TestSplitRoutineDefinition(t *testing.T) {
	cases := []struct {
		sql, head, routine string
		ok                 bool
	}{
		{sql: "CREATE PROCEDURE p() BEGIN SELECT 1; SIGNAL SQLSTATE '45000'; END", routine: "CREATE PROCEDURE p() BEGIN SELECT 1; SIGNAL SQLSTATE '45000'; END", ok: true},
		{sql: "DROP PROCEDURE IF EXISTS p;\n CREATE PROCEDURE p(ret INT)\nBEGIN SELECT ret; END;\n",
			head: "DROP PROCEDURE IF EXISTS p;", routine: "\n CREATE PROCEDURE p(ret INT)\nBEGIN SELECT ret; END", ok: true},
		{sql: "create or replace definer=`root`@`%` function f() returns int return 1", routine: "create or replace definer=`root`@`%` function f() returns int return 1", ok: true},
		{sql: "CREATE DEFINER = CURRENT_USER() AGGREGATE FUNCTION g(x INT) RETURNS INT BEGIN RETURN 1; END", routine: "CREATE DEFINER = CURRENT_USER() AGGREGATE FUNCTION g(x INT) RETURNS INT BEGIN RETURN 1; END", ok: true},
		{sql: "/*!50003 CREATE*/ /*!50020 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1 */;;",
			routine: "/*!50003 CREATE*/ /*!50020 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1 */", ok: true},
		{sql: "SELECT 'CREATE PROCEDURE x'; CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO DELETE FROM t", head: "SELECT 'CREATE PROCEDURE x';", routine: " CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO DELETE FROM t", ok: true},
		{sql: "CREATE TABLE procedure_log (id INT)"},
		{sql: "CREATE VIEW v AS SELECT 1 AS function"},
		{sql: "SELECT 1; -- CREATE PROCEDURE p() BEGIN END\nSELECT 2"},
		{sql: "SELECT '; CREATE PROCEDURE p() BEGIN END'"},
	}
	for _, c := range cases {
		head, routine, ok := SplitRoutineDefinition(c.sql, false)
		if ok != c.ok || head != c.head || routine != c.routine {
			t.Errorf("SplitRoutineDefinition(%q) = %q, %q, %v; want %q, %q, %v", c.sql, head, routine, ok, c.head, c.routine, c.ok)
		}
	}
}
