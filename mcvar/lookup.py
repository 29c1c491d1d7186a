"""Measured lookup-table (LUT) device model: reading, validating and packaging the tables.

A lookup table gives, for a device at present conductance ``G_k`` [S], the ``u_m``-quantile
``dG[m, k]`` [S] of the conductance change caused by ONE programming pulse (CrossSim's format,
described in :func:`read_crosssim_table`). One table per pulse polarity: direction 0 =
increasing (SET, potentiation), direction 1 = decreasing (RESET, depression). Sampling
``u ~ U(0, 1)`` and interpolating ``dG`` linearly in ``u`` (inverse-CDF sampling) and in ``G``
draws one pulse's stochastic update, cycle-to-cycle noise included (:mod:`mcvar.kernels.lut`).
Device-to-device variation comes from a *set* of individually measured devices: each cell of a
tile follows one of them.

Derived quantities (CrossSim's aggregated-update rule, docs/updates.md and docs/devices.md):

* ``mu[d, s, k] = integral_0^1 dG_s(u, G_k) du`` [S], the mean one-pulse step at bin ``k``
  (trapezoid over the CDF points: exact for the piecewise-linear quantile function, and, because
  the sampler is linear in ``G`` too, ``mu`` interpolated in ``G`` is the exact mean at any G).
* ``window[d] = g_min + f * (g_max - g_min)`` for ``f = window_fractions`` (default 10 % .. 90 %)
  of the device's measured range ``g_range[d] = [g_min, g_max]`` [S]: its usable window.
* ``ave[d, s]`` [S]: the mean of ``mu_s(G)`` over ``G`` uniform in the usable window (exact
  integral of the piecewise-linear ``mu``); > 0 up, < 0 down. A requested change ``dw`` [S]
  becomes ``k = dw / ave`` pulse-equivalents applied as ``k mu_s(G) + sqrt(k) e_s(u, G)``.
* ``ave_table[d, s]`` [S]: the same mean over the table's whole G range (CrossSim v2.0's
  multi-device ``ave``, ``Device.table_mean = "table"``).

A tile's conductance window is :attr:`LookupTableSet.nominal_window` (the intersection of the
devices' usable windows, mcvar's default) or :attr:`LookupTableSet.global_window` (the window
fractions of the range spanned by all devices together, CrossSim v2.0's multi-device window).

The TaOx tables are kept exactly as measured, as CrossSim uses them. Their columns are flat
over the outermost CDF points (the extremes were clipped), so the sampled law has small atoms
at both tails; ENODe's steps are quantised to 1 uS (mostly flat segments). Some TaOx columns
are not monotone in ``u`` (none for devices 3 and 7, up to 161 of 501 columns for device 2,
with dips of up to ~45 % of a column's range): the sampler then draws the push-forward of
U(0, 1) through the piecewise-linear map, whose mean is still ``mu``.

The packaged tables (TaOx: 8 devices, 501 G bins x 501 CDF points; ENODe: one device, 48 x 122)
come from Sandia's CrossSim data repository (BSD 3-Clause, ``mcvar/data/lookup/LICENSE``).
"""

from __future__ import annotations

import functools
import gzip
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

DIRECTIONS = ("increasing", "decreasing")
"""Direction index 0: potentiating (SET) pulses; 1: depressing (RESET) pulses."""

PACKAGED_SETS = ("TaOx", "ENODe")
CROSSSIM_SOURCE = (
    "Sandia National Laboratories, CrossSim: repository sandialabs/cross-sim-data, "
    "commit 2ebec1f27cf1c7c05c7a779b42e16036a765023f"
)
CROSSSIM_LICENSE = (
    "BSD-3-Clause, Copyright (c) 2022, Sandia National Laboratories (mcvar/data/lookup/LICENSE)"
)

_HEADER_EXAMPLE = (
    "1st Row = Gbins, 2nd Row = CDF Points, 3rd row onward = dG matrix (rows= CDF, columns = Gbins)"
)
_FORMAT = "mcvar-lut-1"  # packaged-file layout version (see save_table_set)


# ------------------------------------------------------------------------------------------
# Reading CrossSim text tables


