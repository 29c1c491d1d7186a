"""The study's scenarios, their sizes, a time estimate, and running them on one dask cluster.

Each part of the study is a scenario file ``scenarios/study_*.toml`` run through the normal
path (:func:`mcvar.execute.run_scenario`: pieces, resume, any dask scheduler). The files hold
the default sizes (about 25 minutes for the whole study on 2 cores); ``quick`` shrinks every
training scenario to :data:`QUICK` (a minute or two, for checking the pipeline end to end);
``trials``, ``epochs`` and ``train_examples`` scale every training scenario up or down.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

from ..results import write_text
from ..scenario import Scenario, load

SCENARIO_DIR = Path(__file__).resolve().parents[2] / "scenarios"
WALL_TIMES = "wall_times.json"  #: seconds spent per scenario, summed over resumed runs


@dataclass(frozen=True)
class Part:
    """One scenario of the study."""

    key: str  #: short name, e.g. "digits"
    file: str  #: scenario file in ``scenarios/``
    trains: bool  #: has a ``[training]`` workload (sized by quick/trials/epochs)


PARTS = (Part("cost", "study_cost.toml", False),
         Part("digits", "study_digits.toml", True),
         Part("file_types", "study_file_types.toml", True),
         Part("read_noise", "study_read_noise.toml", True),
         Part("write_noise", "study_write_noise.toml", True),
         Part("nonlinearity", "study_nonlinearity.toml", True),
         Part("d2d", "study_d2d.toml", True))

#: the study's own MNIST experiment (784-300-10, full data): only with ``mnist=True``
MNIST = Part("mnist", "study_mnist.toml", True)

#: sizes of the MNIST part in the default mode (its file holds the study's 20 epochs of all
#: 60,000 examples, days of single-core work: README, "Full MNIST"); ``trials``, ``epochs``
#: and ``train_examples`` override these as for every training scenario
MNIST_SIZES = {"trials": 2, "training.epochs": 1, "training.train_examples": 10000}

#: sizes of every training scenario in quick mode (the ``*_examples`` per epoch)
QUICK = {"trials": 2, "training.epochs": 2, "training.train_examples": 60,
         "training.test_examples": 150}

#: rough single-core seconds per weight per example trained (or 0.15 example evaluated) by
#: training backend, measured table, or any analytic device model, for the time estimate only;
#: a digits epoch on the 2-core development VM (AMD EPYC, one Numba thread) gives 5.3e-7
#: (TaOx), 2.7e-7 (ENODe), 4.8e-8 (linear device)
SECONDS_PER_WEIGHT_EXAMPLE = {"numeric": 2.5e-9, "TaOx": 4.5e-7, "ENODe": 2.3e-7,
                              "analytic": 5.5e-8}
EVALUATION_SHARE = 0.15  #: cost of evaluating a test example relative to training one [1]
TASK_OVERHEAD = 0.5  #: seconds per task: building the network, writing the piece [s]


def study_scenarios(*, quick: bool = False, trials: int | None = None,
                    epochs: int | None = None, train_examples: int | None = None,
                    scenario_dir=None, mnist: bool = False) -> dict[str, Scenario]:
    """``{part key: Scenario}`` of the study at the requested sizes (validated).

    ``quick``: every training scenario at :data:`QUICK` sizes; ``trials``, ``epochs``,
    ``train_examples`` (0: the whole training set) then override every training scenario.
    ``mnist``: add the MNIST part (key ``"mnist"``, at :data:`MNIST_SIZES` unless quick;
    needs ``mcvar data fetch mnist`` once).
    """
    for name, value, low in (("trials", trials, 1), ("epochs", epochs, 1),
                             ("train_examples", train_examples, 0)):
        if value is not None and (not isinstance(value, int) or value < low):
            raise ValueError(f"{name} = {value!r}: allowed an integer >= {low}")
    folder = Path(scenario_dir) if scenario_dir is not None else SCENARIO_DIR
    out = {}
    for part in PARTS + ((MNIST,) if mnist else ()):
        path = folder / part.file
        if not path.exists():
            raise FileNotFoundError(f"{path}: the study's scenario files live in a checkout's "
                                    "scenarios/ folder (pass scenario_dir)")
        sizes = dict(QUICK) if quick and part.trains else {}
        if part is MNIST and not quick:
            sizes = dict(MNIST_SIZES)
        if part.trains:
            sizes.update({k: v for k, v in (("trials", trials), ("training.epochs", epochs),
                                            ("training.train_examples", train_examples))
                          if v is not None})
        n = sizes.pop("trials", None)
        out[part.key] = load(path, [f"{k}={v}" for k, v in sizes.items()], trials=n)
    return out


def estimate_seconds(scenario: Scenario) -> float:
    """Single-core seconds ``scenario`` should take (training cost model above; cost tasks
    count as overhead only) [s]."""
    from ..workloads import network_shape

    seconds = TASK_OVERHEAD * len(scenario.tasks())
    for config in scenario.configurations:
        t = config.training
        if t is None:
            continue
        sizes, n_train = network_shape(t)
        n_test = _test_examples(t)
        weights = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
        if t.backend == "numeric":
            rate = SECONDS_PER_WEIGHT_EXAMPLE["numeric"]
        elif config.device.model == "lookup":
            rate = SECONDS_PER_WEIGHT_EXAMPLE[config.device.table]
        else:
            rate = SECONDS_PER_WEIGHT_EXAMPLE["analytic"]
        examples = n_train + EVALUATION_SHARE * n_test
        seconds += scenario.trials * t.epochs * rate * weights * examples
    return seconds


def _test_examples(training) -> int:
    from ..datasets import load_dataset

    n = load_dataset(training.dataset).x_test.shape[0]
    return min(training.test_examples, n) if training.test_examples else n


@dataclass(frozen=True)
class Sizes:
    """What a training scenario runs: the sizes behind its numbers."""

    points: int
    trials: int
    epochs: int
    train_examples: int  #: per epoch
    test_examples: int
    tasks: int
    seed: int


def sizes(scenario: Scenario) -> Sizes:
    """The sizes of ``scenario`` (training scenarios: from its first configuration)."""
    from ..workloads import network_shape

    t = scenario.configurations[0].training
    epochs = n_train = n_test = 0
    if t is not None:
        epochs, (_, n_train), n_test = t.epochs, network_shape(t), _test_examples(t)
    return Sizes(math.prod(scenario.shape), scenario.trials if t is not None else 0, epochs,
                 n_train, n_test, len(scenario.tasks()), scenario.seed)


def run_all(scenarios: dict[str, Scenario], results_dir, *, scheduler=None, workers=None,
            fresh: bool = False, progress: bool = True, log=print) -> dict[str, float]:
    """Run every scenario into ``results_dir/<name>.nc`` (resuming from ``<name>.run``);
    returns the wall time of each part [s], summed over the runs that built its result.

    One local cluster of ``workers`` single-threaded processes (default: one per core)
    serves every scenario, unless ``scheduler`` names an existing one (address, scheduler
    file) or is ``"synchronous"`` (in this process). Wall times accumulate in
    ``results_dir/wall_times.json`` (reset by ``fresh``), so a resumed run reports the time
    its results took, not only the time of the last resume.
    """
    from ..execute import available_cores, local_cluster, run_scenario

    results_dir = Path(results_dir)
    ledger = results_dir / WALL_TIMES
    seconds = {} if fresh or not ledger.exists() else json.loads(ledger.read_text())
    cluster = client = None
    try:
        if scheduler is None:
            from distributed import Client

            cluster = local_cluster(workers or available_cores())
            client = Client(cluster)
        for key, scenario in scenarios.items():
            log(f"running {scenario.name} ({len(scenario.tasks())} tasks)")
            t0 = time.perf_counter()
            run_scenario(scenario, results_dir / f"{scenario.name}.nc", client=client,
                         scheduler=None if client is not None else scheduler,
                         fresh=fresh, progress=progress)
            seconds[scenario.name] = seconds.get(scenario.name, 0.0) + time.perf_counter() - t0
            write_text(json.dumps(seconds, indent=1), ledger)
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    return {key: seconds[sc.name] for key, sc in scenarios.items()}
