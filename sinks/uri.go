package sinks

import "github.com/mlflow-bulk/mlflow-bulk/internal/dburi"

// URI is a parsed database location in MLflow's URI forms.
type URI = dburi.URI

// ParseURI parses a target URI; a string without "scheme://" is a SQLite file path.
func ParseURI(raw string) (*URI, error) { return dburi.Parse(raw) }

// Redact replaces the password of a URI-like string with "xxxxx".
func Redact(raw string) string { return dburi.Redact(raw) }
