"""Keeping the full-text index in step with the items (bizreg.archives.search describes the tokens).

Call `search_index_item(item=...)` after any write that changes what an item is found by or who may find
it: its full text (OCR import, born-digital extraction), its description (title, 文号, 责任者, 主题词,
date, type), its open status or classification, its source or digitization state, or its archive's
enterprise name/USCC/档号 (then for each item of the archive). The database keeps the engine's own index
in step with ItemSearchDoc (SQLite: triggers into the FTS5 table; PostgreSQL: a generated tsvector
column under a GIN index), so these functions only write ItemSearchDoc rows.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from bizreg.archives import search
from bizreg.archives.models import ArchiveItem
from bizreg.archives.models_search import ItemSearchDoc

_REBUILD_CHUNK = 500


def item_search_tokens(item: ArchiveItem) -> str:
    """The token text of an item (its archive must be loaded or loadable)."""
    archive = item.archive
    return search.document_tokens(
        facets=search.facet_tokens(
            authority_id=archive.authority_id,
            doc_type=item.doc_type,
            year=item.doc_date.year if item.doc_date else None,
            open_status=item.open_status,
            classification=item.classification,
            source=item.source,
            digitization=item.digitization,
            uscc=archive.uscc,
        ),
        identifiers=(archive.uscc, item.archival_code, archive.archival_code, item.doc_number),
        texts=(
            item.title,
            item.doc_number,
            item.responsible_party,
            item.keywords,
            archive.enterprise_name,
            archive.uscc,
            item.archival_code,
            item.text,
        ),
    )


def search_index_item(*, item: ArchiveItem) -> ItemSearchDoc:
    """(Re)index one item from its current row."""
    with transaction.atomic():
        doc, _created = ItemSearchDoc.objects.update_or_create(
            item_id=item.pk,
            defaults={"authority_id": item.archive.authority_id, "tokens": item_search_tokens(item)},
        )
    return doc


def search_remove_item(*, item_id: int) -> None:
    """Take an item out of the index (the row's delete also removes it from the engine's index)."""
    with transaction.atomic():
        ItemSearchDoc.objects.filter(item_id=item_id).delete()


def search_rebuild(*, authority=None, progress=None) -> int:
    """Reindex every item (of one authority, or all), in chunks of one transaction each so a rebuild of
    a large archive neither holds one huge transaction nor loses finished chunks when interrupted; it can
    simply be run again. Returns the number of items indexed."""
    items = ArchiveItem.objects.select_related("archive").order_by("pk")
    docs = ItemSearchDoc.objects.all()
    if authority is not None:
        items = items.filter(archive__authority=authority)
        docs = docs.filter(authority=authority)
    with transaction.atomic():
        # Items that left the authority (or vanished) since the last build.
        docs.exclude(item_id__in=items.values("pk")).delete()
    done, last_pk = 0, 0
    total = items.count() if progress is not None else 0
    while True:
        if progress is not None:
            progress(done, total)
        chunk = list(items.filter(pk__gt=last_pk)[:_REBUILD_CHUNK])
        if not chunk:
            return done
        with transaction.atomic():
            existing = set(ItemSearchDoc.objects.filter(item__in=chunk).values_list("item_id", flat=True))
            fresh = []
            for item in chunk:
                tokens = item_search_tokens(item)
                if item.pk in existing:
                    ItemSearchDoc.objects.filter(item_id=item.pk).update(
                        authority_id=item.archive.authority_id, tokens=tokens, updated_at=timezone.now()
                    )
                else:
                    fresh.append(
                        ItemSearchDoc(item_id=item.pk, authority_id=item.archive.authority_id, tokens=tokens)
                    )
            ItemSearchDoc.objects.bulk_create(fresh)
        done += len(chunk)
        last_pk = chunk[-1].pk
