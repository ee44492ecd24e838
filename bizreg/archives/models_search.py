"""The full-text search document of an archive item (bizreg.archives.search explains the token text).

Kept out of models.py so the search index is one self-contained piece; models.py imports it at its end so
Django registers it with the archives app. The database adds, per vendor (migration 0004_search), what
Django cannot declare: an FTS5 table kept in step by triggers on SQLite, a generated tsvector column with
a GIN index on PostgreSQL.
"""

from __future__ import annotations

from django.db import models


class ItemSearchDoc(models.Model):
    """One item's search tokens: facet tokens (authority, type, year, open/internal …), its identifiers
    whole, then the jieba search-mode tokens of its description and full text, separated by spaces."""

    item = models.OneToOneField(
        "archives.ArchiveItem",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="search_doc",
        verbose_name="档案件",
    )
    authority = models.ForeignKey(
        "core.Authority", on_delete=models.CASCADE, related_name="+", verbose_name="登记机关"
    )
    tokens = models.TextField("检索词元")
    updated_at = models.DateTimeField("索引时间", auto_now=True)

    class Meta:
        app_label = "archives"
        verbose_name = "全文检索索引"
        verbose_name_plural = "全文检索索引"

    def __str__(self) -> str:
        return f"search doc of item {self.item_id}"
