"""The forms of a packet, and rendering them: each form is a template plus the context builder that feeds it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Sequence

from generator.model.records import Packet
from generator.render.context import grid_context, plan_context, review_context, schedule_context
from generator.render.docx import render_docx
from generator.render.engine import check_engine
from generator.render.fast.docx import PreparedDocx
from generator.render.fast.xlsx import PreparedXlsx, Unprepared
from generator.render.hyperlinks import link_paths
from generator.render.jinja import jinja_env
from generator.render.template_data import (
    SHIPPED,
    Templates,
    form_data,
    grid_activities,
    grid_columns,
    review_rubric,
    schedule_tasks,
    state_profile,
)
from generator.render.xlsx import render_xlsx

RENDERERS = {".docx": render_docx, ".xlsx": render_xlsx}       # the reference engines

@dataclass(frozen=True)
class Form:
    """One document of a packet."""

    key: str                                   # the {form} part of the file name; its title is in forms.toml
    template: str                              # the template's file name
    context: Callable[[Packet, Templates], dict[str, Any]]

    @property
    def suffix(self) -> str:
        return Path(self.template).suffix


FORMS = (
    Form("schedule", "schedule.docx", schedule_context),
    Form("schedule-tracker", "schedule.xlsx", schedule_context),
    Form("isbe-grid", "isbe_grid.docx", grid_context),
    Form("isbe-grid-tracker", "isbe_grid.xlsx", grid_context),
    Form("plan", "plan.docx", plan_context),
    Form("review", "review.docx", review_context),
)


def form_titles(templates: Templates = SHIPPED) -> dict[str, str]:
    """Return each form's title (forms.toml [titles]), keyed by form key."""
    data = form_data(templates)
    return {form.key: data.title(form.key) for form in FORMS}


def packet_forms(packet: Packet, templates: Templates = SHIPPED) -> tuple[Form, ...]:
    """Return the forms of one school's packet, in packet order: those its state's profile gives a school of
    its identification (an Illinois school not identified for support, or any California school, has no
    ISBE grid)."""
    profile = state_profile(templates, packet.state)
    return tuple(form for form in FORMS if profile.holds(form.key, packet.school.identification))


def packet_contexts(packet: Packet, templates: Templates = SHIPPED) -> dict[str, dict[str, Any]]:
    """Return each of the packet's forms' context, keyed by form key, with the form's title; forms sharing
    a builder share one call."""
    forms = packet_forms(packet, templates)
    built: dict[Callable, dict[str, Any]] = {}
    for form in forms:
        if form.context not in built:
            built[form.context] = form.context(packet, templates)
    titles = form_titles(templates)
    return {form.key: {**built[form.context], "title": titles[form.key]} for form in forms}


@lru_cache(maxsize=32)
def _prepared(path: Path, size: int, mtime_ns: int) -> PreparedDocx | PreparedXlsx | None:
    if path.suffix == ".docx":
        return PreparedDocx(path, jinja_env(autoescape=True, typeset=True))
    try:
        # openpyxl escapes XML itself in the straightforward path; here prepared_xlsx escapes values.
        return PreparedXlsx(path, jinja_env(autoescape=False))
    except Unprepared:
        return None                    # a template feature the prepared path does not reproduce


def prepared(path: Path) -> PreparedDocx | PreparedXlsx | None:
    """Return the template at `path` prepared once per process (again if the file changes), or None
    when it can only be rendered the straightforward way."""
    stat = path.stat()
    return _prepared(path, stat.st_size, stat.st_mtime_ns)


def prepare_templates(templates: Templates = SHIPPED, others: Sequence[str] = ()) -> None:
    """Prepare every form's template, and the `others` named, now, and read the templates' data the forms
    are filled with: for a process that is to render them soon and has time to spare before (a helper
    process, while the main one reads the district)."""
    form_data(templates)
    for table in (schedule_tasks, grid_columns, grid_activities, review_rubric):
        table(templates)
    if check_engine() == "reference":
        return
    for name in [form.template for form in FORMS] + list(others):
        prepared(templates.path(name))


def render_document(template: Path, context: dict[str, Any], links: Sequence[str] = ()) -> bytes:
    """Return one document from its prepared template (the reference engine when it has none, or when
    PACKETS_ENGINE=reference). A workbook's cells filled from the fields `links` are hyperlinks to the
    relative paths they show (render/hyperlinks.py): written so by the fast engine where it can, else added
    to the workbook once rendered."""
    ready = None if check_engine() == "reference" else prepared(template)
    if links and isinstance(ready, PreparedXlsx) and ready.writes_links(links):
        return ready.render(context, links)
    document = RENDERERS[template.suffix](template, context) if ready is None else ready.render(context)
    return link_paths(document, template, links) if links else document


def render_packet(packet: Packet, templates: Templates = SHIPPED) -> dict[str, bytes]:
    """Return every document of one school's packet as bytes, keyed by form key (packet_forms')."""
    contexts = packet_contexts(packet, templates)
    return {form.key: render_document(templates.path(form.template), contexts[form.key])
            for form in packet_forms(packet, templates)}
