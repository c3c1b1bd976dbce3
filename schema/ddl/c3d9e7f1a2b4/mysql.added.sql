-- What MLflow's revision c3d9e7f1a2b4 created besides budget_policies.target_value: its index.

CREATE INDEX idx_budget_policies_target_value ON budget_policies (`target_value`);
