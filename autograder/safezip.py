"""Unpack an untrusted zip within limits, naming every entry that is refused and why.

    refused = extract(Path("export.zip"), dest, Limits(file_bytes=20 << 20))

An LMS export is written by Canvas or Moodle, but what is inside it comes from students: a file may inflate
to gigabytes (a zip bomb), and an archive a student uploaded may hold names such as `../../x`, absolute
paths, symbolic links or device files. nbgrader's ExtractorPlugin (setuptools' unpack_zipfile) reads each
entry whole into memory, applies no size limit, drops unsafe names without a word and unpacks archives
within archives to any depth, so the export is screened here first and nbgrader is given only what passed.

What is written: every regular file whose path is safe and whose inflated size is within the limits, at
its path inside dest. A student's archive (.zip, or a .tar.gz under the name .gz, as nbgrader's zip_ext) is
unpacked into a folder named after it beside it, as nbgrader does, to at most `Limits.depth` levels; the
archive itself is not kept. What is refused is never written: a file that turns out too large while it is
inflated is deleted before extract() returns, and nothing is written outside dest.
"""

from __future__ import annotations

import errno
import gzip
import logging
import lzma
import re
import shutil
import stat
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

log = logging.getLogger(__name__)

ARCHIVE_EXT = (".zip", ".gz")  # nbgrader's ExtractorPlugin.zip_ext: unpacked in place, not graded
CHUNK = 1 << 16
# Characters no LMS or operating system puts in a file name.
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Damaged compressed data shows up as any of these while an entry is read.
DAMAGE = (zipfile.BadZipFile, gzip.BadGzipFile, zlib.error, lzma.LZMAError, EOFError, tarfile.TarError)
COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA)


@dataclass(frozen=True)
class Limits:
    """How much an export may inflate to.

    file_bytes: one file, as inflated (a notebook with plots is at most a few MB; see the README).
    total_bytes: everything written, all files together; by default 100 files of the maximum size (2 GB).
      The export is unpacked into temporary space before anything is graded, so this also bounds the disk
      it takes; lms.unpack checks first that the disk has room for what the export declares.
    depth: archives inside the export that are unpacked: 1 is a zip a student uploaded, 2 a zip inside it.
    """

    file_bytes: int = 20 << 20
    total_bytes: int | None = None
    depth: int = 2

    @property
    def total(self) -> int:
        return self.total_bytes if self.total_bytes is not None else 100 * self.file_bytes


@dataclass(frozen=True)
class Refused:
    """An entry of the export that was not written, and why."""

    entry: str  # its path inside the export; inside a student's archive: "<archive's path>/<name>"
    reason: str


class DamagedArchive(ValueError):
    """The export itself cannot be read: not a zip, truncated, or an entry fails its check."""


class _TooLarge(Exception):
    """An entry inflated past a limit while it was written."""


def megabytes(size: int) -> str:
    """A size for people: '20 MB', '1.5 MB', '300 KB'."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1 << 20:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1 << 20):.1f} MB".replace(".0 MB", " MB")


def safe_path(name: str) -> tuple[PurePosixPath | None, str]:
    """The relative path an entry may be written at, or None and why not."""
    if CONTROL.search(name):
        return None, "its name holds a control character"
    name = name.replace("\\", "/")  # zips made on Windows may separate folders so (..\..\x climbs too)
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return None, "an absolute path, which would be written outside the export"
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        return None, "its path goes up with '..', which would be written outside the export"
    if not parts:
        return None, "an empty name"
    if any(len(p.encode()) > 255 for p in parts):
        return None, "a name longer than 255 bytes"
    return PurePosixPath(*parts), ""


def _kind(mode: int) -> str:
    """What a Unix file mode says an entry is, when it is not a regular file or a folder."""
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device file"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return ""


def _is_archive(path: PurePosixPath) -> bool:
    return path.suffix.lower() in ARCHIVE_EXT


def _folder_for(path: PurePosixPath) -> PurePosixPath:
    """Where nbgrader unpacks a student's archive: beside it, in a folder named like it."""
    stem = PurePosixPath(path.stem)
    return path.with_name(stem.stem if stem.suffix.lower() == ".tar" else stem.name)


