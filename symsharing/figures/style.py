"""The book's figure style: one figure readable on a 390 px phone and in a 1280 px desktop column.

Every figure of the book is a ``Panels``: a few panels (one per task, claim, ...) each drawn as its
own SVG, laid out by the page (a CSS grid, no script) side by side where the column is wide and one
under another on a phone, so no panel is shrunk to a third of a phone's width. Vector images stay
sharp at any zoom; the text is drawn as paths, so it looks the same on every device. Conventions
every helper keeps:

- the legend (or colour bar) is a strip of its own above the panels, never drawn over the data;
- each panel's y-label says which way is better where the value has a direction ("↑ better"), so
  no label spans panels of opposite direction;
- confidence bands are clipped to the range the value can take (``value_range``: accuracy within
  [0, 1], errors and MSE at least 0);
- a censored value (a lower bound) is an open marker, never joined by a line to measured values
  (``measured_line``);
- a log axis carries a few plain labels (20, 50, 100), not overlapping 2×10¹ minor labels.

Readability at phone width follows Tufte's small multiples (one question per panel, the same
scales side by side) and the WCAG 2.1 reflow criterion (1.4.10: content at 320 CSS px wide
without scrolling in two dimensions).
"""

from __future__ import annotations

import html
import io
from urllib.parse import quote

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import ticker
from matplotlib.cm import ScalarMappable
from matplotlib.figure import Figure

from symsharing.stats import sign

__all__ = ["Panels", "BOOK_RC", "PANEL_SIZE", "value_range", "direction_label", "clip_band",
           "measured_line", "sampled_ticks"]

PANEL_SIZE = (2.8, 2.4)  # inches: about 1.3:1 on a phone, 0.8:1 three across a desktop column
PANEL_MIN_PX = 210  # narrowest a panel is laid out before the next one wraps below it
BOOK_RC = {"figure.dpi": 100, "savefig.dpi": 100, "font.size": 11, "axes.titlesize": 11,
           "axes.labelsize": 11, "xtick.labelsize": 10.5, "ytick.labelsize": 10.5, "legend.fontsize": 10.5,
           "figure.titlesize": 11, "svg.fonttype": "path", "svg.hashsalt": "symsharing",
           "axes.spines.top": False, "axes.spines.right": False}
# values in [0, 1] whatever the metric, values that are never negative, and signed differences
FRACTIONS = {"orbit_consistency"}
NON_NEGATIVE = {"invariance_error", "train_loss", "barrier"}
SIGNED = {"generalization_gap"}


def value_range(value: str, metric: str) -> tuple[float, float]:
    """The range ``value`` can take: a score is an accuracy in [0, 1] or an MSE in [0, inf)."""
    if value in SIGNED:
        return -np.inf, np.inf
    if value in FRACTIONS:
        return 0.0, 1.0
    if value in NON_NEGATIVE or metric == "mse":
        return 0.0, np.inf
    if metric == "accuracy":
        return 0.0, 1.0
    raise ValueError(f"no known range for value {value!r} with metric {metric!r}: expected a metric "
                     "'accuracy' or 'mse', or a value in FRACTIONS, NON_NEGATIVE or SIGNED")


def direction_label(label: str, value: str, metric: str) -> str:
    """``label`` with the way that is better, e.g. "test accuracy (↑ better)"."""
    higher = value in FRACTIONS or sign(metric, value) > 0
    return f"{label} ({'↑' if higher else '↓'} better)"


def clip_band(low, high, value: str, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """A confidence band clipped to ``value_range``: a t-interval can reach past accuracy 1."""
    bottom, top = value_range(value, metric)
    return (np.clip(np.asarray(low, dtype=float), bottom, top),
            np.clip(np.asarray(high, dtype=float), bottom, top))


def measured_line(values, censored) -> np.ndarray:
    """``values`` with the censored ones (lower bounds) blanked, so that a line is drawn only
    between measured values; plot the censored ones as open markers of their own."""
    values = np.asarray(values, dtype=float).copy()
    values[np.asarray(censored, dtype=bool)] = np.nan
    return values


def _tick(value: float, _position=None) -> str:
    return f"{value:,.0f}" if value >= 1 and value == round(value) else f"{value:.3g}"


def _tidy_log_axis(axis, low: float, high: float) -> None:
    """At most about six plain labels on a log axis (20, 50, 100, ...; 0.01, 0.1, ...) instead of
    matplotlib's 2×10¹ minor labels, which overlap at panel width."""
    if not isinstance(axis.get_major_formatter(), ticker.LogFormatter):
        return  # the helper formatted this axis itself
    decades = np.log10(high / low) if low > 0 and high > low else 1.0
    if isinstance(axis.get_major_locator(), ticker.FixedLocator):
        pass  # ticks the helper chose (e.g. the sampled sizes): keep them
    elif decades < 1:  # within a decade: a few evenly spaced plain values
        axis.set_major_locator(ticker.MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]))
    else:
        subs = (1.0, 3.0) if decades <= 2.5 else (1.0,)
        axis.set_major_locator(ticker.LogLocator(base=10, subs=subs, numticks=7))
    axis.set_major_formatter(ticker.FuncFormatter(_tick))
    axis.set_minor_formatter(ticker.NullFormatter())


def sampled_ticks(ax, values, which: str = "x", most: int = 5) -> None:
    """Ticks at the sampled values (e.g. the training-set sizes), every other one while there are
    more than ``most``, so that a reader sees where the measurements are."""
    ticks = sorted({float(value) for value in values})
    while len(ticks) > most:
        ticks = ticks[::2]
    (ax.set_xticks if which == "x" else ax.set_yticks)(ticks)


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", pad_inches=0.04, metadata={"Date": None})
    return buffer.getvalue()


