"""Stored document content → one DocumentSpec → PDF and .docx bytes (the same text in both)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from bizreg.core import pdf
from bizreg.core.docx import render_docx

FORMATS = ("pdf", "docx")


def spec_from_content(content: Mapping[str, Any]) -> pdf.DocumentSpec:
    blocks: list[pdf.Block] = []
    for block in content.get("blocks", []):
        kind = block.get("type")
        if kind == "heading":
            blocks.append(pdf.Heading(block["text"]))
        elif kind == "text":
            blocks.append(pdf.Text(block["text"], indent=block.get("indent", True)))
        elif kind == "list":
            if block["items"]:
                blocks.append(pdf.NumberedList(tuple(block["items"])))
        elif kind == "facts":
            if block["pairs"]:
                blocks.append(pdf.KeyValues(tuple((label, value) for label, value in block["pairs"])))
        elif kind == "table":
            widths = block.get("widths")
            blocks.append(
                pdf.TableBlock(
                    tuple(tuple(row) for row in block["rows"]),
                    col_widths_mm=tuple(widths) if widths else None,
                )
            )
        elif kind == "gap":
            blocks.append(pdf.Gap(block.get("height_mm", 4)))
        else:
            raise ValueError(f"unknown block type {kind!r} in document content")
    return pdf.DocumentSpec(
        title=content["title"],
        number=content.get("number", ""),
        addressee=content.get("addressee", ""),
        blocks=blocks,
        signature=pdf.Signature(content["issuer"], content["date_text"]),
        # Both files carry the issuing time as their creation time: re-rendering later changes nothing.
        created_at=dt.datetime.fromisoformat(content["issued_at"]),
        author=content["issuer"],
        subject=f"{content['title']} {content.get('number', '')}".strip(),
        keywords=tuple(k for k in (content.get("case_number", ""), content.get("kind_label", "")) if k),
        footer_note=content.get("footer_note", ""),
    )


def render(content: Mapping[str, Any], fmt: str) -> bytes:
    """The document in `fmt` ("pdf" or "docx") from its stored content."""
    spec = spec_from_content(content)
    if fmt == "pdf":
        return pdf.render_pdf(spec)
    if fmt == "docx":
        return render_docx(spec)
    raise ValueError(f"unknown document format {fmt!r}")
