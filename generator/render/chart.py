"""Pictures for Word templates. The plan's timeline, once a matplotlib chart here, is now a Word table
(render/context.timeline, templates/plan.docx): it flows across pages, stays editable and reads to a
screen reader. A Picture remains the way a template places an image (render/docx.with_pictures)."""

from __future__ import annotations

from dataclasses import dataclass

from generator.findings import PacketsError


@dataclass(frozen=True)
class Picture:
    """An image for a Word template: PNG bytes and the width to show it at."""

    png: bytes
    width_inches: float
    description: str = ""

    def __json__(self) -> dict:
        return {"picture": "png", "bytes": len(self.png), "width_inches": self.width_inches,
                "description": self.description}

    def __html__(self) -> str:
        # Reached only when a template prints a Picture that with_pictures did not place.
        raise PacketsError(f"A picture ({self.description or 'image'}) must be a top-level value of a "
                           "template's context to be placed in a Word document.")

    __str__ = __html__
