"""Device models: parameters (aihwkit names where one exists), validation and d2d draws.

A :class:`Device` describes one kind of resistive device and its variability. Parameters
that share a name with IBM aihwkit mean exactly what they mean there (docs/devices.md): weights are in normalised device units ``w`` in ``[w_min, w_max]``, mapped
linearly onto the nominal conductance window ``[g_min, g_max]``:

    G(w) = g_min + (w - w_min) (g_max - g_min) / (w_max - w_min)          [S]

The state of a tile is always the conductance in siemens; :func:`draw_cells` converts the
parameters into per-cell arrays in siemens, drawing device-to-device (d2d) variation once
per tile instance. Cycle-to-cycle (c2c) noise is drawn by the kernels at every pulse/read.

Models (one pulse in direction up (+) or down (-); ``s`` = ``dw_min_std``, ``xi`` ~ N(0,1),
``D`` the cell's step in siemens, ``G0 = G(0)`` the conductance of zero device weight):

=====================  ==============================================================
``linear``             ConstantStep: ``dG = +-D (1 + s xi)``; hard bounds clip
``linear_step``        LinearStep: ``dG_up = D (1 - gamma_up (G-G0)/(G(w_max)-G0))(1+s xi)``
``soft_bounds``        SoftBounds: ``dG_up = D (g_hi - G)/(g_hi - G0) (1 + s xi)``, mirror down
``exponential``        ``dG_up = D exp(-nu_up (G - g_lo)/(g_hi - g_lo))``, mirror down
``crosssim_asymmetric``  CrossSim's asymmetric form (acts as decay to a fixed point)
``crosssim_symmetric``   CrossSim's symmetric form
``lookup``             measured tables: ``dG`` drawn from the inverse CDF at the present G
=====================  ==============================================================

After every pulse ``G`` is clipped to the cell's own bounds ``[g_lo, g_hi]``; stuck cells
sit at a bound and never move. For ``lookup``, ``table_window``, ``table_mean``,
``table_clip`` and ``table_freeze`` choose between mcvar's handling of a set of measured
devices (the defaults) and CrossSim v2.0's multi-device tables (docs/devices.md, section 7);
the step models ignore them, as they ignore ``table``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .kernels import rng
from .kernels.finite import all_finite
from .kernels.state import CellParams
from .params import ParameterError, Parameters, param, validate
from .streams import Stream

MODELS = ("linear", "linear_step", "soft_bounds", "exponential",
          "crosssim_asymmetric", "crosssim_symmetric", "lookup")
MODEL_CODE = {name: code for code, name in enumerate(MODELS)}
WRITE_NOISE_MODELS = ("independent", "proportional", "inverse")
READ_NOISE_MODELS = ("additive", "multiplicative")
TABLES = ("TaOx", "ENODe")
TABLE_WINDOWS = ("intersection", "global")
TABLE_MEANS = ("window", "table")
TABLE_CLIPS = ("device", "global")

_STEP_G_MIN = 10e-6  # default window of step models [S]: on/off ratio 10, 100 uS on-state
_STEP_G_MAX = 100e-6


@dataclass(frozen=True)
class Device(Parameters):
    """One kind of resistive device: update model, bounds, noise and variability."""

    model: str = param("soft_bounds", units="1", choices=MODELS, doc="update model")
    g_min: float | None = param(None, units="S", low=0.0, kind=(int, float, type(None)),
                                doc="nominal conductance of w_min; None: 10 uS, or the "
                                    "table's usable window for 'lookup'")
    g_max: float | None = param(None, units="S", low=0.0, low_open=True,
                                kind=(int, float, type(None)),
                                doc="nominal conductance of w_max; None: 100 uS, or the "
                                    "table's usable window for 'lookup'")
    w_min: float = param(-1.0, units="1", high=0.0, high_open=True,
                         doc="mean lower weight bound (aihwkit)")
    w_max: float = param(1.0, units="1", low=0.0, low_open=True,
                         doc="mean upper weight bound (aihwkit)")
    w_min_dtod: float = param(0.0, units="1", low=0.0, doc="d2d std of w_min, relative")
    w_max_dtod: float = param(0.0, units="1", low=0.0, doc="d2d std of w_max, relative")
    dw_min: float = param(0.001, units="1", low=0.0, low_open=True,
                          doc="mean step of one pulse in weight units (aihwkit); for "
                              "'lookup' the table's mean step is used instead")
    dw_min_dtod: float = param(0.0, units="1", low=0.0,
                               doc="d2d std of the step, relative to dw_min")
    dw_min_std: float = param(0.0, units="1", low=0.0,
                              doc="c2c std of every pulse's step, relative to the step")
    up_down: float = param(0.0, units="1", low=-1.0, high=1.0,
                           doc="systematic up/down step asymmetry (aihwkit)")
    up_down_dtod: float = param(0.0, units="1", low=0.0,
                                doc="d2d std of the up/down asymmetry, relative to dw_min")
    gamma_up: float = param(0.0, units="1", low=0.0, doc="linear_step slope, up")
    gamma_down: float = param(0.0, units="1", low=0.0, doc="linear_step slope, down")
    gamma_up_dtod: float = param(0.0, units="1", low=0.0, doc="d2d std of gamma_up")
    gamma_down_dtod: float = param(0.0, units="1", low=0.0, doc="d2d std of gamma_down")
    nu_up: float = param(0.0, units="1", low=0.0, doc="exponential nonlinearity, up")
    nu_down: float = param(0.0, units="1", low=0.0, doc="exponential nonlinearity, down")
    nonlinearity: float = param(1.0, units="1", low=0.0, low_open=True,
                                doc="strength a of CrossSim's analytic nonlinear forms")
    nonlinearity_dtod: float = param(0.0, units="1", low=0.0,
                                     doc="d2d std of nu_up/nu_down/nonlinearity, relative")
    write_noise: float = param(0.0, units="1", low=0.0,
                               doc="CrossSim per-update write noise sigma_wn")
    write_noise_model: str = param("independent", units="1", choices=WRITE_NOISE_MODELS,
                                   doc="CrossSim write-noise scaling with G")
    write_noise_std: float = param(0.0, units="1", low=0.0,
                                   doc="aihwkit write noise: std of the read-visible offset "
                                       "redrawn at each update, in units of dw_min")
    read_noise: float = param(0.0, units="1", low=0.0,
                              doc="per-device read noise std: fraction of (g_max - g_min) "
                                  "(additive) or of G (multiplicative)")
    read_noise_model: str = param("additive", units="1", choices=READ_NOISE_MODELS,
                                  doc="per-device read noise type")
    p_stuck_on: float = param(0.0, units="1", low=0.0, high=1.0,
                              doc="fraction of cells stuck at their upper bound")
    p_stuck_off: float = param(0.0, units="1", low=0.0, high=1.0,
                               doc="fraction of cells stuck at their lower bound")
    program_noise: float = param(0.0, units="1", low=0.0,
                                 doc="std of the programming error, fraction of g_max - g_min")
    table: str = param("TaOx", units="1", choices=TABLES,
                       doc="measured lookup-table set ('lookup' model)")
    table_devices: tuple | None = param(None, units="1", kind=(tuple, type(None)),
                                        doc="indices of the measured devices cells are "
                                            "drawn from (None: all)")
    table_window: str = param("intersection", units="1", choices=TABLE_WINDOWS,
                              doc="'lookup': default g_min, g_max: the intersection of the "
                                  "devices' usable windows, or 'global': the window fractions "
                                  "of the range of all devices together (CrossSim v2.0)")
    table_mean: str = param("window", units="1", choices=TABLE_MEANS,
                            doc="'lookup': each device's mean step ave, which turns a requested "
                                "change into pulse-equivalents, over its usable 'window' or "
                                "its whole 'table' (CrossSim v2.0)")
    table_clip: str = param("device", units="1", choices=TABLE_CLIPS,
                            doc="'lookup': cells clip to their own 'device''s measured range, "
                                "or to the 'global' range of all devices (CrossSim v2.0)")
    table_freeze: bool = param(False, units="1", kind=bool,
                               doc="'lookup': a cell outside [g_min, g_max] when an update "
                                   "starts is not updated (CrossSim v2.0)")

    def __post_init__(self):
        validate(self, "device.")
        if self.g_min is not None and self.g_max is not None and self.g_min >= self.g_max:
            raise ParameterError("device.g_min", f"g_min = {self.g_min} S must be below "
                                                 f"g_max = {self.g_max} S")
        if self.p_stuck_on + self.p_stuck_off > 1.0:
            raise ParameterError("device.p_stuck_on", "p_stuck_on + p_stuck_off must be <= 1")
        if self.model == "lookup" and self.dw_min_std > 0:
            raise ParameterError("device.dw_min_std", "must be 0 for the 'lookup' model: "
                                                      "measured tables carry their own c2c noise")
        if self.table_devices is not None:
            if not self.table_devices or not all(
                    isinstance(i, int) and not isinstance(i, bool) and i >= 0
                    for i in self.table_devices):
                raise ParameterError("device.table_devices",
                                     "must be a non-empty list of device indices >= 0")


@dataclass(frozen=True)
class DeviceInstance:
    """A device kind resolved to siemens: nominal window, step and the lookup tables."""

    device: Device
    g_min: float  #: nominal conductance of w_min [S]
    g_max: float  #: nominal conductance of w_max [S]
    g_zero: float  #: conductance of zero device weight [S]
    dw_siemens: float  #: nominal step of one pulse [S]
    tables: object | None  #: mcvar.lookup.LookupTableSet for 'lookup', else None

    @property
    def table_ave(self) -> np.ndarray:
        """(D, 2) [S]: each measured device's mean one-pulse step per direction that the
        aggregated lookup update divides a requested change by (``Device.table_mean``);
        'lookup' only."""
        return _table_ave(self.tables, self.device)

    @property
    def g_range(self) -> float:
        """Nominal conductance range g_max - g_min [S]."""
        return self.g_max - self.g_min

    @property
    def siemens_per_weight(self) -> float:
        """Conductance per unit of normalised device weight [S]."""
        return self.g_range / (self.device.w_max - self.device.w_min)


def resolve(device: Device) -> DeviceInstance:
    """Resolve ``device`` into siemens (loads the lookup tables for 'lookup')."""
    tables = None
    g_min, g_max = device.g_min, device.g_max
    if device.model == "lookup":
        from .lookup import load_table_set

        tables = _select_devices(load_table_set(device.table), device.table_devices)
        if device.table_window == "global":
            lo, hi = tables.global_window
            (meas_lo, meas_hi), where = tables.global_range, "the devices' global range"
        else:
            lo, hi = tables.nominal_window
            meas_lo = float(tables.g_range[:, 0].max())
            meas_hi = float(tables.g_range[:, 1].min())
            where = "every measured device's range"
        g_min = lo if g_min is None else g_min
        g_max = hi if g_max is None else g_max
        if g_min < meas_lo or g_max > meas_hi:
            raise ParameterError("device.g_min", f"window [{g_min:g}, {g_max:g}] S must lie inside "
                                                 f"{where} [{meas_lo:g}, {meas_hi:g}] S")
        dw = float(np.mean(np.abs(_table_ave(tables, device))))
    else:
        g_min = _STEP_G_MIN if g_min is None else g_min
        g_max = _STEP_G_MAX if g_max is None else g_max
        dw = device.dw_min * (g_max - g_min) / (device.w_max - device.w_min)
    if g_min >= g_max:
        raise ParameterError("device.g_min", f"g_min = {g_min} S must be below g_max = {g_max} S")
    scale = (g_max - g_min) / (device.w_max - device.w_min)
    g_zero = g_min - device.w_min * scale
    return DeviceInstance(device, float(g_min), float(g_max), float(g_zero), float(dw), tables)


def _table_ave(tables, device: Device) -> np.ndarray:
    """The (D, 2) mean steps [S] ``device.table_mean`` picks from ``tables``; raises
    ParameterError when a whole-table mean has the wrong sign for its direction."""
    if device.table_mean == "window":
        return tables.ave  # (its signs are checked when the set is built)
    ave = tables.ave_table
    for d, s in np.ndindex(ave.shape):
        if (ave[d, s] > 0) != (s == 0) or ave[d, s] == 0:
            raise ParameterError(
                "device.table_mean", f"'table': device {tables.device_names[d]!r} of the "
                f"{tables.name} set has a mean step of {ave[d, s]:.3g} S over its whole "
                f"{('increasing', 'decreasing')[s]} table; the aggregated update needs > 0 "
                f"up and < 0 down (use 'window')")
    return ave


def _select_devices(tables, indices):
    if indices is None:
        return tables
    n = tables.n_devices
    bad = [i for i in indices if i >= n]
    if bad:
        raise ParameterError("device.table_devices",
                             f"indices {bad} out of range: the {tables.name} set has devices 0..{n - 1}")
    return tables.subset(tuple(indices))


def draw_cells(inst: DeviceInstance, shape: tuple[int, int, int], seed: int, trial: int,
               tile: int) -> CellParams:
    """Per-cell parameters of one tile instance, d2d variation drawn from its stream.

    ``shape`` = (planes, rows, cols). Draws use stream ``(seed, trial, tile, D2D)``, one
    operation index per parameter family, so the same instance comes out whatever else runs.
    """
    dev = inst.device
    key = rng.stream_key(seed, trial, tile, Stream.D2D)
    xi = lambda op: rng.normals(key, shape, op)  # noqa: E731  (op = parameter family)
    scale = inst.siemens_per_weight

    b_max = dev.w_max * (1.0 + dev.w_max_dtod * xi(0))
    b_min = dev.w_min * (1.0 + dev.w_min_dtod * xi(1))
    b_max, b_min = np.maximum(b_max, b_min), np.minimum(b_max, b_min)
    b_max, b_min = np.abs(b_max), -np.abs(b_min)
    g_hi = inst.g_zero + b_max * scale
    g_lo = np.maximum(inst.g_zero + b_min * scale, 0.0)  # conductance cannot be negative

    g = 1.0 + dev.dw_min_dtod * xi(2)
    r = dev.up_down_dtod * xi(3)
    rel_up = np.abs(min(dev.up_down, 0.0) + g + r)
    rel_down = np.abs(-max(dev.up_down, 0.0) + g - r)
    step_up = dev.dw_min * scale * rel_up
    step_down = dev.dw_min * scale * rel_down

    zeros = np.zeros(shape)
    lut_scale = np.zeros((0, 0, 0))
    c_up, c_down, a_up, a_down = zeros, zeros.copy(), zeros.copy(), zeros.copy()
    lut_dev = np.zeros(shape, np.int32)
    model = dev.model
    # soft_bounds stores no coefficients: its c = 1 / (bound - G0) and anchor G0 follow from
    # the cell's bounds, and the update kernel derives them (4 fewer arrays to stream)
    if model == "linear_step":
        gam_up = np.abs(dev.gamma_up + dev.gamma_up_dtod * xi(4))
        gam_down = np.abs(dev.gamma_down + dev.gamma_down_dtod * xi(5))
        ref_up = inst.g_zero + dev.w_max * scale
        ref_down = inst.g_zero + dev.w_min * scale
        c_up = gam_up / (ref_up - inst.g_zero)
        c_down = gam_down / (ref_down - inst.g_zero)
        a_up = np.full(shape, inst.g_zero)
        a_down = a_up.copy()
    elif model == "exponential":
        spread = 1.0 + dev.nonlinearity_dtod * xi(6)
        c_up = np.maximum(dev.nu_up * spread, 0.0) / (g_hi - g_lo)
        c_down = np.maximum(dev.nu_down * spread, 0.0) / (g_hi - g_lo)
        a_up, a_down = g_lo.copy(), g_hi.copy()
    elif model in ("crosssim_asymmetric", "crosssim_symmetric"):
        a = np.maximum(dev.nonlinearity * (1.0 + dev.nonlinearity_dtod * xi(6)), 1e-6)
        span = g_hi - g_lo
        if model == "crosssim_asymmetric":
            w0 = span / -np.expm1(-a)
            c_up = -np.expm1(-a * step_up / span)  # 1 - exp(-a delta)
            c_down = -np.expm1(-a * step_down / span)
            a_up, a_down = w0 + g_lo, g_hi - w0
        else:
            a_up = span * (np.exp(a) + 1.0) / np.expm1(a)  # A
            a_down = g_lo - span / np.expm1(a)  # B
            c_up = np.exp(-2.0 * a * step_up / span)
            c_down = np.exp(2.0 * a * step_down / span)
    elif model == "lookup":
        tables = inst.tables
        u = rng.uniforms(key, shape, 7)
        lut_dev = np.minimum((u * tables.n_devices).astype(np.int32), tables.n_devices - 1)
        lut_scale = np.maximum(g, 0.0)  # d2d scale of the measured steps
        step_up = inst.dw_siemens * lut_scale
        step_down = step_up.copy()
        if dev.table_clip == "global":
            g_lo, g_hi = (np.full(shape, g) for g in tables.global_range)
        else:
            g_lo = tables.g_range[lut_dev, 0].astype(np.float64)
            g_hi = tables.g_range[lut_dev, 1].astype(np.float64)

    stuck = np.zeros(shape, np.int8)
    if dev.p_stuck_on > 0 or dev.p_stuck_off > 0:
        u = rng.uniforms(key, shape, 8)
        stuck[u < dev.p_stuck_on] = 1
        stuck[(u >= dev.p_stuck_on) & (u < dev.p_stuck_on + dev.p_stuck_off)] = -1

    arrays = [g_lo, g_hi, step_up, step_down, c_up, c_down, a_up, a_down]
    arrays = [np.ascontiguousarray(np.broadcast_to(a, shape), dtype=np.float64) for a in arrays]
    return CellParams(*arrays, stuck, lut_dev, np.ascontiguousarray(lut_scale, dtype=np.float64))


def check_finite(name: str, values: np.ndarray) -> None:
    """Raise ValueError if ``values`` contains NaN or inf (inputs to kernels)."""
    values = np.asarray(values)
    if values.dtype == np.float64 and values.flags.c_contiguous:
        finite = all_finite(values)
    else:
        finite = np.all(np.isfinite(values))
    if not finite:
        raise ValueError(f"{name} contains NaN or inf values; all inputs must be finite")


__all__ = ["Device", "DeviceInstance", "CellParams", "MODELS", "MODEL_CODE", "resolve",
           "draw_cells", "check_finite"]