def _raster(figure: Figure, dpi: int) -> np.ndarray:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", pad_inches=0.04)
    buffer.seek(0)
    return plt.imread(buffer)  # [height, width, 4] RGBA floats in [0, 1]


def _side_by_side(images: list[np.ndarray]) -> np.ndarray:
    height = max(image.shape[0] for image in images)
    return np.hstack([np.pad(image, ((0, height - image.shape[0]), (0, 0), (0, 0)), constant_values=1.0)
                      for image in images])


def _stacked(images: list[np.ndarray]) -> np.ndarray:
    width = max(image.shape[1] for image in images)
    return np.vstack([np.pad(image, ((0, 0), ((width - image.shape[1]) // 2, width - image.shape[1]
                                               - (width - image.shape[1]) // 2), (0, 0)), constant_values=1.0)
                      for image in images])


def _img(svg: str, alt: str, style: str) -> str:
    """The SVG inline as a percent-encoded data URL (a third smaller than base64 once the page is
    compressed), in an <img> so that each panel keeps its own ids and scales as one picture."""
    data = quote(svg, safe=" /:=,.;-_()'")
    return f'<img src="data:image/svg+xml,{data}" alt="{html.escape(alt)}" style="{style}">'


class Panels:
    """A figure as panels: ``panels.axes[i]`` is drawn like any matplotlib axes, then ``key`` (a
    legend or a colour bar strip, optional) and ``finish`` render every panel to SVG and close the
    matplotlib figures. Displayed (or glued) it is HTML: the key, then the panels in a grid that
    puts as many side by side as the column holds at ``PANEL_MIN_PX`` each."""

    def __init__(self, count: int, size: tuple[float, float] = PANEL_SIZE, **subplot_kw) -> None:
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f"Panels needs a positive int count of panels, got {count!r}")
        with plt.rc_context(BOOK_RC):
            self._figures = [plt.figure(figsize=size) for _ in range(count)]
            self.axes = [figure.add_subplot(**subplot_kw) for figure in self._figures]
        self._key: Figure | None = None
        self._svgs: list[str] | None = None
        self._key_svg: str | None = None

    def entries(self) -> tuple[list, list[str]]:
        """Every labelled artist of the panels, each label once: ``(handles, labels)``."""
        seen = {}
        for ax in self.axes:
            for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
                seen.setdefault(label, handle)
        return list(seen.values()), list(seen)

    def legend(self, handles=None, labels=None, columns: int = 3) -> None:
        """A legend as a strip above the panels: of ``handles`` and ``labels``, or (None) of
        ``entries()``."""
        if handles is None:
            handles, labels = self.entries()
        if not handles:
            return
        with plt.rc_context(BOOK_RC):
            self._key = plt.figure(figsize=(PANEL_SIZE[0] * 1.5, 0.3 * -(-len(handles) // columns)))
            self._key.legend(handles, labels, loc="center", ncols=min(columns, len(handles)), frameon=False)

    def colorbar(self, mappable, label: str) -> None:
        """A horizontal colour bar for ``mappable`` (e.g. an ``imshow`` image), as a strip above."""
        with plt.rc_context(BOOK_RC):
            self._key = plt.figure(figsize=(PANEL_SIZE[0] * 1.3, 0.75))
            axis = self._key.add_axes((0.05, 0.55, 0.9, 0.3))
            scale = ScalarMappable(norm=mappable.norm, cmap=mappable.cmap)  # not tied to a panel's figure
            self._key.colorbar(scale, cax=axis, orientation="horizontal", label=label)

    def finish(self) -> Panels:
        """Render each panel (and the key) to SVG and close the matplotlib figures; returns self."""
        if self._svgs is None:
            for ax in self.axes:
                if ax.get_xscale() == "log":
                    _tidy_log_axis(ax.xaxis, *sorted(ax.get_xlim()))
                if ax.get_yscale() == "log":
                    _tidy_log_axis(ax.yaxis, *sorted(ax.get_ylim()))
            with plt.rc_context(BOOK_RC):
                self._svgs = [_svg(figure) for figure in self._figures]
                self._key_svg = _svg(self._key) if self._key is not None else None
            for figure in self._figures + ([self._key] if self._key is not None else []):
                plt.close(figure)
        return self

    @property
    def svgs(self) -> list[str]:
        """The panels' SVG documents, in order (after ``finish``)."""
        return list(self.finish()._svgs)

    @property
    def key_svg(self) -> str | None:
        return self.finish()._key_svg

    def save(self, path, dpi: int = 120) -> None:
        """One raster image (PNG, ...) of the key above the panels side by side, e.g. for the CLI."""
        self.finish()
        row = _side_by_side([_raster(figure, dpi) for figure in self._figures])
        if self._key is not None:
            row = _stacked([_raster(self._key, dpi), row])
        plt.imsave(path, row)

    def _repr_html_(self) -> str:
        self.finish()
        titles = [ax.get_title() or f"panel {i + 1}" for i, ax in enumerate(self.axes)]
        grid = ("display:grid;gap:0.4em 0.8em;justify-items:center;align-items:start;"
                f"grid-template-columns:repeat(auto-fit,minmax(min(100%,{PANEL_MIN_PX}px),1fr))")
        panels = "".join(_img(svg, title, "width:100%;max-width:26em;height:auto")
                         for svg, title in zip(self._svgs, titles, strict=True))
        key = (f'<div style="text-align:center">{_img(self._key_svg, "legend", "max-width:100%;height:auto")}'
               "</div>" if self._key_svg else "")
        return f'<div class="symsharing-panels">{key}<div style="{grid}">{panels}</div></div>'

    def __repr__(self) -> str:
        return f"<Panels: {len(self.axes)} panel{'s' * (len(self.axes) != 1)}>"
