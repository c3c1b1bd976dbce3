package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"github.com/spf13/pflag"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/mlflow-bulk/mlflow-bulk/importer"
)

// parseRunsSince reads --runs-since: RFC 3339 (or a date) or epoch milliseconds.
func parseRunsSince(v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		return ms, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UnixMilli(), nil
		}
	}
	return 0, &usageError{fmt.Errorf("--runs-since %q is neither RFC 3339 (2026-11-01T00:00:00Z, 2026-11-01) nor epoch milliseconds", v)}
}

// parseRenames reads --rename-experiment values: OLD=NEW pairs, or CSV files of old,new
// lines as mlflow-export-import's rename files hold them.
func parseRenames(values []string) (map[string]string, error) {
	out := map[string]string{}
	for _, v := range values {
		if !strings.Contains(v, "=") {
			if _, err := os.Stat(v); err != nil {
				return nil, &usageError{fmt.Errorf("--rename-experiment %q is neither OLD=NEW nor a CSV file of old,new lines", v)}
			}
			if err := readRenameFile(v, out); err != nil {
				return nil, err
			}
			continue
		}
		old, nw, err := importer.ParseMapping(v)
		if err != nil {
			return nil, &usageError{fmt.Errorf("--rename-experiment: %w", err)}
		}
		out[old] = nw
	}
	return out, nil
}

func readRenameFile(path string, into map[string]string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	rows, err := r.ReadAll()
	if err != nil {
		return &usageError{fmt.Errorf("rename file %s: %w", path, err)}
	}
	for i, row := range rows {
		if len(row) != 2 {
			return &usageError{fmt.Errorf("rename file %s: line %d has %d fields, want old,new", path, i+1, len(row))}
		}
		if i == 0 && strings.EqualFold(row[0], "old") {
			continue // header
		}
		into[row[0]] = row[1]
	}
	return nil
}

func parseArtifactMap(values []string) ([]importer.ArtifactMapping, error) {
	var out []importer.ArtifactMapping
	for _, v := range values {
		old, nw, err := importer.ParseMapping(v)
		if err != nil {
			return nil, &usageError{fmt.Errorf("--artifact-root-map: %w", err)}
		}
		out = append(out, importer.ArtifactMapping{Old: old, New: nw})
	}
	return out, nil
}

// addPasswordFile adds --password-file, the same on every command that opens a database.
func addPasswordFile(f *pflag.FlagSet, dst *string) {
	f.StringVar(dst, "password-file", "", "read the database password from this file's first line (PostgreSQL also reads PGPASSWORD and ~/.pgpass)")
}

// readPasswordFile reads --password-file: the first line, without its line end.
func readPasswordFile(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("--password-file: %w", err)
	}
	pw, _, _ := strings.Cut(string(data), "\n")
	pw = strings.TrimSuffix(pw, "\r")
	if pw == "" {
		return "", errors.New("--password-file: the file is empty")
	}
	return pw, nil
}

// defaultTargetURI is MLFLOW_TRACKING_URI when it names a database (MLflow's own
// default target), else MLflow's default sqlite:///mlflow.db.
func defaultTargetURI(getenv func(string) string) string {
	v := getenv("MLFLOW_TRACKING_URI")
	scheme, _, ok := strings.Cut(v, "://")
	if !ok || strings.EqualFold(scheme, "file") {
		return defaultTarget // unset, or MLflow's own file store: a source, never a target
	}
	// A database is the target; a tracking server (http://, databricks://) is not a
	// database, which parsing it says, rather than writing ./mlflow.db unasked.
	return v
}

// parseShard reads --shard K/N.
func parseShard(v string) (int, int, error) {
	if v == "" {
		return 0, 0, nil
	}
	k, n, ok := strings.Cut(v, "/")
	shard, err1 := strconv.Atoi(k)
	count, err2 := strconv.Atoi(n)
	if !ok || err1 != nil || err2 != nil || count < 1 || shard < 0 || shard >= count {
		return 0, 0, &usageError{fmt.Errorf("--shard %q is not K/N with 0 <= K < N, e.g. 0/4", v)}
	}
	return shard, count, nil
}
