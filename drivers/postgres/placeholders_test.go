package postgres

import "testing"

func TestDollarPlaceholders(t *testing.T) {
	t.Parallel()
	got := DollarPlaceholders("SELECT '?' FROM t WHERE a = ? AND b = ?")
	if got != "SELECT '?' FROM t WHERE a = $1 AND b = $2" {
		t.Errorf("got %s", got)
	}
}

// TestRedactQueryPasswords: a password in the query string is hidden too, in the URI and
// in any error that repeats it, whatever else the query holds.
