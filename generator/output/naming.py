"""Names: what each packet folder and document is called, always inside the output folder."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Iterable

from anyascii import anyascii

from generator.findings import PacketsError

MAX_NAME = 80
# File systems limit a name to 255 bytes; a suffix and a temporary-file prefix must still fit.
MAX_NAME_BYTES = 200
WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}


def slugify(text: str, fallback: str = "school") -> str:
    """Return text as a lower-case ASCII file-name part: `José Martí & Co.` -> `jose-marti-co`,
    `Nguyễn Thị Định` -> `nguyen-thi-dinh`, `北京 School 🎓` -> `beijing-school`.

    Letters are transliterated (anyascii), not dropped: stripping accents after NFKD lost every letter
    that does not decompose (Đ, Ł, Ø, ß, Æ) and every non-Latin script."""
    # Letters and digits only: a symbol (an emoji) would be spelled out as words that are not the name.
    # ASCII text is its own transliteration, and its other characters become dashes either way: a
    # character at a time, every school's name and ID at every build took 0.1 s at 5,000 schools.
    ascii_text = text if text.isascii() else "".join(
        anyascii(c) if unicodedata.category(c)[0] in "LMN" else " " for c in unicodedata.normalize("NFC", text))
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:MAX_NAME].rstrip("-") or fallback


def _fit_bytes(name: str) -> str:
    """Return name cut (at a character boundary) to at most MAX_NAME_BYTES bytes of UTF-8."""
    return name.encode("utf-8")[:MAX_NAME_BYTES].decode("utf-8", "ignore")


def safe_name(text: str, fallback: str = "file") -> str:
    """Return text usable as one file or folder name on Windows, macOS and Linux: no separators,
    no reserved characters, no leading dots (so `..` can never climb out of the output folder)."""
    name = unicodedata.normalize("NFC", text)
    name = re.sub(r'[\x00-\x1f<>:"/\\|?*]+', "-", name)
    name = re.sub(r"\s+", " ", name).strip(" .-")
    name = _fit_bytes(name[:MAX_NAME]).strip(" .-") or fallback
    if name.upper().split(".")[0].strip() in WINDOWS_RESERVED:
        name = f"_{name}"
    return name


def name_fields(settings, school, form: str = "") -> dict[str, str]:
    """Return the values a file-name pattern may use."""
    return {"school_id": safe_name(school.school_id, "school"), "slug": slugify(school.name),
            "form": form, "year": settings.planning_year.label, "district": slugify(settings.district_name)}


# The fields a long school ID, name or district makes long: shortened so a name fits MAX_NAME whole.
_SHORTENED_FIELDS = ("school_id", "slug", "district")
_SHORTEST_FIELD = 8


def _fitted(pattern: str, fields: dict[str, str]) -> str:
    """Return pattern filled with fields, the longest school-derived values shortened until it fits
    MAX_NAME characters and MAX_NAME_BYTES bytes: cutting the whole name instead would drop what
    follows them, such as the {form} that keeps a packet's documents apart."""
    name = pattern.format(**fields)
    while len(name) > MAX_NAME or len(name.encode("utf-8")) > MAX_NAME_BYTES:
        longest = max((k for k in _SHORTENED_FIELDS if "{" + k + "}" in pattern
                       and len(fields[k]) > _SHORTEST_FIELD), key=lambda k: len(fields[k]), default=None)
        if longest is None:
            break                   # what is left is the pattern's own text; safe_name cuts it
        over = max(len(name) - MAX_NAME, 1)
        value = fields[longest]
        fields = {**fields, longest: value[:max(_SHORTEST_FIELD, len(value) - over)].rstrip(" .-")}
        name = pattern.format(**fields)
    return name


def packet_folder(settings, school) -> Path:
    """Return the school's packet folder, always directly inside the output folder."""
    name = safe_name(_fitted(settings.folder_pattern, name_fields(settings, school)), "school")
    folder = Path(settings.output) / name
    # safe_name leaves no separator and no leading dot, so only a link in the output folder could lead
    # out of it: the whole path is resolved (a system call for each of its parts) only for a link.
    if folder.is_symlink() and folder.resolve().parent != Path(settings.output).resolve():
        raise PacketsError(f"The packet folder name '{name}' would leave the output folder.")
    return folder


def document_name(settings, school, form_key: str, suffix: str) -> str:
    """Return a document's file name, e.g. `0101-schedule.docx`."""
    return safe_name(_fitted(settings.file_pattern, name_fields(settings, school, form_key)), form_key) + suffix


def packet_pdf_name(settings, school) -> str:
    """Return the name of the school's combined PDF, e.g. `0101-packet.pdf`."""
    return document_name(settings, school, "packet", ".pdf")


def document_names(settings, school, forms: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Return each (form key, suffix)'s file name by form key, refusing names that two files of the
    packet would share (the combined PDF's too), as Windows and macOS compare them, ignoring case: a
    name cut at MAX_NAME can lose its {form}, and one document would silently overwrite another."""
    names = {key: document_name(settings, school, key, suffix) for key, suffix in forms}
    taken = {packet_pdf_name(settings, school).casefold(): "packet"}
    for key, name in names.items():
        other = taken.setdefault(name.casefold(), key)
        if other != key:
            raise PacketsError(
                f"settings.toml [output] file = '{settings.file_pattern}' gives two files of school "
                f"{school.school_id}'s packet ({other} and {key}) the name '{name}'. Fix: shorten the pattern's "
                f"own text, or put {{form}} nearer its start (names are cut at {MAX_NAME} characters).")
    return names


CHECKINS = "checkins"          # output/checkins/<date>/: a check-in day's forms (packets checkin)


def checkin_folder(settings, day) -> Path:
    """Return the folder of a check-in day's forms: output/checkins/2027-12-14."""
    return Path(settings.output) / CHECKINS / day.isoformat()


def checkin_school_folder(settings, day, school) -> Path:
    """Return a school's folder for a check-in day, named as its packet folder: always inside that day's folder."""
    return checkin_folder(settings, day) / packet_folder(settings, school).name

