"""Draw a patient's scores in care as a PNG: one line per instrument, with the remission and response lines."""

from __future__ import annotations

import io

from bot.domain.registry import RegistryEntry

COLOURS = ("#1f5fa8", "#b5541c", "#2e7d32", "#6a1b9a")


def trend_png(entry: RegistryEntry, title: str, labels: dict[str, str], remission_below: dict[str, int],
              response_drop: float) -> bytes:
    """Return the PNG of an entry's trends; labels name the instruments and the threshold lines."""
    out = io.BytesIO()
    trend_figure(entry, title, labels, remission_below, response_drop).savefig(out, format="png")
    return out.getvalue()


def trend_figure(entry: RegistryEntry, title: str, labels: dict[str, str], remission_below: dict[str, int],
                 response_drop: float):
    """Return the matplotlib Figure of an entry's trends (one axes: score lines, threshold lines, care start)."""
    import matplotlib

    matplotlib.use("Agg")  # no display: charts are files
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(8.5, 3.6), dpi=110)
    axes = figure.subplots()
    for colour, trend in zip(COLOURS, entry.trends, strict=False):
        dates = [m.at for m in trend.scores]
        axes.plot(dates, [m.total for m in trend.scores], marker="o", color=colour,
                  label=labels.get(trend.instrument, trend.instrument))
        below = remission_below.get(trend.instrument)
        if below is not None:
            axes.axhline(below - 0.5, color=colour, linestyle=":", linewidth=1,
                         label=labels["remission"].format(instrument=labels.get(trend.instrument, trend.instrument)))
        axes.axhline(trend.baseline.total * (1 - response_drop), color=colour, linestyle="--", linewidth=1,
                     label=labels["response"].format(instrument=labels.get(trend.instrument, trend.instrument)))
    axes.axvline(entry.care_started_at, color="grey", linewidth=1, label=labels["care_started"])
    axes.set_title(title)
    axes.set_ylabel(labels["score"])
    axes.set_ylim(bottom=0)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.legend(fontsize="x-small", loc="center left", bbox_to_anchor=(1.01, 0.5))
    figure.autofmt_xdate()
    figure.tight_layout()
    return figure
