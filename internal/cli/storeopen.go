package cli

import (
	"context"
	"fmt"
	"strings"

	"calldiag/internal/store"
	"calldiag/internal/store/clickhouse"
	"calldiag/internal/store/sqlite"
)

// Store kinds a store URL names.
const (
	storeSQLite     = "sqlite"
	storeClickHouse = "clickhouse"
)

// storeTarget resolves which store the commands use: --db DIR, else --store
// sqlite:DIR or clickhouse://…, else ./calldiag-data. It returns the kind
// and the folder (SQLite) or URL (ClickHouse). Giving both flags is a usage
// error.
func (a *app) storeTarget() (kind, loc string, err error) {
	if a.dbDir != "" && a.store != "" {
		return "", "", &UsageError{Msg: "give either --db or --store, not both (check CALLDIAG_DB and CALLDIAG_STORE too)"}
	}
	if a.store != "" {
		switch {
		case strings.HasPrefix(a.store, "sqlite:"):
			dir := strings.TrimPrefix(strings.TrimPrefix(a.store, "sqlite:"), "//")
			if dir == "" {
				return "", "", &UsageError{Msg: "--store sqlite:DIR needs a folder"}
			}
			return storeSQLite, dir, nil
		case strings.HasPrefix(a.store, "clickhouse://"):
			return storeClickHouse, a.store, nil
		default:
			return "", "", &UsageError{Msg: fmt.Sprintf("unknown store %q: use sqlite:DIR or clickhouse://HOST:PORT/DATABASE", a.store)}
		}
	}
	if a.dbDir != "" {
		return storeSQLite, a.dbDir, nil
	}
	return storeSQLite, "./calldiag-data", nil
}

// openStore opens the store the flags name.
func (a *app) openStore(ctx context.Context) (store.Store, error) {
	kind, loc, err := a.storeTarget()
	if err != nil {
		return nil, err
	}
	return a.openTarget(ctx, kind, loc)
}

func (a *app) openTarget(ctx context.Context, kind, loc string) (store.Store, error) {
	if kind == storeClickHouse {
		db, err := clickhouse.Open(ctx, loc, a.log)
		if err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		return db, nil
	}
	db, err := sqlite.Open(ctx, loc, a.log)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", loc, err)
	}
	return db, nil
}
