"""The stack's lifecycle: template, lint, the deployer, adoption, change review, drift, verify, workflow, status."""
