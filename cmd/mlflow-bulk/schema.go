package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/drivers"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/schema/live"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
	"github.com/spf13/cobra"
)

// NewCmdSchema builds `mlflow-bulk schema show|init`.
func NewCmdSchema(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schema",
		Short: "Show or create the MLflow schema of a database",
	}
	cmd.AddCommand(newCmdSchemaShow(f), newCmdSchemaInit(f))
	return cmd
}

// SchemaStatus is what `schema show` reports.
type SchemaStatus struct {
	Target   string `json:"target"`
	Empty    bool   `json:"empty"`
	Revision string `json:"revision,omitempty"`
	Releases string `json:"opened_by,omitempty"`
	Known    bool   `json:"known"`
	Writable bool   `json:"writable"`
	Reason   string `json:"reason,omitempty"`
}

func newCmdSchemaShow(f *Factory) *cobra.Command {
	io := f.IOStreams
	var target, passwordFile string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show --to URI",
		Short: "Show a database's MLflow schema revision and whether mlflow-bulk can write into it",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			password, err := readPasswordFile(passwordFile)
			if err != nil {
				return err
			}
			st, err := schemaStatus(cmd.Context(), f.Drivers, target, password)
			if err != nil {
				return redactError(err, target)
			}
			if asJSON {
				return writeJSON(io.Out, st)
			}
			fmt.Fprintf(io.Out, "Target:    %s\n", st.Target)
			switch {
			case st.Empty:
				fmt.Fprintln(io.Out, "Schema:    none (empty database)")
			case st.Revision == "":
				fmt.Fprintln(io.Out, "Schema:    not MLflow's (no alembic_version)")
			default:
				fmt.Fprintf(io.Out, "Revision:  %s\n", st.Revision)
				if st.Releases != "" {
					fmt.Fprintf(io.Out, "Opened by: %s\n", st.Releases)
				}
			}
			writable := "yes"
			if !st.Writable {
				writable = "no"
			}
			fmt.Fprintf(io.Out, "Writable:  %s", writable)
			if st.Reason != "" {
				fmt.Fprintf(io.Out, " (%s)", st.Reason)
			}
			fmt.Fprintln(io.Out)
			return nil
		},
	}
	cmd.Flags().StringVar(&target, "to", defaultTargetURI(os.Getenv), "MLflow database URI")
	addPasswordFile(cmd.Flags(), &passwordFile)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the status as one JSON object")
	return cmd
}

func schemaStatus(ctx context.Context, registry *drivers.Registry, target, password string) (*SchemaStatus, error) {
	// Read only: showing the schema takes no import lock and creates no file.
	sink, err := registry.Open(ctx, target, sinks.Options{Password: password, ReadOnly: true})
	if errors.Is(err, fs.ErrNotExist) {
		return &SchemaStatus{Target: sinks.Redact(target), Empty: true, Writable: true,
			Reason: "the database file does not exist yet: import creates it with MLflow's schema at " + schema.Newest().ID + " (import or schema init --mlflow-version X: the schema of MLflow X)"}, nil
	}
	if err != nil {
		return nil, err
	}
	defer sink.Close()
	tx, err := sink.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback(ctx) }() // read only: nothing to undo
	st := &SchemaStatus{Target: sink.Describe()}
	rev, err := live.Detect(ctx, tx, sink.Dialect())
	var unknown *schema.UnknownRevisionError
	switch {
	case errors.As(err, &unknown):
		st.Revision = unknown.ID
		tables, ierr := live.Inspect(ctx, tx, sink.Dialect())
		if ierr != nil {
			return nil, ierr
		}
		left, ferr := live.Fit(ctx, tx, sink.Dialect(), schema.Newest(), unknown.ID, tables)
		switch {
		case ferr != nil:
			st.Reason = ferr.Error()
		case len(left) > 0:
			st.Writable = true
			st.Reason = "a revision mlflow-bulk does not know (a newer MLflow, or a branch); its tables hold every column mlflow-bulk writes, so it is written as " + schema.Newest().ID + ", leaving at their defaults " + strings.Join(left, ", ")
		default:
			st.Writable = true
			st.Reason = "a revision mlflow-bulk does not know (a newer MLflow, or a branch); its tables hold every column mlflow-bulk writes, so it is written as " + schema.Newest().ID
		}
	case errors.Is(err, live.ErrNotMLflow):
		st.Reason = err.Error()
	case errors.Is(err, live.ErrPartialSchema):
		st.Writable = true
		st.Reason = err.Error() + "; import or schema init completes it"
	case err != nil:
		return nil, err
	case rev == nil:
		st.Empty, st.Writable = true, true
		st.Reason = "import creates MLflow's schema at " + schema.Newest().ID + " (--mlflow-version X: the schema of MLflow X); schema init creates " + creatable(sink.Dialect())
	default:
		st.Revision, st.Releases, st.Known, st.Writable = rev.ID, rev.OpenedBy(), true, true
	}
	return st, nil
}

