package localcluster

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/shardgate/shardgate/tablet"
)

// The gateways of a local cluster log in to its instances as
// tablet.AppUser, not root: a client of the gateway must not be MariaDB
// root on the shards (issue 15, finding 5). Every instance gets the
// account when it starts (tablet.MysqldConfig.App), with rights on its
// keyspace's database only.
//
// Its password is generated once per cluster and kept in
// AppCredentialsFile in Config.Dir (mode 0600), in MySQL's option-file
// format, so an operator can use it as it is:
//
//	mariadb --defaults-extra-file=.cluster/shardgate_app.cnf -h127.0.0.1 -P PORT
//	shardgate serve --db-user shardgate_app --db-password "$(sed -n 's/^password=//p' .cluster/shardgate_app.cnf)"
//
// It is not written to the topology: etcd is read by every gateway and
// shardctl, and a shard credential in it would be one more place to
// leak it from. The controllers (failover, resharding) and `up` itself
// keep the instances' admin login (root over loopback).

// AppCredentialsFile, in Config.Dir, holds the app account's password.
const AppCredentialsFile = "shardgate_app.cnf"

// AppConn is how a gateway logs in to the cluster's instances: the app
// account and its password (Addr left for the caller).
func (c *Cluster) AppConn() tablet.ConnConfig {
	return tablet.ConnConfig{User: tablet.AppUser, Password: c.appPassword}
}

// loadAppPassword reads the app account's password from dir, creating
// the file with a random one the first time.
func loadAppPassword(dir string) (string, error) {
	path := filepath.Join(dir, AppCredentialsFile)
	data, err := os.ReadFile(path)
	if err == nil {
		if pw := optionValue(data, "password"); pw != "" {
			return pw, nil
		}
		return "", fmt.Errorf("localcluster: %s has no password= line", path)
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("localcluster: %w", err)
	}
	var raw [18]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("localcluster: app account password: %w", err)
	}
	pw := hex.EncodeToString(raw[:])
	content := "# Written by shardgate (localcluster) when the cluster was created: the\n" +
		"# least-privileged account its gateways log in to the MySQL instances with.\n" +
		"[client]\nuser=" + tablet.AppUser + "\npassword=" + pw + "\n"
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		return "", fmt.Errorf("localcluster: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("localcluster: %w", err)
	}
	return pw, nil
}

// optionValue is the value of the first `key=value` line of an option
// file, "" if none.
func optionValue(data []byte, key string) string {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
