package mysql

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/mlflow-bulk/mlflow-bulk/internal/dburi"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
)

// MariaDB and MySQL commit DDL at once, so a dry run into an empty database cannot
// create MLflow's schema and roll it back: it runs in a scratch database of the same
// character set and collation on the same server, dropped afterwards. Its name carries
// the connection id of the session that made it, so that a later dry run can tell one
// left by a killed process (its session gone) from one another dry run is using.

// scratchPrefix begins the name of every scratch database.
const scratchPrefix = "mlflow_bulk_dry_run_"

// scratchName is mlflow_bulk_dry_run_<connection id>_<unix nanoseconds>.
var scratchName = regexp.MustCompile(`^` + scratchPrefix + `([0-9]+)_([0-9]+)$`)

// unseenScratchAge is how old a scratch database must be before a user who cannot see
// other users' sessions (no PROCESS privilege) takes it for one a killed dry run left:
// its session may be another user's, still running.
const unseenScratchAge = 24 * time.Hour

// processPrivilege counts the PROCESS privilege of the session's user ('user'@'host').
const processPrivilege = `SELECT COUNT(*) FROM information_schema.USER_PRIVILEGES WHERE PRIVILEGE_TYPE = 'PROCESS'
	AND GRANTEE = CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')`

// Scratch implements sinks.Scratcher.
func (s *mysqlSink) Scratch(ctx context.Context, opts sinks.Options) (sinks.Sink, string, func() error, error) {
	dropped, err := s.dropLeftScratch(ctx)
	if err != nil {
		return nil, "", nil, err
	}
	var charset, collation string
	var connID int64
	if err := s.conn.QueryRowContext(ctx, "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME, CONNECTION_ID() FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = DATABASE()").
		Scan(&charset, &collation, &connID); err != nil {
		return nil, "", nil, fmt.Errorf("read the character set of %s: %w", s.Describe(), err)
	}
	name := fmt.Sprintf("%s%d_%d", scratchPrefix, connID, time.Now().UnixNano())
	if _, err := s.conn.ExecContext(ctx, fmt.Sprintf("CREATE DATABASE `%s` CHARACTER SET %s COLLATE %s", name, collationName(charset), collationName(collation))); err != nil {
		return nil, "", nil, fmt.Errorf("create a scratch database on the server of %s: %w", s.Describe(), err)
	}
	drop := func() error {
		if _, err := s.conn.ExecContext(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
			return fmt.Errorf("drop the dry run's scratch database %s on the server of %s: %w; drop it by hand (DROP DATABASE `%s`)", name, s.Describe(), err, name)
		}
		return nil
	}
	scratchURL := *s.uri.URL
	scratchURL.Path = "/" + name
	scratchURI := &dburi.URI{Scheme: s.uri.Scheme, Raw: scratchURL.String(), URL: &scratchURL}
	scratch, err := openSink(ctx, scratchURI, opts)
	if err != nil {
		return nil, "", nil, errors.Join(err, drop())
	}
	if dropped > 0 {
		scratch.(*mysqlSink).notices = append(scratch.(*mysqlSink).notices,
			fmt.Sprintf("%d scratch databases left by dry runs that were killed were dropped", dropped))
	}
	return scratch, name, drop, nil
}

// dropLeftScratch drops the scratch databases whose session is gone (a dry run killed
// before it could drop its own), and says how many.
func (s *mysqlSink) dropLeftScratch(ctx context.Context) (int, error) {
	names, err := s.scratchNames(ctx)
	if err != nil {
		return 0, fmt.Errorf("list scratch databases on the server of %s: %w", s.Describe(), err)
	}
	if len(names) == 0 {
		return 0, nil
	}
	// Without the PROCESS privilege, PROCESSLIST shows this user's sessions alone.
	var seesAll int
	if err := s.conn.QueryRowContext(ctx, processPrivilege).Scan(&seesAll); err != nil {
		return 0, fmt.Errorf("read the privileges of the session on %s: %w", s.Describe(), err)
	}
	dropped := 0
	for _, name := range names {
		m := scratchName.FindStringSubmatch(name)
		if m == nil {
			continue // not named as mlflow-bulk names them: not ours to drop
		}
		id, _ := strconv.ParseInt(m[1], 10, 64)
		made, _ := strconv.ParseInt(m[2], 10, 64)
		if seesAll == 0 && time.Since(time.Unix(0, made)) < unseenScratchAge {
			continue // perhaps another user's dry run, whose session this one cannot see
		}
		var alive int
		if err := s.conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ?", id).Scan(&alive); err != nil {
			return dropped, fmt.Errorf("check the session of scratch database %s: %w", name, err)
		}
		if alive > 0 {
			continue // another dry run is using it
		}
		if _, err := s.conn.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
			return dropped, fmt.Errorf("drop scratch database %s, left by a dry run that was killed: %w; drop it by hand", name, err)
		}
		dropped++
	}
	return dropped, nil
}

// scratchNames lists the databases named as scratch databases are.
func (s *mysqlSink) scratchNames(ctx context.Context) ([]string, error) {
	rows, err := s.conn.QueryContext(ctx, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'mlflow\\_bulk\\_dry\\_run\\_%'")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	return names, rows.Err()
}
