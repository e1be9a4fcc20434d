"""Lecture files admins send in the chat: check, stage, publish atomically, retire.

Pure file work, no Telegram: the handlers call these through `asyncio.to_thread`. A staged
upload lives in `<knowledge>/.staging/` (so a 发布 button still works after a restart); a
published file appears in the knowledge folder in one `os.replace`, so a half-written lecture
is never visible; a retired one is moved to `<knowledge>/retired/` with every file that belongs
to it (quiz bank, questions file, link anchors), never deleted.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot import texts
from bot.core.lectures import (
    LECTURE_SUFFIXES,
    Lecture,
    LectureError,
    Library,
    is_folder_note,
    lecture_files,
    lecture_from_bytes,
)
from bot.core.links import LINKS_SUFFIX, anchors_path, links_path
from bot.core.render import MAX_MESSAGE_LENGTH, numeral
from bot.storage.folder import folder_lock

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
STAGING_DIR = ".staging"
# A preview's 发布 button works this long; an upload left unanswered is then deleted.
STAGED_UPLOAD_LIFETIME_S = 7 * 24 * 3600
RETIRED_DIR = "retired"
# A lecture's quiz bank (bot.quiz.bank.QUIZ_SUFFIX, which publishing may not import: the quiz
# is a feature of its own) and, in retired/, the anchors of its links (.links/<id>.json).
QUIZ_SUFFIX = ".quiz.tsv"
ANCHORS_SUFFIX = ".links.json"
# A preview lists at most this many sections and warnings: a phone screen's worth; a long
# document's full list would also pass Telegram's 4096-character limit.
MAX_PREVIEW_ITEMS = 30
_UNSAFE_NAME = re.compile(r"[^\w\u4e00-\u9fff.\-]+")
# A lecture's file name in UTF-8 bytes, at most. File systems allow 255; its questions file
# (.questions.tsv), a retired copy's time stamp (-20261207123456-2) and the staging names
# must still fit: 200 leaves room, and is 66 Chinese characters or 50 rare (4-byte) ones.
MAX_NAME_BYTES = 200


class UploadError(ValueError):
    """An upload that is refused; the message (Chinese) says why."""


class LectureIdTaken(UploadError):
    """At publish: another file of the same lecture id was published after this preview."""


# Publishing and retiring change which file holds a lecture id: one at a time (across every
# instance sharing the folder: bot.storage.folder), so the check that a lecture id has one
# file and the move that publishes cannot interleave.

@dataclass(frozen=True)
class Preview:
    lecture: Lecture
    token: str
    file_name: str
    replaces: bool
    warnings: tuple[str, ...]


def check_upload(file_name: str, size: int | None) -> str:
    """The safe file name to store the upload under, or UploadError before downloading."""
    suffix = Path(file_name).suffix.lower()
    if suffix not in LECTURE_SUFFIXES:
        raise UploadError(texts.UPLOAD_WRONG_KIND)
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise UploadError(texts.UPLOAD_TOO_LARGE.format(megabytes=MAX_UPLOAD_BYTES >> 20))
    return _checked_name(file_name)


def _checked_name(file_name: str) -> str:
    """safe_file_name, refused when the file system (or a later copy) could not hold it."""
    name = safe_file_name(file_name)
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise UploadError(texts.UPLOAD_NAME_TOO_LONG.format(
            limit=MAX_NAME_BYTES // 3, rare=MAX_NAME_BYTES // 4))
    return name


def safe_file_name(file_name: str) -> str:
    """A file name without folders or odd characters; keeps Chinese and the suffix."""
    path = Path(file_name.replace("\\", "/")).name
    stem = _UNSAFE_NAME.sub("_", Path(path).stem).strip("._") or "lecture"
    suffix = Path(path).suffix.lower()
    if is_folder_note(stem + suffix):  # README.md uploaded as a lecture: keep it one
        stem = f"{stem}_lecture"
    return stem[:80] + suffix


def stage(folder: Path, file_name: str, data: bytes, library: Library) -> Preview:
    """Parses the upload; on success keeps it in the staging folder and returns its preview."""
    return stage_upload(folder, file_name, data, existing_titles(library))


def existing_titles(library: Library) -> tuple[tuple[str, str], ...]:
    """(title, file name) of each lecture: what a preview compares an upload's title with."""
    return tuple((lecture.title, lecture.path.name) for lecture in library.lectures)


