package importer_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
)

// File stores whose traces, logged models and model registry an import must carry over.
var fileStoreEntitySamples = []string{
	"shisian512-registry-aliases/mlruns",
	"sh0r0ukk-agentic-traces-v3/mlruns",
	"janzheng-groq-traces/mlruns",
	"dmatrix-logged-models/mlruns",
}

// strRows returns every row of a query as its n columns joined by "|", NULL as "NULL".
func (d *db) strRows(n int, query string, args ...any) []string {
	d.t.Helper()
	rows, err := d.tx.Query(context.Background(), query, args...)
	if err != nil {
		d.t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		dest := make([]any, n)
		for i := range dest {
			dest[i] = new(sql.NullString)
		}
		if err := rows.Scan(dest...); err != nil {
			d.t.Fatalf("%s: %v", query, err)
		}
		parts := make([]string, n)
		for i, v := range dest {
			parts[i] = "NULL"
			if s := v.(*sql.NullString); s.Valid {
				parts[i] = s.String
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rows.Err(); err != nil {
		d.t.Fatal(err)
	}
	return out
}

// storeEntities is what a file store holds of traces, logged models and the registry,
// read straight from its files with a plain YAML reader, as rows of the target's tables.
type storeEntities struct {
	traces, traceTags, traceMetadata                    []string
	models, modelParams, modelTags                      []string
	modelMetrics                                        int
	registered, versions, versionTags, aliases, rmTags []string
}

func readStoreEntities(t *testing.T, root string) storeEntities {
	var out storeEntities
	experiments, _ := filepath.Glob(filepath.Join(root, "*"))
	trashed, _ := filepath.Glob(filepath.Join(root, ".trash", "*"))
	for _, exp := range append(experiments, trashed...) {
		if filepath.Base(exp) == "models" && filepath.Dir(exp) == root {
			continue
		}
		traceInfos, _ := filepath.Glob(filepath.Join(exp, "traces", "*", "trace_info.yaml"))
		for _, info := range traceInfos {
			m := readYAML(t, info)
			id, _ := m["trace_id"].(string)
			if id == "" {
				id, _ = m["request_id"].(string)
			}
			status, _ := m["status"].(string)
			if status == "" {
				status, _ = m["state"].(string)
			}
			out.traces = append(out.traces, id+"|"+status)
			dir := filepath.Dir(info)
			for _, key := range filesUnder(dir, "tags") {
				out.traceTags = append(out.traceTags, id+"|"+key+"|"+readText(t, filepath.Join(dir, "tags", key)))
			}
			for _, key := range filesUnder(dir, "request_metadata") {
				out.traceMetadata = append(out.traceMetadata, id+"|"+key+"|"+readText(t, filepath.Join(dir, "request_metadata", key)))
			}
		}
		for _, meta := range subdirsWithMeta(exp, "models") {
			m := readYAML(t, meta)
			id := m["model_id"].(string)
			out.models = append(out.models, fmt.Sprintf("%s|%s|%v", id, m["name"], m["status"]))
			dir := filepath.Dir(meta)
			for _, key := range filesUnder(dir, "params") {
				out.modelParams = append(out.modelParams, id+"|"+key+"|"+readText(t, filepath.Join(dir, "params", key)))
			}
			for _, key := range filesUnder(dir, "tags") {
				out.modelTags = append(out.modelTags, id+"|"+key+"|"+readText(t, filepath.Join(dir, "tags", key)))
			}
			for _, key := range filesUnder(dir, "metrics") {
				out.modelMetrics += len(distinctLines(t, filepath.Join(dir, "metrics", key)))
			}
		}
	}
	for _, meta := range subdirsWithMeta(root, "models") {
		m := readYAML(t, meta)
		name := m["name"].(string)
		out.registered = append(out.registered, name)
		dir := filepath.Dir(meta)
		for _, key := range filesUnder(dir, "tags") {
			out.rmTags = append(out.rmTags, name+"|"+key+"|"+readText(t, filepath.Join(dir, "tags", key)))
		}
		for _, alias := range filesUnder(dir, "aliases") {
			out.aliases = append(out.aliases, name+"|"+alias+"|"+strings.TrimSpace(readText(t, filepath.Join(dir, "aliases", alias))))
		}
		versions, _ := filepath.Glob(filepath.Join(dir, "version-*", "meta.yaml"))
		for _, vm := range versions {
			v := readYAML(t, vm)
			out.versions = append(out.versions, fmt.Sprintf("%s|%v|%v|%v|%v", name, v["version"], v["current_stage"], v["source"], v["run_id"]))
			for _, key := range filesUnder(filepath.Dir(vm), "tags") {
				out.versionTags = append(out.versionTags, fmt.Sprintf("%s|%v|%s|%s", name, v["version"], key, readText(t, filepath.Join(filepath.Dir(vm), "tags", key))))
			}
		}
	}
	return out
}

func readText(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestImportFileStoreEntities imports the real file stores with traces, logged models and
// a model registry into every target: every trace, tag, metadata entry, logged model,
// registered model, version, alias and tag of the files is in the target with its
// values, no input or output names a model the target lacks, verify agrees, and a second
// import adds nothing.
func TestImportFileStoreEntities(t *testing.T) {
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			for _, sample := range fileStoreEntitySamples {
				t.Run(strings.Split(sample, "/")[0], func(t *testing.T) {
					root := testenv.Sample(t, sample)
					want := readStoreEntities(t, root)
					uri := target.uri(t)
					report, err := importPaths(t, uri, importer.Options{}, root)
					if err != nil {
						t.Fatal(err)
					}
					for _, s := range report.Skipped {
						if strings.Contains(s.Reason, "not imported") || strings.Contains(s.Reason, "registry folder") {
							t.Errorf("still skipped: %s: %s", s.Path, s.Reason)
						}
					}
					d := openDB(t, uri)
					compareSets(t, "trace_info", d.strRows(2, "SELECT request_id, status FROM trace_info"), want.traces)
					compareSets(t, "trace_tags", d.strRows(3, `SELECT request_id, "key", value FROM trace_tags`), want.traceTags)
					compareSets(t, "trace_request_metadata", d.strRows(3, `SELECT request_id, "key", value FROM trace_request_metadata`), want.traceMetadata)
					compareSets(t, "logged_models", d.strRows(3, "SELECT model_id, name, status FROM logged_models"), want.models)
					compareSets(t, "logged_model_params", d.strRows(3, "SELECT model_id, param_key, param_value FROM logged_model_params"), want.modelParams)
					compareSets(t, "logged_model_tags", d.strRows(3, "SELECT model_id, tag_key, tag_value FROM logged_model_tags"), want.modelTags)
					if got := d.count("SELECT COUNT(*) FROM logged_model_metrics"); got != want.modelMetrics {
						t.Errorf("logged_model_metrics: %d rows, the files hold %d", got, want.modelMetrics)
					}
					compareSets(t, "registered_models", d.strRows(1, "SELECT name FROM registered_models"), want.registered)
					compareSets(t, "registered_model_tags", d.strRows(3, `SELECT name, "key", value FROM registered_model_tags`), want.rmTags)
					compareSets(t, "model_versions", d.strRows(5, "SELECT name, version, current_stage, source, run_id FROM model_versions"), want.versions)
					compareSets(t, "model_version_tags", d.strRows(4, `SELECT name, version, "key", value FROM model_version_tags`), want.versionTags)
					compareSets(t, "registered_model_aliases", d.strRows(3, "SELECT name, alias, version FROM registered_model_aliases"), want.aliases)
					if n := d.count("SELECT COUNT(*) FROM inputs WHERE destination_type IN ('MODEL_INPUT', 'MODEL_OUTPUT') AND destination_id NOT IN (SELECT model_id FROM logged_models)"); n != 0 {
						t.Errorf("%d inputs or outputs name a logged model the target lacks", n)
					}
					d.close()
					vr := verifyPaths(t, uri, root)
					if len(vr.Differences) > 0 {
						t.Errorf("verify after import: %+v", vr.Differences)
					}
					again, err := importPaths(t, uri, importer.Options{}, root)
					if err != nil {
						t.Fatal(err)
					}
					if !again.NothingNew() {
						t.Errorf("a second import wrote rows: %+v", again.Counts)
					}
				})
			}
		})
	}
}
