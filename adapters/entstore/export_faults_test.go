package entstore

import (
	"context"

	entsql "entgo.io/ent/dialect/sql"
)

// QueryThroughDriver runs query through the store's driver, as every statement of the ports
// runs, and reads its rows.
func QueryThroughDriver(ctx context.Context, s *Store, query string) error {
	var rows entsql.Rows
	if err := s.drv.Query(ctx, query, []any{}, &rows); err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
	}
	return rows.Err()
}