def stage_upload(folder: Path, file_name: str, data: bytes,
                 titles: tuple[tuple[str, str], ...]) -> Preview:
    """`stage` with the library reduced to its titles: cheap to send to a worker process."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError(texts.UPLOAD_TOO_LARGE.format(megabytes=MAX_UPLOAD_BYTES >> 20))
    name = _checked_name(file_name)
    existing = _other_file_of_the_lecture_id(folder, name)
    if existing is not None:
        raise UploadError(texts.UPLOAD_STEM_TAKEN.format(existing=existing.name))
    try:
        lecture = lecture_from_bytes(Path(name), data, Path(name).stem)
    except LectureError as error:
        raise UploadError(error.reason) from error
    # The name is part of the token: the same bytes sent as 甲.txt and 乙.txt are two uploads.
    token = hashlib.sha1(name.encode("utf-8") + b"\0" + data).hexdigest()[:12]
    staging = folder / STAGING_DIR
    staging.mkdir(parents=True, exist_ok=True)
    _forget_old_uploads(staging)
    try:
        atomic_write(staging / f"{token}{Path(name).suffix}", data)
        (staging / f"{token}.name").write_text(name, encoding="utf-8")
        return Preview(lecture, token, name, (folder / name).exists(),
                       tuple(_warnings(lecture, titles, name)))
    except BaseException:  # nothing half-staged stays behind (a full disk, an odd name)
        discard(folder, token)
        raise


@dataclass(frozen=True)
class StagedUpload:
    """A staged upload as the chat needs it: the token of its buttons, its preview's text."""

    token: str
    text: str


def stage_for_preview(folder: Path, file_name: str, data: bytes,
                      titles: tuple[tuple[str, str], ...]) -> StagedUpload:
    """`stage_upload`, returning only what the preview message needs (small to send back
    from a worker process)."""
    preview = stage_upload(folder, file_name, data, titles)
    return StagedUpload(preview.token, preview_text(preview))


def staged_lecture(folder: Path, token: str) -> Lecture | None:
    """The lecture of a staged upload, parsed again (None if it is gone or unreadable): for
    the checks that need the lecture itself, as the regression run of its question links."""
    if not re.fullmatch(r"[0-9a-f]{12}", token):
        return None
    staging = folder / STAGING_DIR
    try:
        name = safe_file_name((staging / f"{token}.name").read_text(encoding="utf-8"))
        data = (staging / f"{token}{Path(name).suffix}").read_bytes()
        return lecture_from_bytes(Path(name), data, Path(name).stem)
    except (OSError, LectureError):
        return None


def preview_text(preview: Preview) -> str:
    """What the admin reads before 发布: title, sections, gaps, warnings."""
    lecture = preview.lecture
    sections = _at_most(f"· {s.label}({len(s.passages)}段)" for s in lecture.sections)
    parts = [texts.UPLOAD_PREVIEW.format(
        title=lecture.title, file=preview.file_name,
        replaces=texts.UPLOAD_REPLACES if preview.replaces else "",
        count=len(lecture.passages), sections=sections)]
    if lecture.gaps:
        parts.append(texts.UPLOAD_GAPS.format(gaps="\n".join(
            texts.UPLOAD_GAP_ITEM.format(
                where="".join(f"第{numeral(n)}部分" for n in gap.missing_section_nos),
                chars=gap.chars or "?")
            for gap in lecture.gaps)))
    if preview.warnings:
        parts.append(texts.UPLOAD_WARNINGS.format(
            warnings=_at_most(f"· {w}" for w in preview.warnings)))
    parts.append(texts.UPLOAD_ASK)
    # A title may be a whole paragraph long: the preview still goes out, cut if need be.
    return "\n\n".join(parts)[:MAX_MESSAGE_LENGTH]


def _at_most(lines: Iterable[str]) -> str:
    """The first MAX_PREVIEW_ITEMS lines, and how many more there are."""
    lines = list(lines)
    shown = lines[:MAX_PREVIEW_ITEMS]
    if len(lines) > len(shown):
        shown.append(texts.UPLOAD_MORE_ITEMS.format(count=len(lines) - len(shown)))
    return "\n".join(shown)


def _forget_old_uploads(staging: Path) -> None:
    """Previews nobody published or cancelled: their buttons expire after a while."""
    cutoff = time.time() - STAGED_UPLOAD_LIFETIME_S
    for path in staging.iterdir():
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


