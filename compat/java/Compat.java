// Compat drives MariaDB Connector/J against a shardgate gateway the way a
// Java service does: a pool's init and validation calls, server-side
// prepared statements, rewritten batch inserts, transactions, generated
// keys and DatabaseMetaData. compat/java_test.go compiles and runs it;
// any failure is an exception (exit status 1) naming the step.
//
// Usage: java -cp mariadb-java-client.jar:. Compat host port user password unshardedKs shardedKs [tlsPort [mariadbHost:port]]
//
// mariadbHost:port is the unsharded keyspace's MariaDB itself (user root,
// no password): Connector/J's generated keys from it are the reference
// the gateway's sequence-generated keys must match.
import java.math.BigDecimal;
import java.sql.*;
import java.util.*;

public class Compat {
    static String host, port, user, password;

    static void check(boolean ok, String what) {
        if (!ok) throw new AssertionError(what);
    }

    static Connection connect(String db, String extra) throws SQLException {
        String url = "jdbc:mariadb://" + host + ":" + port + "/" + db
                + "?user=" + user + "&password=" + password
                + "&useServerPrepStmts=true&rewriteBatchedStatements=true" + extra;
        return DriverManager.getConnection(url);
    }

    public static void main(String[] args) throws Exception {
        host = args[0]; port = args[1]; user = args[2]; password = args[3];
        String unsharded = args[4], sharded = args[5];
        for (String ks : new String[] {unsharded, sharded}) {
            try (Connection c = connect(ks, "")) {
                poolInit(c);
                crud(c, ks);
                transactions(c);
                metadata(c, ks);
            }
            System.out.println("ok " + ks);
        }
        try (Connection c = connect(unsharded, "")) {
            generatedKeys(c);
        }
        System.out.println("ok generated keys");
        if (args.length > 7) {
            List<Long> reference;
            try (Connection d = DriverManager.getConnection("jdbc:mariadb://" + args[7] + "/" + unsharded
                    + "?user=root&useServerPrepStmts=true&rewriteBatchedStatements=true")) {
                reference = directMultiRowKeys(d);
            }
            try (Connection u = connect(unsharded, ""); Connection c = connect(sharded, "")) {
                sequenceKeys(u, c, reference);
            }
            System.out.println("ok sequence keys");
        }
        if (args.length > 6) {
            // A gateway with --require-tls and caching_sha2_password: TLS
            // connects (Connector/J 2.7's spelling of sslMode=REQUIRED with
            // a self-signed certificate), a plain connection gets 3159.
            port = args[6];
            try (Connection c = connect(sharded, "&useSsl=true&trustServerCertificate=true")) {
                poolInit(c);
            }
            try (Connection c = connect(sharded, "")) {
                throw new AssertionError("plain connection to a --require-tls gateway succeeded");
            } catch (SQLException e) {
                check(e.getErrorCode() == 3159, "plain connection: got error " + e.getErrorCode() + " " + e.getMessage());
            }
            System.out.println("ok tls");
        }
    }

