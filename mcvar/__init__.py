"""mcvar: Monte Carlo variability engine for analog ReRAM crossbar accelerators."""