class _Extraction:
    """One extract() call: its limits, the bytes written so far and what was refused."""

    def __init__(self, dest: Path, limits: Limits, scratch: Path) -> None:
        self.dest, self.limits, self.scratch = dest, limits, scratch
        self.written = 0  # bytes of the files kept, for Limits.total
        self.kept: list[Path] = []  # the files written, in order
        self.copies = 0  # student archives copied to scratch, for their names
        self.refused: list[Refused] = []

    def refuse(self, entry: str, reason: str) -> None:
        log.info("refused %s: %s", entry, reason)
        self.refused.append(Refused(entry, reason))

    def over(self, size: int | None, declared: int) -> str:
        """Why a file of this inflated size is refused, or ''; size None: it passed the limit while written."""
        left = self.limits.total - self.written
        per_file = megabytes(self.limits.file_bytes)
        in_all = (
            f"the export's files inflate to more than {megabytes(self.limits.total)} in all, the limit for"
            " an export (100 times --max-notebook-mb); this file was left out"
        )
        if size is None:  # copy() stopped at min(file_bytes, left)
            if left < self.limits.file_bytes:
                return in_all
            return (
                f"it inflates to more than {per_file}, the limit per file (--max-notebook-mb),"
                f" although the archive says {megabytes(declared)}"
            )
        if size > self.limits.file_bytes:
            return (
                f"it inflates to {megabytes(size)}, over the limit of {per_file} per file (--max-notebook-mb)"
            )
        if size > left:
            return in_all
        return ""

    def copy(self, opener: Callable[[], IO[bytes]], target: Path, declared: int) -> int:
        """Stream an entry into target, a new file; return its size, or raise _TooLarge with the reason.

        The size an archive declares can be false, so the bytes themselves are counted and no more than
        the limit is ever written; a file that grows too large is removed, so nothing of it stays behind.
        """
        limit = min(self.limits.file_bytes, self.limits.total - self.written)
        size = 0
        with opener() as source, open(target, "xb") as out:
            try:
                while chunk := source.read(CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise _TooLarge(self.over(None, declared))
                    out.write(chunk)
            except BaseException:
                out.close()
                target.unlink()
                raise
        return size

    def entry(self, shown: str, name: str, kind: str, declared: int, opener, base: PurePosixPath, depth: int):
        """Write one file of an archive at depth, or refuse it. opener() gives its bytes."""
        path, problem = safe_path(name)
        if path is None or kind:
            self.refuse(shown, f"{kind or problem}; it was not unpacked")
            return
        problem = self.over(declared, declared)
        if problem:
            self.refuse(shown, problem)
            return
        path = base / path
        if _is_archive(path):
            if depth >= self.limits.depth:
                self.refuse(
                    shown, f"an archive inside archives more than {self.limits.depth} deep; not unpacked"
                )
            else:
                self.nested(shown, path, opener, declared, depth + 1)
            return
        target = self.dest / path
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            self.written += self.copy(opener, target, declared)
            self.kept.append(target)
        except _TooLarge as reason:
            self.refuse(shown, str(reason))
        except DAMAGE:  # gzip's is an OSError too: the archive's own handler refuses it
            raise
        except (FileExistsError, NotADirectoryError, IsADirectoryError):
            self.refuse(shown, "another entry of the export has the same path; it was not unpacked")
        except OSError as error:
            if error.errno in (errno.ENOSPC, errno.EDQUOT):
                raise
            self.refuse(shown, f"it cannot be written: {error.strerror}")

    def nested(self, shown: str, path: PurePosixPath, opener, declared: int, depth: int) -> None:
        """Unpack a student's archive into the folder nbgrader would give it; refuse it when it is damaged."""
        self.copies += 1
        copy = self.scratch / f"{self.copies}{path.suffix}"
        try:
            self.copy(opener, copy, declared)  # a temporary copy, outside dest: not counted as written
        except _TooLarge as reason:
            self.refuse(shown, str(reason))
            return
        folder = _folder_for(path)
        refused, written, kept = len(self.refused), self.written, len(self.kept)
        try:
            if zipfile.is_zipfile(copy):
                self.zip(copy, shown, folder, depth)
            elif path.suffix.lower() == ".gz" and tarfile.is_tarfile(copy):
                self.tar(copy, shown, folder, depth)
            else:
                kind = "zip" if path.suffix.lower() == ".zip" else "tar.gz"
                self.refuse(shown, f"not a readable {kind} archive; nothing in it was unpacked")
        except DAMAGE as error:
            # A damaged archive is refused as a whole: what was written from it so far goes too.
            for file in self.kept[kept:]:
                file.unlink()
            del self.kept[kept:], self.refused[refused:]
            self.written = written
            self.refuse(shown, f"a damaged archive ({error}); nothing in it was unpacked")
        finally:
            copy.unlink(missing_ok=True)

    def zip(self, archive: Path, shown: str, base: PurePosixPath, depth: int) -> None:
        """Every entry of a zip file, into dest/base; shown is the archive's own name ('' for the export)."""
        with zipfile.ZipFile(archive) as z:
            for info in z.infolist():
                name = f"{shown}/{info.filename}" if shown else info.filename
                mode = info.external_attr >> 16  # the Unix mode, when the zip was made on Unix
                if info.is_dir() or stat.S_ISDIR(mode):
                    continue
                if info.flag_bits & 0x1:
                    self.refuse(name, "an encrypted file; it was not unpacked")
                    continue
                if info.compress_type not in COMPRESSIONS:
                    self.refuse(name, f"compressed by a method ({info.compress_type}) that cannot be read")
                    continue
                kind = _kind(mode) if mode else ""
                self.entry(name, info.filename, kind, info.file_size, lambda i=info: z.open(i), base, depth)

    def tar(self, archive: Path, shown: str, base: PurePosixPath, depth: int) -> None:
        """Every member of a compressed tar file, into dest/base: regular files only."""
        with tarfile.open(archive) as t:
            for member in t:
                if member.isdir():
                    continue
                kind = "" if member.isfile() else _tar_kind(member)
                opener = lambda m=member: t.extractfile(m)  # noqa: E731
                self.entry(f"{shown}/{member.name}", member.name, kind, member.size, opener, base, depth)


def _tar_kind(member: tarfile.TarInfo) -> str:
    if member.issym():
        return "a symbolic link"
    if member.islnk():
        return "a hard link"
    if member.ischr() or member.isblk():
        return "a device file"
    if member.isfifo():
        return "a named pipe"
    return "not a regular file"


def require_zip(archive: Path) -> None:
    """DamagedArchive unless archive is a zip file (a truncated one has lost its central directory)."""
    if not zipfile.is_zipfile(archive):
        raise DamagedArchive(f"{archive} is not a zip file (or it is truncated); download the export again")


def declared_size(archive: Path, limits: Limits) -> int:
    """What the export says its files inflate to, counting only what the limits let through."""
    try:
        with zipfile.ZipFile(archive) as z:
            sizes = [i.file_size for i in z.infolist() if not i.is_dir()]
    except DAMAGE as error:
        raise DamagedArchive(f"{archive} is damaged ({error}); download the export again") from None
    return min(limits.total, sum(s for s in sizes if s <= limits.file_bytes))


def extract(archive: Path, dest: Path, limits: Limits | None = None) -> list[Refused]:
    """Unpack the zip file archive into dest (created) within limits; return the entries refused.

    Raises DamagedArchive (a ValueError) when archive is not a zip file or is damaged: the export is made
    by the LMS, so a bad entry there means a bad download, and the instructor downloads it again. A damaged
    archive inside it is a student's upload, refused like any other entry.
    """
    limits = limits or Limits()
    require_zip(archive)
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="nested-", dir=dest.parent) as scratch:
        extraction = _Extraction(dest, limits, Path(scratch))
        try:
            extraction.zip(archive, "", PurePosixPath(), 0)
        except DAMAGE as error:
            shutil.rmtree(dest, ignore_errors=True)
            raise DamagedArchive(f"{archive} is damaged ({error}); download the export again") from None
        except OSError as error:
            if error.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            shutil.rmtree(dest, ignore_errors=True)
            raise ValueError(f"the disk filled up while {archive} was unpacked in {dest.parent}") from None
    return extraction.refused
