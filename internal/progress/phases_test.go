package progress

// The import's phases as the command passes them on (importer.Phase*): the display
// knows them only through their Stage.
const (
	phaseSchema = "creating MLflow's schema"
	phaseImport = "importing"
	phaseCommit = "committing"
	phaseKeys   = "building metrics' keys and indexes"
)

func stageOf(phase string) Stage {
	return map[string]Stage{phaseImport: StageRows, phaseCommit: StageCommit, phaseKeys: StageKeys}[phase]
}
