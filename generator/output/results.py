"""What became of each school's packet in a build: the record every report and the CLI are made from.

Kept apart from batch.py, which builds packets, so a build with nothing to rebuild can answer from the
manifest without importing the renderers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from generator.findings import Finding


@dataclass(frozen=True)
class PacketResult:
    """What became of one school's packet. Where its files are is held as the manifest records it, by
    their names inside the output folder: the reports show those names, and a district's results (built in
    the workers, or as recorded) are made, handed back and held by the thousand, where a path object a
    file cost as much again to make and to turn back into its name."""

    school_id: str
    school_name: str
    designation: str
    output: str                    # the output folder the names below are inside
    folder_name: str               # its packet folder's ("" when it has no packet)
    document_names: tuple[str, ...]   # its documents', `/` between the folder and the file
    findings: tuple[Finding, ...]
    ready: bool
    built_at: dt.datetime | None = None
    error: str = ""
    skipped: bool = False         # unchanged since the last build, so not rebuilt
    pdf_error: str = ""           # why the combined PDF was not made (the Word and Excel packet is complete)
    # Not built: the school's own rows have these errors. folder, documents and built_at are its earlier
    # packet's, left as it was, if it has one.
    input_errors: tuple[Finding, ...] = ()
    # Not of this run (a `--school` run built others): the school as its last build left it.
    recorded: bool = False
    changed: bool = False         # recorded, and its inputs have changed since that build
    fingerprint: str = ""         # built now: its packet's (build_record.packet_fingerprint), made where it was built

    @property
    def folder(self) -> Path | None:
        """Its packet folder, if it has one."""
        return Path(self.output, self.folder_name) if self.folder_name else None

    @property
    def documents(self) -> tuple[Path, ...]:
        out = Path(self.output)
        return tuple(out / name for name in self.document_names)

    @property
    def blocked(self) -> bool:
        """True when the school was not built because its own rows have errors."""
        return bool(self.input_errors)

    @property
    def built(self) -> bool:
        """True when the school has a packet (built now or earlier) to show."""
        return self.built_at is not None and not self.error


def no_packet(school_id: str, school_name: str, designation: str, **fields) -> PacketResult:
    """Return the result of a school with no packet to show (not built, failed, never built)."""
    return PacketResult(school_id, school_name, designation, "", "", (), (), False, **fields)


def recorded_result(output: Path | str, school_id: str, entry: dict, findings: tuple[Finding, ...] = (),
                    ready: bool | None = None) -> PacketResult:
    """Return a packet's result as the manifest recorded it: built earlier, unchanged, not rebuilt."""
    return PacketResult(school_id, entry.get("name", ""), entry.get("designation", ""), str(output),
                        entry["folder"], tuple(entry["documents"]), findings,
                        bool(entry.get("ready")) if ready is None else ready,
                        dt.datetime.fromisoformat(entry["built_at"]), skipped=True)
