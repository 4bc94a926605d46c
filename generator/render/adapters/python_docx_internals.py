"""python-docx's internals, as the fast Word engine uses them. Checked against python-docx 1.2.0.

A picture placed by docxtpl's InlineImage is made by python-docx's StoryPart.new_pic_inline, which
also adds the image to the package being saved. The fast engine writes its packages itself, so it
makes the same picture element from the pieces new_pic_inline uses: the image's scaled size
(docx.image) and the inline element (docx.oxml), neither of them documented API.
"""

from __future__ import annotations

from typing import Any

from docx.opc.constants import RELATIONSHIP_TYPE

from generator.render.adapters import missing, require

CHECKED = "1.2.0"
try:
    from docx.image.image import Image
    from docx.oxml.shape import CT_Inline
    _ABSENT = missing(Image, "from_blob", "scaled_dimensions") + missing(CT_Inline, "new_pic_inline")
except ImportError:         # moved: the reference engine still works, the fast one says what is gone
    _ABSENT = ("docx.image.image.Image", "docx.oxml.shape.CT_Inline")

IMAGE_RELATIONSHIP = RELATIONSHIP_TYPE.IMAGE


def picture_inline(number: int, rid: str, name: str, data: bytes, width: Any = None, height: Any = None) -> Any:
    """Return the `wp:inline` element of a picture, as StoryPart.new_pic_inline makes it: shape id
    `number`, the image related as `rid`, named `name`, scaled as python-docx scales it."""
    require("python-docx", CHECKED, _ABSENT)
    cx, cy = Image.from_blob(data).scaled_dimensions(width, height)
    return CT_Inline.new_pic_inline(number, rid, name, cx, cy)
