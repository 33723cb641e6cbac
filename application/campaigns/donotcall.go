package campaigns

import (
	"context"
	"time"
)

// MaxSuppressionsPerRequest bounds one POST of numbers.
const MaxSuppressionsPerRequest = 10_000

// DoNotCall is each user's do-not-call list: create_call refuses a listed number, uploads
// refuse it, and campaigns never dial it.
type DoNotCall struct {
	Store SuppressionStore
	Now   func() time.Time
}

// Add puts numbers on the user's list; any invalid number refuses the whole request. It says
// how many were not on the list yet.
func (d *DoNotCall) Add(ctx context.Context, userID string, numbers []string) (int, error) {
	if len(numbers) == 0 {
		return 0, invalidf("phone_numbers must name at least one number")
	}
	if len(numbers) > MaxSuppressionsPerRequest {
		return 0, invalidf("phone_numbers holds at most %d numbers", MaxSuppressionsPerRequest)
	}
	norm := make([]string, 0, len(numbers))
	seen := make(map[string]bool, len(numbers))
	for _, n := range numbers {
		p, err := parseNumber(n)
		if err != nil {
			return 0, err
		}
		if !seen[p] {
			seen[p] = true
			norm = append(norm, p)
		}
	}
	now := time.Now().UTC()
	if d.Now != nil {
		now = d.Now().UTC()
	}
	return d.Store.AddSuppressions(ctx, userID, norm, now)
}

// List returns one page (from 1) of the user's list, newest first, and its length.
func (d *DoNotCall) List(ctx context.Context, userID string, page, pageSize int) ([]Suppression, int, error) {
	if page == 0 {
		page = 1
	}
	if pageSize == 0 {
		pageSize = DefaultPageSize
	}
	if page < 1 || pageSize < 1 || pageSize > MaxPageSize {
		return nil, 0, invalidf("page must be 1 or more and page_size 1 to %d", MaxPageSize)
	}
	return d.Store.Suppressions(ctx, userID, (page-1)*pageSize, pageSize)
}

// Remove takes a number off the user's list; ErrNotFound when it is not on it.
func (d *DoNotCall) Remove(ctx context.Context, userID, number string) error {
	n, err := parseNumber(number)
	if err != nil {
		return err
	}
	return d.Store.DeleteSuppression(ctx, userID, n)
}

// Listed reports whether number (E.164) is on the user's list.
func (d *DoNotCall) Listed(ctx context.Context, userID, number string) (bool, error) {
	m, err := d.Store.Suppressed(ctx, userID, []string{number})
	return m[number], err
}
