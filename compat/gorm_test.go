package compat_test

import (
	"fmt"
	"testing"

	gormmysql "gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// gormUser is sharded by ID (the first primary-key column, which the
// gateway's CREATE TABLE picks as the hash vindex column).
type gormUser struct {
	ID    uint64 `gorm:"primaryKey;autoIncrement:false"`
	Name  string `gorm:"size:64;index"`
	Email string `gorm:"size:128"`
	Age   int
}

// TestGORM: AutoMigrate (GORM's information_schema probes and DDL through
// the gateway), then create, read, update, delete and transactions, in the
// unsharded and the sharded keyspace.
func TestGORM(t *testing.T) {
	for _, ks := range []string{unsharded, sharded} {
		t.Run(ks, func(t *testing.T) {
			dsn := fmt.Sprintf("%s:%s@tcp(%s)/%s?parseTime=true", user, password, shared.Get(t).Gateway.Addr(), ks)
			db, err := gorm.Open(gormmysql.Open(dsn), &gorm.Config{Logger: logger.Discard})
			if err != nil {
				t.Fatal(err)
			}
			sqlDB, _ := db.DB()
			defer sqlDB.Close()
			if err := db.Migrator().DropTable(&gormUser{}); err != nil {
				t.Fatal("drop:", err)
			}
			if err := db.AutoMigrate(&gormUser{}); err != nil {
				t.Fatal("auto-migrate:", err)
			}
			if !db.Migrator().HasTable(&gormUser{}) {
				t.Fatal("HasTable after AutoMigrate: got false")
			}
			// A second AutoMigrate finds the table and its columns as they are.
			if err := db.AutoMigrate(&gormUser{}); err != nil {
				t.Fatal("second auto-migrate:", err)
			}

			users := []gormUser{{ID: 1, Name: "ann", Age: 30}, {ID: 2, Name: "bob", Age: 40}, {ID: 3, Name: "cy", Age: 50}}
			if err := db.Create(&users).Error; err != nil {
				t.Fatal("create:", err)
			}
			var got gormUser
			if err := db.First(&got, 2).Error; err != nil || got.Name != "bob" {
				t.Fatalf("first id=2: got %+v %v, want bob", got, err)
			}
			if err := db.Model(&gormUser{}).Where("id = ?", 2).Update("age", 41).Error; err != nil {
				t.Fatal("update:", err)
			}
			var list []gormUser
			if err := db.Where("age > ?", 35).Order("id").Find(&list).Error; err != nil || len(list) != 2 || list[0].Age != 41 {
				t.Fatalf("find age > 35: got %+v %v", list, err)
			}
			var count int64
			if err := db.Model(&gormUser{}).Count(&count).Error; err != nil || count != 3 {
				t.Fatalf("count: got %d %v, want 3", count, err)
			}

			// A transaction that fails rolls back; one that succeeds commits.
			err = db.Transaction(func(tx *gorm.DB) error {
				if err := tx.Create(&gormUser{ID: 10, Name: "gone"}).Error; err != nil {
					return err
				}
				return fmt.Errorf("roll back")
			})
			if err == nil || err.Error() != "roll back" {
				t.Fatalf("failing transaction: got %v", err)
			}
			err = db.Transaction(func(tx *gorm.DB) error {
				if err := tx.Create(&gormUser{ID: 11, Name: "kept"}).Error; err != nil {
					return err
				}
				return tx.Delete(&gormUser{}, 1).Error
			})
			if err != nil {
				t.Fatal("transaction:", err)
			}
			var names []string
			if err := db.Model(&gormUser{}).Order("id").Pluck("name", &names).Error; err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(names) != "[bob cy kept]" {
				t.Fatalf("after transactions: got %v, want [bob cy kept]", names)
			}
		})
	}
}
