"""The embedded endpoint (moto in-process) and its fidelity layer: what AWS does that moto does not."""
