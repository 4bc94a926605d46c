"""Setup: starting a district's inputs (`packets init`, `packets import-directory`) and the generated docs."""