def _other_file_of_the_lecture_id(folder: Path, name: str) -> Path | None:
    """A lecture's id is its file stem: a.md beside a.txt would take over a.txt's plans,
    buttons and question log. Replacing a file needs its exact name."""
    return next((existing for existing in lecture_files(folder)
                 if existing.stem == Path(name).stem and existing.name != name), None)


def _warnings(lecture: Lecture, titles: tuple[tuple[str, str], ...],
              file_name: str) -> list[str]:
    # A paragraph too long for a message was split by the parser; its warning says how.
    warnings = list(lecture.warnings)
    for title, other_file in titles:
        if title == lecture.title and other_file != file_name:
            warnings.append(texts.WARNING_DUPLICATE_TITLE.format(file=other_file))
    return warnings


def publish(folder: Path, token: str) -> Path:
    """Moves a staged upload into the knowledge folder atomically; returns its path.

    Raises LectureIdTaken (and forgets the upload) if, since its preview, another file of the
    same lecture id was published: two previews of twin.txt and twin.md cannot both win.
    """
    if not re.fullmatch(r"[0-9a-f]{12}", token):
        raise UploadError(texts.UPLOAD_EXPIRED)
    staging = folder / STAGING_DIR
    name_file = staging / f"{token}.name"
    if not name_file.is_file():
        raise UploadError(texts.UPLOAD_EXPIRED)
    name = safe_file_name(name_file.read_text(encoding="utf-8"))
    staged = staging / f"{token}{Path(name).suffix}"
    if not staged.is_file():
        raise UploadError(texts.UPLOAD_EXPIRED)
    with folder_lock(folder):
        existing = _other_file_of_the_lecture_id(folder, name)
        if existing is not None:
            discard(folder, token)
            raise LectureIdTaken(texts.UPLOAD_ID_TAKEN_AT_PUBLISH.format(existing=existing.name))
        target = folder / name
        os.replace(staged, target)
    name_file.unlink(missing_ok=True)
    return target


def discard(folder: Path, token: str) -> None:
    if re.fullmatch(r"[0-9a-f]{12}", token):
        for path in (folder / STAGING_DIR).glob(f"{token}.*"):
            path.unlink(missing_ok=True)


def lecture_companions(folder: Path, lecture: Lecture) -> list[tuple[Path, str]]:
    """The files beside a lecture that belong to it, each with its name after the stem: its
    quiz bank, its questions file and the anchors its links follow."""
    stem = lecture.path.stem
    return [(lecture.path.with_name(stem + QUIZ_SUFFIX), QUIZ_SUFFIX),
            (links_path(folder, lecture.lecture_id), LINKS_SUFFIX),
            (anchors_path(folder, lecture.lecture_id), ANCHORS_SUFFIX)]


def retire(folder: Path, lecture: Lecture) -> list[Path]:
    """Moves the lecture's file and every file that belongs to it (quiz bank, questions
    file, link anchors) to `retired/`, under one stem (with a time stamp if the name is
    taken); returns where each went, the lecture first. Nothing of it is left in the
    knowledge folder, so no quiz or link outlives its lecture; nothing is deleted."""
    with folder_lock(folder):
        return _retire(folder, lecture)


def _retire(folder: Path, lecture: Lecture) -> list[Path]:
    retired = folder / RETIRED_DIR
    retired.mkdir(exist_ok=True)
    companions = [(path, suffix) for path, suffix in lecture_companions(folder, lecture)
                  if path.is_file()]
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    stem, attempt = lecture.path.stem, 0
    # Never replace an earlier retired version of the lecture or of one of its files.
    while any(retired.joinpath(name).exists() for name in
              [stem + lecture.path.suffix, *(stem + suffix for _, suffix in companions)]):
        attempt += 1
        stem = f"{lecture.path.stem}-{stamp}" + ("" if attempt == 1 else f"-{attempt}")
    moved = [retired / (stem + lecture.path.suffix)]
    os.replace(lecture.path, moved[0])
    for path, suffix in companions:
        moved.append(retired / (stem + suffix))
        os.replace(path, moved[-1])
    return moved


def atomic_write(path: Path, data: bytes) -> None:
    """Writes to a hidden temporary file beside `path`, then renames it into place."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
