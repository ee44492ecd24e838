"""The shared fixtures work (other archives tests build on them)."""

from bizreg.archives.models import ArchiveStatus


def test_archive_fixture_has_three_items(archive, enterprise, shelf, authority):
    assert archive.enterprise == enterprise
    assert archive.status == ArchiveStatus.PENDING
    assert list(archive.items.values_list("item_number", flat=True)) == [1, 2, 3]
    assert shelf.authority == authority


def test_role_fixtures(archivist, manager, department_viewer, digitizer, clerk):
    assert archivist.has_perm("archives.move_archive")
    assert not manager.has_perm("archives.move_archive")
    assert department_viewer.has_perm("archives.view_archivefile")
    assert not digitizer.has_perm("archives.view_archivefile")
    assert not clerk.has_perm("archives.view_archivefile")
