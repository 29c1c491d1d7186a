"""mcvar: Monte Carlo variability engine for analog ReRAM crossbar accelerators.

The public API (imported on first use, so ``import mcvar`` and ``mcvar --help`` stay fast):

* :func:`run_scenario` ``(scenario, output=None, *, client=None, ...) -> xarray.Dataset``:
  run a scenario file (or :class:`Scenario`) on dask and return its result;
* :func:`open_results` ``(path) -> xarray.Dataset``: a result file or a run directory;
* :func:`load_scenario` ``(path, overrides=(), *, trials=None, tiny=False) -> Scenario``:
  load and validate a scenario file (raises :class:`ScenarioError`).
"""

import importlib

_API = {
    "run_scenario": ("mcvar.execute", "run_scenario"),
    "RunError": ("mcvar.execute", "RunError"),
    "open_results": ("mcvar.results", "open_results"),
    "load_scenario": ("mcvar.scenario", "load"),
    "Scenario": ("mcvar.scenario", "Scenario"),
    "ScenarioError": ("mcvar.scenario", "ScenarioError"),
}

__all__ = [*_API, "__version__"]


def _installed_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mcvar")
    except PackageNotFoundError:
        return "unknown (not installed)"


def __getattr__(name):
    if name == "__version__":
        return _installed_version()
    if name in _API:
        module, attr = _API[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'mcvar' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
