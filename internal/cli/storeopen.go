package cli

import (
	"context"
	"fmt"
	"strings"

	"calldiag/internal/store"
	"calldiag/internal/store/sqlite"
)

// storeDir resolves where the embedded store lives: --db, else --store
// sqlite:DIR, else ./calldiag-data. Giving both is a usage error.
func (a *app) storeDir() (string, error) {
	if a.dbDir != "" && a.store != "" {
		return "", &UsageError{Msg: "give either --db or --store, not both (check CALLDIAG_DB and CALLDIAG_STORE too)"}
	}
	if a.store != "" {
		switch {
		case strings.HasPrefix(a.store, "sqlite:"):
			dir := strings.TrimPrefix(strings.TrimPrefix(a.store, "sqlite:"), "//")
			if dir == "" {
				return "", &UsageError{Msg: "--store sqlite:DIR needs a folder"}
			}
			return dir, nil
		case strings.HasPrefix(a.store, "clickhouse://"):
			return "", fmt.Errorf("the ClickHouse store is not part of this version of calldiag; use the embedded store (--db DIR)")
		default:
			return "", &UsageError{Msg: fmt.Sprintf("unknown store %q: use sqlite:DIR", a.store)}
		}
	}
	if a.dbDir != "" {
		return a.dbDir, nil
	}
	return "./calldiag-data", nil
}

func (a *app) openStore(ctx context.Context) (store.Store, error) {
	dir, err := a.storeDir()
	if err != nil {
		return nil, err
	}
	db, err := sqlite.Open(ctx, dir, a.log)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	return db, nil
}
