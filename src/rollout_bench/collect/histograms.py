"""HDR histograms in microseconds, 3 significant digits (docs/architecture.md, measurement rules):
record, merge, encode for storage or for shipping between Locust workers, summarize."""

from __future__ import annotations

from collections.abc import Iterable

from hdrh.histogram import HdrHistogram

LOWEST_US = 1
HIGHEST_US = 3_600_000_000  # one hour
SIGNIFICANT_DIGITS = 3
UNIT_US = {"us": 1.0, "ms": 1_000.0, "s": 1_000_000.0}


def new_histogram() -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)


def from_values(values: Iterable[float], unit: str) -> HdrHistogram:
    """values in `unit` (us, ms or s) -> histogram in microseconds."""
    scale = UNIT_US[unit]
    histogram = new_histogram()
    for value in values:
        histogram.record_value(min(HIGHEST_US, max(LOWEST_US, round(value * scale))))
    return histogram


def encode(histogram: HdrHistogram) -> str:
    return histogram.encode().decode()


def decode(text: str) -> HdrHistogram:
    return HdrHistogram.decode(text.encode())


def merge(encoded: Iterable[str]) -> HdrHistogram:
    total = new_histogram()
    for text in encoded:
        total.add(decode(text))
    return total


def summarize(histogram: HdrHistogram, unit: str) -> dict[str, float | int | None]:
    """{count, p50, p95, p99, max} in `unit`; percentiles are None when there is no sample."""
    count = int(histogram.get_total_count())
    if count == 0:
        return {"count": 0, "p50": None, "p95": None, "p99": None, "max": None}
    scale = UNIT_US[unit]

    def at(percentile: float) -> float:
        return round(histogram.get_value_at_percentile(percentile) / scale, 3)

    return {"count": count, "p50": at(50), "p95": at(95), "p99": at(99),
            "max": round(histogram.get_max_value() / scale, 3)}