// creatable names the schemas schema init creates: every revision from the first to the
// last, which is every MLflow release between them.
func creatable(d schema.Dialect) string {
	revs := schema.CreatableRevisions(d)
	if len(revs) == 0 {
		return "none"
	}
	return fmt.Sprintf("every revision from %s to %s (--mlflow-version names a release)", revs[0], revs[len(revs)-1])
}

func newCmdSchemaInit(f *Factory) *cobra.Command {
	io := f.IOStreams
	var target, revision, release, artifactRoot, passwordFile string
	cmd := &cobra.Command{
		Use:   "init --to URI [--revision REV | --mlflow-version X.Y]",
		Short: "Create MLflow's complete schema in an empty database",
		Long: `Create MLflow's complete schema (every table, constraint and index, the alembic_version
row and the Default experiment) in an empty database, so that MLflow of that version
starts on it without an upgrade. Refuses a database that holds any table.`,
		Example: `  mlflow-bulk schema init --to postgresql://user:pw@host:5432/mlflow
  mlflow-bulk schema init --to sqlite:///mlflow.db --mlflow-version 3.11`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rev := schema.Newest()
			switch {
			case revision != "" && release != "":
				return &usageError{errors.New("give --revision or --mlflow-version, not both")}
			case revision != "":
				r, ok := schema.Lookup(revision)
				if !ok {
					return &usageError{fmt.Errorf("unknown revision %s; mlflow-bulk knows %s", revision, schema.SupportedReleases())}
				}
				rev = r
			case release != "":
				r, err := schema.ForRelease(release)
				if err != nil {
					return &usageError{err}
				}
				rev = r
			}
			cleanup := removeIfCreated(target)
			password, err := readPasswordFile(passwordFile)
			if err != nil {
				return err
			}
			err = initSchema(cmd.Context(), f.Drivers, target, password, rev, artifactRoot)
			if err != nil {
				cleanup() // a failed init leaves no empty database file behind
				return redactError(err, target)
			}
			fmt.Fprintf(io.Out, "Created MLflow's schema at revision %s\n", rev)
			return nil
		},
	}
	flags := cmd.Flags()
	flags.StringVar(&target, "to", defaultTargetURI(os.Getenv), "MLflow database URI (an empty database)")
	flags.StringVar(&revision, "revision", "", "alembic revision to create (default: the newest known)")
	flags.StringVar(&release, "mlflow-version", "", "create the schema this MLflow release uses, e.g. 2.9")
	flags.StringVar(&artifactRoot, "default-artifact-root", "mlflow-artifacts:/", "artifact root of the Default experiment")
	addPasswordFile(flags, &passwordFile)
	return cmd
}

func initSchema(ctx context.Context, registry *drivers.Registry, target, password string, rev *schema.Revision, artifactRoot string) error {
	sink, err := registry.Open(ctx, target, sinks.Options{Password: password})
	if err != nil {
		return err
	}
	defer sink.Close()
	if !schema.Creatable(rev) {
		return &usageError{schema.UpgradePath(fmt.Errorf("mlflow-bulk knows of revision %s but holds no DDL to create it", rev))}
	}
	if !schema.CanCreate(rev, sink.Dialect()) {
		return &usageError{fmt.Errorf("mlflow-bulk cannot create revision %s on %s; it can create %s", rev, sink.Dialect(), creatable(sink.Dialect()))}
	}
	tx, err := sink.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }() // after Commit it does nothing
	existing, err := live.Detect(ctx, tx, sink.Dialect())
	resume := errors.Is(err, live.ErrPartialSchema)
	switch {
	case resume:
	case existing != nil:
		return fmt.Errorf("%s already holds MLflow's schema at revision %s; schema init only fills an empty database", sink.Describe(), existing)
	case err != nil:
		return fmt.Errorf("%s is not empty (%w); schema init only fills an empty database", sink.Describe(), err)
	}
	if err := live.Create(ctx, tx, sink.Dialect(), rev, live.CreateOptions{DefaultArtifactRoot: artifactRoot, Resume: resume}); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return &usageError{fmt.Errorf("%s takes no arguments; name the database with --to", cmd.CommandPath())}
	}
	return nil
}