def read_crosssim_table(path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read one CrossSim lookup-table file (plain text or ``.gz``).

    Format: line 1 a header sentence naming ``Gbins`` and ``CDF`` (``"1st Row = Gbins, 2nd Row =
    CDF Points, 3rd row onward = dG matrix (rows= CDF, columns = Gbins)"``); line 2 the G bin
    centres [S], strictly increasing, >= 0; line 3 the CDF points [1], strictly increasing from
    exactly 0 to exactly 1; then M rows of the matrix ``dG[m, k]`` [S]. Entries are separated by
    commas (with optional spaces/tabs) or by whitespace alone; a trailing separator is allowed;
    blank lines are skipped (CrossSim's TaOx files have one before the matrix); line numbers in
    errors count them.

    Returns ``g_bins`` (K,) [S], ``u_points`` (M,) [1] and ``dg`` (M, K) [S], float64, K, M >= 2.
    Raises ``ValueError`` naming the file, the line and what was expected.
    """
    path = Path(path)
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rt", encoding="ascii") as f:
                text = f.read()
        else:
            text = path.read_text(encoding="ascii")
    except (UnicodeDecodeError, gzip.BadGzipFile, EOFError) as exc:
        raise ValueError(f"{path}: not a readable text lookup table ({exc})") from None

    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    if len(lines) < 5:
        raise ValueError(
            f"{path}: expected a header line, a G-bin line, a CDF-point line and >= 2 dG rows, "
            f"found only {len(lines)} non-blank line(s)"
        )
    n_head, header = lines[0]
    if "gbins" not in header.lower() or "cdf" not in header.lower():
        raise ValueError(
            f"{path}, line {n_head}: expected CrossSim's header sentence naming Gbins and CDF "
            f"({_HEADER_EXAMPLE!r}), found {header[:80]!r}"
        )

    (n_g, g_line), (n_u, u_line) = lines[1], lines[2]
    g_bins = _parse_row(g_line, path, n_g)
    u_points = _parse_row(u_line, path, n_u)
    n_bins, n_cdf = g_bins.size, u_points.size
    if n_bins < 2:
        raise ValueError(f"{path}, line {n_g}: expected >= 2 G bins [S], found {n_bins}")
    if n_cdf < 2:
        raise ValueError(f"{path}, line {n_u}: expected >= 2 CDF points [1], found {n_cdf}")
    _check_increasing(g_bins, f"{path}, line {n_g}: G bins [S]")
    if g_bins[0] < 0:
        raise ValueError(f"{path}, line {n_g}: G bins [S] must be >= 0, found {g_bins[0]!r}")
    _check_increasing(u_points, f"{path}, line {n_u}: CDF points [1]")
    if u_points[0] != 0.0 or u_points[-1] != 1.0:
        raise ValueError(
            f"{path}, line {n_u}: CDF points [1] must run from exactly 0 to exactly 1 (the table "
            f"must cover the whole distribution), found {u_points[0]!r} .. {u_points[-1]!r}"
        )

    rows = lines[3:]
    if len(rows) != n_cdf:
        raise ValueError(
            f"{path}: expected {n_cdf} dG rows (one per CDF point) after line {n_u}, "
            f"found {len(rows)}"
        )
    dg = np.empty((n_cdf, n_bins))
    for m, (n, line) in enumerate(rows):
        row = _parse_row(line, path, n)
        if row.size != n_bins:
            raise ValueError(
                f"{path}, line {n}: expected {n_bins} dG entries [S] (one per G bin), "
                f"found {row.size}"
            )
        dg[m] = row
    return g_bins, u_points, dg


def _parse_row(line: str, path: Path, lineno: int) -> np.ndarray:
    """Finite float64 numbers of one line, comma- or whitespace-separated."""
    s = line.strip()
    if s.endswith(","):
        s = s[:-1]
    fields = [f.strip() for f in s.split(",")] if "," in s else s.split()
    try:
        values = np.array(fields, dtype=np.float64)
    except ValueError:
        for col, f in enumerate(fields, 1):
            try:
                float(f)
            except ValueError:
                what = "an empty entry (two separators in a row)" if not f else f"{f[:40]!r}"
                raise ValueError(
                    f"{path}, line {lineno}, entry {col}: expected a number, found {what}"
                ) from None
        raise
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise ValueError(
            f"{path}, line {lineno}, entry {bad[0] + 1}: expected a finite number, "
            f"found {fields[bad[0]]!r}"
        )
    return values


def _check_increasing(x: np.ndarray, what: str) -> None:
    bad = np.flatnonzero(np.diff(x) <= 0)
    if bad.size:
        j = bad[0] + 1
        raise ValueError(
            f"{what} must be strictly increasing; "
            f"entry {j + 1} ({x[j]!r}) <= entry {j} ({x[j - 1]!r})"
        )


# ------------------------------------------------------------------------------------------
# The table set


@dataclass(frozen=True, eq=False)
class LookupTableSet:
    """A set of D measured devices' lookup tables sharing one grid size (K G bins, M CDF points).

    Arrays (float64, C-contiguous, read-only); direction index 0 = increasing (SET),
    1 = decreasing (RESET):

    * ``g_bins`` (D, 2, K) [S]: G bin centres, strictly increasing.
    * ``u_points`` (D, 2, M) [1]: CDF points, strictly increasing from 0 to 1.
    * ``dg`` (D, 2, M, K) [S]: ``dg[d, s, m, k]`` = u_m-quantile of one pulse's change at G_k.
    * ``mu`` (D, 2, K) [S]: mean one-pulse step at each bin (trapezoid over ``u_points``).
    * ``quantiles`` (D, 2, K, M) [S]: ``dg`` with each bin's quantiles contiguous, float32 (the
      layout the sampling kernels read: random draws at one G touch one or two cache lines,
      and half the bytes keep more of the table in cache; lossless for the packaged tables,
      which are stored as float32, and within 6e-8 relative for others).
    * ``g_range`` (D, 2) [S]: measured [min, max] of each device's G bins (both directions).
    * ``window`` (D, 2) [S]: usable window, ``window_fractions`` (lo, hi) of the measured range.
    * ``ave`` (D, 2) [S]: mean of ``mu`` over the usable window, per direction (> 0 up, < 0 down).
    * ``ave_table`` (D, 2) [S]: mean of ``mu`` over the whole table (G uniform between the
      direction's first and last G bin); its sign is not checked here (:func:`mcvar.devices.resolve`
      checks it when a device uses it).

    ``window_fractions`` (lo, hi) [1] with 0 <= lo < hi <= 1. Construction validates shapes and
    values (``ValueError`` naming the parameter), requires ``ave`` > 0 up and < 0 down, and a
    non-empty :attr:`nominal_window`.
    """

    name: str
    device_names: tuple[str, ...]
    g_bins: np.ndarray = field(repr=False)
    u_points: np.ndarray = field(repr=False)
    dg: np.ndarray = field(repr=False)
    window_fractions: tuple[float, float] = (0.1, 0.9)
    source: str = ""
    license: str = field(default="", repr=False)
    mu: np.ndarray = field(init=False, repr=False)
    quantiles: np.ndarray = field(init=False, repr=False)
    ave: np.ndarray = field(init=False, repr=False)
    ave_table: np.ndarray = field(init=False, repr=False)
    g_range: np.ndarray = field(init=False, repr=False)
    window: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        put = functools.partial(object.__setattr__, self)
        names = tuple(str(n) for n in self.device_names)
        g_bins = _frozen(self.g_bins)
        u_points = _frozen(self.u_points)
        dg = _frozen(self.dg)
        n_dev = len(names)
        if n_dev < 1 or len(set(names)) != n_dev:
            raise ValueError(f"device_names: expected >= 1 distinct names, got {names!r}")
        if g_bins.ndim == 3 and g_bins.shape[0] != n_dev:
            raise ValueError(
                f"device_names: {n_dev} names for {g_bins.shape[0]} devices in g_bins; "
                f"expected one per device"
            )
        if g_bins.ndim != 3 or g_bins.shape[:2] != (n_dev, 2) or g_bins.shape[2] < 2:
            raise ValueError(
                f"g_bins: expected shape (D={n_dev}, 2, K >= 2) [S], got {g_bins.shape}"
            )
        if u_points.ndim != 3 or u_points.shape[:2] != (n_dev, 2) or u_points.shape[2] < 2:
            raise ValueError(
                f"u_points: expected shape (D={n_dev}, 2, M >= 2) [1], got {u_points.shape}"
            )
        n_bins, n_cdf = g_bins.shape[2], u_points.shape[2]
        if dg.shape != (n_dev, 2, n_cdf, n_bins):
            raise ValueError(
                f"dg: expected shape (D, 2, M, K) = {(n_dev, 2, n_cdf, n_bins)} [S], got {dg.shape}"
            )
        for arr, what in ((g_bins, "g_bins"), (u_points, "u_points"), (dg, "dg")):
            if not np.isfinite(arr).all():
                raise ValueError(f"{what}: every entry must be finite")
        for d, s in np.ndindex(n_dev, 2):
            where = f"[device {names[d]!r}, {DIRECTIONS[s]}]"
            _check_increasing(g_bins[d, s], f"g_bins{where} [S]")
            _check_increasing(u_points[d, s], f"u_points{where} [1]")
            if g_bins[d, s, 0] < 0:
                raise ValueError(
                    f"g_bins{where}: G bins [S] must be >= 0, found {g_bins[d, s, 0]!r}"
                )
            if u_points[d, s, 0] != 0.0 or u_points[d, s, -1] != 1.0:
                raise ValueError(
                    f"u_points{where}: CDF points [1] must run from exactly 0 to exactly 1"
                )
        lo, hi = _fractions(self.window_fractions)

        mu = 0.5 * np.sum(np.diff(u_points)[..., None] * (dg[:, :, 1:] + dg[:, :, :-1]), axis=2)
        g_range = np.stack([g_bins.min(axis=(1, 2)), g_bins.max(axis=(1, 2))], axis=1)
        window = g_range[:, :1] + np.array([lo, hi]) * (g_range[:, 1:] - g_range[:, :1])
        ave = np.empty((n_dev, 2))
        ave_table = np.empty((n_dev, 2))
        for d, s in np.ndindex(n_dev, 2):
            ave[d, s] = _mean_over(g_bins[d, s], mu[d, s], *window[d])
            ave_table[d, s] = _mean_over(g_bins[d, s], mu[d, s], g_bins[d, s, 0],
                                         g_bins[d, s, -1])
        for d, s in np.ndindex(n_dev, 2):
            if (ave[d, s] > 0) != (s == 0) or ave[d, s] == 0:
                raise ValueError(
                    f"dg[device {names[d]!r}, {DIRECTIONS[s]}]: mean step over the usable "
                    f"window is {ave[d, s]:.3g} S; the aggregated update needs ave > 0 for "
                    f"increasing and < 0 for decreasing tables (are the files swapped?)"
                )
        if window[:, 0].max() >= window[:, 1].min():
            raise ValueError(
                f"window_fractions: the devices' usable windows {window.tolist()} [S] do not "
                f"overlap, so no common conductance window fits every device; widen "
                f"window_fractions or use fewer devices"
            )
        put("device_names", names)
        put("window_fractions", (lo, hi))
        for key, value in dict(
            g_bins=g_bins, u_points=u_points, dg=dg, mu=mu, ave=ave, ave_table=ave_table,
            g_range=g_range, window=window,
            quantiles=np.ascontiguousarray(np.swapaxes(dg, 2, 3), dtype=np.float32),
        ).items():
            value.setflags(write=False)
            put(key, value)

    @property
    def n_devices(self) -> int:
        """Number of measured devices D."""
        return len(self.device_names)

    @property
    def n_bins(self) -> int:
        """Number of G bins K."""
        return self.g_bins.shape[2]

    @property
    def n_cdf_points(self) -> int:
        """Number of CDF points M."""
        return self.u_points.shape[2]

    def subset(self, indices: tuple[int, ...]) -> "LookupTableSet":
        """The set restricted to the devices at ``indices`` (derived arrays recomputed)."""
        idx = list(indices)
        return LookupTableSet(self.name, tuple(self.device_names[i] for i in idx),
                              self.g_bins[idx], self.u_points[idx], self.dg[idx],
                              self.window_fractions, self.source, self.license)

    @property
    def nominal_window(self) -> tuple[float, float]:
        """Common conductance window (G_min, G_max) [S] for a tile built from this set.

        The tile maps weights linearly onto one window shared by every cell, so it must lie
        where every device has data. It is the intersection of the devices' usable windows:
        (max over devices of the window's lower end, min over devices of its upper end). This
        keeps every cell inside its own 10 %..90 % (by default) window, away from the sparsely
        measured ends of its range; a median of the bounds would leave some TaOx devices outside
        their measured range. For a single device it is its usable window.
        """
        return float(self.window[:, 0].max()), float(self.window[:, 1].min())

    @property
    def global_range(self) -> tuple[float, float]:
        """Range (G_min, G_max) [S] spanned by all devices' G bins together: the lowest
        measured minimum and the highest measured maximum."""
        return float(self.g_range[:, 0].min()), float(self.g_range[:, 1].max())

    @property
    def global_window(self) -> tuple[float, float]:
        """CrossSim v2.0's multi-device window (G_min, G_max) [S]: ``window_fractions`` of
        :attr:`global_range` (``training_net.py``: 10 % .. 90 % of the global min/max over the
        set's tables). Wider than :attr:`nominal_window` when the devices differ: parts of it
        may lie outside some devices' measured ranges (their tables are then clamped to the
        end bins)."""
        g_lo, g_hi = self.global_range
        lo, hi = self.window_fractions
        return g_lo + lo * (g_hi - g_lo), g_lo + hi * (g_hi - g_lo)


def _fractions(window_fractions) -> tuple[float, float]:
    """Validated (lo, hi) window fractions [1], 0 <= lo < hi <= 1."""
    try:
        lo, hi = (float(f) for f in window_fractions)
    except (TypeError, ValueError):
        lo = hi = float("nan")
    if not 0.0 <= lo < hi <= 1.0:
        raise ValueError(
            f"window_fractions: expected (lo, hi) with 0 <= lo < hi <= 1 [1], "
            f"got {window_fractions!r}"
        )
    return lo, hi


def _frozen(x) -> np.ndarray:
    """Read-only float64 C-contiguous copy of ``x``."""
    a = np.array(x, dtype=np.float64, order="C")
    a.setflags(write=False)
    return a


def _mean_over(x: np.ndarray, y: np.ndarray, a: float, b: float) -> float:
    """Average of the piecewise-linear interpolant of ``y(x)`` (clamped outside) over [a, b]."""
    knots = np.concatenate([[a], x[(x > a) & (x < b)], [b]])
    values = np.interp(knots, x, y)
    return float(np.sum(np.diff(knots) * (values[1:] + values[:-1])) / (2.0 * (b - a)))


# ------------------------------------------------------------------------------------------
# Building sets from CrossSim folders


def table_set_from_crosssim(
    directory, name: str | None = None, window_fractions=(0.1, 0.9)
) -> LookupTableSet:
    """Table set from a CrossSim folder of measured lookup tables.

    ``directory`` holds either one device (files ``dG_increasing*`` and ``dG_decreasing*``,
    e.g. ``.txt``, ``.csv``, ``.txt.gz``) or one subfolder per device (sorted by name), each
    holding such a pair. All devices must share K and M (no silent resampling or padding).
    ``name`` defaults to the folder name. The user is responsible for the tables' licence.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ValueError(f"directory: {str(directory)!r} is not a folder")
    if _pair(directory) is not None:
        device_dirs = [directory]
    else:
        device_dirs = sorted(p for p in directory.iterdir() if p.is_dir() and _pair(p) is not None)
    if not device_dirs:
        raise ValueError(
            f"directory: {str(directory)!r} holds neither a dG_increasing*/dG_decreasing* pair nor "
            f"subfolders with one"
        )
    tables = []
    for dev_dir in device_dirs:
        tables.append([read_crosssim_table(p) for p in _pair(dev_dir)])
    first = tables[0][0]
    for dev_dir, pair in zip(device_dirs, tables):
        for s, (g, u, _) in enumerate(pair):
            if (g.size, u.size) != (first[0].size, first[1].size):
                raise ValueError(
                    f"directory: {dev_dir.name!r} {DIRECTIONS[s]} has K={g.size} G bins and "
                    f"M={u.size} CDF points but {device_dirs[0].name!r} increasing has "
                    f"K={first[0].size}, M={first[1].size}; a table set needs one (K, M) for all "
                    f"its tables (resample them onto a common grid first)"
                )
    return LookupTableSet(
        name=name or directory.name,
        device_names=tuple(p.name for p in device_dirs),
        g_bins=[[t[0] for t in pair] for pair in tables],
        u_points=[[t[1] for t in pair] for pair in tables],
        dg=[[t[2] for t in pair] for pair in tables],
        window_fractions=window_fractions,
        source=str(directory.resolve()),
    )


def _pair(folder: Path) -> tuple[Path, Path] | None:
    """(increasing, decreasing) table files of a device folder, or None if it has none."""
    found = []
    for stem in ("dG_increasing", "dG_decreasing"):
        files = sorted(p for p in folder.glob(stem + "*") if p.is_file())
        if len(files) > 1:
            raise ValueError(
                f"directory: {str(folder)!r} holds several {stem}* files "
                f"{[p.name for p in files]}; expected one per direction"
            )
        found.append(files[0] if files else None)
    if found == [None, None]:
        return None
    if None in found:
        missing = "dG_increasing" if found[0] is None else "dG_decreasing"
        raise ValueError(f"directory: {str(folder)!r} lacks its {missing}* file")
    return found[0], found[1]


# ------------------------------------------------------------------------------------------
# Packaged compact form


def save_table_set(table_set: LookupTableSet, path) -> None:
    """Write ``table_set`` in the packaged compact form (a byte-reproducible ``.npz``).

    ``g_bins`` and ``u_points`` are stored exactly (float64). ``dg`` is rounded to float32
    (relative error <= 6e-8, i.e. <= 1e-11 S on TaOx's largest steps): the text tables carry
    ~9 significant digits, far beyond what the measurements resolve (ENODe's steps, for one,
    are quantised to 1 uS). Its bit patterns are differenced along the CDF axis (int32,
    wrapping, lossless) and split into byte planes so deflate compresses them about 4x.
    """
    bits = table_set.dg.astype("<f4").view("<i4")
    delta = np.diff(bits, axis=2, prepend=np.zeros_like(bits[:, :, :1]))
    planes = np.ascontiguousarray(delta.view(np.uint8).reshape(-1, 4).T)
    arrays = dict(
        format=np.array(_FORMAT),
        name=np.array(table_set.name),
        device_names=np.array(table_set.device_names),
        g_bins=table_set.g_bins,
        u_points=table_set.u_points,
        dg_shape=np.array(table_set.dg.shape, dtype=np.int64),
        dg_planes=planes,
        source=np.array(table_set.source),
        license=np.array(table_set.license),
    )
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for key, value in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asarray(value), allow_pickle=False)
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue(), compresslevel=9)


def read_table_set(path, window_fractions=(0.1, 0.9)) -> LookupTableSet:
    """Read a table set written by :func:`save_table_set`; ``dg`` expanded to float64."""
    with np.load(path, allow_pickle=False) as npz:
        if "format" not in npz.files or str(npz["format"]) != _FORMAT:
            raise ValueError(f"path: {str(path)!r} is not an mcvar lookup-table file ({_FORMAT})")
        shape = tuple(int(n) for n in npz["dg_shape"])
        delta = np.ascontiguousarray(npz["dg_planes"].T).view("<i4").reshape(shape)
        dg = np.cumsum(delta, axis=2, dtype="<i4").view("<f4")
        return LookupTableSet(
            name=str(npz["name"]),
            device_names=tuple(str(n) for n in npz["device_names"]),
            g_bins=npz["g_bins"],
            u_points=npz["u_points"],
            dg=dg,
            window_fractions=window_fractions,
            source=str(npz["source"]),
            license=str(npz["license"]),
        )


def load_table_set(name: str, window_fractions=(0.1, 0.9)) -> LookupTableSet:
    """Packaged measured table set ``"TaOx"`` (8 devices) or ``"ENODe"`` (1); cached.

    ``name`` is case-insensitive; ``window_fractions`` (lo, hi) [1] set the usable window.
    """
    match = [s for s in PACKAGED_SETS if s.lower() == str(name).lower()]
    if not match:
        raise ValueError(
            f"name: unknown lookup-table set {name!r}; packaged sets are {list(PACKAGED_SETS)}"
        )
    return _load_packaged(match[0], _fractions(window_fractions))


@functools.lru_cache(maxsize=None)
def _load_packaged(name: str, window_fractions: tuple[float, float]) -> LookupTableSet:
    return read_table_set(packaged_path(name), window_fractions)


def packaged_path(name: str) -> Path:
    """Path of the packaged compact file of set ``name``."""
    return Path(__file__).parent / "data" / "lookup" / f"{name}.npz"
