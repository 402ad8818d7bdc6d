"""What a capacity search produces, as stored in `capacity.json` (field `schema`: 1) of its
run folder and in a release's baseline. One module so the search, the scale-out, the
comparison across releases and the report read and write the same shape.

A step holds one constant open-model arrival rate; it is sustainable when every criterion
in `StepResult.checks` passed. The knee is the highest sustainable rate found, bracketed
by the lowest unsustainable one (`bracket`); `repeat` re-runs the final step(s) so a
comparison across releases knows the knee's own uncertainty."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

SCHEMA = 1
CapacityPath = Literal["unified", "legacy", "mix", "floor"]
CAPACITY_PATHS: tuple[str, ...] = ("unified", "legacy", "mix", "floor")


@dataclass
class Check:
    """One criterion of a step: passed True/False, or None when its evidence was missing
    (a step with a None check is not sustainable: no evidence is never a pass)."""

    name: str  # "latency", "backlog_depth", "backlog_age", "errors", "generator"
    passed: bool | None
    observed: str  # human-readable figure(s), e.g. "p99 upper bound 412 ms (n=1210) < 1000 ms"
    samples: int = 0


@dataclass
class StepResult:
    rate_syncs_per_s: float  # offered (the schedule's)
    rate_jobs_per_s: float
    hold_s: float
    completed_jobs_per_s: float | None  # jobs of the hold window completed / hold_s
    job_latency_ms: dict[str, Any]  # {count, p50, p95, p99, max, bounds: {p99: {...}}}
    backlog: dict[str, Any]  # {depth_slope_per_s, depth_slope_p, age_slope, age_slope_p, series: {...}}
    generator: dict[str, Any]  # {planned, fired, dropped, lateness_ms_p99, cpu_percent}
    cpu: dict[str, Any]  # {machine_percent, by_process: {label: percent}, postgres, redis}
    checks: list[Check] = field(default_factory=list)
    repeat_of: float | None = None  # set on a repetition of an earlier step's rate
    verdict: str = ""  # "sustainable" | "unsustainable" (a check failed) | "undecided" (evidence missing)
    seed: int | None = None  # the arrival schedule's seed (each step its own)
    drain: dict[str, Any] = field(default_factory=dict)  # {drained, waited_s, left, action}: how it ended
    wall_s: float = 0.0  # the step's wall time: pipeline start, load, drain, stop
    started_at: str = ""

    @property
    def sustainable(self) -> bool:
        return bool(self.checks) and all(c.passed is True for c in self.checks)

    def reasons(self) -> list[str]:
        return [f"{c.name}: {c.observed}" for c in self.checks if c.passed is not True]


@dataclass
class Knee:
    syncs_per_s: float
    jobs_per_s: float
    bracket: tuple[float, float | None]  # (highest sustainable, lowest unsustainable) syncs/s
    repeats_sustainable: int = 0  # of the repetitions at the knee's rate
    repeats: int = 0
    precise: bool = True  # bracket within the search's precision (False: cut short by its limits)
    limited_by: str = "pipeline"  # "generator" when the step above failed only the generator's check


@dataclass
class CapacityResult:
    run_id: str
    path: str  # one of CAPACITY_PATHS
    week: int
    workers: int  # BullMQ worker processes
    arrivals: str  # "poisson" | "uniform"
    context: dict[str, Any]  # release, git_sha, dirty, machine, stack, servers, libraries, seed
    criteria: dict[str, Any]  # latency target and quantile, hold_s, warmup_s, precision, slope alpha
    steps: list[StepResult]
    knee: Knee | None  # None: even the first step was not sustainable, or the search was cut short
    bottleneck: dict[str, Any]  # at the first unsustainable step: {resource, percent, by_resource}
    production: dict[str, Any]  # ops/production.toml's model, with syncs_per_s and jobs_per_s
    floor: dict[str, Any] | None = None  # the harness alone at the knee's rate: {p50, p99, ...}
    started_at: str = ""
    duration_s: float = 0.0
    schema: int = SCHEMA
    stopped: str = ""  # why the search ended, in words
    path_ratio: dict[str, Any] | None = None  # unified / legacy knees, same machine and git sha

    @property
    def headroom(self) -> float | None:
        """knee / production arrival rate (the plan's "10x the current scale" wants >= 10)."""
        rate = self.production.get("syncs_per_s")
        if self.knee is None or not rate:
            return None
        return self.knee.syncs_per_s / float(rate)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["headroom"] = self.headroom
        for step, raw in zip(self.steps, data["steps"]):
            raw["sustainable"] = step.sustainable
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CapacityResult:
        if data.get("schema") != SCHEMA:
            raise ValueError(f"capacity result schema {data.get('schema')!r} is not supported; expected {SCHEMA}")
        steps = []
        for raw in data["steps"]:
            fields = {k: v for k, v in raw.items() if k not in ("sustainable", "checks")}
            steps.append(StepResult(**fields, checks=[Check(**c) for c in raw.get("checks", [])]))
        knee = data.get("knee")
        fields = {k: v for k, v in data.items() if k not in ("steps", "knee", "headroom")}
        return cls(**fields, steps=steps,
                   knee=Knee(**{**knee, "bracket": tuple(knee["bracket"])}) if knee else None)
