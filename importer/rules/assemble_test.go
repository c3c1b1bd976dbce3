package rules

import (
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/remedy"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

func rev(t *testing.T, id string) *schema.Revision {
	t.Helper()
	r, ok := schema.Lookup(id)
	if !ok {
		t.Fatalf("no revision %s", id)
	}
	return r
}

func tagValue(tags []sources.Tag, key string) (string, bool) {
	for _, t := range tags {
		if t.Key == key {
			return t.Value, true
		}
	}
	return "", false
}

// TestAssembleRunNames: runs.name and mlflow.runName agree as MLflow keeps them; rows
// MLflow wrote itself are left as they are.
func TestAssembleRunNames(t *testing.T) {
	t.Parallel()
	a := Assembler{Rev: schema.Newest(), Db: schema.SQLite.Database()}
	for _, c := range []struct {
		name, tag        string
		hasTag, verbatim bool
		wantName         string
		wantTag          string
		wantHasTag       bool
	}{
		{name: "", tag: "from-tag", hasTag: true, wantName: "from-tag", wantTag: "from-tag", wantHasTag: true},
		{name: "run-a", tag: "old", hasTag: true, wantName: "run-a", wantTag: "run-a", wantHasTag: true},
		{name: "run-b", wantName: "run-b", wantTag: "run-b", wantHasTag: true},
		{name: "", wantName: "", wantHasTag: false},
		{name: "db-name", tag: "db-tag", hasTag: true, verbatim: true, wantName: "db-name", wantTag: "db-tag", wantHasTag: true},
	} {
		r := &sources.Run{RunID: "r1", Name: c.name, Verbatim: c.verbatim, Status: sources.StatusFinished, LifecycleStage: sources.LifecycleActive}
		if c.hasTag {
			r.Tags = []sources.Tag{{Key: runNameTag, Value: c.tag}}
		}
		out, err := a.Run(r, 1)
		if err != nil {
			t.Fatal(err)
		}
		tag, has := tagValue(out.Tags, runNameTag)
		if out.Row.Name != c.wantName || has != c.wantHasTag || tag != c.wantTag {
			t.Errorf("%+v: name %q, tag %q %v", c, out.Row.Name, tag, has)
		}
	}
}

// TestAssembleParamsAndTags: a param never changes; a tag's last value wins.
func TestAssembleParamsAndTags(t *testing.T) {
	t.Parallel()
	a := Assembler{Rev: schema.Newest(), Db: schema.SQLite.Database()}
	r := &sources.Run{RunID: "r1", Params: []sources.Tag{{Key: "lr", Value: "0.1"}, {Key: "lr", Value: "0.1"}},
		Tags: []sources.Tag{{Key: "t", Value: "1"}, {Key: "t", Value: "2"}}}
	out, err := a.Run(r, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Params) != 1 || len(out.Tags) != 1 || out.Tags[0].Value != "2" {
		t.Errorf("params %v, tags %v", out.Params, out.Tags)
	}
	r.Params = append(r.Params, sources.Tag{Key: "lr", Value: "0.2"})
	if _, err := a.Run(r, 1); err == nil || !strings.Contains(err.Error(), `param "lr" has two values`) {
		t.Errorf("a changed param: %v", err)
	}
}

// TestAssembleLimits: values over MLflow's limit are cut where that MLflow cuts them
// (2.11 on), and refused before.
func TestAssembleLimits(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 6001)
	r := &sources.Run{RunID: "r1", Params: []sources.Tag{{Key: "p", Value: long}}}
	out, err := Assembler{Rev: rev(t, "0584bdc529eb"), Db: schema.Postgres.Database()}.Run(r, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := out.Params[0].Value; got != strings.Repeat("é", 6000) || len(out.Notes) != 1 || !strings.Contains(out.Notes[0].Text, "truncated from 6001 to 6000 characters") {
		t.Errorf("truncation: %d characters, notes %v", len([]rune(got)), out.Notes)
	}
	r.Params[0].Value = strings.Repeat("x", 501)
	if _, err := (Assembler{Rev: rev(t, "97727af70f4d"), Db: schema.Postgres.Database()}).Run(r, 1); err == nil || !strings.Contains(err.Error(), "refuses values over 500") {
		t.Errorf("1.29 refuses a 501-character param: %v", err)
	}
}

// TestAssembleCollisions: keys one under a case-insensitive collation fail, or keep the
// first under keep-first.
func TestAssembleCollisions(t *testing.T) {
	t.Parallel()
	ci := schema.Collation{Name: "utf8mb4_general_ci", CaseInsensitive: true, PadSpace: true}
	r := &sources.Run{RunID: "r1", Params: []sources.Tag{{Key: "lr", Value: "1"}, {Key: "LR", Value: "2"}}, Tags: []sources.Tag{{Key: "x", Value: "1"}, {Key: "x ", Value: "2"}}}
	a := Assembler{Rev: schema.Newest(), Db: schema.MySQL.Database(), Collation: ci}
	_, err := a.Run(r, 1)
	if rs := remedy.Of(err); err == nil || len(rs) != 1 || rs[0].Option != OptionOnKeyCollision || rs[0].Value != string(CollisionKeepFirst) {
		t.Errorf("fail policy: %v, remedies %+v", err, rs)
	}
	a.Collisions = CollisionKeepFirst
	out, err := a.Run(r, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Params) != 1 || out.Params[0].Key != "lr" || out.DroppedParams != 1 || out.DroppedTags != 1 || len(out.Notes) != 2 {
		t.Errorf("keep-first: params %v, dropped %d/%d, notes %v", out.Params, out.DroppedParams, out.DroppedTags, out.Notes)
	}
	exact := Assembler{Rev: schema.Newest(), Db: schema.Postgres.Database()}
	if out, err := exact.Run(r, 1); err != nil || len(out.Params) != 2 {
		t.Errorf("an exact collation keeps both: %v %v", out.Params, err)
	}
}

// TestAssembleWhatTheTargetCannotStore: widths where the database enforces them, NUL
// where text cannot hold it.
func TestAssembleWhatTheTargetCannotStore(t *testing.T) {
	t.Parallel()
	r := &sources.Run{RunID: "r1", ArtifactURI: strings.Repeat("a", 201)}
	if _, err := (Assembler{Rev: schema.Newest(), Db: schema.Postgres.Database()}).Run(r, 1); err == nil || !strings.Contains(err.Error(), "runs.artifact_uri holds 200") {
		t.Errorf("PostgreSQL: %v", err)
	}
	if _, err := (Assembler{Rev: schema.Newest(), Db: schema.SQLite.Database()}).Run(r, 1); err != nil {
		t.Errorf("SQLite stores wide values: %v", err)
	}
	r = &sources.Run{RunID: "r1", Tags: []sources.Tag{{Key: "t", Value: "a\x00b"}}}
	if _, err := (Assembler{Rev: schema.Newest(), Db: schema.Postgres.Database()}).Run(r, 1); err == nil || !strings.Contains(err.Error(), "NUL") {
		t.Errorf("NUL on PostgreSQL: %v", err)
	}
	if _, err := (Assembler{Rev: schema.Newest(), Db: schema.MySQL.Database()}).Run(r, 1); err != nil {
		t.Errorf("NUL on MySQL: %v", err)
	}
}

// TestAssembleInvalidUTF8: bytes that are not UTF-8 are invalid input on every database,
// named by field, never altered; records are checked field by field.
func TestAssembleInvalidUTF8(t *testing.T) {
	t.Parallel()
	for _, db := range schema.Databases() {
		a := Assembler{Rev: schema.Newest(), Db: db}
		r := &sources.Run{RunID: "r1", Params: []sources.Tag{{Key: "p", Value: "ok\xff\xfebad"}}}
		if _, err := a.Run(r, 1); err == nil || !strings.Contains(err.Error(), `param "p" value is not UTF-8 (byte 0xff at offset 2)`) {
			t.Errorf("%s: %v", db.Name, err)
		}
		r = &sources.Run{RunID: "r1", Tags: []sources.Tag{{Key: "m\xc3(", Value: "v"}}}
		if _, err := a.Run(r, 1); err == nil || !strings.Contains(err.Error(), "not UTF-8") {
			t.Errorf("%s: a tag key: %v", db.Name, err)
		}
		bad := "d\xe9j\xe0"
		m := &sources.LoggedModel{ModelID: "m-1", Name: "ok", Tags: []sources.Tag{{Key: "k", Value: bad}}, Origin: sources.Origin{File: "f\xff"}}
		if err := a.CheckRecord("logged model m-1", m); err == nil || !strings.Contains(err.Error(), "logged model m-1.Tags[0].Value is not UTF-8") {
			t.Errorf("%s: a logged model: %v", db.Name, err)
		}
		m.Tags[0].Value = "déjà"
		if err := a.CheckRecord("logged model m-1", m); err != nil {
			t.Errorf("%s: valid text refused (or the origin checked): %v", db.Name, err)
		}
		if err := a.CheckRow("a row of jobs", []string{"id", "params"}, []any{"j-1", "\xff"}); err == nil || !strings.Contains(err.Error(), "column params") {
			t.Errorf("%s: a row: %v", db.Name, err)
		}
	}
}

// TestDatasetKeyIsNotData: a dataset's key links it to its runs' inputs and is never
// written, so a key holding NUL (as an export-import source builds it) passes on
// PostgreSQL, while NUL in a written field is still refused.
func TestDatasetKeyIsNotData(t *testing.T) {
	a := Assembler{Rev: schema.Newest(), Db: schema.Postgres.Database()}
	d := &sources.Dataset{Key: "wine\x00abc123", Name: "wine", Digest: "abc123", SourceType: "local", Source: "{}"}
	if err := a.CheckRecord("dataset", d); err != nil {
		t.Errorf("a dataset whose key holds NUL is refused: %v", err)
	}
	d.Name = "wi\x00ne"
	if err := a.CheckRecord("dataset", d); err == nil || !strings.Contains(err.Error(), "dataset.Name contains a NUL") {
		t.Errorf("NUL in the name: %v", err)
	}
}
