"""The investigation documents (专业意见书, 尽职调查报告, 决定书, 公告): their texts and their rendering.

`content` writes everything a document says into a JSON-able dict (stored in CaseDocument.content) from
the case's records; `rendering` turns that dict into one core.pdf DocumentSpec, rendered to PDF
(core.pdf) and .docx (core.docx). The files are a function of the stored content alone, so they can be
re-rendered byte for byte and checked against their SHA-256. Issuing (numbering, state rules, storage)
is services.documents.
"""
