"""`packets context`: exactly what each of a school's templates receives."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from generator.findings import (
    InputError,
    PacketsError,
)
from generator.pipeline.check_ins import check_in_context
from generator.pipeline.district import read_district
from generator.render import packet_contexts
from generator.render.template_data import Templates
from generator.settings import Settings


def school_context(settings: Settings, school_id: str, form: str | None = None) -> dict[str, Any]:
    """Return exactly what each of the school's templates receives, keyed by form; with `form`, only
    that form's."""
    loaded = read_district(replace(settings, schools=(school_id,)))
    if school_id in loaded.blocked:         # its rows cannot be read as a packet: say why, as a build would
        raise InputError(loaded.blocked[school_id])
    packet = loaded.district.packets[0]
    if form == "after-action-review":               # a check-in's form, not the packet's: its next check-in
        return check_in_context(packet, settings)
    contexts = packet_contexts(packet, Templates(settings.templates))
    if not form:
        return contexts
    if form not in contexts:
        raise PacketsError(f"No form '{form}'. Forms: {', '.join(contexts)}.")
    return contexts[form]
