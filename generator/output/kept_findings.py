"""Each school's readiness findings, kept beside the packets under the inputs digest they were found for,
so that a rebuild does not check again the schools whose inputs are as they were.

A school's inputs digest (build_record.inputs_digests) covers its rows, the district-wide rows, the
settings (the day overdue is judged by among them), the templates and the code that reads, models and
checks a packet: findings kept under the digest a school has now are the findings checking it would give.
At 5,000 schools, checking every unchanged school again took 0.5 s of a one-school edit.

The store is output/.packets-cache/findings.sqlite (kept_by_school), values MessagePack."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Collection, Mapping, Sequence

import msgpack

from generator.findings import Finding
from generator.output import kept_by_school

FINDINGS_STORE = "findings.sqlite"


def load(cache: Path, inputs: Mapping[str, str]) -> dict[str, tuple[Finding, ...]]:
    """Return the kept findings of each school whose inputs digest (`inputs`, by School ID) is the one they
    were kept under."""
    if not inputs:
        return {}
    try:
        return {school: tuple(Finding(*f) for f in msgpack.unpackb(body))
                for school, (digest, body) in kept_by_school.read(Path(cache) / FINDINGS_STORE).items()
                if inputs.get(school) == digest}
    except Exception:       # a damaged store is no store: the schools are checked again
        return {}


def keep(cache: Path, findings: Mapping[str, tuple[str, Sequence[Finding]]], school_ids: Collection[str]) -> None:
    """Keep each school's findings (`findings`: School ID -> its inputs digest and findings), with what was
    kept before of the other schools on the roster (`school_ids`); a school no longer on it is dropped.
    A store that cannot be written is left out: the next build checks those schools again."""
    path = Path(cache) / FINDINGS_STORE
    earlier = kept_by_school.read(path)
    on_roster = set(school_ids)
    # A school kept under the digest it has now keeps its row as it is: the digest says its findings are
    # the same, and packing every school's again took 0.25 s of a one-school edit at 5,000.
    rows = {school: earlier[school] if school in earlier and earlier[school][0] == digest
            else (digest, msgpack.packb([dataclasses.astuple(f) for f in found]))
            for school, (digest, found) in findings.items()}
    rows.update({school: kept for school, kept in earlier.items() if school in on_roster and school not in findings})
    kept_by_school.write(path, rows, earlier)