    // What HikariCP does with a new connection and before lending it out.
    static void poolInit(Connection c) throws SQLException {
        check(c.isValid(5), "isValid");
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
            check(rs.next() && rs.getInt(1) == 1, "SELECT 1");
        }
        c.setAutoCommit(true);
        check(c.getAutoCommit(), "getAutoCommit");
        c.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
        check(c.getTransactionIsolation() == Connection.TRANSACTION_READ_COMMITTED, "getTransactionIsolation");
        c.setReadOnly(false);
        c.setNetworkTimeout(Runnable::run, 30000);
        c.clearWarnings();
        check(c.isValid(5), "isValid after init");
    }

    static void crud(Connection c, String ks) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS j_items");
            s.execute("CREATE TABLE j_items (id BIGINT PRIMARY KEY, name VARCHAR(50), amount DECIMAL(10,2), created DATETIME(6))");
        }
        try (PreparedStatement p = c.prepareStatement("INSERT INTO j_items (id, name, amount, created) VALUES (?, ?, ?, ?)")) {
            p.setLong(1, 1);
            p.setString(2, "first \uD83D\uDE00");
            p.setBigDecimal(3, new BigDecimal("12.34"));
            p.setTimestamp(4, Timestamp.valueOf("2024-02-29 13:14:15.123456"));
            check(p.executeUpdate() == 1, "single insert");
            for (int i = 2; i <= 101; i++) {
                p.setLong(1, i);
                p.setString(2, "n" + i);
                p.setBigDecimal(3, new BigDecimal(i + ".50"));
                p.setNull(4, Types.TIMESTAMP);
                p.addBatch();
            }
            int[] counts = p.executeBatch();
            int total = 0;
            for (int n : counts) total += (n == Statement.SUCCESS_NO_INFO ? 1 : n);
            check(total == 100, "batch insert: got " + total + " rows, want 100 (" + Arrays.toString(counts) + ")");
        }
        try (PreparedStatement p = c.prepareStatement("SELECT name, amount, created FROM j_items WHERE id = ?")) {
            p.setLong(1, 1);
            try (ResultSet rs = p.executeQuery()) {
                check(rs.next(), "row 1 found");
                check(rs.getString(1).equals("first \uD83D\uDE00"), "name: got " + rs.getString(1));
                check(rs.getBigDecimal(2).equals(new BigDecimal("12.34")), "amount: got " + rs.getBigDecimal(2));
                check(rs.getTimestamp(3).equals(Timestamp.valueOf("2024-02-29 13:14:15.123456")), "created: got " + rs.getTimestamp(3));
                ResultSetMetaData md = rs.getMetaData();
                check(md.getColumnCount() == 3, "column count");
                check(md.getColumnName(2).equalsIgnoreCase("amount"), "column name: got " + md.getColumnName(2));
                check(md.getColumnType(2) == Types.DECIMAL, "amount type: got " + md.getColumnType(2));
                check(!rs.next(), "one row");
            }
            p.setLong(1, 50);
            try (ResultSet rs = p.executeQuery()) {
                check(rs.next() && rs.getString(1).equals("n50") && rs.getTimestamp(3) == null, "row 50");
            }
        }
        try (PreparedStatement p = c.prepareStatement("SELECT count(*), sum(amount) FROM j_items WHERE id > ?")) {
            p.setLong(1, 0);
            try (ResultSet rs = p.executeQuery()) {
                check(rs.next() && rs.getLong(1) == 101, "count: got " + rs.getLong(1));
            }
        }
        try (PreparedStatement p = c.prepareStatement("UPDATE j_items SET name = ? WHERE id IN (?, ?)")) {
            p.setString(1, "upd");
            p.setLong(2, 2);
            p.setLong(3, 3);
            check(p.executeUpdate() == 2, "update two rows");
        }
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT id FROM j_items WHERE name = 'upd' ORDER BY id")) {
            check(rs.next() && rs.getLong(1) == 2 && rs.next() && rs.getLong(1) == 3 && !rs.next(), "updated rows");
        }
    }

    static void transactions(Connection c) throws SQLException {
        c.setAutoCommit(false);
        try (PreparedStatement p = c.prepareStatement("INSERT INTO j_items (id, name) VALUES (?, ?)")) {
            p.setLong(1, 1000);
            p.setString(2, "rolled back");
            p.executeUpdate();
            c.rollback();
            p.setLong(1, 1001);
            p.setString(2, "kept");
            p.executeUpdate();
            p.setLong(1, 1002);
            p.executeUpdate();
            c.commit();
        }
        c.setAutoCommit(true);
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT id FROM j_items WHERE id >= 1000 ORDER BY id")) {
            check(rs.next() && rs.getLong(1) == 1001 && rs.next() && rs.getLong(1) == 1002 && !rs.next(), "rows after commit/rollback");
        }
    }

    static void metadata(Connection c, String ks) throws SQLException {
        DatabaseMetaData md = c.getMetaData();
        check(md.getDatabaseProductName() != null, "product name");
        check(md.getDatabaseProductVersion().contains("10.11"), "product version: " + md.getDatabaseProductVersion());
        check(md.getDriverName() != null && md.getUserName() != null, "driver and user");
        boolean found = false;
        try (ResultSet rs = md.getTables(ks, null, "j_items", new String[] {"TABLE"})) {
            while (rs.next()) found |= rs.getString("TABLE_NAME").equalsIgnoreCase("j_items");
        }
        check(found, "getTables finds j_items");
        List<String> cols = new ArrayList<>();
        try (ResultSet rs = md.getColumns(ks, null, "j_items", "%")) {
            while (rs.next()) cols.add(rs.getString("COLUMN_NAME"));
        }
        check(cols.equals(Arrays.asList("id", "name", "amount", "created")), "getColumns: " + cols);
        try (ResultSet rs = md.getPrimaryKeys(ks, null, "j_items")) {
            check(rs.next() && rs.getString("COLUMN_NAME").equals("id"), "getPrimaryKeys");
        }
        try (ResultSet rs = md.getCatalogs()) {
            Set<String> cats = new HashSet<>();
            while (rs.next()) cats.add(rs.getString(1));
            check(cats.contains(ks), "getCatalogs: " + cats);
        }
        check(ks.equals(c.getCatalog()), "getCatalog: " + c.getCatalog());
    }

    // Auto-increment keys come from the unsharded keyspace's own MariaDB.
    static void generatedKeys(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS j_auto");
            s.execute("CREATE TABLE j_auto (id BIGINT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(10))");
        }
        try (PreparedStatement p = c.prepareStatement("INSERT INTO j_auto (v) VALUES (?)", Statement.RETURN_GENERATED_KEYS)) {
            for (long want = 1; want <= 3; want++) {
                p.setString(1, "v" + want);
                p.executeUpdate();
                try (ResultSet rs = p.getGeneratedKeys()) {
                    check(rs.next() && rs.getLong(1) == want, "generated key: want " + want);
                }
            }
        }
        try (Statement s = c.createStatement()) {
            s.executeUpdate("INSERT INTO j_auto (v) VALUES ('text')", Statement.RETURN_GENERATED_KEYS);
            try (ResultSet rs = s.getGeneratedKeys()) {
                check(rs.next() && rs.getLong(1) == 4, "generated key of a text insert");
            }
        }
    }

    // The keys Connector/J returns for a 3-row INSERT into an
    // AUTO_INCREMENT table of MariaDB itself, as offsets from the first
    // (it derives them from the OK packet's first id, the affected rows
    // and auto_increment_increment): the shape the gateway must give too.
    static List<Long> directMultiRowKeys(Connection d) throws SQLException {
        try (Statement s = d.createStatement()) {
            s.execute("DROP TABLE IF EXISTS j_direct_auto");
            s.execute("CREATE TABLE j_direct_auto (id BIGINT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(10))");
            s.execute("INSERT INTO j_direct_auto (v) VALUES ('first')");
            s.executeUpdate("INSERT INTO j_direct_auto (v) VALUES ('m1'), ('m2'), ('m3')", Statement.RETURN_GENERATED_KEYS);
            List<Long> keys = keys(s.getGeneratedKeys());
            check(!keys.isEmpty() && keys.get(0) == 2, "direct MariaDB multi-row insert: keys " + keys + ", want the first to be 2");
            checkRows(d, "j_direct_auto", keys, Arrays.asList("m1", "m2", "m3"), "direct MariaDB");
            List<Long> offsets = new ArrayList<>();
            for (long k : keys) offsets.add(k - keys.get(0));
            System.err.println("direct MariaDB multi-row insert: keys " + keys + ", offsets " + offsets);
            try (PreparedStatement p = d.prepareStatement("INSERT INTO j_direct_auto (v) VALUES (?)", Statement.RETURN_GENERATED_KEYS)) {
                List<Long> batch = batchInsert(p);
                System.err.println("direct MariaDB batch insert: keys " + batch);
                check(batch.equals(Arrays.asList(5L, 6L, 7L)), "direct MariaDB batch insert: keys " + batch + ", want [5, 6, 7]");
                checkRows(d, "j_direct_auto", batch, Arrays.asList("b1", "b2", "b3"), "direct MariaDB batch");
            }
            s.execute("DROP TABLE j_direct_auto");
            return offsets;
        }
    }

    // Generated keys of a sharded table whose ids come from a sequence in
    // the unsharded keyspace: the gateway generates them and reports the
    // first in the OK packet, so getGeneratedKeys() must return ids the
    // rows really have, for a plain Statement, a server-side
    // PreparedStatement and a multi-row insert (whose keys must have the
    // shape direct MariaDB gives: reference).
    static void sequenceKeys(Connection u, Connection c, List<Long> reference) throws SQLException {
        try (Statement s = u.createStatement()) {
            s.execute("DROP TABLE IF EXISTS j_seq");
            s.execute("CREATE TABLE j_seq (id BIGINT, next_id BIGINT, cache BIGINT, PRIMARY KEY (id)) COMMENT 'vitess_sequence'");
            // A block of 4 ids: the multi-row insert below needs a new one.
            s.execute("INSERT INTO j_seq (id, next_id, cache) VALUES (0, 1000, 4)");
        }
        try (Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS j_seq_items");
            s.execute("CREATE TABLE j_seq_items (id BIGINT NOT NULL PRIMARY KEY, v VARCHAR(20))");
            // A row with an explicit id, so a gateway reporting it would be caught.
            s.execute("INSERT INTO j_seq_items (id, v) VALUES (1, 'explicit')");
        }
        List<Long> all = new ArrayList<>();

        try (Statement s = c.createStatement()) {
            check(s.executeUpdate("INSERT INTO j_seq_items (v) VALUES ('plain')", Statement.RETURN_GENERATED_KEYS) == 1, "plain insert count");
            List<Long> keys = keys(s.getGeneratedKeys());
            check(keys.size() == 1 && keys.get(0) >= 1000, "plain Statement: generated keys " + keys + ", want one id from the sequence (>= 1000)");
            checkRows(c, "j_seq_items", keys, Arrays.asList("plain"), "plain Statement");
            all.addAll(keys);
        }

        try (PreparedStatement p = c.prepareStatement("INSERT INTO j_seq_items (v) VALUES (?)", Statement.RETURN_GENERATED_KEYS)) {
            for (int i = 1; i <= 2; i++) {
                p.setString(1, "prep" + i);
                check(p.executeUpdate() == 1, "prepared insert count");
                List<Long> keys = keys(p.getGeneratedKeys());
                check(keys.size() == 1 && keys.get(0) > all.get(all.size() - 1),
                        "server-side PreparedStatement: generated keys " + keys + ", want one id after " + all);
                checkRows(c, "j_seq_items", keys, Arrays.asList("prep" + i), "server-side PreparedStatement");
                all.addAll(keys);
            }
        }

        try (Statement s = c.createStatement()) {
            check(s.executeUpdate("INSERT INTO j_seq_items (v) VALUES ('m1'), ('m2'), ('m3')", Statement.RETURN_GENERATED_KEYS) == 3, "multi-row insert count");
            List<Long> keys = keys(s.getGeneratedKeys());
            check(!keys.isEmpty() && keys.get(0) > all.get(all.size() - 1), "multi-row insert: generated keys " + keys + ", want ids after " + all);
            List<Long> offsets = new ArrayList<>();
            for (long k : keys) offsets.add(k - keys.get(0));
            check(offsets.equals(reference), "multi-row insert: generated keys " + keys + " (offsets " + offsets + "), want offsets " + reference + " as from MariaDB");
            checkRows(c, "j_seq_items", keys, Arrays.asList("m1", "m2", "m3"), "multi-row insert");
            all.addAll(keys);
        }
        try (PreparedStatement p = c.prepareStatement("INSERT INTO j_seq_items (v) VALUES (?), (?)", Statement.RETURN_GENERATED_KEYS)) {
            p.setString(1, "pm1");
            p.setString(2, "pm2");
            check(p.executeUpdate() == 2, "prepared multi-row insert count");
            List<Long> keys = keys(p.getGeneratedKeys());
            // As for 3 rows: a key per row (or only the first, if that is
            // what Connector/J gave from MariaDB).
            List<Long> want = reference.size() == 1 ? Arrays.asList(0L) : Arrays.asList(0L, 1L);
            List<Long> offsets = new ArrayList<>();
            for (long k : keys) offsets.add(k - keys.get(0));
            check(!keys.isEmpty() && keys.get(0) > all.get(all.size() - 1) && offsets.equals(want),
                    "prepared multi-row insert: generated keys " + keys + ", want ids after " + all + " with offsets " + want);
            checkRows(c, "j_seq_items", keys, Arrays.asList("pm1", "pm2"), "prepared multi-row insert");
            all.addAll(keys);
        }
        // A batch (rewriteBatchedStatements): one key per row, as from
        // MariaDB directly.
        try (PreparedStatement p = c.prepareStatement("INSERT INTO j_seq_items (v) VALUES (?)", Statement.RETURN_GENERATED_KEYS)) {
            List<Long> keys = batchInsert(p);
            check(keys.size() == 3 && keys.get(0) > all.get(all.size() - 1), "batch insert: generated keys " + keys + ", want 3 ids after " + all);
            checkRows(c, "j_seq_items", keys, Arrays.asList("b1", "b2", "b3"), "batch insert");
            all.addAll(keys);
        }
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM j_seq_items")) {
            check(rs.next() && rs.getLong(1) == 1 + 1 + 2 + 3 + 2 + 3, "rows in j_seq_items: " + rs.getLong(1));
        }
    }

    // batchInsert inserts b1, b2, b3 as one batch and returns the keys.
    static List<Long> batchInsert(PreparedStatement p) throws SQLException {
        for (int i = 1; i <= 3; i++) {
            p.setString(1, "b" + i);
            p.addBatch();
        }
        int[] counts = p.executeBatch();
        check(counts.length == 3, "batch counts: " + Arrays.toString(counts));
        return keys(p.getGeneratedKeys());
    }

    static List<Long> keys(ResultSet rs) throws SQLException {
        List<Long> keys = new ArrayList<>();
        try (ResultSet r = rs) {
            while (r.next()) keys.add(r.getLong(1));
        }
        return keys;
    }

    // checkRows selects each key back by id: its row must exist and hold
    // the value inserted in that position (ids follow the rows' order).
    static void checkRows(Connection c, String table, List<Long> keys, List<String> values, String what) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT v FROM " + table + " WHERE id = ?")) {
            for (int i = 0; i < keys.size(); i++) {
                String want = values.get(i);
                p.setLong(1, keys.get(i));
                try (ResultSet rs = p.executeQuery()) {
                    check(rs.next(), what + ": no row with the generated id " + keys.get(i) + " (keys " + keys + ")");
                    String got = rs.getString(1);
                    check(want.equals(got), what + ": the row with generated id " + keys.get(i) + " has v = " + got + ", want " + want + " (keys " + keys + ")");
                }
            }
        }
    }
}
